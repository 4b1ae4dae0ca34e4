"""Copying a path to the clipboard, for every screen (``y`` on the models screen).

Textual's ``App.copy_to_clipboard`` writes an OSC 52 sequence: the terminal sets the clipboard, which
works over SSH too, but only where the terminal allows it (tmux needs ``set -g set-clipboard on``; some
terminals refuse or ask). Nothing comes back to say whether it worked, so the toast says so.

A screen uses it with ``COPY_BINDING`` in its BINDINGS and an ``action_copy_path`` that calls
``copy_path(self.app, path)`` with the path its cursor is on.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from .fmt import clean, show_path


def copy_binding(prefix: str, *, show: bool = False) -> Binding:
    """The copy key of a screen, remappable as ``<prefix>.copy_path`` (not in an 80-column footer by
    default: the help lists it, and the panel showing the path says "y copies")."""
    return Binding("y", "copy_path", "Copy path", show=show, id=f"{prefix}.copy_path")


def terminal_note(environ: dict[str, str] | None = None) -> str:
    """What to tell about OSC 52 in this terminal (we cannot know whether it took the text)."""
    env = os.environ if environ is None else environ
    if env.get("TMUX"):
        return "inside tmux this needs `set -g set-clipboard on`"
    if env.get("TERM_PROGRAM") == "Apple_Terminal":
        return "Apple Terminal does not support OSC 52: select the path with the mouse instead"
    return "through OSC 52: if nothing pastes, this terminal does not support it"


def copy_path(app: App, path: str | os.PathLike[str] | None, *, what: str = "path") -> bool:
    """Put ``path`` (absolute) on the clipboard and say so; False (and a warning) when there is none."""
    if path is None:
        app.notify(f"No {what} to copy here.", severity="warning", timeout=3)
        return False
    text = show_path(Path(path))
    app.copy_to_clipboard(text)
    app.notify(f"Copied {clean(text)} ({terminal_note()})", timeout=5)
    return True
