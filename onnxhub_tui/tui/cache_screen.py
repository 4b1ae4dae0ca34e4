"""The cache screen (key ``3``): every cached file grouped by directory, selection, verify and delete.

Scanning, selecting prunable files, verifying and deleting all go through ``core.cache``; this module
only shows the report and turns keys into those calls. The list is a Line-API ``ScrollView`` that paints
only the rows on screen, so a cache of tens of thousands of files costs one pass to flatten, not a
widget per file.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import get_current_worker

from ..core import cache
from ..core.cache import CachedFile, CacheGroup, CacheReport, VerifyResult
from ..core.errors import CancelledError
from ..core.manifest import ModelInfo
from ..core.text import human_size, printable
from .fmt import show_path
from .messages import CacheChanged
from .modals import ConfirmScreen

_SHA_NAME = re.compile(r"^([0-9a-f]{64})_(.+)$")
INDENT = 8  # " [ ] " and three cells of indent before a file's name
CONFIRM_LIST_LIMIT = 200  # lines of file names in the delete confirmation; the rest is counted

STATE_LABELS = {
    "complete": "complete",
    "partial": "partial",
    "orphan": "orphan",
    "extracted": "extracted",
    "unknown": "unknown",
}


def state_label(file: CachedFile, result: VerifyResult | None = None) -> tuple[str, str]:
    """(text, style key) for a file's state column; a verify result overrides the scanned state."""
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
    return f"{printable(entry.model)} · opset {entry.opset}"


def _fit(text: str, width: int, right: bool = False, keep_tail: bool = False) -> str:
    """``text`` cut or padded to exactly ``width`` cells; long paths keep their informative tail."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        if keep_tail and width > 1:
            tail = text[-width:]
            while cell_len(tail) > width - 1:
                tail = tail[1:]
            text = "…" + tail
        else:
            text = set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = width - cell_len(text)
    return " " * pad + text if right else text + " " * pad


@dataclass(frozen=True)
class Row:
    group: int  # index into CacheList.groups
    file: int | None = None  # index into that group's files; None for the group's header row


class CacheList(ScrollView, can_focus=True):
    """Groups (directories) and their files, with a cursor, folding and a multi-selection."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="cache.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="cache.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="cache.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="cache.page_down"),
        Binding("home,g", "edge(0)", "First row", show=False, id="cache.first"),
        Binding("end,G", "edge(1)", "Last row", show=False, id="cache.last"),
        Binding("left,h", "fold(True)", "Collapse", show=False, id="cache.collapse"),
        Binding("right,l", "fold(False)", "Expand", show=False, id="cache.expand"),
        Binding("enter", "toggle_fold", "Fold", show=False, id="cache.fold"),
    ]

    DEFAULT_CSS = """
    CacheList { height: 1fr; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    CacheList > .cache-list--header { text-style: bold; color: $text-accent; background: $boost; }
    CacheList > .cache-list--group { text-style: bold; }
    CacheList > .cache-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    CacheList > .cache-list--cursor-blurred { background: $block-cursor-blurred-background; }
    CacheList > .cache-list--selected { color: $text-accent; text-style: bold; }
    CacheList > .cache-list--dim { color: $text-muted; }
    CacheList > .cache-list--empty { color: $text-muted; text-style: italic; }
    CacheList > .cache-list--complete { color: $text-success; }
    CacheList > .cache-list--verified { color: $text-success; text-style: bold; }
    CacheList > .cache-list--partial { color: $text-warning; }
    CacheList > .cache-list--downloading { color: $text-accent; text-style: bold; }
    CacheList > .cache-list--orphan { color: $text-error; }
    CacheList > .cache-list--extracted { color: $text-primary; }
    CacheList > .cache-list--unknown { color: $text-muted; }
    CacheList > .cache-list--mismatch { color: $text-error; text-style: bold reverse; }
    """
    COMPONENT_CLASSES = {
        "cache-list--header", "cache-list--group", "cache-list--cursor", "cache-list--cursor-blurred",
        "cache-list--selected", "cache-list--dim", "cache-list--empty", "cache-list--complete",
        "cache-list--verified", "cache-list--partial", "cache-list--downloading", "cache-list--orphan",
        "cache-list--extracted", "cache-list--unknown", "cache-list--mismatch",
    }

    cursor: reactive[int] = reactive(0, repaint=False)

    class Highlighted(Message):
        """The cursor moved; ``file`` is None on a group row."""

        def __init__(self, group: CacheGroup | None, file: CachedFile | None) -> None:
            super().__init__()
            self.group = group
            self.file = file

    class SelectionChanged(Message):
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
        self._last: tuple[int, int | None] | None = None

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
        self.virtual_size = Size(0, len(rows) + 1)
        index = self.cursor
        if keep is not None:
            index = self._find(keep, index)
        self._set_cursor(index, force=True)
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
    def _set_cursor(self, index: int, force: bool = False) -> None:
        index = max(0, min(index, len(self.rows) - 1)) if self.rows else 0
        old = self.cursor
        self.cursor = index
        # Only the two rows change, unless the view scrolls (which repaints everything anyway).
        # refresh_line takes virtual lines: row i is line i + 1, under the header.
        self.refresh_line(old + 1)
        self.refresh_line(index + 1)
        self._scroll_cursor_into_view()
        here = (self.rows[index].group, self.rows[index].file) if self.rows else None
        if force or here != self._last:
            self._last = here
            group, file = self.current()
            self.post_message(self.Highlighted(group, file))

    @property
    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self._page_rows:
            self.scroll_to(y=self.cursor - self._page_rows + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self.cursor + direction * self._page_rows)

    def action_edge(self, end: int) -> None:
        self._set_cursor(len(self.rows) - 1 if end else 0)

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

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if not 0 <= index < len(self.rows):
            return
        self._set_cursor(index)
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
        return self.get_component_rich_style(f"cache-list--{key}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        name_w, entry_w, state_w, size_w = self._widths(width)
        if y == 0:
            header = base + self._style("header")
            text = " " * INDENT + _fit("file", name_w) + " " + _fit("model", entry_w) + " " + _fit("state", state_w)
            text += " " + _fit("size", size_w, right=True)
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
        right = f"{files} file{'s' if files != 1 else ''} " + _fit(human_size(group.size), 9, right=True)
        name = printable(group.name) if group.name else "(cache root)"
        name_w = max(0, width - 7 - cell_len(right) - 1)
        bold = style + self._style("group")
        mark = bold + self._style("selected") if count else bold
        segments = [
            Segment(f" {box} ", mark),
            Segment(f"{arrow} ", bold),
            Segment(_fit(name, name_w, keep_tail=True) + " ", bold),
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
            Segment(_fit(self.name_of(file), name_w) + " ", mark),
            Segment(_fit(entry_label(file.entry, file.kind), entry_w) + " ", style + self._style("dim")),
            Segment(_fit(label, state_w) + " ", state_style),
            Segment(_fit(human_size(file.size), size_w, right=True), style),
        ]
        return Strip(segments).adjust_cell_length(width, style)


class Scanned(Message):
    def __init__(self, report: CacheReport, generation: int, seconds: float) -> None:
        super().__init__()
        self.report, self.generation, self.seconds = report, generation, seconds


class Failed(Message):
    """A worker failed; ``what`` is shown with the one-line error."""

    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what, self.error = what, error


class VerifyProgress(Message):
    """File ``done`` of ``total`` starts (result None) or ends; the bar follows bytes, so one big file
    among small ones does not look stuck at the last percent."""

    def __init__(self, done: int, total: int, name: str, size: int, done_bytes: int, total_bytes: int,
                 result: VerifyResult | None) -> None:
        super().__init__()
        self.done, self.total, self.name, self.size, self.result = done, total, name, size, result
        self.done_bytes, self.total_bytes = done_bytes, total_bytes

    def can_replace(self, message: Message) -> bool:
        # A progress tick is dropped when a newer one waits behind it; a finished file's result never is.
        return self.result is None and isinstance(message, VerifyProgress)


class VerifyDone(Message):
    def __init__(self, results: list[VerifyResult], cancelled: bool) -> None:
        super().__init__()
        self.results, self.cancelled = results, cancelled


class Deleted(Message):
    def __init__(self, result: cache.DeleteResult) -> None:
        super().__init__()
        self.result = result


class CacheScreen(Screen):
    """Browse the cache on disk; works without a manifest (states then come from file names)."""

    DEFAULT_CSS = """
    CacheScreen #cache-header { height: 1; width: 1fr; padding: 0 1; background: $panel; color: $text; }
    CacheScreen #cache-detail { height: 1; width: 1fr; padding: 0 1; color: $text-muted; }
    CacheScreen #cache-status-bar { height: 1; background: $panel; }
    CacheScreen #cache-status { width: 1fr; height: 1; padding: 0 1; }
    CacheScreen #cache-progress { width: auto; height: 1; display: none; padding: 0 1 0 0; }
    CacheScreen #cache-progress Bar { width: 16; }
    CacheScreen #cache-progress.busy { display: block; }
    """

    BINDINGS = [
        Binding("space", "toggle", "Select", id="cache.toggle"),
        Binding("x,delete", "delete", "Delete", key_display="x/del", id="cache.delete"),
        Binding("v", "verify", "Verify", id="cache.verify"),
        Binding("r", "rescan", "Rescan", id="cache.rescan"),
        Binding("p", "select_prunable", "Prunable", id="cache.select_prunable"),
        Binding("a", "select_all", "All/none", show=False, id="cache.select_all"),
        Binding("escape", "clear", "Clear / stop", show=False, id="cache.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: CacheReport | None = None
        self.busy: str | None = None  # "verify" or "delete" while a worker runs
        self.last_scan_seconds: float | None = None
        self._generation = 0
        self._verify_worker = None
        self._stale = False

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="cache-header", markup=False)
        yield CacheList(id="cache-list")
        yield Static("", id="cache-detail", markup=False)
        with Horizontal(id="cache-status-bar"):
            yield Static("", id="cache-status", markup=False)
            yield ProgressBar(id="cache-progress", show_eta=False)
        yield Footer()

    @property
    def cache_list(self) -> CacheList:
        return self.query_one(CacheList)

    def on_mount(self) -> None:
        self.cache_list.focus()
        self._update_header()
        self.action_rescan()

    def on_screen_suspend(self) -> None:
        # A modal (confirm, help) on top keeps the scan; another screen may change the cache or the manifest.
        try:
            self._stale = not isinstance(self.app.screen, ModalScreen)
        except Exception:  # noqa: BLE001 - no screen left (the app is closing)
            self._stale = True

    def on_screen_resume(self) -> None:
        if self.report is not None and self._stale:
            self.action_rescan()
        self._stale = False

    # -- app state ---------------------------------------------------------------------------------
    def _hub(self):  # noqa: ANN202 - onnxhub_tui.core.client.Hub, kept loose for test apps
        return getattr(self.app, "hub", None)

    def _entries(self) -> list[ModelInfo] | None:
        """The manifest's entries, or None when there is none (a remote cache without network)."""
        entries = getattr(self.app, "manifest_entries", None)
        return list(entries) if entries else None

    # -- scanning ------------------------------------------------------------------------------------
    def action_rescan(self) -> None:
        hub = self._hub()
        if hub is None:
            self.cache_list.empty_text = "No cache configured."
            return
        self._generation += 1
        self.cache_list.empty_text = "Scanning the cache…"
        self.cache_list.refresh()
        self._set_status("Scanning…")
        self._scan(hub, self._entries(), self._generation)

    @work(thread=True, exclusive=True, group="cache-scan", exit_on_error=False)
    def _scan(self, hub, entries: list[ModelInfo] | None, generation: int) -> None:  # noqa: ANN001
        started = time.perf_counter()
        try:
            report = hub.scan_cache(entries)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into the UI
            self.post_message(Failed("Scanning the cache", str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Scanned(report, generation, time.perf_counter() - started))

    def on_scanned(self, message: Scanned) -> None:
        if message.generation != self._generation:
            return  # a newer scan is on its way
        self.report = message.report
        self.last_scan_seconds = message.seconds
        root = printable(show_path(message.report.root))
        self.cache_list.empty_text = f"The cache is empty ({root})." if message.report.root.is_dir() else (
            f"No cache yet: {root} does not exist.")
        self.cache_list.set_report(message.report)
        for warning in message.report.warnings:
            self.notify(printable(warning), severity="warning", markup=False)
        self._update_header()
        self._update_status()

    def on_failed(self, message: Failed) -> None:
        self.busy = None
        self._show_progress(None)
        self.notify(f"{message.what} failed: {printable(message.error, 300)}", severity="error", markup=False)
        self._update_status()

    # -- header, details and status lines -----------------------------------------------------------
    def _update_header(self) -> None:
        hub = self._hub()
        root = printable(show_path(hub.cache_dir)) if hub is not None else "?"
        text = f"Cache: {root}"
        if self.report is not None:
            files = len(self.report.files)
            text += f" · {files} file{'s' if files != 1 else ''} · {human_size(self.report.size)}"
        entries = self._entries()
        text += f" · manifest: {len(entries)} entries" if entries else " · no manifest"
        self.query_one("#cache-header", Static).update(text, layout=False)

    def on_cache_list_highlighted(self, message: CacheList.Highlighted) -> None:
        self._update_detail(message.group, message.file)

    def _update_detail(self, group: CacheGroup | None, file: CachedFile | None) -> None:
        detail = self.query_one("#cache-detail", Static)
        if group is None:
            detail.update("", layout=False)
        elif file is None:
            states: dict[str, int] = {}
            for f in group.files:
                label = state_label(f, self.cache_list.results.get(f.rel))[0]
                states[label] = states.get(label, 0) + 1
            summary = ", ".join(f"{n} {label}" for label, n in sorted(states.items()))
            detail.update(f"{printable(group.name) or '(cache root)'}: {summary}", layout=False)
        else:
            result = self.cache_list.results.get(file.rel)
            text = printable(file.rel)
            if file.is_link:
                text += " → link (deleting removes the link only)"
            if result is not None:
                text = f"{verify_note(result)} · {text}"
            elif file.in_use:
                text = f"a running download owns it · {text}"
            detail.update(text, layout=False)

    def on_cache_list_selection_changed(self, message: CacheList.SelectionChanged) -> None:
        self._update_status()
        self._update_detail(*self.cache_list.current())

    def _set_status(self, text: str) -> None:
        # One fixed line each: no re-layout of the screen per keystroke (it cost ~50 ms a key).
        self.query_one("#cache-status", Static).update(text, layout=False)

    def _update_status(self) -> None:
        if self.busy == "verify":
            return  # progress owns the line
        if self.busy == "delete":
            self._set_status("Deleting…")
            return
        if self.report is None:
            self._set_status("Scanning…")
            return
        chosen = self.cache_list.selected_files()
        if not chosen:
            self._set_status(
                f"Total {human_size(self.report.size)} · space selects a file or group, p selects prunable")
            return
        plan = cache.plan_delete(self.report, chosen)
        text = f"Selected {len(chosen)} of {len(self.report.files)} · frees {human_size(plan.size)}"
        if plan.skipped:
            text += f" · {len(plan.skipped)} kept: download running"
        self._set_status(text)

    def _show_progress(self, total: int | None, done: int = 0) -> None:
        bar = self.query_one("#cache-progress", ProgressBar)
        bar.set_class(total is not None, "busy")
        if total is not None:
            bar.update(total=max(total, 1), progress=done)

    # -- selection ---------------------------------------------------------------------------------
    def action_toggle(self) -> None:
        self.cache_list.toggle_current()
        self.cache_list.action_cursor(1)  # like a file manager: space marks and moves on

    def action_select_all(self) -> None:
        everything = {f.rel for f in self.cache_list.all_files()}
        self.cache_list.set_selection(set() if everything and everything <= self.cache_list.selected else everything)

    def action_select_prunable(self) -> None:
        if self.report is None:
            return
        prunable = cache.prunable(self.report)
        self.cache_list.set_selection({f.rel for f in prunable})
        if not prunable:
            self.notify("Nothing to prune: no orphans and no abandoned partial downloads.", markup=False)

    def action_clear(self) -> None:
        if self.busy == "verify" and self._verify_worker is not None:
            self._verify_worker.cancel()
            return
        if self.cache_list.selected:
            self.cache_list.set_selection(set())

    def _targets(self) -> list[CachedFile]:
        """The selection, or else the highlighted file (or group) alone."""
        chosen = self.cache_list.selected_files()
        if chosen:
            return chosen
        group, file = self.cache_list.current()
        if file is not None:
            return [file]
        return list(group.files) if group is not None else []

    def _idle_targets(self) -> list[cache.CachedFile]:
        """What delete or verify would act on; nothing while a scan, delete or verify is running."""
        if self.busy:
            self.notify(f"Busy ({self.busy}); try again when it finishes.", markup=False)
            return []
        return self._targets() if self.report is not None else []

    # -- delete -------------------------------------------------------------------------------------
    def action_delete(self) -> None:
        targets = self._idle_targets()
        if not targets:
            return
        plan = cache.plan_delete(self.report, targets)
        if not plan.items:
            self.notify("Nothing to delete: a running download owns every selected file.", severity="warning",
                        markup=False)
            return
        count = len(plan.items)
        title = f"Delete {count} file{'s' if count != 1 else ''} ({human_size(plan.size)})?"
        self.app.push_screen(ConfirmScreen(title, self._plan_text(plan), yes="Delete", no="Keep"),
                             lambda yes: self._confirmed(plan, yes))

    def _plan_text(self, plan: cache.DeletePlan) -> str:
        lines = [f"Frees {human_size(plan.size)} in {printable(show_path(plan.root))}:", ""]
        for f in plan.items[:CONFIRM_LIST_LIMIT]:
            link = "  (the link only)" if f.is_link else ""
            lines.append(f"{human_size(f.size):>9}  {self._short(f)}{link}")
        if len(plan.items) > CONFIRM_LIST_LIMIT:
            lines.append(f"{'':>9}  … and {len(plan.items) - CONFIRM_LIST_LIMIT} more")
        if plan.skipped:
            lines += ["", f"Kept ({len(plan.skipped)}):"]
            for f, reason in plan.skipped[:CONFIRM_LIST_LIMIT]:
                lines.append(f"{'':>9}  {self._short(f)}: {printable(reason)}")
        return "\n".join(lines)

    def _short(self, file: CachedFile) -> str:
        """``…/mnist/model/mnist-8.onnx``: the last two folders are what tells models apart."""
        parts = printable(file.group).split("/") if file.group else []
        head = ("…/" if len(parts) > 2 else "") + "/".join(parts[-2:])
        return f"{head}/{self.cache_list.name_of(file)}" if head else self.cache_list.name_of(file)

    def _confirmed(self, plan: cache.DeletePlan, yes: bool | None) -> None:
        if not yes:
            return
        self.busy = "delete"
        self._update_status()
        self._delete(plan)

    @work(thread=True, exclusive=True, group="cache-delete", exit_on_error=False)
    def _delete(self, plan: cache.DeletePlan) -> None:
        try:
            result = cache.execute(plan)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into the UI
            self.post_message(Failed("Deleting", str(exc)))
            return
        self.post_message(Deleted(result))

    def on_deleted(self, message: Deleted) -> None:
        self.busy = None
        result = message.result
        count = len(result.deleted)
        text = f"Deleted {count} file{'s' if count != 1 else ''}, freed {human_size(result.freed)}."
        if result.errors:
            f, why = result.errors[0]
            text += f" {len(result.errors)} not deleted ({self.cache_list.name_of(f)}: {printable(why)}"
            text += ", …)" if len(result.errors) > 1 else ")"
        self.notify(text, severity="warning" if result.errors else "information", markup=False)
        self.cache_list.selected -= {f.rel for f in result.deleted}
        self.app.post_message(CacheChanged())
        self.action_rescan()

    # -- verify -------------------------------------------------------------------------------------
    def action_verify(self) -> None:
        targets = self._idle_targets()
        if not targets:
            return
        self.busy = "verify"
        self._show_progress(sum(f.size for f in targets))
        self._set_status(f"Verifying 0/{len(targets)}…")
        self._verify_worker = self._verify(targets)

    @work(thread=True, exclusive=True, group="cache-verify", exit_on_error=False)
    def _verify(self, files: list[CachedFile]) -> None:
        worker = get_current_worker()
        results: list[VerifyResult] = []
        total_bytes = sum(f.size for f in files)
        done_bytes = 0
        for i, f in enumerate(files):
            if worker.is_cancelled:
                break
            name = self.cache_list.name_of(f)
            self.post_message(VerifyProgress(i, len(files), name, f.size, done_bytes, total_bytes, None))
            last = time.monotonic()

            def tick(n: int, i: int = i, name: str = name, size: int = f.size, base: int = done_bytes) -> None:
                nonlocal last
                if worker.is_cancelled:
                    raise CancelledError("verify stopped")  # unwinds out of the hashing loop
                now = time.monotonic()
                if now - last >= 0.1:  # ~10 updates a second, whatever the disk speed
                    last = now
                    self.post_message(VerifyProgress(i, len(files), name, size, base + n, total_bytes, None))

            try:
                result = cache.verify(f, progress=tick)
            except CancelledError:
                break
            except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the rest
                result = VerifyResult(f, False, message=f"cannot verify: {exc}")
            results.append(result)
            done_bytes += f.size
            self.post_message(VerifyProgress(i + 1, len(files), name, f.size, done_bytes, total_bytes, result))
        self.post_message(VerifyDone(results, worker.is_cancelled))

    def on_verify_progress(self, message: VerifyProgress) -> None:
        if self.busy != "verify":
            return
        self._show_progress(message.total_bytes, message.done_bytes)
        if message.result is not None:
            self.cache_list.set_results({message.result.file.rel: message.result})
        if message.done < message.total:
            self._set_status(f"Verifying {message.done + 1}/{message.total} {message.name} "
                             f"{human_size(message.size)} · esc stops")

    def on_verify_done(self, message: VerifyDone) -> None:
        self.busy = None
        self._verify_worker = None
        self._show_progress(None)
        self.cache_list.set_results({r.file.rel: r for r in message.results})
        bad = [r for r in message.results if r.ok is False]
        good = sum(1 for r in message.results if r.ok)
        skipped = sum(1 for r in message.results if r.ok is None)
        text = f"Verified {good} ok, {len(bad)} mismatched"
        text += f", {skipped} skipped (partial, folder or no checksum)" if skipped else ""
        text += " (stopped)" if message.cancelled else ""
        self.notify(text + ".", severity="error" if bad else "information", markup=False)
        self._update_status()
        self._update_detail(*self.cache_list.current())
