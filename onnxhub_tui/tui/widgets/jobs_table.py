"""The download queue's table: a DataTable of jobs (a queue is short: tens of rows, not thousands)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class JobsTable(DataTable):
    """The queue's rows; home and end move the cursor (DataTable's own only scroll)."""

    BINDINGS = [
        Binding("home", "first", "First job", show=False, id="downloads.first"),
        Binding("end", "last", "Last job", show=False, id="downloads.last"),
    ]

    def action_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
