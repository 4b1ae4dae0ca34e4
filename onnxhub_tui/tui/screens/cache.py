"""The cache screen (key ``3``): the cache list, selection, verify and delete.

Scanning, selecting prunable files, verifying and deleting all go through ``core.cache``; this module
only shows the report and turns keys into those calls.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static
from textual.worker import get_current_worker

from ...core import cache
from ...core.cache import CachedFile, CacheGroup, CacheReport, VerifyResult
from ...core.errors import CancelledError
from ...core.manifest import ModelInfo
from ...core.text import cell_width, fit_cells, human_size, printable
from ...core.throttle import Throttle
from .. import cachewatch
from ..clipboard import copy_binding, copy_path
from ..pathtext import PathText, wrap_path
from ..fmt import show_path
from ..messages import CacheChanged, CacheFilesChanged, ManifestChanged, WorkerFailed, failure_text
from ..session import Session
from ..widgets.cache_list import CacheList, state_label, verify_note
from ..widgets.fit_footer import FitFooter
from .base import SessionScreen, focus_now
from .cache_messages import Deleted, FoldersChanged, Scanned, VerifyDone, VerifyProgress
from .modals import ConfirmScreen

CONFIRM_LIST_LIMIT = 200  # lines of file names in the delete confirmation; the rest is counted


class CacheScreen(SessionScreen):
    """Browse the cache on disk; works without a manifest (states then come from file names)."""

    CSS_PATH = ["cache.tcss", "../widgets/cache_list.tcss"]

    BINDINGS = [
        Binding("space", "toggle", "Select", tooltip="Select or unselect the highlighted file or group (the cursor stays)",
                id="cache.toggle"),
        Binding("x,delete", "delete", "Delete", key_display="x/del", id="cache.delete"),
        Binding("v", "verify", "Verify", id="cache.verify"),
        Binding("r", "rescan", "Rescan", id="cache.rescan"),
        Binding("p", "select_prunable", "Prunable", id="cache.select_prunable"),
        Binding("a", "select_all", "All/none", show=False, id="cache.select_all"),
        Binding("escape", "clear", "Clear / stop", show=False, id="cache.clear"),
        copy_binding("cache"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session, id="cache-screen")
        self.report: CacheReport | None = None
        self.busy: str | None = None  # "verify" or "delete" while a worker runs
        self.last_scan_seconds: float | None = None
        self._generation = 0
        self._verify_worker = None
        self._stale = False
        self._folders: list[Path] = []  # the watch: these folders' mtimes as of the last scan
        self._signature: cachewatch.Signature = {}
        self.watch_seconds = cachewatch.WATCH_SECONDS
        self._detail_path: Path | None = None  # what y copies: the highlighted file or folder
        self._detail_lines = 0

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="cache-header", markup=False)
        yield CacheList(id="cache-list")
        yield Static("", id="cache-detail", markup=False)
        with Horizontal(id="cache-status-bar"):
            yield Static("", id="cache-status", markup=False)
            yield ProgressBar(id="cache-progress", show_eta=False)
        yield FitFooter(current="app.cache")

    @property
    def cache_list(self) -> CacheList:
        return self.query_one(CacheList)

    def on_mount(self) -> None:
        focus_now(self.cache_list)
        self._update_header()
        self.action_rescan()
        self.set_interval(self.watch_seconds, self._watch_tick)

    # -- staying live --------------------------------------------------------------------------------
    def _watch_tick(self) -> None:
        if self.is_current:
            self._check_folders()

    def on_cache_files_changed(self, message: CacheFilesChanged) -> None:
        """A download ended (or the app saw a change): compare now rather than at the next tick."""
        if self.is_current:
            self._check_folders()
        else:
            self._stale = True

    def _check_folders(self) -> None:
        if self.report is None or self.busy:
            return  # a scan is coming, or a delete will rescan
        self._compare(self._generation, list(self._folders), dict(self._signature))

    @work(thread=True, exclusive=True, group="cache-watch", exit_on_error=False)
    def _compare(self, generation: int, folders: list[Path], known: cachewatch.Signature) -> None:
        if cachewatch.signature(folders) != known:
            self.post_message(FoldersChanged(generation))

    def on_folders_changed(self, message: FoldersChanged) -> None:
        if message.generation != self._generation or self.busy:
            return  # a scan started since: it sees the change
        self.app.post_message(CacheChanged())  # the models table's cached column too
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

    def on_manifest_changed(self, message: ManifestChanged) -> None:
        # the manifest names the files: scan again with it (the header counts its entries)
        self._update_header()
        if self.report is not None and self.is_current:
            self.action_rescan()
        else:
            self._stale = True

    def _entries(self) -> list[ModelInfo] | None:
        """The manifest's entries, or None when there is none (a remote cache without network)."""
        return list(self.session.entries) if self.session.entries else None

    # -- scanning ------------------------------------------------------------------------------------
    def action_rescan(self) -> None:
        self._generation += 1
        self.cache_list.empty_text = "Scanning the cache…"
        self.cache_list.refresh()
        self._set_status("Scanning…")
        self._scan(self._generation)

    @work(thread=True, exclusive=True, group="cache-scan", exit_on_error=False)
    def _scan(self, generation: int) -> None:
        started = time.perf_counter()
        try:
            report = self.session.cache_report()
        except Exception as exc:  # noqa: BLE001 - shown, never raised into the UI
            self.post_message(WorkerFailed("Scanning the cache", failure_text(exc)))
            return
        folders = cachewatch.report_folders(report)
        signature = cachewatch.signature(folders)  # a change after this shows at the next comparison
        if not get_current_worker().is_cancelled:
            self.post_message(Scanned(report, generation, time.perf_counter() - started, folders, signature))

    def on_scanned(self, message: Scanned) -> None:
        if message.generation != self._generation:
            return  # a newer scan is on its way
        self.report = message.report
        self.last_scan_seconds = message.seconds
        self._folders, self._signature = message.folders, message.signature
        root = printable(show_path(message.report.root))
        self.cache_list.empty_text = f"The cache is empty ({root})." if message.report.root.is_dir() else (
            f"No cache yet: {root} does not exist.")
        self.cache_list.set_report(message.report)
        for warning in message.report.warnings:
            self.notify(printable(warning), severity="warning", markup=False)
        self._update_header()
        self._update_status()

    def on_worker_failed(self, message: WorkerFailed) -> None:
        # the app shows the failure (the message bubbles on); this screen is only no longer busy
        self.busy = None
        self._show_progress(None)
        self._update_status()

    # -- header, details and status lines -----------------------------------------------------------
    def _update_header(self) -> None:
        """One line: the counts always; the root cut at its start when it is too long (the detail line
        shows any highlighted path whole)."""
        tail = ""
        if self.report is not None:
            files = len(self.report.files)
            tail += f" · {files} file{'s' if files != 1 else ''} · {human_size(self.report.size)}"
        entries = self._entries()
        tail += f" · manifest: {len(entries)} entries" if entries else " · no manifest"
        header = self.query_one("#cache-header", Static)
        room = max(12, (header.content_region.width or self.app.size.width - 2) - cell_width(tail) - 7)
        root = fit_cells(printable(show_path(self.session.hub.cache_dir)), room, keep_tail=True, pad=False)
        header.update(f"Cache: {root}{tail}", layout=False)

    def on_resize(self) -> None:
        self._update_header()

    def on_cache_list_highlighted(self, message: CacheList.Highlighted) -> None:
        self._update_detail(message.group, message.file)

    def _update_detail(self, group: CacheGroup | None, file: CachedFile | None) -> None:
        """What the cursor is on: its state, then its absolute path whole (wrapped after a "/", never cut
        mid-hash); y copies that path."""
        if group is None:
            self._show_detail("", None)
        elif file is None:
            states: dict[str, int] = {}
            for f in group.files:
                label = state_label(f, self.cache_list.results.get(f.rel))[0]
                states[label] = states.get(label, 0) + 1
            summary = ", ".join(f"{n} {label}" for label, n in sorted(states.items()))
            self._show_detail(f"{printable(group.name) or '(cache root)'}: {summary}", self._group_path(group))
        else:
            result = self.cache_list.results.get(file.rel)
            notes = []
            if result is not None:
                notes.append(verify_note(result))
            elif file.in_use:
                notes.append("a running download owns it")
            if file.is_link:
                notes.append("a link (deleting removes the link only)")
            self._show_detail(" · ".join(notes), file.path)

    def _group_path(self, group: CacheGroup) -> Path:
        root = self.report.root if self.report is not None else self.session.hub.cache_dir
        return root.joinpath(*group.name.split("/")) if group.name else root

    def _show_detail(self, note: str, path: Path | None) -> None:
        detail = self.query_one("#cache-detail", Static)
        self._detail_path = path
        parts: list[object] = [Text(note)] if note else []
        lines = len(parts)
        if path is not None:
            shown = show_path(path)
            parts.append(PathText(shown, suffix="  (y copies)"))
            lines += len(wrap_path(printable(shown) + "  (y copies)", max(10, detail.content_region.width or 78)))
        # a re-layout only when the panel's height changes (one per keystroke cost ~50 ms)
        detail.update(Group(*parts), layout=lines != self._detail_lines)
        self._detail_lines = lines

    def action_copy_path(self) -> None:
        copy_path(self.app, self._detail_path, what="cache path")

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
        self.cache_list.toggle_current()  # the cursor stays: space twice undoes, as the help says

    def action_select_all(self) -> None:
        everything = {f.rel for f in self.cache_list.all_files()}
        self.cache_list.set_selection(set() if everything and everything <= self.cache_list.selected else everything)

    def action_select_prunable(self) -> None:
        if self.report is None:
            return
        prunable = cache.prunable(self.report)
        if not prunable:  # a hand-made selection is work: nothing to add is no reason to drop it
            kept = len(self.cache_list.selected_files())
            self.notify("Nothing to prune: no orphans and no abandoned partial downloads."
                        + (f" Your selection of {kept} stays." if kept else ""), markup=False)
            return
        self.cache_list.set_selection({f.rel for f in prunable})

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
            self.post_message(WorkerFailed("Deleting", failure_text(exc)))
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
            throttle = Throttle(0.1)  # ~10 updates a second, whatever the disk speed
            throttle.due(time.monotonic())  # the start was just reported

            def tick(n: int, i: int = i, name: str = name, size: int = f.size, base: int = done_bytes,
                     throttle: Throttle = throttle) -> None:
                if worker.is_cancelled:
                    raise CancelledError("verify stopped")  # unwinds out of the hashing loop
                if throttle.due(time.monotonic()):
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
