"""The one cursor list: a Line-API ``ScrollView`` with a header line, a row cursor, paging and edges.

The model table and the cache list are both this: tens of thousands of rows, of which only the ~40 on
screen are painted. Subclasses say how many rows there are, what identifies a row (so a highlight
message is posted only when the highlighted thing changes) and how to paint a line.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView

_NOTHING = object()  # the last highlighted key before any


def cursor_bindings(prefix: str) -> list[Binding]:
    """The cursor keys, with ids under ``prefix`` (``table.up``, ``cache.up``: what ONNXHUB_TUI_KEYS remaps)."""
    return [
        Binding("up,k", "cursor(-1)", "Up", show=False, id=f"{prefix}.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id=f"{prefix}.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id=f"{prefix}.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id=f"{prefix}.page_down"),
        Binding("home,g", "edge(0)", "First row", show=False, id=f"{prefix}.first"),
        Binding("end,G", "edge(1)", "Last row", show=False, id=f"{prefix}.last"),
    ]


class CursorList(ScrollView, can_focus=True):
    """Rows under a one-line header (line 0); row ``i`` is virtual line ``i + 1``."""

    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    def __init__(self, *, name: str | None = None, id: str | None = None,  # noqa: A002 - Textual's name
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._last_key: object = _NOTHING

    # -- what a subclass provides ---------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        raise NotImplementedError

    def row_key(self, index: int) -> object:
        """What the row at ``index`` shows (compared with ``==``); None when there is no row."""
        raise NotImplementedError

    def highlight_changed(self) -> None:
        """The cursor reached another row's content: post the subclass's message."""

    # -- the cursor -------------------------------------------------------------------------------------
    def rows_changed(self) -> None:
        """The rows were replaced: size the scroll area (a header plus one line a row)."""
        self.virtual_size = Size(0, self.row_count + 1)

    def move_cursor(self, index: int, *, force: bool = False) -> None:
        """Put the cursor on ``index`` (clamped), scroll it into view, and tell when the row changed."""
        count = self.row_count
        index = max(0, min(index, count - 1)) if count else 0
        old = self.cursor
        self.cursor = index
        # Only the two rows change, unless the view scrolls (which repaints everything anyway).
        self.refresh_line(old + 1)
        self.refresh_line(index + 1)
        self.scroll_cursor_into_view()
        key = self.row_key(index) if count else None
        if force or key != self._last_key:
            self._last_key = key
            self.highlight_changed()

    @property
    def page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self.page_rows:
            self.scroll_to(y=self.cursor - self.page_rows + 1, animate=False, immediate=True)

    def row_at(self, event: events.MouseEvent) -> int | None:
        """The row under the mouse; -1 on the header, None outside the rows."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        if offset.y == 0:
            return -1
        index = int(self.scroll_offset.y) + offset.y - 1
        return index if 0 <= index < self.row_count else None

    # -- actions and events -----------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * self.page_rows)

    def action_edge(self, end: int) -> None:
        self.move_cursor(self.row_count - 1 if end else 0)

    def on_resize(self, event: events.Resize) -> None:
        self.scroll_cursor_into_view()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor + 1)  # the cursor's colour says where the focus is

    def on_blur(self) -> None:
        self.refresh_line(self.cursor + 1)
