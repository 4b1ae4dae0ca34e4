"""Pieces of a file read on demand: HTTP Range requests to a Source's locations, or a local file.

Both back ends sit behind one ``Window``: a forward-only cursor that keeps the last bytes it fetched,
grows its next read while reads stay contiguous (a run of small nodes) and shrinks it after a jump (the
next initializer's header, past the weights it skipped). Over HTTP, once jumps repeat one stride (weights
of one size), the next headers are fetched ahead in parallel. A ``Budget`` caps requests and bytes, so a
server that ignores Range, or a file whose lengths lie, costs a little and then stops with an error.
Nothing here writes anything.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import http
from .diskio import open_regular
from .download import LFS_POINTER_PREFIX, CancelToken
from .errors import CancelledError, InspectError, NetworkError
from .sources import Source, file_url_to_path

KB = 1024
FIRST_WINDOW = 64 * KB  # the model's header and its first nodes, often the whole graph of a small model
JUMP_WINDOW = 16 * KB  # after a skip: one initializer's header (a few hundred bytes) and small ones after it
MAX_WINDOW = 1024 * KB
GAP = 4 * KB  # a skip this short (a node's name cut by a window's end) is read through, not jumped
SMALL_WHOLE = 256 * KB  # a server that ignores Range may still send a file this small whole
AHEAD = 8  # guessed windows in flight at once (see _Ahead)
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

Progress = Callable[[int, int], None]  # (requests made, bytes read so far)


@dataclass(frozen=True)
class Budget:
    """At most this many requests (retries included) and body bytes for one inspection."""

    requests: int = 500
    bytes: int = 16 * 1024 * KB


class RangeFailed(Exception):
    """This location cannot serve the file's bytes; ``reason`` says why (for the final message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Meter:
    """Counts what an inspection costs and stops it at its budget or when it is cancelled."""

    def __init__(self, budget: Budget, cancel: CancelToken | None = None, progress: Progress | None = None) -> None:
        self.budget = budget
        self.requests = 0
        self.bytes = 0
        self._cancel = cancel
        self._progress = progress
        self._lock = threading.Lock()  # reads ahead count from their own threads

    def request(self, length: int) -> None:
        """Before a request for ``length`` bytes."""
        if self._cancel is not None and self._cancel.cancelled:
            raise CancelledError("Inspection cancelled.")
        with self._lock:
            if self.requests >= self.budget.requests:
                raise InspectError(f"its header needs more than {self.budget.requests} requests (the budget)")
            if self.bytes + length > self.budget.bytes:
                raise InspectError(f"its header needs more than {self.budget.bytes // KB:,} KB (the budget)")
            self.requests += 1

    def received(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            if self.bytes > self.budget.bytes:
                raise InspectError(f"its header needs more than {self.budget.bytes // KB:,} KB (the budget)")

    def spare(self, requests: int, length: int) -> bool:
        """Whether this many more requests of this length leave the budget a good margin for the walk."""
        with self._lock:
            return (self.requests + 2 * requests <= self.budget.requests
                    and self.bytes + 2 * requests * length <= self.budget.bytes)

    def reported(self) -> None:
        if self._progress is not None:
            self._progress(self.requests, self.bytes)


class _LocalFile:
    """A file of a local-folder source (its reads are counted as requests too: one budget for both)."""

    def __init__(self, path: Path, meter: Meter) -> None:
        try:
            self._file = open_regular(path, buffering=0)  # never a FIFO in a local hub (it would block)
            self.size = os.fstat(self._file.fileno()).st_size
        except FileNotFoundError:
            raise RangeFailed("file not found") from None
        except OSError as exc:
            raise RangeFailed(exc.strerror or str(exc)) from None
        self._meter = meter

    def read(self, offset: int, length: int, *, retry: bool = True) -> bytes:  # noqa: ARG002 - as _HttpFile's
        self._meter.request(length)
        try:
            self._file.seek(offset)
            data = self._file.read(length)
        except OSError as exc:
            raise RangeFailed(f"read error: {exc.strerror or exc}") from None
        self._meter.received(len(data))
        if len(data) != length:
            raise RangeFailed(f"the file ended at {offset + len(data):,} bytes, before {offset + length:,}")
        return data

    def close(self) -> None:
        self._file.close()


class _HttpFile:
    """A file behind one URL, read with ``Range: bytes=a-b`` (redirects and per-host auth as downloads)."""

    def __init__(self, client: httpx.Client, source: Source, url: str, meter: Meter) -> None:
        self._client = client
        self._source = source
        self.url = url
        # Where the last answer came from: Hugging Face redirects every request to a signed storage URL,
        # and asking there directly halves the round trips (auth is still chosen per host, by open_stream).
        self._current = url
        self._meter = meter
        self._policy = http.RetryPolicy.from_env()
        self.size = -1  # known after the first answer
        self.whole: bytes | None = None  # a small file sent whole by a server that ignores Range

    def read(self, offset: int, length: int, *, retry: bool = True) -> bytes:
        """Bytes [offset, offset + length); ``retry=False`` for a guess, which must never sit in a backoff
        that closing the window (a cancel) would wait for."""
        last = ""
        attempts = self._policy.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            self._meter.request(length)
            retry_after = None
            try:
                with http.open_stream(self._client, self._current, self._source.headers_for, {
                    "Range": f"bytes={offset}-{offset + length - 1}", "Accept-Encoding": "identity",
                }) as response:
                    if response.status_code in http.RETRY_STATUSES:
                        retry_after = response.headers.get("retry-after")
                        last = f"HTTP {response.status_code}"
                    else:
                        data = self._body(response, offset, length)
                        self._current = str(response.url)
                        return data
            except RangeFailed as failed:
                if self._current == self.url:
                    raise
                self._current = self.url  # the redirect's target has expired, say: ask the location again
                last = failed.reason
                continue
            except NetworkError as exc:  # a redirect loop
                raise RangeFailed(str(exc)) from None
            except http.TRANSIENT_ERRORS as exc:
                last = http.describe(exc)
            except httpx.HTTPError as exc:  # not a transport failure (an invalid URL, say): not worth a retry
                raise RangeFailed(http.describe(exc)) from None
            if retry:  # progress is the walk's own (a guess runs on a thread the caller does not know)
                self._meter.reported()
            if attempt < attempts:
                time.sleep(self._policy.wait(attempt, retry_after))
        raise RangeFailed(f"{last} (after {attempts} attempts)")

    def _body(self, response: httpx.Response, offset: int, length: int) -> bytes:
        status = response.status_code
        if status in (404, 410):
            raise RangeFailed(f"HTTP {status} (not found)")
        if status == 416:
            raise InspectError(f"the file is shorter than its own fields say (HTTP 416 at byte {offset:,})")
        if status >= 400:
            raise RangeFailed(f"HTTP {status}")
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise RangeFailed(f"the server compressed the bytes ({response.headers['content-encoding']})")
        declared = response.headers.get("content-length", "")
        if status == 200:
            # The server ignored Range. A small file may be taken whole; a big one would be a download.
            if offset == 0 and declared.isdigit() and int(declared) <= min(SMALL_WHOLE, self._meter.budget.bytes):
                body = self._read(response, int(declared))
                self.size = len(body)
                return body  # all of it: the window then never asks again
            raise RangeFailed("the server ignored the Range request (HTTP 200 with the whole file)")
        if status != 206:
            raise RangeFailed(f"unexpected HTTP {status}")
        header = response.headers.get("content-range", "").strip()
        match = _CONTENT_RANGE.match(header)
        if not match or match[3] == "*":
            raise RangeFailed(f"a Content-Range that is not what was asked ({header!r})")
        start, end, total = int(match[1]), int(match[2]), int(match[3])
        if start != offset or end >= total or end < min(offset + length, total) - 1:
            raise RangeFailed(f"a Content-Range that is not what was asked ({header!r})")
        if self.size not in (-1, total):
            raise InspectError(f"the file changed while it was read ({self.size:,} bytes, then {total:,})")
        self.size = total
        return self._read(response, end - start + 1)[:length]

    def _read(self, response: httpx.Response, expected: int) -> bytes:
        body = bytearray()
        for chunk in response.iter_raw():
            self._meter.received(len(chunk))
            body += chunk
            if len(body) > expected:
                raise RangeFailed(f"sent more bytes than its headers said ({expected:,})")
        if len(body) < expected:
            raise httpx.ReadError(f"the body ended at {len(body):,} of {expected:,} bytes")
        return bytes(body)

    def close(self) -> None:
        pass


def open_location(client: httpx.Client, source: Source, url: str, meter: Meter) -> tuple[_LocalFile | _HttpFile, bytes]:
    """The location's back end and the file's first window; RangeFailed when it cannot serve this file."""
    backend: _LocalFile | _HttpFile
    if url.startswith("file://"):
        backend = _LocalFile(file_url_to_path(url), meter)
        first = backend.read(0, min(FIRST_WINDOW, backend.size)) if backend.size else b""
    else:
        backend = _HttpFile(client, source, url, meter)
        try:
            first = backend.read(0, FIRST_WINDOW)
        except InspectError as exc:
            if "HTTP 416" in str(exc):  # asked for bytes 0-: the file is empty
                raise RangeFailed("the file is empty") from None
            raise
    meter.reported()
    if first.startswith(LFS_POINTER_PREFIX):
        backend.close()
        raise RangeFailed("served a Git LFS pointer instead of the model")
    return backend, first


class _Ahead:
    """Windows at guessed offsets, fetched in parallel. When two jumps in a row had one length (a run of
    weights of one size, as repeated layers have), the next headers are probably that far apart: over a
    20 ms link, 128 such weights took 3.0 s one header at a time, 0.65 s so. A guess is never trusted,
    only used when the walk lands exactly on it; a wrong one costs one small request of the budget."""

    def __init__(self, backend: _LocalFile | _HttpFile, meter: Meter) -> None:
        self._backend = backend
        self._meter = meter
        self._parallel = isinstance(backend, _HttpFile)  # a local file has no round trip to hide
        self._pool: ThreadPoolExecutor | None = None
        self._windows: dict[int, Future[bytes]] = {}
        self._last: int | None = None
        self._stride: int | None = None
        self._run = 0  # strides in a row equal to the one before

    def jumped(self, start: int, size: int) -> None:
        """The walk jumped to ``start``: guess where it will land next."""
        stride = start - self._last if self._last is not None else None
        self._run = self._run + 1 if stride is not None and stride > 0 and stride == self._stride else 0
        self._last, self._stride = start, stride
        if not (self._run and self._parallel):
            return
        # As far ahead as the run is long: a run of two (a weight and its twin) risks one wasted request,
        # a run of 128 keeps AHEAD in flight.
        for k in range(1, min(AHEAD, self._run) + 1):
            offset = start + k * stride  # type: ignore[operator]
            if offset >= size or not self._meter.spare(AHEAD, JUMP_WINDOW):
                break
            if offset not in self._windows:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=AHEAD, thread_name_prefix="onnxhub-ahead")
                length = min(JUMP_WINDOW, size - offset)
                self._windows[offset] = self._pool.submit(self._backend.read, offset, length, retry=False)

    def take(self, start: int, end: int) -> bytes | None:
        """The guessed window that starts at ``start`` and holds ``end``, or None; older guesses are dropped."""
        for offset in [o for o in self._windows if o < start]:
            self._windows.pop(offset).cancel()
        future = self._windows.pop(start, None)
        if future is None:
            return None
        try:
            data = future.result()
        except Exception:  # noqa: BLE001 - a failed guess: the ordinary read says what is wrong, if anything
            return None
        return data if start + len(data) >= end else None

    def close(self) -> None:
        for future in self._windows.values():
            future.cancel()
        self._windows.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # no read of ours outlives the inspection


class Window:
    """Forward-only reads of a file through a back end; each fill is one request. ``close()`` when done."""

    def __init__(self, backend: _LocalFile | _HttpFile, first: bytes, meter: Meter) -> None:
        self._backend = backend
        self._meter = meter
        self.size = backend.size
        self._start = 0
        self._buf = first
        self._next = FIRST_WINDOW
        self._read_to = 0  # the end of the last bytes the walk looked at
        self._ahead = _Ahead(backend, meter)

    def get(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file (end is clamped to its size by the caller's bounds)."""
        if end > self.size:
            raise InspectError("a protobuf field runs past the end of the file")
        i = start - self._start
        if i >= 0 and end - self._start <= len(self._buf):
            self._read_to = end
            return self._buf[i : i + end - start]
        self._fill(start, end)
        self._read_to = end
        return self._buf[start - self._start : end - self._start]

    def _fill(self, start: int, end: int) -> None:
        buf_end = self._start + len(self._buf)
        # Contiguous when the walk reads on about where it stopped (a run of nodes): keep the tail we have,
        # read on from its end, in a larger window each time. Anything else skipped a payload: a jump.
        if self._start <= start <= buf_end + GAP and start - self._read_to <= GAP:
            self._next = min(self._next * 2, MAX_WINDOW)
            keep_from = min(start, buf_end)
            read_from, keep = buf_end, self._buf[keep_from - self._start :]
        else:  # a jump over bytes we skip
            self._next = JUMP_WINDOW
            self._ahead.jumped(start, self.size)
            guessed = self._ahead.take(start, end)
            if guessed is not None:
                self._buf, self._start = guessed, start
                self._meter.reported()
                return
            read_from, keep, keep_from = start, b"", start
        length = min(self.size, max(end, read_from + self._next)) - read_from
        room = self._meter.budget.bytes - self._meter.bytes
        if length > room >= end - read_from:  # a smaller read still within budget beats stopping early
            length = room
        data = self._backend.read(read_from, length)
        self._meter.reported()
        self._buf, self._start = keep + data, keep_from

    def varint(self, pos: int, limit: int) -> tuple[int, int]:
        """The varint at ``pos`` (not reading past ``limit``) and the position after it."""
        i = pos - self._start
        buf = self._buf
        if 0 <= i < len(buf) and pos < limit and buf[i] < 0x80:  # one byte: most keys and lengths
            self._read_to = pos + 1
            return buf[i], pos + 1
        if i < 0 or i + 10 > len(buf):
            buf = self.get(pos, min(pos + 10, limit, self.size))
            i = 0
            base = pos
        else:
            base = pos - i
        result = shift = 0
        stop = min(len(buf), limit - base)
        while True:
            if i >= stop or shift > 63:
                raise InspectError("truncated or malformed protobuf varint")
            byte = buf[i]
            i += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self._read_to = base + i
                return result, base + i
            shift += 7

    def close(self) -> None:
        """Stop and wait for reads ahead (the back end is its opener's to close)."""
        self._ahead.close()
