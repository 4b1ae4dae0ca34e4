"""Streaming SHA-256 of files, in constant memory."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from .diskio import open_regular

CHUNK = 4 * 1024 * 1024


def sha256_file(
    path: Path,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    hasher: "hashlib._Hash | None" = None,
) -> "hashlib._Hash":
    """Hash ``path`` (its first ``limit`` bytes when given) into ``hasher`` and return the hasher."""
    hasher = hasher or hashlib.sha256()
    remaining = limit
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    done = 0
    with open_regular(path, buffering=0) as f:  # a FIFO under a model name must not block us
        while remaining is None or remaining > 0:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            n = f.readinto(view[:want])
            if not n:
                break
            hasher.update(view[:n])
            done += n
            if remaining is not None:
                remaining -= n
            if progress:
                progress(done)
    return hasher


def sha256_hex(path: Path) -> str:
    return sha256_file(path).hexdigest()


class BackgroundHash:
    """Feeds a hasher from a thread of its own once a body is big, so hashing runs beside the socket
    reads and file writes instead of after each one (hashlib lets go of the GIL for big buffers).
    ``update`` takes bytes (never a buffer that is reused); ``close`` waits until all of it is hashed."""

    START_AFTER = 8 * 1024 * 1024  # smaller bodies are hashed in line: no thread for a manifest
    QUEUED = 32  # chunks waiting at most (each at most a socket read): past that, update() waits

    def __init__(self, hasher: hashlib._Hash) -> None:
        self._hasher = hasher
        self._seen = 0
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None

    def update(self, chunk: bytes) -> None:
        if self._queue is None:
            self._hasher.update(chunk)
            self._seen += len(chunk)
            if self._seen >= self.START_AFTER:
                self._queue = queue.Queue(self.QUEUED)
                self._thread = threading.Thread(target=self._run, name="onnxhub-hash", daemon=True)
                self._thread.start()
            return
        self._queue.put(chunk)

    def _run(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            self._hasher.update(chunk)

    def close(self) -> None:
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None
