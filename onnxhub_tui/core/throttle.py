"""The one progress throttle: the download loop, the CLI's bars and the TUI's job rows all use it.

Bytes arrive in pieces of up to 1 MiB, far more often than a person can read a number; a front end's
callback (a UI message, a bar redraw) costs more than a write, so progress is passed on at most
every ``interval`` seconds, and always on a state change (``force``: the first and last report).
"""

from __future__ import annotations

import threading


class Throttle:
    """At most one "yes" per ``interval`` seconds; ``force`` always says yes (and restarts the interval).
    The first call says yes. Safe to share between threads."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._last = float("-inf")
        self._lock = threading.Lock()

    def due(self, now: float, force: bool = False) -> bool:
        """``now``: a ``time.monotonic()`` reading (passed in, so a caller's clock and tests decide)."""
        with self._lock:
            if force or now - self._last >= self.interval:
                self._last = now
                return True
            return False
