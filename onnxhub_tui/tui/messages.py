"""Every message of the TUI, as dataclasses, in three kinds.

- Worker reports: one message per worker (its result), posted from the worker's thread; a failure is
  ``WorkerFailed``, turned into one line by ``failure_text`` and shown by the app in one place.
- Session events: the app changed the ``Session``; published to every screen (they do not bubble).
- Requests: a screen asks the app for something only the app does (start a worker, show a modal).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..core.errors import DiskSpaceError, HashMismatchError, Hint, HubError, OfflineError, render
from ..core.inspect import ModelSummary
from ..core.manifest import Manifest, ModelInfo
from .fmt import clean, one_line


# The core's hints in the TUI's words: a start flag, or the keys that do it here. FORCE has no key (a
# damaged copy is fetched again by d anyway), so it is left out.
TUI_TERMS: dict[Hint, str] = {
    Hint.OFFLINE: "--offline",
    Hint.ONLINE: "a start without --offline (and ONNXHUB_OFFLINE unset)",
    Hint.CACHE_DIR: "--cache-dir DIR",
    Hint.REPO: "--repo SPEC",
    Hint.DEMO: "--demo",
    Hint.TOKEN: "GITHUB_TOKEN (or HF_TOKEN for hf: repos)",
    Hint.HF_TOKEN: "HF_TOKEN",
    Hint.TRUST: "--trust",
    Hint.PRUNE: "the cache screen (3, then p and x)",
    Hint.DEMO_DIR: "ONNXHUB_DEMO_DIR=FOLDER",
}


def failure_text(exc: BaseException, *, kind: bool = True) -> str:
    """One line for a failure, never a traceback; with ``kind`` the kind first, so a queue row reads at a
    glance (the manifest's failure fills a panel and says it in words)."""
    if isinstance(exc, HubError):
        text = one_line(render(exc, TUI_TERMS))
        if not kind:
            return text
        if isinstance(exc, HashMismatchError):
            return "hash mismatch: " + text
        if isinstance(exc, DiskSpaceError):
            return "disk full: " + text
        if isinstance(exc, OfflineError):
            return "offline: " + text
        return text
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({clean(exc.filename or '')})" if exc.filename else one_line(exc)
    return f"{type(exc).__name__}: {one_line(exc)}"


# -- worker reports ----------------------------------------------------------------------------------
@dataclass
class WorkerFailed(Message):
    """A worker failed; ``what`` ("Scanning the cache") is shown with the one-line ``error``."""

    what: str
    error: str


@dataclass
class ManifestLoaded(Message):
    """The manifest worker finished; ``states`` maps model paths to "complete"/"partial"."""

    manifest: Manifest
    states: dict[str, str]


@dataclass
class ManifestFailed(Message):
    """The manifest could not be loaded (no network and no cached copy, a bad spec, ...); ``hinted``: the
    error says what to do next already."""

    error: str
    hinted: bool = False


@dataclass
class CacheScanned(Message):
    """The cache-state worker finished."""

    states: dict[str, str]


@dataclass
class JobProgress(Message):
    """A download job's progress or state changed; bursts for one job collapse into one."""

    job_id: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobProgress) and message.job_id == self.job_id


@dataclass
class JobFinished(Message):
    job_id: int


@dataclass
class Inspected(Message):
    """The file of ``entry`` was read (a summary, or the message saying why not)."""

    entry: ModelInfo
    result: ModelSummary | str


# -- session events (app -> screens) -----------------------------------------------------------------
@dataclass
class ManifestChanged(Message, bubble=False):
    """The session's manifest, its entries or its state changed (loaded, or failed)."""


@dataclass
class CacheStatesChanged(Message, bubble=False):
    """The cached column changed: cache states or the ↓ marks of queued downloads."""


@dataclass
class JobsChanged(Message, bubble=False):
    """Jobs changed: ``job_id`` one job's row, or None when jobs were added or removed."""

    job_id: int | None = None


@dataclass
class ShowModel(Message, bubble=False):
    """Highlight ``entry`` on the models screen."""

    entry: ModelInfo


# -- requests (screen -> app) ------------------------------------------------------------------------
@dataclass
class DownloadRequested(Message):
    entry: ModelInfo
    with_data: bool = False


@dataclass
class QueueEdited(Message):
    """A screen cancelled, retried or cleared jobs in the session's queue: start what can start."""


@dataclass
class ModelRequested(Message):
    """Show ``entry`` on the models screen (from the downloads screen or the palette)."""

    entry: ModelInfo


@dataclass
class CacheChanged(Message):
    """The cache on disk changed (files deleted): the app rescans the cached column."""
