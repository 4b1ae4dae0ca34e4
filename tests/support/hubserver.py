"""A real HTTP server on 127.0.0.1 for tests: serves a folder with GitHub raw/LFS-style and Hugging Face
paths, honours Range, ETag and Last-Modified, counts what crosses the wire, and injects faults on demand."""

from __future__ import annotations

import email.utils
import hashlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Fault:
    """One misbehaviour, applied to the next ``times`` matching requests (-1: every one).

    kind: status | reset | stall | trickle | short | ignore_range | bad_range | wrong_bytes |
          lfs_pointer | redirect | redirect_loop | html
    """

    kind: str
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    after_bytes: int = 0  # reset/short/stall: after this many body bytes
    seconds: float = 0.0  # stall length; trickle: pause between 1 KiB pieces
    location: str = ""  # redirect target


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

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"", head: bool = False) -> None:
        self.send_response(status)
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.hit.status = status
        if not head and body:
            self.wfile.write(body)
            self.hit.bytes_sent += len(body)
            self.server.count_bytes(len(body))

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _serve(self, head: bool) -> None:
        range_header = self.headers.get("Range", "")
        start = None
        if range_header.startswith("bytes="):
            first = range_header[6:].split("-", 1)[0]
            start = int(first) if first.isdigit() else None
        self.hit = Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, start)
        self.server.record(self.hit)
        fault = self.server.take_fault(self.path)
        if fault is not None and self._pre_body_fault(fault, head):
            return
        path = self._file_for(self.path)
        if path is None:
            self._send(404, {"Content-Type": "text/plain"}, b"Not Found", head)
            return
        data = path.read_bytes()
        if fault is not None and fault.kind == "wrong_bytes":
            data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        modified = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        if self.headers.get("If-None-Match") == etag:
            self._send(304, {"ETag": etag, "Content-Length": "0"}, head=True)
            return
        status = 200
        if start is not None and not (fault and fault.kind == "ignore_range"):
            if start >= len(data) and len(data) > 0:
                self._send(416, {"Content-Range": f"bytes */{len(data)}"}, head=head)
                return
            claimed = start + 7 if fault and fault.kind == "bad_range" else start
            headers["Content-Range"] = f"bytes {claimed}-{len(data) - 1}/{len(data)}"
            data = data[start:]
            status = 206
        self._body(status, headers, data, fault, head)

    def _pre_body_fault(self, fault: Fault, head: bool) -> bool:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(fault.status, headers, b"try later", head)
            return True
        if fault.kind == "lfs_pointer":
            pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 123456\n"
            self._send(200, {"Content-Type": "text/plain"}, pointer, head)
            return True
        if fault.kind == "html":
            self._send(200, {"Content-Type": "text/html"}, b"<html><body>Sign in to continue</body></html>", head)
            return True
        if fault.kind in ("redirect", "redirect_loop"):
            location = fault.location or self.path
            self._send(302, {"Location": location}, b"", head)
            return True
        return False

    def _body(self, status: int, headers: dict[str, str], data: bytes, fault: Fault | None, head: bool) -> None:
        kind = fault.kind if fault else ""
        if kind not in ("reset", "stall", "trickle", "short"):
            self._send(status, headers, data, head)
            return
        headers["Content-Length"] = str(len(data))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.hit.status = status
        cut = min(fault.after_bytes, len(data)) if kind != "trickle" else len(data)
        sent = 0
        step = 1024 if kind == "trickle" else 64 * 1024
        try:
            while sent < cut:
                piece = data[sent : min(cut, sent + step)]
                self.wfile.write(piece)
                self.wfile.flush()
                sent += len(piece)
                self.hit.bytes_sent += len(piece)
                self.server.count_bytes(len(piece))
                if kind == "trickle":
                    time.sleep(fault.seconds)
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

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = Path(root)
        self.hits: list[Hit] = []
        self.bytes_sent = 0
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()

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
        self.url = f"http://{host}:{port}"

    @property
    def hits(self) -> list[Hit]:
        return self.server.hits

    def hits_for(self, contains: str) -> list[Hit]:
        return [h for h in self.server.hits if contains in h.path]

    def add_fault(self, path_contains: str, fault: Fault) -> None:
        self.server.add_fault(path_contains, fault)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_server(root: Path) -> RunningServer:
    server = HubHTTPServer(root)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="hub-server", daemon=True)
    thread.start()
    return RunningServer(server, thread)


if __name__ == "__main__":  # serve a folder by hand: python -m tests.support.hubserver DIR
    import sys

    running = start_server(Path(sys.argv[1]))
    print(running.url, flush=True)
    running.thread.join()
