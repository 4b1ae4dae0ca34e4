"""The cyclic GC, paused while a command starts.

Starting makes tens of thousands of objects that live as long as the process (modules, classes, the
parsed manifest) and next to no garbage, so the GC passes their allocations set off only walked them
again, and the first full pass after the start walked them all once more: about 6 ms of every
``download``'s start, measured. The GC is paused while this package is imported, and again from ``main``
until the command's work starts (its manifest loaded, for the commands that read one).
"""

from __future__ import annotations

import gc

_paused = False
_freeze = False


def pause(owns_process: bool = False) -> None:
    """``owns_process``: the process ends with this command, so what the start made can be frozen."""
    global _paused, _freeze  # noqa: PLW0603 - one flag per process, by design
    if gc.isenabled():
        gc.disable()
        _paused, _freeze = True, owns_process


def resume() -> None:
    """Undo ``pause`` (a GC the caller had turned off stays off). In a process the command owns, every
    object made so far is first taken out of the GC's sight (``gc.freeze``; refcounting still frees
    them). Not in a caller's process (tests call ``main``): its uncollected garbage would stay for good."""
    global _paused  # noqa: PLW0603
    if _paused:
        _paused = False
        if _freeze:
            gc.freeze()
        gc.enable()
