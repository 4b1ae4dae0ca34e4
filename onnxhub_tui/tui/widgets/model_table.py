"""A virtual table of manifest entries: renders only the visible rows (Textual's Line API).

Textual's DataTable measures every cell when rows are added, which takes seconds at tens of thousands
of entries. This widget keeps a plain list and paints the ~40 rows on screen, so a live search over
50,000 entries costs a filter, not a rebuild. Sorting keeps a sorted copy of every entry it has seen,
so a filtered subset is put in order with one linear pass instead of a sort per keystroke.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from ...core.manifest import ModelInfo
from ...core.text import fit_cells
from ..fmt import clean, human_size
from .cursor_list import CursorList, cursor_bindings

CachedState = Callable[[ModelInfo], "str | None"]
MARKS = {"complete": "✓", "partial": "◐", "damaged": "✗", "queued": "↓"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # fixed width, or the minimum for a flexible column
    flexible: bool = False
    right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("model", "model", 12, flexible=True),
    Column("opset", "opset", 5, right=True),
    Column("size", "size", 8, right=True),
    Column("tags", "tags", 0, flexible=True),
    Column("cached", "cached", 6),
)
SORTABLE = tuple(c.key for c in COLUMNS)
_CACHED_ORDER = {"complete": 0, "queued": 1, "partial": 2, "damaged": 3, None: 4}


@dataclass
class _TableMessage(Message):
    table: ModelTable
    entry: ModelInfo | None

    @property
    def control(self) -> ModelTable:
        return self.table


class ModelTable(CursorList):
    """Rows of ModelInfo with a cursor. ``set_rows`` replaces what is shown; ``Highlighted`` follows the cursor."""

    BINDINGS = [
        *cursor_bindings("table"),
        Binding("enter", "select", "Details", show=False, id="table.select"),
    ]
    COMPONENT_CLASSES = {
        "model-table--header",
        "model-table--cursor",
        "model-table--cursor-blurred",
        "model-table--complete",
        "model-table--partial",
        "model-table--damaged",
        "model-table--queued",
        "model-table--dim",
        "model-table--empty",
    }

    class Highlighted(_TableMessage):
        """The cursor moved to ``entry`` (None when the table is empty)."""

    class Selected(_TableMessage):
        """Enter (or a click on the highlighted row) on ``entry``."""

    @dataclass
    class Sorted(Message):
        """The sort column or direction changed (by a key or a header click)."""

        table: ModelTable
        column: str
        reverse: bool

    def __init__(
        self,
        cached_state: CachedState | None = None,
        *,
        empty_text: str = "No models.",
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.cached_state: CachedState = cached_state or (lambda entry: None)
        self._empty_text = empty_text
        self._rows: list[ModelInfo] = []
        self.sort_column = "model"
        self.sort_reverse = False
        self._universe: list[ModelInfo] = []  # every entry seen, sorted by the current sort
        self._universe_ids: set[int] = set()
        self._name_width = 12
        self._last_key = None  # no Highlighted for the empty table it starts as
        self._paint: _Paint | None = None

    # -- public API ---------------------------------------------------------------------------
    @property
    def rows(self) -> Sequence[ModelInfo]:
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row_key(self, index: int) -> object:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def highlight_changed(self) -> None:
        self.post_message(self.Highlighted(self, self.highlighted))

    @property
    def highlighted(self) -> ModelInfo | None:
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    @property
    def empty_text(self) -> str:
        return self._empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        self._empty_text = text
        self.refresh()

    @property
    def sorted_entries(self) -> Sequence[ModelInfo]:
        """Every entry the table has been given, in the current sort order."""
        return self._universe

    def set_rows(self, entries: Sequence[ModelInfo], *, presorted: bool = False) -> None:
        """Show ``entries``, keeping the highlighted entry when it is still there.

        They are put in the current sort order; pass ``presorted=True`` when they are a subsequence of
        ``sorted_entries`` already (a filter over it), which skips that pass."""
        keep = self.highlighted
        if presorted:
            rows = list(entries)
        else:
            if len(entries) > len(self._universe) or any(id(e) not in self._universe_ids for e in entries):
                self._set_universe(entries)
            if len(entries) == len(self._universe):
                rows = list(self._universe)
            else:
                wanted = {id(e) for e in entries}
                rows = [e for e in self._universe if id(e) in wanted]
        self._rows = rows
        self.rows_changed()
        index = 0
        if keep is not None:
            try:
                index = rows.index(keep)  # identity, via ModelInfo's default __eq__
            except ValueError:
                index = 0
        self.move_cursor(index)
        self.refresh()

    def select_entry(self, entry: ModelInfo) -> bool:
        """Move the cursor to ``entry``; False when it is not among the rows."""
        for index, row in enumerate(self._rows):
            if row is entry:
                self.move_cursor(index)
                return True
        return False

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if column not in SORTABLE:
            raise ValueError(f"unknown column {column!r}")
        if reverse is None:
            reverse = (not self.sort_reverse) if column == self.sort_column else column in ("size", "opset")
        self.sort_column, self.sort_reverse = column, reverse
        shown = list(self._rows)
        self._set_universe(self._universe)
        self.set_rows(shown)
        self.post_message(self.Sorted(self, column, reverse))

    def cycle_sort(self) -> None:
        """The next column, in its natural direction (names A→Z, sizes and opsets largest first)."""
        following = SORTABLE[(SORTABLE.index(self.sort_column) + 1) % len(SORTABLE)]
        self.sort_by(following, reverse=following in ("size", "opset"))

    def refresh_cached(self) -> None:
        """The cache changed: repaint (and re-sort when sorted by the cached column)."""
        if self.sort_column == "cached":
            self.sort_by("cached", self.sort_reverse)
        else:
            self.refresh()

    # -- sorting -------------------------------------------------------------------------------
    def _sort_key(self) -> Callable[[ModelInfo], object]:
        column = self.sort_column
        if column == "opset":
            return lambda e: (e.opset, e.model.lower())
        if column == "size":
            return lambda e: (e.model_bytes or 0, e.model.lower())
        if column == "tags":
            return lambda e: (",".join(e.tag_list).lower(), e.model.lower())
        if column == "cached":
            state = self.cached_state
            return lambda e: (_CACHED_ORDER.get(state(e), 4), e.model.lower(), e.opset)
        return lambda e: (e.model.lower(), e.opset)

    def _set_universe(self, entries: Sequence[ModelInfo]) -> None:
        universe = sorted(entries, key=self._sort_key(), reverse=self.sort_reverse)
        self._universe = universe
        self._universe_ids = {id(e) for e in universe}
        # len() not cell_len(): 50,000 names in ~5 ms; a wide-character name is truncated with "…"
        self._name_width = max(12, max((len(e.model) for e in universe), default=12))

    # -- cursor --------------------------------------------------------------------------------
    def action_select(self) -> None:
        entry = self.highlighted
        if entry is not None:
            self.post_message(self.Selected(self, entry))

    async def _on_click(self, event: events.Click) -> None:
        index = self.row_at(event)
        if index == -1:
            offset = event.get_content_offset(self)
            column = self._column_at(offset.x) if offset is not None else None
            if column is not None:
                self.sort_by(column)
            return
        if index is not None:
            again = index == self.cursor
            self.move_cursor(index)
            if again or event.chain >= 2:
                self.action_select()

    # -- rendering -----------------------------------------------------------------------------
    def _widths(self, width: int) -> list[int]:
        """Cell widths of the columns for ``width`` cells (one space between columns)."""
        fixed = {c.key: c.width for c in COLUMNS if not c.flexible}
        spare = width - sum(fixed.values()) - (len(COLUMNS) - 1)
        name = min(self._name_width, max(12, spare * 3 // 5), max(4, spare))
        tags = max(0, spare - name)
        return [name if c.key == "model" else tags if c.key == "tags" else fixed[c.key] for c in COLUMNS]

    def _column_at(self, x: int) -> str | None:
        left = 0
        for column, width in zip(COLUMNS, self._widths(self.scrollable_content_region.width)):
            if left <= x < left + width + 1:
                return column.key
            left += width + 1
        return None

    def _cells(self, entry: ModelInfo, state: str | None) -> list[str]:
        return [
            clean(entry.model),
            entry.opset_text,  # "?" for an hf: model not read yet
            human_size(entry.model_bytes) if entry.model_bytes is not None else "",
            clean(", ".join(entry.tag_list)),
            MARKS.get(state or "", ""),
        ]

    def _line(self, texts: list[str], widths: list[int], styles: list[Style], gap: Style) -> list[Segment]:
        segments: list[Segment] = []
        for i, (column, text, width, style) in enumerate(zip(COLUMNS, texts, widths, styles)):
            if i:
                segments.append(Segment(" ", gap))
            if width > 0:
                segments.append(Segment(fit_cells(text, width, right=column.right), style))
        return segments

    def render_lines(self, crop: Region) -> list[Strip]:
        # Why: a paint asks for ~40 lines; the styles and widths are the same for all of them, and
        # computing them per line (rich_style walks the ancestors) was half of a search key's paint.
        self._paint = self._paint_context()
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def _paint_context(self) -> _Paint:
        width = self.scrollable_content_region.width
        base = self.rich_style
        component = self.get_component_rich_style
        cursor = base + component("model-table--cursor" if self.has_focus else "model-table--cursor-blurred")
        dim = base + component("model-table--dim")
        return _Paint(
            width=width, widths=self._widths(width), base=base, cursor=cursor, dim=dim,
            header=base + component("model-table--header"), empty=base + component("model-table--empty"),
            marks={state: base + component(f"model-table--{state}") for state in MARKS},
        )

    def render_line(self, y: int) -> Strip:
        paint = self._paint or self._paint_context()
        width, widths, base = paint.width, paint.widths, paint.base
        if y == 0:
            header = paint.header
            labels = []
            for column in COLUMNS:
                mark = (" ▼" if self.sort_reverse else " ▲") if column.key == self.sort_column else ""
                labels.append(column.label + mark)
            return Strip(self._line(labels, widths, [header] * len(COLUMNS), header)).adjust_cell_length(width, header)
        index = int(self.scroll_offset.y) + y - 1
        if not self._rows:
            lines = textwrap.wrap(clean(self._empty_text), max(10, width - 2))
            if 0 <= y - 2 < len(lines):
                return Strip([Segment(" " + lines[y - 2], paint.empty)]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        if index >= len(self._rows):
            return Strip.blank(width, base)
        entry = self._rows[index]
        state = self.cached_state(entry)
        if index == self.cursor:
            style = dim = mark = paint.cursor
        else:
            style, dim = base, paint.dim
            mark = paint.marks.get(state, base) if state else base
        styles = [style, dim, dim, dim, mark]
        return Strip(self._line(self._cells(entry, state), widths, styles, style)).adjust_cell_length(width, style)


@dataclass
class _Paint:
    """What every line of one paint shares."""

    width: int
    widths: list[int]
    base: Style
    cursor: Style
    dim: Style
    header: Style
    empty: Style
    marks: dict[str, Style]
