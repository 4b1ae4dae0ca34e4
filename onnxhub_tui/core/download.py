"""Verified, resumable downloads. Only this module writes model bytes into the cache.

A download streams into a *private* part file (its name carries host and pid), hashing as it writes;
size and SHA-256 are checked, the file is fsynced and atomically renamed into place. An interrupted
download leaves ``<file>.part`` (or, if the process was killed, its private part) and the next run
resumes it with an HTTP Range request. A per-file lock keeps two writers apart, but correctness does
not depend on it: each writer owns its own part file and publishes only bytes it has verified.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from . import http, layout
from . import settings as _settings
from .diskio import BackgroundFlush, fsync_dir, open_regular
from .errors import (
    CancelledError,
    DiskSpaceError,
    DownloadError,
    HashMismatchError,
    Hint,
    LfsPointerError,
    NetworkError,
)
from .hashing import BackgroundHash, sha256_file
from .locking import FileLock, LockTimeout
from .manifest import FileRef
from .paths import is_within, made_inside
from .sources import Source, shown
from .throttle import Throttle

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
LFS_POINTER_PREFIX = b"version https://git-lfs"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

Progress = Callable[[int, "int | None"], None]


class CancelToken:
    """Set from any thread; the download stops at the next chunk and keeps its part file."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class _Attempt:
    """Why one location failed, for the final error."""

    url: str
    reason: str


class _LocationFailed(Exception):
    """This location cannot give us the file; try the next one."""

    def __init__(self, reason: str, kind: type[DownloadError] = DownloadError) -> None:
        super().__init__(reason)
        self.kind = kind


@dataclass
class _State:
    """The private part file and how far its bytes are hashed."""

    path: Path
    hasher: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    done: int = 0

    def reset(self) -> None:
        with open(self.path, "wb"):
            pass
        self.hasher = hashlib.sha256()
        self.done = 0

    def sync_with_disk(self) -> None:
        """Re-hash the file's prefix when it is not what we hashed (e.g. a part adopted from a killed run)."""
        size = self.path.stat().st_size if self.path.exists() else 0
        if size != self.done:
            self.hasher = sha256_file(self.path) if size else hashlib.sha256()
            self.done = size


def locks_enabled() -> bool:
    # Some network filesystems hang or lie on locks; correctness never depends on them.
    return _settings.load().locks


@contextlib.contextmanager
def _file_lock(cache_dir: Path, target: Path, cancel: CancelToken | None) -> Iterator[None]:
    if not locks_enabled():
        yield
        return
    path = layout.lock_path(cache_dir, target)
    lock = FileLock(path)
    refused: OSError | None = None
    while True:
        try:
            made_inside(path.parent, cache_dir)  # never through a link out of the cache
            lock.acquire(timeout=0.2)
            break
        except LockTimeout:
            if cancel is not None and cancel.cancelled:
                raise CancelledError(f"Cancelled while waiting for another download of {target.name}.") from None
        except OSError as exc:
            refused = exc
            break
    if refused is not None:
        # The lock folder refused (read-only, another user's, a file in its way): name it, and go on
        # without a lock: a private part and verify-then-rename keep the file correct regardless.
        log.warning("Cannot lock in %s (%s): downloading %s without a lock.",
                    path.parent, refused.strerror or refused, target.name)
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _adopt_part(target: Path) -> _State:
    """Claim the largest resumable part (ours by atomic rename) and drop other stale ones."""
    mine = layout.private_part(target)
    stale = [p for p in layout.part_files(target) if p.name == target.name + layout.PART or not layout.part_owner_alive(p)]
    sizes = {}
    for p in stale:
        with contextlib.suppress(OSError):
            st = p.lstat()
            # only a regular file is resumed: writes to a FIFO named <file>.part block once its buffer fills
            sizes[p] = st.st_size if stat.S_ISREG(st.st_mode) else -1
    best = max((p for p in sizes if sizes[p] >= 0), key=sizes.__getitem__, default=None)
    for p in sizes:
        if p is not best:
            with contextlib.suppress(OSError):
                p.unlink()
    if best is not None:
        try:
            os.rename(best, mine)
        except OSError:
            best = None
    if best is None:
        with open(mine, "wb"):
            pass
    return _State(mine, done=-1)  # -1: hash whatever is on disk before the first request


def _park_part(state: _State, target: Path) -> None:
    """Leave our bytes as ``<file>.part`` for a later resume, unless a larger part is already there."""
    resumable = target.with_name(target.name + layout.PART)
    with contextlib.suppress(OSError):
        if not state.path.exists():
            return
        if state.path.stat().st_size == 0:
            state.path.unlink()
        elif resumable.exists() and resumable.stat().st_size >= state.path.stat().st_size:
            state.path.unlink()
        else:
            os.replace(state.path, resumable)


def _discard(state: _State) -> None:
    with contextlib.suppress(OSError):
        state.path.unlink()


def _check_space(directory: Path, needed: int | None) -> None:
    if not needed:
        return
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise DiskSpaceError(
            f"Not enough disk space in {directory}: {needed:,} bytes needed, {free:,} free.",
            hints=(Hint.PRUNE, Hint.CACHE_DIR),
        )


@contextlib.contextmanager
def _open(client: httpx.Client, source: Source, url: str, offset: int) -> Iterator[httpx.Response]:
    # file:// goes through the client too (http.FileTransport answers it like a static host)
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with http.open_stream(client, url, source.headers_for, headers) as response:
        yield response


def _range_start(response: object) -> int | None:
    match = _CONTENT_RANGE.match(getattr(response, "headers", {}).get("content-range", "").strip())
    return int(match[1]) if match else None


@dataclass
class _Retry:
    """The request did not complete; try again (after a wait unless ``immediate``)."""

    reason: str
    retry_after: str | None = None
    immediate: bool = False


def _transfer_once(
    client: httpx.Client,
    source: Source,
    url: str,
    state: _State,
    size: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> _Retry | None:
    """One request; None once the whole body is on disk (verification comes next)."""
    state.sync_with_disk()
    if size is not None and state.done > size:
        state.reset()  # a part larger than the file cannot be a prefix of it
    if size is not None and state.done == size and size > 0:
        return None  # already whole: verification decides
    with _open(client, source, url, state.done) as response:
        status = response.status_code
        if status in http.RETRY_STATUSES:
            return _Retry(f"HTTP {status}", response.headers.get("retry-after"))
        if status == 416 and state.done:
            state.reset()  # our offset is past the server's end: start over
            return _Retry("HTTP 416 to a Range request", immediate=True)
        if status >= 400 and url.startswith("file://"):
            raise _LocationFailed(response.reason_phrase or f"HTTP {status}")  # "file not found", ...
        if status in (404, 410):
            raise _LocationFailed(f"HTTP {status} (not found)")
        if status >= 400:
            raise _LocationFailed(f"HTTP {status}")
        if status == 206 and _range_start(response) != state.done:
            state.reset()  # a Content-Range that is not what we asked for: start over
            return _Retry("wrong Content-Range", immediate=True)
        if status == 200 and state.done:
            state.reset()  # the server ignored Range: take the whole body from the start
        elif status not in (200, 206):
            raise _LocationFailed(f"unexpected HTTP {status}")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            # We ask for identity and hash the raw bytes: a compressed body is never the model's bytes, and
            # its size and Range offsets are the compressed ones. Said so, instead of a hash mismatch
            # that printed compressed bytes.
            raise _LocationFailed(f"sent the body with Content-Encoding: {encoding[:40]} although identity was asked for")
        if size is not None:
            _check_space(state.path.parent, size - state.done)
        total = size
        if total is None and response.headers.get("content-length", "").isdigit():
            total = state.done + int(response.headers["content-length"])
        whole = _declared_size(response, state.done)
        _write_body(response, state, size, total, progress, cancel)
    if state.done <= 1024 and _is_lfs_pointer(state.path):
        state.reset()
        raise _LocationFailed("served a Git LFS pointer instead of the model", LfsPointerError)
    if size is not None and whole is not None and state.done == whole < size:
        # Every byte the server announced arrived: this is a different, smaller file (an HTML error page
        # served with 200, an old version), not a dropped connection. Retrying would fetch it again.
        head = _head_text(state.path) if whole <= 4096 else ""
        state.reset()
        raise _LocationFailed(
            f"served a {whole:,}-byte file where the manifest says {size:,} bytes" + (f": {head!r}" if head else ""),
            HashMismatchError,
        )
    if size is not None and state.done < size:
        return _Retry(f"body ended at {state.done:,} of {size:,} bytes")
    return None


def _declared_size(response: object, offset: int) -> int | None:
    """The whole file's size by the server's own headers: Content-Range's total on a 206, else the offset
    plus Content-Length (a body that ends short of it is a dropped connection, which httpx raises on)."""
    headers = getattr(response, "headers", {})
    match = _CONTENT_RANGE.match(headers.get("content-range", "").strip())
    if getattr(response, "status_code", 0) == 206:
        return int(match[3]) if match and match[3] != "*" else None
    length = headers.get("content-length", "")
    return offset + int(length) if length.isdigit() else None


def _head_text(path: Path) -> str:
    """The start of a small wrong body, printable, for the error message."""
    with open_regular(path) as f:
        text = f.read(200).decode("utf-8", "replace")
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:80]


class _Report:
    """Calls ``progress`` at most every 50 ms (the one ``Throttle``) or every MiB, and once at the end."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._throttle = Throttle(0.05)
        self._last_done = -1

    def __call__(self, done: int, total: int | None, final: bool = False) -> None:
        if self._progress is None or done == self._last_done:
            return
        if self._throttle.due(time.monotonic(), force=final or done - self._last_done >= CHUNK):
            self._last_done = done
            self._progress(done, total)


def _write_body(
    response: object,
    state: _State,
    size: int | None,
    total: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> None:
    # iter_raw() without a chunk size hands over bytes as they arrive (at most transport.READ_SIZE): with a
    # fixed 1 MiB chunk, httpx buffers until a whole MiB is in, so a dropped connection lost up to 1 MiB that
    # had arrived, a slow link showed no progress for a MiB at a time, and cancel waited for the next MiB.
    # Writing stays on this thread (a writer thread measured no faster, ~0.2 s more CPU per 512 MB); the
    # SHA-256 of a big body runs beside it (hashing.BackgroundHash), the dirty pages go to disk beside it
    # (diskio.BackgroundFlush).
    report = _Report(progress)
    with open(state.path, "r+b") as f:
        f.seek(state.done)
        f.truncate()
        flusher = BackgroundFlush(f.fileno())
        hashing = BackgroundHash(state.hasher)
        try:
            for chunk in response.iter_raw():  # type: ignore[attr-defined]
                if cancel is not None and cancel.cancelled:
                    raise CancelledError("Download cancelled; the part file is kept for a resume.")
                f.write(chunk)
                hashing.update(chunk)
                state.done += len(chunk)
                if size is not None and state.done > size:
                    raise _LocationFailed(f"served more than the manifest's {size:,} bytes", HashMismatchError)
                report(state.done, total)
                flusher.wrote(len(chunk))
            report(state.done, total, final=True)
        finally:
            hashing.close()
            flusher.close()  # before the fd is closed: that thread must never sync a reused descriptor
            f.flush()
            os.fsync(f.fileno())


def _is_lfs_pointer(path: Path) -> bool:
    with open_regular(path) as f:
        return f.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX


def _fetch_verified(
    client: httpx.Client,
    source: Source,
    url: str,
    state: _State,
    sha: str | None,
    size: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
    policy: http.RetryPolicy,
    wrong_digests: dict[str, int],
) -> None:
    """Bring the private part to a verified copy from ``url``, retrying transient failures."""
    failures = 0
    clean_retries = 0
    while True:
        state.sync_with_disk()
        started_clean = state.done == 0
        try:
            retry = _transfer_once(client, source, url, state, size, progress, cancel)
        except NetworkError as exc:  # e.g. a redirect loop
            raise _LocationFailed(str(exc)) from None
        except http.TRANSIENT_ERRORS as exc:
            retry = _Retry(http.describe(exc))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # a full disk, or a full quota: the same to us
                _discard(state)
                raise DiskSpaceError(
                    f"The disk filled up while writing in {state.path.parent}: the partial file was removed "
                    "to give the space back.",
                    hints=(Hint.PRUNE, Hint.CACHE_DIR),
                ) from None
            raise
        if retry is None:
            digest = state.hasher.hexdigest()  # lower-case hex; ``sha`` is lowered by download_file
            if sha is None or digest == sha:
                return
            state.reset()
            if started_clean:
                wrong_digests[digest] = wrong_digests.get(digest, 0) + 1
            if wrong_digests.get(digest, 0) >= 2:
                raise _LocationFailed(
                    f"SHA-256 {digest}, expected {sha}, twice from a clean start: the manifest is probably stale",
                    HashMismatchError,
                )
            clean_retries += 1
            if clean_retries > 1:
                raise _LocationFailed(f"SHA-256 {digest}, expected {sha}", HashMismatchError)
            continue  # one clean retry tells corruption in transit from a stale manifest
        failures += 1
        if failures >= policy.attempts:
            raise _LocationFailed(f"{retry.reason} (after {failures} attempts)")
        if not retry.immediate:
            time.sleep(policy.wait(failures, retry.retry_after))


@contextlib.contextmanager
def _cache_write_errors(target: Path) -> Iterator[None]:
    """A read-only cache, another user's cache, a vanished mount: say where and what to do."""
    try:
        yield
    except OSError as exc:
        raise DownloadError(
            f"Cannot write {target.name} in {target.parent}: {exc.strerror or exc}. "
            "Check that the cache folder is writable.",
            hints=(Hint.CACHE_DIR,),
        ) from None


def download_file(
    *,
    client: httpx.Client,
    source: Source,
    file: FileRef,
    target: Path,
    cache_dir: Path,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
    policy: http.RetryPolicy | None = None,
) -> Path:
    """Make ``target`` a verified copy of ``file`` (``ModelInfo.file(with_data)``), trying each of the
    source's locations in order. A copy already at ``target`` is kept unless ``force`` or its size is
    not the manifest's (a damaged copy is replaced)."""
    policy = policy or http.RetryPolicy.from_env()
    rel_path, size = file.path, file.size
    sha = file.sha.lower() if file.sha else None  # a manifest may write its SHA-256 in upper case
    if not is_within(target, cache_dir):  # callers build target with layout.cached_path; re-check anyway
        raise DownloadError(f"Refusing to write {target}: it is outside the cache {cache_dir}.")
    tried: list[_Attempt] = []
    kinds: list[type[DownloadError]] = []
    with _cache_write_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(cache_dir, target, cancel):
            if not force and layout.file_state(target, size) == "complete":
                return target  # another job or process finished it while we waited (a damaged copy is replaced)
            state = _adopt_part(target)
            wrong_digests: dict[str, int] = {}
            try:
                for url in source.file_urls(rel_path):
                    try:
                        _fetch_verified(
                            client, source, url, state, sha, size, progress, cancel, policy, wrong_digests
                        )
                    except _LocationFailed as failed:
                        tried.append(_Attempt(shown(url), str(failed)))
                        kinds.append(failed.kind)
                        continue
                    os.replace(state.path, target)
                    fsync_dir(target.parent)
                    return target
            except BaseException:
                _park_part(state, target)
                raise
            _park_part(state, target)
    kind = kinds[0] if kinds and all(k is kinds[0] for k in kinds) else DownloadError
    lines = "\n".join(f"  {a.url}: {a.reason}" for a in tried)
    raise kind(f"Could not download {rel_path}; tried {len(tried)} location(s):\n{lines}")
