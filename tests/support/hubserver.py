"""A real HTTP server on loopback for tests: serves a folder with GitHub raw/LFS-style and Hugging Face
paths, honours Range (open or bounded), ETag and Last-Modified, counts what crosses the wire, adds latency
and injects faults on demand.

Files are streamed from disk (never read whole), so a test can serve a file of hundreds of MB.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 123456\n"
_HASHED_ETAG_LIMIT = 16 * 1024 * 1024  # bigger files get a stat-based ETag (hashing them per request is slow)


@dataclass
class Fault:
    """One misbehaviour, applied to the next ``times`` matching requests (-1: every one).

    kind: status | reset | stall | trickle | short | ignore_range | bad_range | wrong_bytes |
          lfs_pointer | redirect | redirect_loop | redirect_chain | html | body | close | hold

    - status: answer ``status`` (e.g. 503, 429, 404) with ``Retry-After: retry_after`` when given
    - reset: send ``after_bytes`` body bytes, then a TCP RST
    - stall: send ``after_bytes`` body bytes, then nothing for ``seconds``, then close
    - trickle: the whole body in ``chunk``-byte pieces with ``seconds`` between them
    - short: send ``after_bytes`` body bytes of a longer Content-Length, then close
    - ignore_range: 200 with the whole body even when Range was asked
    - bad_range: 206 whose Content-Range starts 7 bytes later than asked
    - wrong_bytes: the first 64 bytes of the file inverted (hash mismatch)
    - lfs_pointer: 200 with a Git LFS pointer instead of the file
    - redirect / redirect_loop: 302 to ``location`` (default: the same path)
    - redirect_chain: 302 to this path plus "/r": an endless chain of distinct URLs
    - html: 200 with an HTML sign-in page
    - body: ``status`` with exactly ``body`` (any content type)
    - close: close the connection before any response
    - hold: answer only once ``gate`` is set (then apply ``then``, if given): lets a test line up
      concurrent requests
    """

    kind: str
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    after_bytes: int = 0  # reset/short/stall: after this many body bytes
    seconds: float = 0.0  # stall length; trickle: pause between pieces
    location: str = ""  # redirect target
    chunk: int = 1024  # trickle piece size
    body: bytes = b""  # kind "body"
    gate: threading.Event | None = None  # kind "hold"
    then: Fault | None = None  # kind "hold": the fault to apply once released


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    range_start: int | None
    status: int = 0
    bytes_sent: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: HubHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm the body waited for the client's
    # delayed ACK, ~40 ms per small response (real servers set TCP_NODELAY too).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    # -- helpers
    def _file_for(self, path: str) -> Path | None:
        parts = [p for p in unquote(urlsplit(path).path).split("/") if p]
        if parts and parts[0] in ("raw", "lfs", "media"):
            parts = parts[1:]
        elif len(parts) > 4 and parts[2] == "resolve":  # /owner/repo/resolve/rev/path (Hugging Face)
            parts = parts[:2] + parts[3:]
        if any(p in ("..", ".") for p in parts):
            return None
        candidate = self.server.root.joinpath(*parts)
        return candidate if candidate.is_file() else None

    def _count(self, n: int) -> None:
        self.hit.bytes_sent += n
        self.server.count_bytes(n)

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"", head: bool = False) -> None:
        self.hit.status = status  # before sending: the client may act on the answer at once
        self.send_response(status)
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)
            self._count(len(body))

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _serve(self, head: bool) -> None:
        range_header = self.headers.get("Range", "")
        start = last = None
        if range_header.startswith("bytes="):
            first, _, second = range_header[6:].partition("-")
            start = int(first) if first.isdigit() else None
            last = int(second) if second.isdigit() else None  # bytes=a-b: a bounded range
        self.hit = Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, start)
        self.server.record(self.hit)
        if self.server.require_query is not None and urlsplit(self.path).query != self.server.require_query:
            self._send(403, {"Content-Type": "text/plain"}, b"signature required", head)
            return
        if self.server.latency:  # a real link's round trip, per request
            time.sleep(self.server.latency)
        fault = self.server.take_fault(self.path)
        if fault is not None and fault.kind == "hold":
            if fault.gate is not None:
                fault.gate.wait(timeout=60)
            fault = fault.then
        if fault is not None and self._pre_body_fault(fault, head):
            return
        path = self._file_for(self.path)
        if path is None:
            self._send(404, {"Content-Type": "text/plain"}, b"Not Found", head)
            return
        st = path.stat()
        size = st.st_size
        etag = self.server.etag_for(path, st)
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        if not self.server.send_etags:  # a plain static server: Last-Modified only
            del headers["ETag"]
            if self.headers.get("If-Modified-Since") == modified:
                self._send(304, {"Content-Length": "0"}, head=True)
                return
        elif self.headers.get("If-None-Match") == etag:
            self._send(304, {"ETag": etag, "Content-Length": "0"}, head=True)
            return
        status, offset = 200, 0
        if start is not None and not (fault and fault.kind == "ignore_range"):
            if start >= size and size > 0:
                self._send(416, {"Content-Range": f"bytes */{size}"}, head=head)
                return
            end = size - 1 if last is None or last < start else min(last, size - 1)
            claimed = start + 7 if fault and fault.kind == "bad_range" else start
            headers["Content-Range"] = f"bytes {claimed}-{end}/{size}"
            status, offset, length = 206, start, end - start + 1
        else:
            length = size
        flip = fault is not None and fault.kind == "wrong_bytes"
        self._body(status, headers, path, offset, length, flip, fault, head)

    def _pre_body_fault(self, fault: Fault, head: bool) -> bool:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(fault.status, headers, b"try later", head)
            return True
        if fault.kind == "lfs_pointer":
            self._send(200, {"Content-Type": "text/plain"}, LFS_POINTER, head)
            return True
        if fault.kind == "html":
            self._send(200, {"Content-Type": "text/html"}, b"<html><body>Sign in to continue</body></html>", head)
            return True
        if fault.kind == "body":
            self._send(fault.status, {"Content-Type": "application/octet-stream"}, fault.body, head)
            return True
        if fault.kind == "close":
            self.hit.status = -1
            self.close_connection = True
            self.connection.close()
            return True
        if fault.kind == "redirect_chain":
            self._send(302, {"Location": self.path + "/r"}, b"", head)
            return True
        if fault.kind in ("redirect", "redirect_loop"):
            location = fault.location or self.path
            self._send(302, {"Location": location}, b"", head)
            return True
        return False

    def _pieces(self, path: Path, offset: int, length: int, step: int, flip: bool) -> Iterator[bytes]:
        with open(path, "rb") as f:
            f.seek(offset)
            pos = offset
            while length > 0:
                piece = f.read(min(step, length))
                if not piece:
                    return
                if flip and pos < 64:  # invert the file's first 64 bytes
                    k = min(64 - pos, len(piece))
                    piece = bytes(b ^ 0xFF for b in piece[:k]) + piece[k:]
                pos += len(piece)
                length -= len(piece)
                yield piece

    def _body(self, status: int, headers: dict[str, str], path: Path, offset: int, length: int, flip: bool,
              fault: Fault | None, head: bool) -> None:
        kind = fault.kind if fault else ""
        headers["Content-Length"] = str(length)
        self.hit.status = status
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        cut = min(fault.after_bytes, length) if kind in ("reset", "stall", "short") else length
        step = max(1, fault.chunk) if kind == "trickle" else 256 * 1024
        sent = 0
        try:
            if cut:
                for piece in self._pieces(path, offset, cut, step, flip):
                    self.wfile.write(piece)
                    sent += len(piece)
                    self._count(len(piece))
                    if kind == "trickle":
                        self.wfile.flush()
                        time.sleep(fault.seconds)
            self.wfile.flush()
            if kind == "reset":
                self._reset()
            elif kind == "stall":
                time.sleep(fault.seconds)
                self.close_connection = True
            elif kind == "short":
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.root = Path(root)
        self.hits: list[Hit] = []
        self.bytes_sent = 0
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()
        self._etags: dict[tuple[str, int, int], str] = {}
        self.send_etags = True  # False: only Last-Modified, revalidated with If-Modified-Since
        self.latency = 0.0  # seconds added before each answer (a slow link's round trip)
        self.require_query: str | None = None  # a signed host: 403 to any request whose query is not this

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (killed processes, resets a test asked for) are normal here: stay quiet."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def etag_for(self, path: Path, st: os.stat_result) -> str:
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._etags.get(key)
        if cached is not None:
            return cached
        if st.st_size <= _HASHED_ETAG_LIMIT:
            etag = '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:32] + '"'
        else:
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
        with self._lock:
            self._etags[key] = etag
        return etag

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def count_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def add_fault(self, path_contains: str, fault: Fault) -> None:
        with self._lock:
            self._faults.append((path_contains, fault))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for contains, fault in self._faults:
                if contains in path and fault.times != 0:
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None


@dataclass
class RunningServer:
    server: HubHTTPServer
    thread: threading.Thread
    url: str = field(init=False)

    def __post_init__(self) -> None:
        host, port = self.server.server_address[:2]
        scheme = "https" if getattr(self.server, "tls", False) else "http"
        self.url = f"{scheme}://{host}:{port}"

    @property
    def hits(self) -> list[Hit]:
        return self.server.hits

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def hits_for(self, contains: str) -> list[Hit]:
        return [h for h in self.server.hits if contains in h.path]

    def range_starts(self, contains: str) -> list[int | None]:
        """The Range start of each GET for a path (None: no Range header)."""
        return [h.range_start for h in self.hits_for(contains) if h.method == "GET"]

    def bytes_for(self, contains: str) -> int:
        """Body bytes sent for a path, over all requests."""
        return sum(h.bytes_sent for h in self.hits_for(contains))

    def add_fault(self, path_contains: str, fault: Fault) -> None:
        self.server.add_fault(path_contains, fault)

    def clear_faults(self) -> None:
        self.server.clear_faults()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_server(root: Path, host: str = "127.0.0.1", tls: "ssl.SSLContext | None" = None) -> RunningServer:
    """Serve ``root`` on ``host`` (any 127.x.y.z works on Linux loopback) at a free port; over TLS when
    given a server-side context."""
    server = HubHTTPServer(root, host)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.tls = True
    # A short poll interval so stop() (and so every test's teardown) takes milliseconds, not 0.5 s.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="hub-server",
                              daemon=True)
    thread.start()
    return RunningServer(server, thread)


if __name__ == "__main__":  # serve a folder by hand: python -m tests.support.hubserver DIR
    import sys

    running = start_server(Path(sys.argv[1]))
    print(running.url, flush=True)
    running.thread.join()
