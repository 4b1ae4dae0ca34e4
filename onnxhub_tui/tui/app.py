"""``HubApp``: the Textual front end. It owns the session state (manifest, cache states, download
queue) and the worker threads; the screens only show that state and turn keys into requests."""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from ..core import cache
from ..core.client import Hub
from ..core.errors import CancelledError, DiskSpaceError, HashMismatchError, HubError, OfflineError
from ..core.manifest import Manifest, ModelInfo, cached_manifest
from . import jobs as J
from .cache_screen import CacheScreen
from .commands import HubCommands
from .downloads_screen import DownloadsScreen, JobsTable
from .fmt import clean, one_line, show_path
from .help_screen import HelpScreen
from .messages import CacheChanged, CacheScanned, JobChanged, JobFinished, ManifestFailed, ManifestLoaded
from .modals import ConfirmScreen
from .model_table import ModelTable
from .models_screen import ModelsScreen, SearchInput


# Stale-while-revalidate up to this size: a cached copy this small reads and parses in a few ms, so the
# first paint shows rows; a bigger one (50,000 entries is 85 MB) would hold the start-up for seconds.
EARLY_MANIFEST_BYTES = 4 * 1024 * 1024

_PART_SUFFIX = re.compile(r"\.part(\.[^.]+-\d+-[0-9a-f]+)?$")
_SHA_NAME = re.compile(r"^([0-9a-f]{64})_(.+)$")


def cached_states(report: cache.CacheReport, entries: list[ModelInfo]) -> dict[str, str]:
    """Entry key -> "complete" | "partial" from a scan made *without* the manifest.

    Why not ``scan(cache_dir, entries)``: that indexes every entry's cache path first, about 5 s for
    50,000 entries; here each cached file names its entry (``<dirs>/<sha>_<name>``), so the cost
    follows the size of the cache, not of the manifest."""
    by_path = {e.model_path: e for e in entries}
    states: dict[str, str] = {}
    for f in report.files:
        if f.state not in ("complete", "partial", "unknown"):
            continue
        rel = _PART_SUFFIX.sub("", f.rel) if f.state == "partial" else f.rel
        folder, _, name = rel.rpartition("/")
        match = _SHA_NAME.match(name)
        if match:
            entry = by_path.get(f"{folder}/{match[2]}" if folder else match[2])
            if entry is None or (entry.model_sha or "").lower() != match[1]:
                continue
        else:  # an entry without a SHA-256 is cached under its plain name
            entry = by_path.get(rel)
            if entry is None or entry.model_sha:
                continue
        if f.state == "partial":
            states.setdefault(entry.model_path, "partial")
        else:
            states[entry.model_path] = "complete"
    return states


def parse_keymap(text: str) -> dict[str, str]:
    """``"models.download=w;app.quit=ctrl+x,x"`` -> {binding id: keys}; ids are listed by ``?``."""
    keymap: dict[str, str] = {}
    for item in text.split(";"):
        binding_id, sep, keys = item.partition("=")
        if sep and binding_id.strip() and keys.strip():
            keymap[binding_id.strip()] = keys.strip()
    return keymap


class HubApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    TITLE = "onnxhub-tui"
    COMMANDS = App.COMMANDS | {HubCommands}
    DEFAULT_MODE = "models"
    BINDINGS = [
        Binding("1", "switch_mode('models')", "Models", id="app.models"),
        Binding("2", "switch_mode('downloads')", "Downloads", id="app.downloads"),
        Binding("3", "switch_mode('cache')", "Cache", id="app.cache"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, hub: Hub, *, jobs: int = 3, trust: bool = False, mouse: bool = True) -> None:
        super().__init__()
        self.hub = hub
        self.manifest_entries: list[ModelInfo] = []
        self.manifest: Manifest | None = None
        self.manifest_state: str | None = None
        self.queue = J.JobQueue(max_running=jobs)
        self.trusted = trust or hub.source.trusted
        self.mouse = mouse
        self._states: dict[str, str] = {}
        self._pending_paths: set[str] = set()  # model files with a queued or running job
        self._screens: dict[str, Screen] = {}
        self.add_mode("models", lambda: self._screen("models"))
        self.add_mode("downloads", lambda: self._screen("downloads"))
        self.add_mode("cache", CacheScreen)
        self._early: Manifest | None = None
        if not hub.source.is_local:
            try:
                self._early = cached_manifest(hub.source, hub.cache_dir, EARLY_MANIFEST_BYTES)
            except Exception:  # noqa: BLE001 - only a head start; the worker reports real errors
                self._early = None

    def take_early_entries(self) -> list[ModelInfo] | None:
        """The cached manifest's entries to paint before the revalidation ends (once; None if none).

        The app stays "loading" (no manifest, no state) until the worker's answer replaces them."""
        early, self._early = self._early, None
        if early is None or self.manifest is not None:
            return None
        self.manifest_entries = early.entries
        return early.entries

    def run(self, *args: Any, mouse: bool | None = None, **kwargs: Any) -> Any:
        """``mouse`` defaults to what the app was built with (``--no-mouse``)."""
        return super().run(*args, mouse=self.mouse if mouse is None else mouse, **kwargs)

    def _screen(self, name: str) -> Screen:
        if name not in self._screens:
            self._screens[name] = ModelsScreen() if name == "models" else DownloadsScreen()
        return self._screens[name]

    @property
    def models_screen(self) -> ModelsScreen:
        return self._screen("models")  # type: ignore[return-value]

    @property
    def downloads_screen(self) -> DownloadsScreen | None:
        screen = self._screens.get("downloads")
        return screen if isinstance(screen, DownloadsScreen) and screen.is_mounted else None

    # -- start-up -------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        keymap = parse_keymap(os.environ.get("ONNXHUB_TUI_KEYS", ""))
        if keymap:
            self.set_keymap(keymap)
        self._load_manifest()

    @work(thread=True, exit_on_error=False, group="manifest")
    def _load_manifest(self) -> None:
        try:
            manifest = self.hub.manifest()
        except HubError as exc:
            self.post_message(ManifestFailed(one_line(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - never a traceback in the TUI
            self.post_message(ManifestFailed(f"{type(exc).__name__}: {one_line(exc)}"))
            return
        # A big manifest is millions of small objects that live as long as the app: left to the cyclic
        # GC, each full collection walks them all (2.4 s at 50,000 entries, mid-keystroke). Freezing
        # moves them out of its reach.
        gc.freeze()
        self.post_message(ManifestLoaded(manifest, self._scan_states(manifest.entries)))

    def _scan_states(self, entries: list[ModelInfo]) -> dict[str, str]:
        try:
            return cached_states(self.hub.scan_cache(None), entries)
        except Exception:  # noqa: BLE001 - an unreadable cache only loses the cached column
            return {}

    @on(ManifestLoaded)
    def _manifest_loaded(self, message: ManifestLoaded) -> None:
        manifest = message.manifest
        self.manifest = manifest
        self.manifest_entries = manifest.entries
        self.manifest_state = manifest.state
        self._states = message.states
        self.models_screen.set_entries(manifest.entries)
        if manifest.warning:
            self.notify(one_line(manifest.warning), title="Manifest is stale", severity="warning", timeout=8)
        if manifest.skipped:
            self.notify(f"Skipped {len(manifest.skipped)} malformed manifest entries, e.g. "
                        f"{one_line(manifest.skipped[0])}", severity="warning", timeout=8)

    @on(ManifestFailed)
    def _manifest_failed(self, message: ManifestFailed) -> None:
        self.manifest_state = "failed"
        if self.hub.offline:  # the error already says how to cache one
            way_out = "Or try --demo for the built-in demo hub."
        else:
            way_out = ("Try --offline to use a manifest cached earlier, --repo with another repo or a local "
                       "folder, or --demo for the built-in demo hub.")
        self.models_screen.show_load_error(f"{message.error} {way_out}")
        self.notify(message.error, title="No manifest", severity="error", timeout=10)

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast is literal: messages carry model names, paths and server errors."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- cache state ------------------------------------------------------------------------------------
    def cached_state(self, entry: ModelInfo) -> str | None:
        """"complete", "partial", "queued" (a download of the model is queued or running) or None."""
        state = self._states.get(entry.model_path)
        if state != "complete" and entry.model_path in self._pending_paths:
            return "queued"
        return state

    @property
    def cached_count(self) -> int:
        """How many entries have their model file complete in the cache."""
        return sum(1 for state in self._states.values() if state == "complete")

    def _refresh_cached(self) -> None:
        if "models" in self._screens and self.models_screen.is_mounted:
            self.models_screen.refresh_cached()

    @on(CacheChanged)
    def _cache_changed(self) -> None:
        self._rescan_cache()

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def _rescan_cache(self) -> None:
        self.post_message(CacheScanned(self._scan_states(self.manifest_entries)))

    @on(CacheScanned)
    def _cache_scanned(self, message: CacheScanned) -> None:
        self._states = message.states
        self._refresh_cached()

    # -- downloads --------------------------------------------------------------------------------------
    def request_download(self, entry: ModelInfo, with_data: bool = False) -> None:
        """Queue ``entry`` unless it is queued or cached already; ask about trust the first time."""
        what = f"{clean(entry.model)} (opset {entry.opset})" + (" with test data" if with_data else "")
        if self.queue.find_pending(entry, with_data) is not None:
            self.notify(f"{what} is already in the queue.", timeout=3)
            return
        try:
            target = self.hub.local_path(entry, with_data)
        except HubError as exc:
            self.notify(one_line(exc), severity="warning", timeout=4)
            return
        if target.exists() and (not with_data or cache.extracted_dir(target).is_dir()):
            self.notify(f"{what} is already cached: {clean(show_path(target))}", timeout=4)
            return
        if self.trusted:
            self._enqueue(entry, with_data)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.trusted = True
                self._enqueue(entry, with_data)
            else:
                self.notify("Not downloading: the repo is not trusted.", severity="warning", timeout=3)

        body = (f"{clean(self.hub.source.spec)} is not onnx/models. Models are programs: an ONNX file from an "
                "untrusted repo can exploit bugs in the runtime that loads it.\n\n"
                f"Download {what} and trust this repo for the rest of the session?")
        self.push_screen(ConfirmScreen("Trust this repo?", body, yes="Trust", no="Cancel"), answered)

    def _enqueue(self, entry: ModelInfo, with_data: bool) -> J.Job:
        job = self.queue.add(entry, with_data)
        if self.downloads_screen is not None:
            self.downloads_screen.add_job(job)
        self.notify(f"Queued {clean(job.label)} (2 shows the queue).", timeout=2)
        self._pump()
        return job

    def _pump(self) -> None:
        for job in self.queue.start_next():
            self._job_changed(job)
            self._run_job(job)
        pending = {j.entry.model_path for j in self.queue.pending if not j.with_data}
        if pending != self._pending_paths:
            self._pending_paths = pending
            self._refresh_cached()  # the ↓ marks
        elif "models" in self._screens and self.models_screen.is_mounted:
            self.models_screen.update_status()

    @work(thread=True, exit_on_error=False, group="downloads")
    def _run_job(self, job: J.Job) -> None:
        def progress(done: int, total: int | None) -> None:
            if self.queue.progress(job, done, total):
                self.post_message(JobChanged(job.id))

        try:
            path = self.hub.download(job.entry, job.with_data, progress=progress, cancel=job.cancel)
        except CancelledError:
            self.queue.finish(job, J.CANCELLED)
        except HubError as exc:
            self.queue.finish(job, J.FAILED, _error_text(exc))
        except OSError as exc:
            self.queue.finish(job, J.FAILED, f"{exc.strerror or exc} ({clean(exc.filename or '')})")
        except Exception as exc:  # noqa: BLE001 - a worker must never take the app down
            self.queue.finish(job, J.FAILED, f"{type(exc).__name__}: {one_line(exc)}")
        else:
            self.queue.finish(job, J.DONE, path=str(path))
        self.post_message(JobFinished(job.id))

    def _job_changed(self, job: J.Job) -> None:
        if self.downloads_screen is not None:
            self.downloads_screen.update_job(job)

    @on(JobChanged)
    def _on_job_changed(self, message: JobChanged) -> None:
        job = self.queue.get(message.job_id)
        if job is not None:
            self._job_changed(job)

    @on(JobFinished)
    def _on_job_finished(self, message: JobFinished) -> None:
        job = self.queue.get(message.job_id)
        if job is None:
            return
        self._job_changed(job)
        state = self.hub.cache_state(job.entry)
        if state:
            self._states[job.entry.model_path] = state
        else:
            self._states.pop(job.entry.model_path, None)
        self._refresh_cached()
        if job.state == J.DONE:
            self.notify(f"Downloaded {clean(job.label)}", timeout=3)
        elif job.state == J.FAILED:
            self.notify(job.error or "failed", title=f"{clean(job.label)} failed", severity="error", timeout=8)
        self._pump()

    def cancel_job(self, job: J.Job) -> bool:
        ok = self.queue.cancel(job)
        self._job_changed(job)
        self._pump()
        return ok

    def retry_job(self, job: J.Job) -> bool:
        if not self.queue.retry(job):
            return False
        self._job_changed(job)
        self._pump()
        return True

    def clear_finished(self) -> int:
        finished = [j.id for j in self.queue.jobs if j.finished]
        removed = self.queue.clear_finished()
        if self.downloads_screen is not None:
            self.downloads_screen.remove_jobs(finished)
        return removed

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """Ask running downloads to stop first: Textual waits for its worker threads before the process
        ends, and a cancelled transfer stops at its next chunk, parking its bytes as ``.part``.
        (A read blocked on a silent server still ends only at the read timeout.)"""
        for job in self.queue.pending:
            self.queue.cancel(job)
        super().exit(*args, **kwargs)

    # -- navigation, help, quit ---------------------------------------------------------------------------
    def show_model(self, entry: ModelInfo) -> None:
        self.switch_mode("models")
        self.models_screen.show_entry(entry)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections: list[tuple[str, type]] = [
            ("Everywhere", HubApp), ("Models screen", ModelsScreen), ("Models table", ModelTable),
            ("Search box", SearchInput), ("Downloads screen", DownloadsScreen), ("Download queue", JobsTable),
            ("Cache screen", CacheScreen),
            ("Confirmations", ConfirmScreen), ("This help", HelpScreen), ("Built in (Textual)", _TextualKeys),
        ]
        self.push_screen(HelpScreen(sections))

    async def action_quit(self) -> None:
        pending = self.queue.pending
        if not pending:
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                for job in self.queue.pending:
                    self.queue.cancel(job)
                self.exit(0)

        running = sum(1 for j in pending if j.state in J.ACTIVE)
        body = (f"{running} download(s) running and {len(pending) - running} queued. Quit anyway? "
                "Running downloads stop; their .part files stay and resume next time.")
        self.push_screen(ConfirmScreen("Quit?", body, yes="Quit", no="Stay"), answered)


class _TextualKeys:
    """Textual's own keys, for the help screen (the palette's key is not in App.BINDINGS)."""

    BINDINGS = [
        Binding(App.COMMAND_PALETTE_BINDING, "command_palette", "Command palette: models and screens by name"),
        *App.BINDINGS,
    ]


def _error_text(exc: HubError) -> str:
    """One line for the queue row; the kind of failure first so it reads at a glance."""
    text = one_line(exc)
    if isinstance(exc, HashMismatchError):
        return "hash mismatch: " + text
    if isinstance(exc, DiskSpaceError):
        return "disk full: " + text
    if isinstance(exc, OfflineError):
        return "offline: " + text
    return text


def run_tui(hub: Hub, *, jobs: int = 3, trust: bool = False, mouse: bool = True) -> int:
    """Run the app until it quits; the exit code for the shell."""
    app = HubApp(hub, jobs=jobs, trust=trust, mouse=mouse)
    result = app.run()
    if app.return_code:
        return app.return_code
    return result if isinstance(result, int) else 0


def _main(argv: list[str] | None = None) -> int:
    """A direct entry for development and tests (the real one is ``onnxhub-tui``)."""
    parser = argparse.ArgumentParser(prog="python -m onnxhub_tui.tui.app")
    parser.add_argument("--repo")
    parser.add_argument("--cache-dir")
    parser.add_argument("--offline", action="store_true", default=None)
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--trust", action="store_true")
    parser.add_argument("--no-mouse", action="store_true")
    args = parser.parse_args(argv)
    try:
        hub = Hub(args.repo, args.cache_dir, args.offline)
    except HubError as exc:
        print(f"onnxhub-tui: {exc}", file=sys.stderr)
        return 2
    with hub:
        return run_tui(hub, jobs=args.jobs, trust=args.trust, mouse=not args.no_mouse)


if __name__ == "__main__":
    sys.exit(_main())
