"""Streaming SHA-256 of files, in constant memory, and of a download's chunks on a thread of its own."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path

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
    with open(path, "rb", buffering=0) as f:
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
    """Feeds a hasher on its own thread, so a download's SHA-256 runs beside its receive and write.

    hashlib lets go of the GIL while it hashes a large buffer, so the writer thread keeps receiving and
    writing meanwhile: over loopback the SHA-256 of 256 MB (~0.17 s of CPU here) was most of the time the
    writer spent besides the system calls. The thread starts only after START bytes (small files hash
    inline), and at most QUEUE chunks wait for it, so memory stays bounded when the CPU is short.
    ``close()`` (always, in a finally) waits until every chunk is in the hasher."""

    START = 8 * 1024 * 1024
    QUEUE = 8  # chunks of up to http.READ_NUM_BYTES (1 MiB)

    def __init__(self, hasher: "hashlib._Hash") -> None:
        self._hasher = hasher
        self._inline = 0
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def update(self, chunk: bytes) -> None:
        if self._queue is None:
            self._hasher.update(chunk)
            self._inline += len(chunk)
            if self._inline >= self.START:
                self._queue = queue.Queue(self.QUEUE)
                self._thread = threading.Thread(target=self._run, name="onnxhub-hash", daemon=True)
                self._thread.start()
            return
        self._queue.put(chunk)

    def _run(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            try:
                self._hasher.update(chunk)
            except BaseException as exc:  # noqa: BLE001 - re-raised by close() on the writer's thread
                self._error = exc

    def close(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None
        if self._error is not None:
            raise self._error
