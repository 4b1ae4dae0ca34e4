"""Messages shared between the app, its screens, and its worker threads.

Why a module of its own: the cache screen (built separately) and the models screen must agree on
these classes without importing each other.
"""

from __future__ import annotations

from textual.message import Message

from ..core.manifest import Manifest


class CacheChanged(Message):
    """The cache on disk changed (download finished, files deleted).

    Post it on the app (``self.app.post_message(CacheChanged())``); the app rescans the cache and
    refreshes the models table's cached column and the details panel.
    """


class ManifestLoaded(Message):
    """The manifest worker finished; ``states`` maps entry keys to "complete"/"partial"."""

    def __init__(self, manifest: Manifest, states: dict[str, str]) -> None:
        super().__init__()
        self.manifest = manifest
        self.states = states


class ManifestFailed(Message):
    """The manifest could not be loaded (no network and no cached copy, a bad spec, ...)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class CacheScanned(Message):
    def __init__(self, states: dict[str, str]) -> None:
        super().__init__()
        self.states = states


class JobChanged(Message):
    """A download job's progress or state changed; bursts for one job collapse into one."""

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobChanged) and message.job_id == self.job_id


class JobFinished(Message):
    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
