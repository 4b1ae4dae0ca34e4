"""What one run of the TUI knows: the hub, its manifest, the cache states, the download queue, trust.

No Textual here: the screens get the session in their constructor and read it; the app (the only
writer besides the screens' own user actions on the queue) changes it and then ``publish``es an event,
which every subscribed screen receives as a message of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..core import cache
from ..core.client import Hub
from ..core.manifest import Manifest, ModelInfo, cached_manifest
from .jobs import JobQueue

# Stale-while-revalidate up to this size: a cached copy this small reads and parses in a few ms, so the
# first paint shows rows; a bigger one (50,000 entries is 85 MB) would hold the start-up for seconds.
EARLY_MANIFEST_BYTES = 4 * 1024 * 1024

Listener = Callable[[object], object]


@dataclass(eq=False)
class Session:
    hub: Hub
    queue: JobQueue = field(default_factory=JobQueue)
    trusted: bool = False
    manifest: Manifest | None = None
    manifest_state: str | None = None  # None while loading, "failed", else the manifest's own state
    manifest_error: str | None = None  # what to show when it failed, ways out included
    entries: list[ModelInfo] = field(default_factory=list)  # may be a cached copy's while loading
    states: dict[str, str] = field(default_factory=dict)  # model path -> "complete" | "partial" | "damaged"
    pending_paths: set[str] = field(default_factory=set)  # model files with a queued or running job
    _listeners: list[Listener] = field(default_factory=list, repr=False)

    @classmethod
    def start(cls, hub: Hub, *, jobs: int = 3, trust: bool = False) -> Session:
        """A session for ``hub``; a small cached manifest's entries are there at once, to paint while
        the app's worker revalidates it (the state stays "loading" until then)."""
        session = cls(hub, JobQueue(max_running=jobs), trusted=trust or hub.source.trusted)
        if not hub.source.is_local:
            try:
                early = cached_manifest(hub.source, hub.cache_dir, EARLY_MANIFEST_BYTES)
            except Exception:  # noqa: BLE001 - only a head start; the worker reports real errors
                early = None
            if early is not None:
                session.entries = early.entries
        return session

    # -- events ---------------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, event: object) -> None:
        """Hand ``event`` to every listener (a screen's ``post_message``)."""
        for listener in list(self._listeners):
            listener(event)

    # -- state ----------------------------------------------------------------------------------------
    def set_manifest(self, manifest: Manifest, states: dict[str, str]) -> None:
        self.manifest = manifest
        self.manifest_state = manifest.state
        self.manifest_error = None
        self.entries = manifest.entries
        self.states = states

    def manifest_failed(self, error: str) -> None:
        self.manifest_state = "failed"
        self.manifest_error = error

    def cached_state(self, entry: ModelInfo) -> str | None:
        """"complete", "partial", "damaged", "queued" (a download of the model is queued or running) or None."""
        state = self.states.get(entry.model_path)
        if state != "complete" and entry.model_path in self.pending_paths:
            return "queued"
        return state

    @property
    def cached_count(self) -> int:
        """How many entries have their model file complete in the cache."""
        return sum(1 for state in self.states.values() if state == "complete")

    def cache_report(self) -> cache.CacheReport:
        """The cache scanned for this hub (``prunable`` then takes only abandoned partials and this hub's
        orphans); without a manifest, an unscoped scan that prunes only abandoned partials."""
        if self.manifest is None:
            return cache.unscoped_report(self.hub.cache_dir)
        return self.hub.cache_report(require_manifest=False)  # the hub has its manifest: no fetch

    def set_state(self, entry: ModelInfo, state: str | None) -> None:
        if state:
            self.states[entry.model_path] = state
        else:
            self.states.pop(entry.model_path, None)

    def update_pending(self) -> bool:
        """Recompute which model files have a job; True when that changed (the ↓ marks)."""
        pending = {j.entry.model_path for j in self.queue.pending if not j.with_data}
        if pending == self.pending_paths:
            return False
        self.pending_paths = pending
        return True
