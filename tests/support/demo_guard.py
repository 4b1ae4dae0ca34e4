"""The demo hub under a network guard, shared by the CLI and TUI demo tests: an audit hook that logs every
connect and lookup and refuses any host that is not loopback, and dead proxies with NO_PROXY unset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from onnxhub_tui import demo
from tests.conftest import subprocess_env

NETWORK_GUARD = r"""
import ipaddress, os, socket, sys
_log = open(os.environ["NET_LOG"], "a")
def _loopback(host):
    host = host.decode() if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
def _hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        _log.write("connect %s\n" % (args[1][0],)); _log.flush()
        if not _loopback(args[1][0]):
            raise OSError("network disabled by the test: %s" % (args[1][0],))
    elif event == "socket.getaddrinfo" and args[0] is not None:
        _log.write("resolve %s\n" % (args[0],)); _log.flush()
        if not _loopback(args[0]):
            raise socket.gaierror("network disabled by the test: %s" % (args[0],))
sys.addaudithook(_hook)
from onnxhub_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per test session; every subprocess finds it through ONNXHUB_DEMO_DIR."""
    return demo.ensure_demo_hub(tmp_path_factory.mktemp("demo") / "demo-hub")


@pytest.fixture
def env(demo_folder, cache_dir, tmp_path):
    env = subprocess_env(None, cache_dir, ONNXHUB_DEMO_DIR=str(demo_folder), NET_LOG=str(tmp_path / "net.log"))
    for key in ("NO_PROXY", "no_proxy"):
        env.pop(key, None)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[key] = "http://proxy.invalid:3128"
    for key in ("ONNXHUB_GITHUB_RAW_URL", "ONNXHUB_GITHUB_LFS_URL", "HF_ENDPOINT", "ONNXHUB_OFFLINE"):
        env.pop(key, None)
    return env


def guarded(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NETWORK_GUARD, *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def net_log(env: dict[str, str]) -> list[str]:
    path = Path(env["NET_LOG"])
    return path.read_text().splitlines() if path.exists() else []
