"""The environment a user brings: a proxy (HTTP_PROXY/NO_PROXY), a private CA (SSL_CERT_FILE), and a
terminal to answer onnx.hub's trust question on."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import NetworkError
from tests.conftest import subprocess_env
from tests.support.reliability import cache_files


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that records the absolute URIs it is asked for and answers 502."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(self.path)
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy():
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    server.shutdown()
    server.server_close()


def test_requests_go_through_the_proxy_from_the_environment(proxy, cache_dir, monkeypatch):
    url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    with Hub("http://models.example.invalid/hub/", cache_dir) as hub, pytest.raises(NetworkError, match="HTTP 502"):
        hub.manifest()
    assert seen == ["http://models.example.invalid/hub/ONNX_HUB_MANIFEST.json"] * 2  # no DNS, no direct connect


def test_no_proxy_hosts_are_reached_directly(server, proxy, cache_dir, monkeypatch):
    url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with Hub("acme/models:main", cache_dir) as hub:
        hub.download(hub.manifest().find("MNIST", 7))
    assert seen == [] and len(server.hits) == 2


def _read_until(fd: int, needle: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, f"never saw {needle!r}; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


@pytest.mark.parametrize("answer", ["n", "y"])
def test_an_untrusted_repo_asks_on_a_terminal(server, cache_dir, answer):
    code = ("from onnxhub_tui import hub; import sys\n"
            f"hub.set_dir({str(cache_dir)!r})\n"
            "m = hub.load('MNIST', 'acme/models:main', opset=8)\n"
            "print('RESULT', type(m).__name__, flush=True)\n")
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave,
                            env=subprocess_env(server, cache_dir), close_fds=True)
    os.close(slave)
    try:
        _read_until(master, b"Continue?[y/n]")
        os.write(master, answer.encode() + b"\n")
        output = _read_until(master, b"RESULT")
        proc.wait(30)
        output += _read_until(master, b"\n")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    if answer == "n":
        assert b"RESULT NoneType" in output
        assert cache_files(cache_dir) == []
    else:
        assert b"RESULT ModelProto" in output
        assert [p.name.split("_", 1)[1] for p in cache_files(cache_dir)] == ["mnist-8.onnx"]


def _make_tls(tmp_path):
    """A CA and a certificate for 127.0.0.1 it signed, made with the openssl command."""
    import shutil
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path, timeout=60)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", "/CN=onnxhub test CA", "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    (tmp_path / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "ext.cnf", "-out", "server.pem")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    return context, tmp_path / "ca.pem"


def test_https_with_a_private_ca_from_ssl_cert_file(hub_tree, tmp_path):
    from tests.support.hubserver import start_server
    from tests.support.reliability import cli_has, download_command, sha256

    if not cli_has("download"):
        pytest.skip("the CLI has no `download` subcommand yet")
    (tmp_path / "tls").mkdir()
    context, ca = _make_tls(tmp_path / "tls")
    server = start_server(hub_tree.root, tls=context)
    cache = tmp_path / "cache"
    try:
        assert server.url.startswith("https://127.0.0.1:")
        env = subprocess_env(server, cache, ONNXHUB_RETRIES="2")
        env.pop("SSL_CERT_FILE", None)
        refused = subprocess.run(download_command("acme/models:main", cache, "MNIST"), env=env,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1
        assert "certificate" in refused.stderr.lower() and "Traceback" not in refused.stderr
        assert cache_files(cache) == []
        env["SSL_CERT_FILE"] = str(ca)  # the corporate-CA way: trust it through the environment
        done = subprocess.run(download_command("acme/models:main", cache, "MNIST"), env=env,
                              capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip().splitlines()[-1])
    assert sha256(path) == hub_tree.entry("MNIST")["metadata"]["model_sha"]
