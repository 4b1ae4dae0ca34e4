"""The cache list: every cached file grouped by directory, with folding and a multi-selection.

A ``CursorList``: it paints only the rows on screen, so a cache of tens of thousands of files costs one
pass to flatten, not a widget per file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip

from ...core.cache import CachedFile, CacheGroup, CacheReport, VerifyResult
from ...core.manifest import ModelInfo
from ...core.text import cell_width, fit_cells, human_size, printable
from .cursor_list import CursorList, cursor_bindings

_SHA_NAME = re.compile(r"^([0-9a-f]{64})_(.+)$")
INDENT = 8  # " [ ] " and three cells of indent before a file's name

STATE_LABELS = {
    "complete": "complete",
    "partial": "partial",
    "orphan": "orphan",
    "extracted": "extracted",
    "unknown": "unknown",
}


def state_label(file: CachedFile, result: VerifyResult | None = None) -> tuple[str, str]:
    """(text, style key) for a file's state column; a verify result overrides the scanned state."""
    if file.state in ("damaged", "special"):  # no style of their own (a KeyError); special: never read
        return file.state, "mismatch"
    if result is not None:
        if result.ok is True:
            return "verified", "verified"
        if result.ok is False:
            return ("unreadable", "mismatch") if result.actual is None else ("MISMATCH", "mismatch")
    if file.state == "partial" and file.in_use:
        return "downloading", "downloading"
    if file.is_link:
        return "link", "orphan"
    return STATE_LABELS.get(file.state, printable(file.state)), file.state


def verify_note(result: VerifyResult) -> str:
    """One short line: the full hashes do not fit 80 columns, their first 12 digits tell them apart."""
    if result.ok is True:
        return "verified: SHA-256 matches"
    if result.ok is None:
        return "not verified: no checksum to compare with"
    expected = result.file.expected_sha
    if result.actual and expected:
        return f"MISMATCH: SHA-256 {result.actual[:12]}…, expected {expected[:12]}…"
    return printable(result.message)


def display_name(file: CachedFile) -> str:
    """The file name without onnx.hub's ``<sha256>_`` prefix (the details line shows the full path)."""
    name = file.path.name
    match = _SHA_NAME.match(name)
    name = match[2] if match else name
    return printable(name) + ("/" if file.state == "extracted" else "")


def entry_label(entry: ModelInfo | None, kind: str) -> str:
    if entry is None:
        return ""
    return f"{printable(entry.model)} · opset {entry.opset_text}"


@dataclass(frozen=True)
class Row:
    group: int  # index into CacheList.groups
    file: int | None = None  # index into that group's files; None for the group's header row


class CacheList(CursorList):
    """Groups (directories) and their files, with a cursor, folding and a multi-selection."""

    BINDINGS = [
        *cursor_bindings("cache"),
        Binding("left,h", "fold(True)", "Collapse", show=False, id="cache.collapse"),
        Binding("right,l", "fold(False)", "Expand", show=False, id="cache.expand"),
        Binding("enter", "toggle_fold", "Fold", show=False, id="cache.fold"),
    ]

    COMPONENT_CLASSES = {
        "cache-list--header", "cache-list--group", "cache-list--cursor", "cache-list--cursor-blurred",
        "cache-list--selected", "cache-list--dim", "cache-list--empty", "cache-list--complete",
        "cache-list--verified", "cache-list--partial", "cache-list--downloading", "cache-list--orphan",
        "cache-list--extracted", "cache-list--unknown", "cache-list--mismatch",
    }

    @dataclass
    class Highlighted(Message):
        """The cursor moved; ``file`` is None on a group row."""

        group: CacheGroup | None
        file: CachedFile | None

    @dataclass
    class SelectionChanged(Message):
        """The selection changed (bursts collapse into one)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CacheList.SelectionChanged)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.groups: list[CacheGroup] = []
        self.rows: list[Row] = []
        self.selected: set[str] = set()  # rel paths
        self.collapsed: set[str] = set()  # group names
        self.results: dict[str, VerifyResult] = {}  # rel -> last verify result
        self.empty_text = "Scanning the cache…"
        self.show_entries = True  # the model column; without a manifest it would stay empty
        self._names: dict[str, str] = {}  # rel -> display name (disambiguated within its group)

    # -- data ------------------------------------------------------------------------------------
    def set_report(self, report: CacheReport) -> None:
        """Show ``report``; selection, folds and verify results survive for files that are still there."""
        keep = self.current_key()
        self.groups = report.groups
        rels = {f.rel for f in report.files}
        self.selected &= rels
        self.results = {rel: r for rel, r in self.results.items() if rel in rels}
        self.collapsed &= {g.name for g in self.groups}
        self._names = {}
        for group in self.groups:
            names = {f.rel: display_name(f) for f in group.files}
            # by shown name, so a model's file, its archive and its folder sit together
            group.files.sort(key=lambda f: (names[f.rel].lower(), f.rel))
            seen: dict[str, int] = {}
            for name in names.values():
                seen[name] = seen.get(name, 0) + 1
            for f in group.files:
                name = names[f.rel]
                if seen[name] > 1:  # two versions of one file: the sha prefix tells them apart
                    match = _SHA_NAME.match(f.path.name)
                    name = f"{name} ({match[1][:8]})" if match else name
                self._names[f.rel] = name
        self.show_entries = any(f.entry is not None for f in report.files)
        self._rebuild(keep)

    def _rebuild(self, keep: tuple[str, str | None] | None = None) -> None:
        rows: list[Row] = []
        for gi, group in enumerate(self.groups):
            rows.append(Row(gi))
            if group.name not in self.collapsed:
                rows.extend(Row(gi, fi) for fi in range(len(group.files)))
        self.rows = rows
        self.rows_changed()
        index = self.cursor
        if keep is not None:
            index = self._find(keep, index)
        self.move_cursor(index, force=True)
        self.refresh()

    def _find(self, key: tuple[str, str | None], fallback: int) -> int:
        group_name, rel = key
        for i, row in enumerate(self.rows):
            group = self.groups[row.group]
            if group.name != group_name:
                continue
            if rel is None and row.file is None:
                return i
            if row.file is not None and group.files[row.file].rel == rel:
                return i
        return fallback

    def current_key(self) -> tuple[str, str | None] | None:
        group, file = self.current()
        if group is None:
            return None
        return group.name, file.rel if file is not None else None

    def current(self) -> tuple[CacheGroup | None, CachedFile | None]:
        if not 0 <= self.cursor < len(self.rows):
            return None, None
        row = self.rows[self.cursor]
        group = self.groups[row.group]
        return group, group.files[row.file] if row.file is not None else None

    def name_of(self, file: CachedFile) -> str:
        return self._names.get(file.rel) or display_name(file)

    def selected_files(self) -> list[CachedFile]:
        return [f for g in self.groups for f in g.files if f.rel in self.selected]

    def all_files(self) -> list[CachedFile]:
        return [f for g in self.groups for f in g.files]

    # -- selection ---------------------------------------------------------------------------------
    def toggle_current(self) -> None:
        """Space: a file flips; a group is selected whole unless it already is, then cleared."""
        group, file = self.current()
        if group is None:
            return
        if file is not None:
            self.selected ^= {file.rel}
        else:
            rels = {f.rel for f in group.files}
            if rels <= self.selected:
                self.selected -= rels
            else:
                self.selected |= rels
        self.refresh()
        self.post_message(self.SelectionChanged())

    def set_selection(self, rels: set[str]) -> None:
        self.selected = set(rels)
        self.refresh()
        self.post_message(self.SelectionChanged())

    def set_results(self, results: dict[str, VerifyResult]) -> None:
        self.results.update(results)
        self.refresh()

    # -- cursor and folding ------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.rows)

    def row_key(self, index: int) -> object:
        row = self.rows[index] if 0 <= index < len(self.rows) else None
        return (row.group, row.file) if row is not None else None

    def highlight_changed(self) -> None:
        self.post_message(self.Highlighted(*self.current()))

    def action_fold(self, collapse: bool) -> None:
        group, file = self.current()
        if group is None:
            return
        if collapse:
            self.collapsed.add(group.name)
        else:
            self.collapsed.discard(group.name)
        self._rebuild((group.name, None) if collapse or file is None else (group.name, file.rel))

    def action_toggle_fold(self) -> None:
        group, _file = self.current()
        if group is not None:
            self.action_fold(group.name not in self.collapsed)

    async def _on_click(self, event: events.Click) -> None:
        index = self.row_at(event)
        offset = event.get_content_offset(self)
        if index is None or index < 0 or offset is None:
            return
        self.move_cursor(index)
        if offset.x < 4:
            self.toggle_current()  # the [ ] box is a checkbox
        elif event.chain >= 2 and self.rows[index].file is None:
            self.action_toggle_fold()

    # -- rendering ---------------------------------------------------------------------------------
    def _widths(self, width: int) -> tuple[int, int, int, int]:
        """(name, entry, state, size) widths for file rows; box and indent take 8 cells, gaps 3."""
        size_w, state_w = 9, 11
        spare = max(0, width - INDENT - size_w - state_w - 3)
        entry_w = max(0, min(36, spare * 2 // 5)) if self.show_entries else 0
        return spare - entry_w, entry_w, state_w, size_w

    def _style(self, key: str) -> Style:
        style = self.get_component_rich_style(f"cache-list--{key}")
        if key in ("header", "empty", "cursor", "cursor-blurred"):
            return style
        # A state's colour or a group's bold over a row keeps the row's background: the cursor's (a full
        # style painted the group row's name without it).
        return Style(color=style.color, bold=style.bold, italic=style.italic, reverse=style.reverse)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        name_w, entry_w, state_w, size_w = self._widths(width)
        if y == 0:
            header = base + self._style("header")
            text = " " * INDENT + fit_cells("file", name_w) + " " + fit_cells("model", entry_w) + " " + fit_cells("state", state_w)
            text += " " + fit_cells("size", size_w, right=True)
            return Strip([Segment(text, header)]).adjust_cell_length(width, header)
        index = int(self.scroll_offset.y) + y - 1
        if not self.rows:
            if y == 2:
                return Strip([Segment("  " + self.empty_text, base + self._style("empty"))]).adjust_cell_length(
                    width, base)
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        group = self.groups[row.group]
        style = base
        if index == self.cursor:
            style = base + self._style("cursor" if self.has_focus else "cursor-blurred")
        if row.file is None:
            return self._group_line(group, width, style)
        return self._file_line(group.files[row.file], (name_w, entry_w, state_w, size_w), width, style, base)

    def _group_line(self, group: CacheGroup, width: int, style: Style) -> Strip:
        count = sum(1 for f in group.files if f.rel in self.selected)
        box = "[x]" if count == len(group.files) else "[-]" if count else "[ ]"
        arrow = "▶" if group.name in self.collapsed else "▼"
        files = len(group.files)
        right = f"{files} file{'s' if files != 1 else ''} " + fit_cells(human_size(group.size), 9, right=True)
        name = printable(group.name) if group.name else "(cache root)"
        name_w = max(0, width - 7 - cell_width(right) - 1)
        bold = style + self._style("group")
        mark = bold + self._style("selected") if count else bold
        segments = [
            Segment(f" {box} ", mark),
            Segment(f"{arrow} ", bold),
            Segment(fit_cells(name, name_w, keep_tail=True) + " ", bold),
            Segment(right, style),
        ]
        return Strip(segments).adjust_cell_length(width, style)

    def _file_line(self, file: CachedFile, widths: tuple[int, int, int, int], width: int, style: Style,
                   base: Style) -> Strip:
        name_w, entry_w, state_w, size_w = widths
        chosen = file.rel in self.selected
        label, key = state_label(file, self.results.get(file.rel))
        state_style = style + self._style(key)
        mark = style + self._style("selected") if chosen else style
        segments = [
            Segment(" [x] " if chosen else " [ ] ", mark),
            Segment("   ", style),
            Segment(fit_cells(self.name_of(file), name_w) + " ", mark),
            Segment(fit_cells(entry_label(file.entry, file.kind), entry_w) + " ", style + self._style("dim")),
            Segment(fit_cells(label, state_w) + " ", state_style),
            Segment(fit_cells(human_size(file.size), size_w, right=True), style),
        ]
        return Strip(segments).adjust_cell_length(width, style)
