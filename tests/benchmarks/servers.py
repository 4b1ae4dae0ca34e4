"""A static file server on loopback: nginx (Debian's nginx-light) as a child process with a generated
config, or Python's http.server when nginx is absent. ``/`` serves at full speed; ``/slow/`` serves the
same tree with nginx's per-connection ``limit_rate``. nginx logs each request's time on the server's side
(``Server.requests_since``): how long the body took to go out, apart from the client's start and end."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

_CONF = """
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format timing '$request_time $bytes_sent $request_uri';
    access_log {tmp}/access.log timing;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    types {{ application/json json; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /slow/ {{
            alias {root}/;
            limit_rate {rate};
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Served:
    """One request as nginx's access log has it."""

    seconds: float  # $request_time: from the request's first byte read to the response's last byte sent
    sent: int  # $bytes_sent, headers included


@dataclass
class Server:
    kind: str  # "nginx 1.x" or "python http.server"
    base: str  # http://127.0.0.1:PORT/
    throttled: bool  # whether /slow/ is really rate-limited
    log: Path | None = None  # nginx's access log (None: http.server, which keeps none)

    def url(self, rel: str, slow: bool = False) -> str:
        return self.base + ("slow/" if slow else "") + rel.lstrip("/")

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log is not None and self.log.exists() else 0

    def requests_since(self, offset: int) -> list[Served]:
        """The requests logged after ``offset`` (a ``log_size()``); nginx writes each line as it ends one."""
        if self.log is None:
            return []
        with open(self.log, "rb") as f:
            f.seek(offset)
            lines = f.read().decode().splitlines()
        return [Served(float(secs), int(sent)) for secs, sent, _uri in (line.split(" ", 2) for line in lines)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                r.read(1)
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _version() -> str:
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True)  # type: ignore[list-item]
    return (out.stderr or out.stdout).strip().replace("nginx version: ", "")


@contextlib.contextmanager
def static_server(root: Path, rate: str = "32m", probe: str = "") -> Iterator[Server]:
    """Serve ``root`` on 127.0.0.1 until the block ends. ``probe``: a path that must answer before we yield."""
    root = Path(root).resolve()
    if NGINX:
        with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
            for _attempt in range(5):  # a free port can be taken between the check and nginx's bind
                port = _free_port()
                user = "user root;" if os.geteuid() == 0 else ""
                conf = Path(tmp) / "nginx.conf"
                conf.write_text(_CONF.format(user=user, tmp=tmp, port=port, root=root, rate=rate))
                proc = subprocess.Popen(
                    [NGINX, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log", "-g", "daemon off;"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                base = f"http://127.0.0.1:{port}/"
                if _wait_up(base + probe, proc):
                    try:
                        yield Server(f"nginx {_version()}", base, throttled=True, log=Path(tmp) / "access.log")
                    finally:
                        proc.terminate()
                        proc.wait(10)
                    return
                proc.kill()
                proc.wait(10)
            log = (Path(tmp) / "error.log").read_text() if (Path(tmp) / "error.log").exists() else ""
            raise RuntimeError(f"nginx did not start:\n{log[-2000:]}")
    # Fallback: no nginx on this machine. /slow/ is not throttled here; the queue benchmark says so.
    port = _free_port()
    slow = root / "slow"
    made_link = False
    if not slow.exists():
        slow.symlink_to(root)
        made_link = True
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not _wait_up(f"http://127.0.0.1:{port}/{probe}", proc):
            raise RuntimeError("python http.server did not start")
        yield Server("python http.server (nginx absent)", f"http://127.0.0.1:{port}/", throttled=False)
    finally:
        proc.terminate()
        proc.wait(10)
        if made_link:
            slow.unlink()
