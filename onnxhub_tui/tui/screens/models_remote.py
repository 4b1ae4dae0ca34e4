"""Reading a remote model's header for the details panel (issue 13): an entry without ``io_ports`` gets
its inputs and outputs from a few Range requests, on a thread, once the cursor settles on it.

One look runs at a time; moving the cursor cancels it (its token is set: the walk stops at its next
request and the result is ignored), so holding ``down`` starts nothing and typing is never delayed.
A result is kept for the session (and by ``core.remote_store`` in the cache, keyed by SHA-256).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.timer import Timer

from ...core.download import CancelToken
from ...core.errors import CancelledError
from ...core.manifest import ModelInfo
from ...core.remote_inspect import RemoteSummary, cached_summary, inspect_remote
from ...core.throttle import Throttle
from ..fmt import human_size
from ..messages import failure_text

if TYPE_CHECKING:
    from ..session import Session
    from .models import ModelsScreen

try:  # the zoowire branch's rule (ports listed, each with a type); until it is merged, "no io_ports"
    from ...core.entry_header import ports_complete
except ImportError:  # pragma: no cover - depends on the merge order
    def ports_complete(entry: ModelInfo) -> bool:
        return entry.io_ports is not None


@dataclass
class RemoteRead(Message):
    """A look at ``entry``'s header made progress (``result`` None) or ended (a summary, or why not)."""

    entry: ModelInfo
    result: RemoteSummary | str | None
    requests: int = 0
    bytes_read: int = 0


def reading_line(requests: int, bytes_read: int) -> str:
    return f"reading header ({requests} requests, {human_size(bytes_read)})…"


class RemoteLooks:
    """The screen's header reads: what is known per entry, and the one look in flight."""

    SETTLE = 0.3  # seconds on one row before its header is read

    def __init__(self, screen: ModelsScreen, session: Session) -> None:
        self._screen = screen
        self._session = session
        self._results: dict[str, RemoteSummary | str] = {}
        self._progress: dict[str, str] = {}
        self._entry: ModelInfo | None = None  # the one being looked at (or about to be)
        self._token: CancelToken | None = None
        self._timer: Timer | None = None

    @staticmethod
    def wanted(entry: ModelInfo | None) -> bool:
        return entry is not None and not ports_complete(entry)

    def state(self, entry: ModelInfo) -> RemoteSummary | str | None:
        """What the panel shows for ``entry``: a summary, a message (reading, failed), or None."""
        return self._results.get(entry.key) or self._progress.get(entry.key)

    def clear(self) -> None:
        self.cancel()
        self._results.clear()
        self._progress.clear()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._token is not None:
            self._token.cancel()
            self._token = None
        if self._entry is not None:
            self._progress.pop(self._entry.key, None)
        self._entry = None

    def look(self, entry: ModelInfo | None) -> None:
        """The cursor is on ``entry``: cancel a look at another one; read this one's header once settled."""
        if self._entry is not None and entry is self._entry:
            return
        self.cancel()
        if not self.wanted(entry) or entry is None or entry.key in self._results:
            return
        hub = self._session.hub
        try:
            kept = cached_summary(hub.cache_dir, entry.file(False)) if entry.model_sha else None
        except Exception:  # noqa: BLE001 - only a shortcut; the look says what is wrong
            kept = None
        if kept is not None:  # a second look is free (and works offline)
            self._results[entry.key] = kept
            return
        self._entry = entry
        self._timer = self._screen.set_timer(self.SETTLE, self._start)

    def _start(self) -> None:
        self._timer = None
        entry = self._entry
        if entry is None:
            return
        token = self._token = CancelToken()
        self._progress[entry.key] = reading_line(0, 0)
        self._screen.run_worker(lambda: self._read(entry, token), thread=True, group="remote-inspect",
                                exit_on_error=False)

    def _read(self, entry: ModelInfo, token: CancelToken) -> None:
        """On the worker thread: the walk, reporting progress at most ten times a second."""
        hub = self._session.hub
        throttle = Throttle(0.1)
        post = self._screen.post_message

        def progress(requests: int, bytes_read: int) -> None:
            if throttle.due(time.monotonic()):
                post(RemoteRead(entry, None, requests, bytes_read))

        result: RemoteSummary | str
        try:
            inspect = getattr(hub, "inspect", None)
            if inspect is not None:  # Hub.inspect (core/entry_header): a cached file first, offline rules
                summary, _origin = inspect(entry, progress=progress, cancel=token)
                result = summary if summary is not None else "Inputs and outputs unknown until downloaded."
            else:
                result = inspect_remote(client=hub.client, source=hub.source, file=entry.file(False),
                                        cache_dir=hub.cache_dir, cancel=token, progress=progress)
        except CancelledError:
            return  # the cursor moved on: nothing to say
        except Exception as exc:  # noqa: BLE001 - a worker must never take the app down
            result = f"Inputs and outputs unknown: {failure_text(exc)}"
        if not token.cancelled:
            post(RemoteRead(entry, result))

    def arrived(self, message: RemoteRead) -> bool:
        """Take a worker's message; True when the panel should repaint (it is about the current look)."""
        key = message.entry.key
        if message.result is None:
            if self._entry is not message.entry:
                return False
            self._progress[key] = reading_line(message.requests, message.bytes_read)
            return True
        self._results[key] = message.result
        self._progress.pop(key, None)
        if self._entry is message.entry:
            self._entry = None
            self._token = None
            return True
        return False
