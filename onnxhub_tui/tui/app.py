"""``HubApp``: the wiring of the Textual front end. The ``Session`` holds the state; the screens show
it and turn keys into requests; the app runs the workers, answers the requests, changes the session
and publishes what changed. It calls no screen method: screens learn of changes through messages."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..core import settings
from ..core.client import Hub
from ..core.errors import CancelledError, HubError
from ..core.manifest import ModelInfo
from . import jobs as J
from .commands import HubCommands
from .fmt import clean, one_line, show_path
from . import cachewatch
from .messages import (CacheChanged, CacheFilesChanged, CacheScanned, CacheStatesChanged, DownloadRequested, JobFinished, JobProgress,
                       JobsChanged, ManifestChanged, ManifestFailed, ManifestLoaded, ModelRequested, QueueEdited,
                       ShowModel, WorkerFailed, failure_text)
from .screens.cache import CacheScreen
from .screens.downloads import DownloadsScreen
from .screens.help import HelpScreen, help_sections
from .screens.modals import ConfirmScreen
from .screens.models import ModelsScreen
from .session import Session

def parse_keymap(text: str) -> dict[str, str]:
    """``"models.download=w;app.quit=ctrl+x,x"`` -> {binding id: keys}; ids are listed by ``?``."""
    keymap: dict[str, str] = {}
    for item in text.split(";"):
        binding_id, sep, keys = item.partition("=")
        if sep and binding_id.strip() and keys.strip():
            keymap[binding_id.strip()] = keys.strip()
    return keymap


SIGNAL_EXIT_GRACE = 3.0  # seconds a signalled exit may take before the process ends without Textual


class HubApp(App):
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

    def __init__(self, hub: Hub, *, jobs: int = 3, trust: bool = False, mouse: bool = True,
                 handle_signals: bool = False) -> None:
        super().__init__()
        self.session = Session.start(hub, jobs=jobs, trust=trust)
        self.mouse = mouse
        self.handle_signals = handle_signals  # run_tui: SIGTERM/SIGHUP quit as q does
        self.watch_seconds = cachewatch.WATCH_SECONDS
        self._watched: tuple[object, list, cachewatch.Signature] | None = None  # (manifest, folders, mtimes)
        self._download_threads: set[threading.Thread] = set()
        self.add_mode("models", lambda: ModelsScreen(self.session))
        self.add_mode("downloads", lambda: DownloadsScreen(self.session))
        self.add_mode("cache", lambda: CacheScreen(self.session))

    @property
    def hub(self) -> Hub:
        return self.session.hub

    def run(self, *args: Any, mouse: bool | None = None, **kwargs: Any) -> Any:
        """``mouse`` defaults to what the app was built with (``--no-mouse``)."""
        return super().run(*args, mouse=self.mouse if mouse is None else mouse, **kwargs)

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast is literal: messages carry model names, paths and server errors."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    @on(WorkerFailed)
    def _worker_failed(self, message: WorkerFailed) -> None:
        """Every worker's failure ends here (a screen that was busy with it has reset itself already)."""
        self.notify(f"{message.what} failed: {clean(message.error)[:300]}", severity="error")

    # -- the manifest ---------------------------------------------------------------------------------
    def on_mount(self) -> None:
        try:
            keys = settings.load().tui_keys
        except HubError as exc:  # the CLI refuses bad settings before; a direct start says so here
            self.notify(failure_text(exc, kind=False), title="Settings", severity="error", timeout=10)
            keys = ""
        keymap = parse_keymap(keys)
        if keymap:
            self.set_keymap(keymap)
        if self.handle_signals:
            self._install_signal_handlers()
        self._load_manifest()
        self.set_interval(self.watch_seconds, self._watch_tick)

    # -- signals ----------------------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        """``kill``, ``timeout``, ``docker stop`` and a dropped SSH end the app as ``q`` does: Textual's
        shutdown then leaves the alternate screen, turns mouse tracking off and shows the cursor (the
        default action would kill the process with the terminal still in the app's modes)."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self._signalled, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal
                pass

    def _signalled(self, signum: int) -> None:
        self.exit(return_code=128 + signum)  # the shell's code for "ended by this signal"
        # A signal often means the terminal is gone (SIGHUP: a dropped SSH, a closed pane), and Textual's
        # shutdown can then wait forever on its writer or input thread. The exit must still happen: after
        # a grace, the process ends without it (downloads are resumable parts; the cache is never torn).
        watchdog = threading.Timer(SIGNAL_EXIT_GRACE, os._exit, args=(128 + signum,))
        watchdog.daemon = True
        watchdog.start()

    def _load_manifest(self) -> None:
        """Fetch the manifest in a daemon thread, not a Textual worker: Textual (and asyncio's executor)
        join their worker threads at exit, so a read held by a slow server would hold ``q`` for the whole
        read timeout. A daemon thread is abandoned at exit; it only reads and posts a message."""
        threading.Thread(target=self._manifest_thread, name="onnxhub-manifest", daemon=True).start()

    def _manifest_thread(self) -> None:
        try:
            manifest = self.hub.manifest()
        except Exception as exc:  # noqa: BLE001 - never a traceback in the TUI
            self.post_message(ManifestFailed(failure_text(exc, kind=False), hinted=bool(getattr(exc, "hints", ()))))
            return
        # A big manifest is millions of small objects that live as long as the app: left to the cyclic
        # GC, each full collection walks them all (2.4 s at 50,000 entries, mid-keystroke). Freezing
        # moves them out of its reach.
        gc.freeze()
        entries = manifest.entries
        if len(entries) <= cachewatch.MAX_ENTRIES:
            folders = cachewatch.entry_folders(self.hub.cache_dir, entries)
            self._watched = (manifest, folders, cachewatch.signature(folders))  # before the scan: none missed
        states = self._scan_states(entries)
        if len(entries) > cachewatch.MAX_ENTRIES:  # a huge hub: watch what is cached (a ✓ that must go)
            folders = cachewatch.entry_folders(self.hub.cache_dir, [e for e in entries if e.model_path in states])
            self._watched = (manifest, folders, cachewatch.signature(folders))
        self.post_message(ManifestLoaded(manifest, states))

    def _scan_states(self, entries: list[ModelInfo]) -> dict[str, str]:
        # a scan without the manifest (Hub.cached_states): its cost follows the cache's size, not the manifest's
        try:
            return self.hub.cached_states(entries)  # an hf: repo's models count their data files too
        except Exception:  # noqa: BLE001 - an unreadable cache only loses the cached column
            return {}

    @on(ManifestLoaded)
    def _manifest_loaded(self, message: ManifestLoaded) -> None:
        manifest = message.manifest
        self.session.set_manifest(manifest, message.states)
        self.session.publish(ManifestChanged())
        if manifest.warning:
            self.notify(one_line(manifest.warning), title="Manifest is stale", severity="warning", timeout=8)
        if manifest.skipped:
            self.notify(f"Skipped {len(manifest.skipped)} malformed manifest entries, e.g. "
                        f"{one_line(manifest.skipped[0])}", severity="warning", timeout=8)

    @on(ManifestFailed)
    def _manifest_failed(self, message: ManifestFailed) -> None:
        if message.hinted:  # the core said what to do
            way_out = ""
        elif self.hub.offline:  # the error already says how to cache one
            way_out = " Or try --demo for the built-in demo hub."
        else:
            way_out = (" Try --offline to use a manifest cached earlier, --repo with another repo or a local "
                       "folder, or --demo for the built-in demo hub.")
        self.session.manifest_failed(message.error + way_out)
        self.session.publish(ManifestChanged())
        self.notify(message.error, title="No manifest", severity="error", timeout=10)

    # -- cache state ------------------------------------------------------------------------------------
    @on(CacheChanged)
    def _cache_changed(self) -> None:
        self._rescan_cache()
        self.session.publish(CacheFilesChanged())  # the cache screen compares its own folders

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def _rescan_cache(self) -> None:
        self.post_message(CacheScanned(self._scan_states(self.session.entries)))

    # Another process (``onnxhub-tui cache rm`` in another shell, a second TUI) changes the cache too: the
    # entries' folders are compared every few seconds, and a change rescans the cached column (✓).
    def _watch_tick(self) -> None:
        if self.session.manifest is not None:
            self._watch_entries(self.session.manifest)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch")
    def _watch_entries(self, manifest: object) -> None:
        watched = self._watched
        if watched is None or watched[0] is not manifest:  # the manifest thread sets it: not yet
            return
        signature = cachewatch.signature(watched[1])
        if signature != watched[2]:
            self._watched = (manifest, watched[1], signature)
            self.post_message(CacheChanged())

    @on(CacheScanned)
    def _cache_scanned(self, message: CacheScanned) -> None:
        self.session.states = message.states
        self.session.publish(CacheStatesChanged())

    # -- downloads --------------------------------------------------------------------------------------
    @on(DownloadRequested)
    def _download_requested(self, message: DownloadRequested) -> None:
        """Queue the entry unless it is queued or cached already; ask about trust the first time."""
        entry, with_data = message.entry, message.with_data
        what = clean(entry.label) + (" with test data" if with_data else "")
        if self.session.queue.find_pending(entry, with_data) is not None:
            self.notify(f"{what} is already in the queue.", timeout=3)
            return
        copy = self.hub.local_copy(entry)
        if with_data and copy.data_archive is None:
            self.notify(f"{clean(entry.label)} has no model-with-data archive.", severity="warning", timeout=4)
            return
        where = copy.data_dir if with_data else copy.path
        if copy.ready(with_data) and where is not None:
            self.notify(f"{what} is already cached: {clean(show_path(where))}", timeout=4)
            return
        if self.session.trusted:
            self._enqueue(entry, with_data)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.session.trusted = True
                self._enqueue(entry, with_data)
            else:
                self.notify("Not downloading: the repo is not trusted.", severity="warning", timeout=3)

        body = (f"{clean(self.hub.source.spec)} is not onnx/models. Models are programs: an ONNX file from an "
                "untrusted repo can exploit bugs in the runtime that loads it.\n\n"
                f"Download {what} and trust this repo for the rest of the session?")
        self.push_screen(ConfirmScreen("Trust this repo?", body, yes="Trust", no="Cancel"), answered)

    def _enqueue(self, entry: ModelInfo, with_data: bool) -> J.Job:
        job = self.session.queue.add(entry, with_data)
        self.notify(f"Queued {clean(job.label)} (2 shows the queue).", timeout=2)
        self._pump()
        return job

    @on(QueueEdited)
    def _pump(self) -> None:
        """Start what can start, then tell the screens (the rows, the counts, the ↓ marks)."""
        for job in self.session.queue.start_next():
            self._run_job(job)
        self.session.publish(JobsChanged())
        if self.session.update_pending():
            self.session.publish(CacheStatesChanged())

    def _run_job(self, job: J.Job) -> None:
        """A daemon thread, not a Textual worker: at exit Textual and asyncio join their threads, and a
        read blocked on a silent server would hold ``q`` or SIGTERM for the whole read timeout. A cancelled
        job parks its ``.part`` at its next chunk (``join_downloads`` gives it that moment); a part left by
        an ended process is a prefix that the next run resumes (the core's ``kill -9`` guarantee)."""
        thread = threading.Thread(target=self._job_thread, args=(job,), name=f"onnxhub-job-{job.id}", daemon=True)
        self._download_threads.add(thread)
        thread.start()

    def join_downloads(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds in all for the download threads (cancelled at exit) to stop."""
        deadline = time.monotonic() + timeout
        for thread in list(self._download_threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _job_thread(self, job: J.Job) -> None:
        try:
            self._job_body(job)
        finally:
            self._download_threads.discard(threading.current_thread())

    def _job_body(self, job: J.Job) -> None:
        queue = self.session.queue

        def progress(done: int, total: int | None) -> None:
            if queue.progress(job, done, total):
                self.post_message(JobProgress(job.id))

        try:
            path = self.hub.download(job.entry, job.with_data, progress=progress, cancel=job.cancel)
        except CancelledError:
            queue.finish(job, J.CANCELLED)
        except Exception as exc:  # noqa: BLE001 - a worker must never take the app down
            queue.finish(job, J.FAILED, failure_text(exc))
        else:
            queue.finish(job, J.DONE, path=str(path))
        self.post_message(JobFinished(job.id))

    @on(JobProgress)
    def _job_progress(self, message: JobProgress) -> None:
        self.session.publish(JobsChanged(message.job_id))

    @on(JobFinished)
    def _job_finished(self, message: JobFinished) -> None:
        job = self.session.queue.get(message.job_id)
        if job is None:
            return
        self.session.publish(JobsChanged(job.id))
        self.session.set_state(job.entry, self.hub.local_copy(job.entry).state)
        self.session.publish(CacheStatesChanged())
        self.session.publish(CacheFilesChanged())  # a file landed (or a .part stayed): the cache screen
        if job.state == J.DONE:
            self.notify(f"Downloaded {clean(job.label)}", timeout=3)
        elif job.state == J.FAILED:
            self.notify(job.error or "failed", title=f"{clean(job.label)} failed", severity="error", timeout=8)
        self._pump()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """Ask running downloads to stop first: Textual waits for its worker threads before the process
        ends, and a cancelled transfer stops at its next chunk, parking its bytes as ``.part``.
        (A read blocked on a silent server still ends only at the read timeout.)"""
        for job in self.session.queue.pending:
            self.session.queue.cancel(job)
        super().exit(*args, **kwargs)

    # -- navigation, help, quit ---------------------------------------------------------------------------
    @on(ModelRequested)
    def _model_requested(self, message: ModelRequested) -> None:
        self.switch_mode("models")
        self.session.publish(ShowModel(message.entry))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_sections(HubApp)))

    def action_help_quit(self) -> None:
        """ctrl+c: Textual's hint is markup, and every toast here is literal."""
        self.notify("Press q (or ctrl+q) to quit.", title="Do you want to quit?", timeout=3)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette commands, with one "Keys": this app's help (Textual's panel lists less)."""
        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                yield SystemCommand("Keys", "Every key binding and the search language (?)", self.action_help)
            else:
                yield command

    async def action_quit(self) -> None:
        queue = self.session.queue
        pending = queue.pending
        if not pending:
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                for job in queue.pending:
                    queue.cancel(job)
                self.exit(0)

        running = sum(1 for j in pending if j.state in J.ACTIVE)
        body = (f"{running} download(s) running and {len(pending) - running} queued. Quit anyway? "
                "Running downloads stop; their .part files stay and resume next time.")
        self.push_screen(ConfirmScreen("Quit?", body, yes="Quit", no="Stay"), answered)


def run_tui(hub: Hub, *, jobs: int = 3, trust: bool = False, mouse: bool = True) -> int:
    """Run the app until it quits; the exit code for the shell."""
    app = HubApp(hub, jobs=jobs, trust=trust, mouse=mouse, handle_signals=True)
    result = app.run()
    app.join_downloads(timeout=1.0)  # the terminal is restored already; a stalled read is abandoned
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
