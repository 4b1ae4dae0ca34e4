"""The search box of the models screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.binding import Binding
from textual.widgets import Input


class SearchInput(Input):
    """The search box: enter, down or escape hand the focus to the table and keep the query.

    ``on_type`` is called with the text for a key typed into the box, inside that key's handling."""

    # Shown in the footer: while typing every letter is text, so the screen's keys are hidden and the
    # footer was empty; these say how to get out (and ``?`` in the box types a "?").
    BINDINGS = [
        Binding("enter", "submit", "Search, to the table", id="search.submit"),
        Binding("escape", "screen.focus_table", "Table", id="search.leave"),
        Binding("down", "screen.focus_table", "To table", show=False, id="search.down"),
    ]

    def __init__(self, *, on_type: Callable[[str], None] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._on_type = on_type

    def watch_value(self, value: str) -> None:
        # A key typed into the box: filter now, inside this key's handling, so the rows change in the
        # same frame as the text (the Changed message would reach the screen after a first repaint and
        # leave the rows to the next 60 Hz frame). A typed key runs in this widget's task, an editing
        # key (backspace, ...) is a binding the app's task runs; changes made from anywhere else (a
        # burst of sets through the API) still go through Changed and filter once for the last text.
        task = asyncio.current_task()
        if self._on_type is not None and task is not None and task in (
                getattr(self, "_task", None), getattr(self.app, "_task", None)):
            self._on_type(value)
