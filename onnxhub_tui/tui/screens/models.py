"""The models screen (key 1): status line, live search, the virtual table and the details panel."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.widgets import Footer, Input, Static

from ...core.errors import QueryError
from ...core.inspect import ModelSummary, summarize
from ...core.manifest import ModelInfo
from ...core.query import narrows, parse_query
from ...core.text import cell_width, fit_cells
from ..clipboard import copy_binding, copy_path
from ..fmt import clean
from ..messages import (CacheStatesChanged, DownloadRequested, Inspected, JobsChanged, ManifestChanged, ShowModel,
                        failure_text)
from ..session import Session
from ..widgets.details import CacheInfo, DetailsPanel
from ..widgets.model_table import ModelTable
from ..widgets.search_input import SearchInput
from .base import SessionScreen, focus_now
from .models_remote import RemoteLooks, RemoteRead

NARROW = 100  # below this many columns the details go under the table
SEARCH_HELP = "search: words  tag:vision  opset:>=12  size:<50MB  -exclude  (? for more)"


class ModelsScreen(SessionScreen):
    CSS_PATH = ["models.tcss", "../widgets/model_table.tcss", "../widgets/details.tcss"]
    AUTO_FOCUS = "ModelTable"  # at compose, before any key typed while the app starts is handled
    BINDINGS = [
        # priority: handled as it is read, before the keys typed after it (see check_action); the "/" prompt shows it
        Binding("slash", "focus_search", "Search", show=False, id="models.search", priority=True),
        Binding("s", "sort", "Sort", id="models.sort"),
        Binding("d", "download(False)", "Download", id="models.download"),
        Binding("D", "download(True)", "+data", id="models.download_data"),
        Binding("i", "details", "Details", show=False, id="models.details"),
        copy_binding("models"),
        Binding("escape", "focus_table", "Table", show=False, id="models.table"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session, id="models-screen")
        self._summaries: dict[str, ModelSummary | str] = {}
        self._query_text: str | None = None  # the last valid query, None before the first
        self._results: dict[str, list[ModelInfo]] = {}  # recent queries' rows, for backspace
        self._pending_query: str | None = None
        self._applied_text: str | None = None  # the text apply_query last ran for
        self._details_entry: ModelInfo | None = None
        self._data_ready: dict[str, bool] = {}  # entry key -> test data extracted (stat calls, per paint)
        self._remote = RemoteLooks(self, session)

    def compose(self) -> ComposeResult:
        yield Static(id="status", markup=False)
        with Horizontal(id="search-bar"):
            yield Static("/", id="search-label")
            yield SearchInput(on_type=self.search_now, placeholder=SEARCH_HELP, id="search", compact=True,
                              select_on_focus=False)
        yield Static(id="query-error", markup=False)
        with Container(id="body"):
            yield ModelTable(self.session.cached_state, data_ready=self._data_extracted,
                             empty_text="Loading the manifest…", id="models")
            yield DetailsPanel(id="details")
        # The footer is mounted after the first paint (_mount_footer): its keys cost ~30 ms to compose
        # and ~40 ms to paint, more than the rest of the screen, and the first frame is the table's.

    def on_mount(self) -> None:
        self.query_one("#query-error").display = False
        if self.focused is None:  # no table to focus (no manifest): the search box, as Textual would
            focus_now(self.query_one("#search", Input))
        self.update_status()
        self._apply_layout(self.app.size.width)
        self.call_after_refresh(self._mount_footer)
        if self.session.manifest_state == "failed":
            self.show_load_error(self.session.manifest_error or "No manifest.")
        elif self.session.entries:  # the manifest, or a cached copy painted while the worker revalidates it
            self.set_entries(self.session.entries)

    async def _mount_footer(self) -> None:
        if not self.query(Footer):
            await self.mount(Footer(compact=True))
            self.refresh_bindings()  # the focus was given at compose: no later change tells the footer

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)
        self.update_status()  # the spec is fitted to the width

    def _apply_layout(self, width: int) -> None:
        self.set_class(width < NARROW, "narrow")

    # -- data in ------------------------------------------------------------------------------
    @property
    def table(self) -> ModelTable:
        return self.query_one("#models", ModelTable)

    def on_manifest_changed(self, message: ManifestChanged) -> None:
        if self.session.manifest_state == "failed":
            self.show_load_error(self.session.manifest_error or "No manifest.")
        else:
            self.set_entries(self.session.entries)

    def on_cache_states_changed(self, message: CacheStatesChanged) -> None:
        self.refresh_cached()

    def on_jobs_changed(self, message: JobsChanged) -> None:
        if message.job_id is None:  # jobs added, started or ended: the queue count; progress is not ours
            self.update_status()

    def on_show_model(self, message: ShowModel) -> None:
        self.show_entry(message.entry)

    def set_entries(self, entries: list[ModelInfo]) -> None:
        """A new manifest: show it through the current query, keeping the highlighted model."""
        keep = self.table.highlighted
        self._summaries.clear()
        self._data_ready.clear()
        self._remote.clear()
        self._query_text = None
        self._applied_text = None
        self._results.clear()
        self.table.set_rows(entries)  # the table sorts them once; queries filter that order
        self.table.empty_text = "No models match the search." if entries else "The manifest has no models."
        self.apply_query(self.query_one("#search", Input).value)
        if keep is not None and keep not in entries:  # the same model in the new manifest, if any
            same = next((e for e in self.table.rows if e.key == keep.key and e.opset == keep.opset), None)
            if same is not None:
                self.table.select_entry(same)

    def show_load_error(self, message: str) -> None:
        self.table.empty_text = message
        self.table.set_rows([])
        self.query_one(DetailsPanel).show_message("No manifest loaded: nothing to show.")
        self.update_status()

    def search_now(self, text: str) -> None:
        """Apply the search box's ``text`` at once (SearchInput calls this for a typed key)."""
        self._pending_query = None
        self.apply_query(text)

    def apply_query(self, text: str) -> None:
        self._applied_text = text
        error = self.query_one("#query-error", Static)
        try:
            query = parse_query(text)
        except QueryError as exc:
            error.update(Text(failure_text(exc, kind=False), style="bold"))
            error.display = True
            # keep the rows of the last valid query; when there are none, the error is the one word
            self.table.empty_text = "The search has a mistake (above)."
            return
        if error.display:
            error.display = False
        if self.session.entries:
            self.table.empty_text = "No models match the search."
        rows = self._results.get(text)
        if rows is None:
            # typing on narrows the last result; anything else filters every entry (already sorted)
            base = self.table.rows if narrows(self._query_text, text) else self.table.sorted_entries
            rows = list(base)
            for predicate in query.predicates:  # one list pass per term: cheaper than all() per entry
                rows = [e for e in rows if predicate(e)]
            if len(self._results) >= 32:
                self._results.pop(next(iter(self._results)))
            self._results[text] = rows
        self._query_text = text
        self.table.set_rows(rows, presorted=True)
        self.update_status()

    def update_status(self) -> None:
        session = self.session
        text = Text()
        state = session.manifest_state or "loading"
        style = {"fresh": "green", "cached": "green", "local": "green", "stale": "yellow",
                 "offline": "yellow", "failed": "red"}.get(state, "dim")
        total = len(session.entries)
        cached = session.cached_count
        counts = f"  {self.table.row_count} shown / {total} total / {cached} cached"
        pending = len(session.queue.pending)
        queue = f"  ↓ {pending} in queue" if pending else ""
        # the spec gives way (cut with "…"): the state, the counts and the queue always show whole
        room = self.app.size.width - 2 - cell_width(f"  manifest {state}{counts}{queue}")
        text.append(fit_cells(clean(session.hub.source.spec), max(8, room), pad=False), style="bold")
        text.append("  manifest ")
        text.append(state, style=style)
        text.append(counts)
        if queue:
            text.append(queue, style="cyan")
        # One line of fixed height: no layout needed (a layout per key was 10-35 ms at 120x40)
        self.query_one("#status", Static).update(text, layout=False)

    def refresh_cached(self) -> None:
        """The cache changed: repaint the column, the counts and the details."""
        self._summaries.clear()
        self._data_ready.clear()
        self.table.refresh_cached()
        self.update_status()
        self.show_details(self.table.highlighted)

    # -- events ---------------------------------------------------------------------------------
    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        # Keys that arrive together (fast typing, a paste) filter once, for the last text: the filter
        # runs after the messages already queued, and each of them only replaces the pending text.
        scheduled = self._pending_query is not None
        self._pending_query = event.value
        if not scheduled:
            self.call_later(self._apply_pending_query)

    def _apply_pending_query(self) -> None:
        pending, self._pending_query = self._pending_query, None
        # the box's text now: a Changed that arrives after search_now must not bring back older text
        text = self.query_one("#search", Input).value if pending is not None else None
        if text is not None and text != self._applied_text:  # not applied already by search_now
            self.apply_query(text)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self._apply_pending_query()
        self.action_focus_table()

    @on(ModelTable.Highlighted)
    def _highlighted(self, event: ModelTable.Highlighted) -> None:
        if event.entry is not self._details_entry:
            # painted once the cursor settles: moving it or typing a search stays quick
            self.show_details(event.entry, defer=True)

    @on(ModelTable.Selected)
    def _selected(self) -> None:
        self.action_details()

    @on(ModelTable.Sorted)
    def _sorted(self, event: ModelTable.Sorted) -> None:
        self._results.clear()  # cached rows are in the old order
        # no toast: the header's arrow says it (four presses of s stacked four toasts over the details)

    # -- details --------------------------------------------------------------------------------
    def _data_extracted(self, entry: ModelInfo) -> bool:
        """The table's "+data" mark: is the test-data archive extracted? Remembered until the cache changes."""
        ready = self._data_ready.get(entry.key)
        if ready is None:
            ready = self._data_ready[entry.key] = self.session.hub.local_copy(entry).data_dir is not None
        return ready

    def cache_info(self, entry: ModelInfo) -> CacheInfo:
        copy = self.session.hub.local_copy(entry)  # the core's one answer; stat calls only
        info = CacheInfo(self.session.cached_state(entry), copy.path)
        if copy.data_dir is not None:
            info.data_path, info.data_state = copy.data_dir, "extracted"
        elif copy.data_state is not None and copy.data_archive is not None:
            info.data_path = copy.data_archive
            info.data_state = "archive" if copy.data_state == "complete" else copy.data_state
        return info

    def show_details(self, entry: ModelInfo | None, defer: bool = False) -> None:
        panel = self.query_one(DetailsPanel)
        self._details_entry = entry
        self._remote.look(entry)  # an entry without ports: its header, once the cursor settles
        if entry is None:
            panel.show(None, defer=defer)
            return
        info = self.cache_info(entry)
        summary: ModelSummary | str | None = None
        if info.state == "complete" and info.path is not None:
            summary = self._summaries.get(entry.key)
            if summary is None:
                summary = "Reading the file…"
                self._inspect(entry, info.path)
        panel.show(entry, info, summary, self._remote.state(entry), defer=defer)

    def on_remote_read(self, message: RemoteRead) -> None:
        if self._remote.arrived(message) and self.table.highlighted is message.entry:
            self.show_details(message.entry)

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _inspect(self, entry: ModelInfo, path: Path) -> None:
        try:
            result: ModelSummary | str = summarize(path)
        except Exception as exc:  # noqa: BLE001 - a worker must never take the app down
            result = f"Could not read the file: {failure_text(exc)}"
        self.post_message(Inspected(entry, result))

    def on_inspected(self, message: Inspected) -> None:
        self._summaries[message.entry.key] = message.result
        if self.table.highlighted is message.entry:
            self.show_details(message.entry)

    # -- actions --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A plain binding runs once its key has gone through the focused widget's queue, behind the keys
        # read with it: "/conv" typed in one burst (a fast typist over SSH) gave "conv" to the table. As a
        # priority binding "/" moves the focus at once, so "conv" follows it; in the box it is text.
        if action == "focus_search":
            return not isinstance(self.focused, Input)
        return True

    def action_focus_search(self) -> None:
        focus_now(self.query_one("#search", Input))

    def action_focus_table(self) -> None:
        focus_now(self.table)
        self.query_one(DetailsPanel).flush()  # the typing is over: show the details now

    def action_sort(self) -> None:
        self.table.cycle_sort()

    def action_copy_path(self) -> None:
        """The highlighted model's file in the cache (its extracted data folder when only that is there)."""
        entry = self.table.highlighted
        if entry is None:
            copy_path(self.app, None)
            return
        copy = self.session.hub.local_copy(entry)
        path = copy.path if copy.state == "complete" or copy.data_dir is None else copy.data_dir
        if path is not None and copy.state != "complete" and copy.data_dir is None:
            self.notify("Not downloaded yet: this is where d puts it.", timeout=3)
        copy_path(self.app, path, what="cache path")

    def action_details(self) -> None:
        focus_now(self.query_one(DetailsPanel))

    def action_download(self, with_data: bool) -> None:
        entry = self.table.highlighted
        if entry is None:
            self.notify("No model highlighted.", severity="warning")
            return
        self.post_message(DownloadRequested(entry, with_data))

    def show_entry(self, entry: ModelInfo) -> None:
        """Highlight ``entry``, clearing the search if it hides it (the command palette uses this)."""
        if not self.table.select_entry(entry):
            self.query_one("#search", Input).value = ""
            self.apply_query("")
            self.table.select_entry(entry)
        self.show_details(self.table.highlighted)
        focus_now(self.table)
