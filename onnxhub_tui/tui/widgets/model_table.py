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
from ...core.zoo import tier_of
from ..fmt import clean, human_size
from .cursor_list import CursorList, cursor_bindings

CachedState = Callable[[ModelInfo], "str | None"]
DataReady = Callable[[ModelInfo], bool]
MARKS = {"complete": "✓", "partial": "◐", "damaged": "✗", "queued": "↓"}
DATA_MARK = "+data"  # the test-data archive is extracted (after D): the cached column says so too
TIER_CELLS = {"validated": "valid", "exports": "export", "skipped": "skip"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # fixed width, or the minimum for a flexible column
    flexible: bool = False
    right: bool = False


# Fixed widths leave room for the label and the sort arrow ("opset ▼"): a header never hides it.
COLUMNS: tuple[Column, ...] = (
    Column("model", "model", 12, flexible=True),
    Column("tier", "tier", 6),  # only for a hub with tiers (the whole zoo)
    Column("opset", "opset", 7, right=True),
    Column("size", "size", 8, right=True),
    Column("tags", "tags", 0, flexible=True),
    Column("cached", "cached", 8),
)
SORTABLE = tuple(c.key for c in COLUMNS)
_TIER_ORDER = {"validated": 0, "exports": 1, "skipped": 2, None: 3}
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
        data_ready: DataReady | None = None,
        empty_text: str = "No models.",
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.cached_state: CachedState = cached_state or (lambda entry: None)
        self.data_ready: DataReady = data_ready or (lambda entry: False)
        self._columns: tuple[Column, ...] = tuple(c for c in COLUMNS if c.key != "tier")
        self._tags_width = 0
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

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns shown: the tier column only when some entry has a tier."""
        return self._columns

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
        keys = [c.key for c in self._columns]
        current = keys.index(self.sort_column) if self.sort_column in keys else -1
        following = keys[(current + 1) % len(keys)]
        self.sort_by(following, reverse=following in ("size", "opset"))

    def refresh_cached(self) -> None:
        """The cache changed: repaint (and re-sort when sorted by the cached column)."""
        if self.sort_column == "cached":
            self.sort_by("cached", self.sort_reverse)
        else:
            self.refresh()

    # -- sorting -------------------------------------------------------------------------------
    def _sort_key(self) -> Callable[[ModelInfo], object] | None:
        """The sorted column's key; None for the name column (the tie order is the whole order)."""
        column = self.sort_column
        if column == "opset":
            return lambda e: e.opset
        if column == "size":
            return lambda e: e.model_bytes or 0
        if column == "tags":
            return lambda e: ",".join(e.tag_list).lower()
        if column == "tier":
            return lambda e: _TIER_ORDER.get(tier_of(e), 3)
        if column == "cached":
            state = self.cached_state
            return lambda e: _CACHED_ORDER.get(state(e), 4)
        return None

    def _set_universe(self, entries: Sequence[ModelInfo]) -> None:
        # Ties always come in name order, A→Z, whichever way the column goes: sort by name first,
        # then by the column (Python's sort is stable, with reverse=True too).
        by_name = sorted(entries, key=lambda e: (e.model.lower(), e.opset), reverse=self.sort_column == "model"
                         and self.sort_reverse)
        key = self._sort_key()
        universe = by_name if key is None else sorted(by_name, key=key, reverse=self.sort_reverse)
        self._universe = universe
        self._universe_ids = {id(e) for e in universe}
        # len() not cell_len(): 50,000 names in ~5 ms; a wide-character name is truncated with "…"
        self._name_width = max(12, max((len(e.model) for e in universe), default=12))
        self._tags_width = max((len(_tags_cell(e)) for e in universe), default=0)
        tiered = any(tier_of(e) is not None for e in universe)
        self._columns = tuple(c for c in COLUMNS if tiered or c.key != "tier")

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
        """Cell widths of the columns for ``width`` cells (one space between columns).

        Names get what they need up to 3/5 of the spare room, more when the tags need less than the rest."""
        columns = self._columns
        fixed = {c.key: c.width for c in columns if not c.flexible}
        spare = width - sum(fixed.values()) - (len(columns) - 1)
        name = min(self._name_width, max(12, spare * 3 // 5, spare - self._tags_width), max(4, spare))
        tags = max(0, spare - name)
        return [name if c.key == "model" else tags if c.key == "tags" else fixed[c.key] for c in columns]

    def _column_at(self, x: int) -> str | None:
        left = 0
        for column, width in zip(self._columns, self._widths(self.scrollable_content_region.width)):
            if left <= x < left + width + 1:
                return column.key
            left += width + 1
        return None

    def _cells(self, entry: ModelInfo, state: str | None) -> dict[str, str]:
        mark = MARKS.get(state or "", "")
        if entry.has_test_data and self.data_ready(entry):
            mark = f"{mark} {DATA_MARK}" if mark else DATA_MARK
        return {
            "model": clean(entry.model),
            "tier": TIER_CELLS.get(tier_of(entry) or "", ""),
            "opset": entry.opset_text,  # "?" for an hf: model not read yet
            "size": human_size(entry.model_bytes) if entry.model_bytes is not None else "",
            "tags": clean(_tags_cell(entry)),
            "cached": mark,
        }

    def _line(self, texts: dict[str, str], widths: list[int], styles: dict[str, Style], gap: Style) -> list[Segment]:
        segments: list[Segment] = []
        for i, (column, width) in enumerate(zip(self._columns, widths)):
            text, style = texts[column.key], styles.get(column.key, gap)
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
            labels = {}
            for column, cells in zip(self._columns, widths):
                label = column.label
                if column.key == self.sort_column:  # the arrow stays; a narrow column shortens its label
                    label = fit_cells(label, max(0, cells - 2), pad=False) + (" ▼" if self.sort_reverse else " ▲")
                labels[column.key] = label
            return Strip(self._line(labels, widths, {}, header)).adjust_cell_length(width, header)
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
        styles = {"model": style, "tier": dim, "opset": dim, "size": dim, "tags": dim, "cached": mark}
        return Strip(self._line(self._cells(entry, state), widths, styles, style)).adjust_cell_length(width, style)


def _tags_cell(entry: ModelInfo) -> str:
    """The tags, less the one that repeats the model's name (the zoo's folder tags do: the details keep it)."""
    name = entry.model.lower()
    return ", ".join(t for t in entry.tag_list if t.lower() != name)


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
