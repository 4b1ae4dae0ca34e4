"""The README's first command in a real terminal: `onnxhub-tui --demo` shows the demo hub in the TUI and
downloads from it, under the same network guard as tests/cli/test_demo.py (loopback only, dead proxies)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.demo_guard import NETWORK_GUARD, demo_folder, env, net_log  # noqa: F401 - fixtures

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def _wait_for(session: str, predicate, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-t", session, "-p")
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out; the screen was:\n{screen}")


def test_the_demo_opens_the_tui_and_downloads_with_no_network(env, tmp_path):
    session = f"onnxhub-demo-{uuid.uuid4().hex[:8]}"
    guard = tmp_path / "guard.py"
    guard.write_text(NETWORK_GUARD)
    exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k != "TMUX")
    command = f"env -i {exported} TERM=xterm-256color {shlex.quote(sys.executable)} {guard} --demo; " \
              f"echo EXITED=$? ; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    try:
        names = ("addmm", "AvgPool2d", "Conv2d", "densenet121", "resnet50", "squeezenet")
        _wait_for(session, lambda s: sum(n in s for n in names) >= 3)  # the demo's models are listed
        time.sleep(0.5)  # let the first paint settle before typing
        _tmux("send-keys", "-t", session, "d")
        root = Path(env["ONNX_HOME"]) / "hub" / "demo"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(p.suffix == ".onnx" for p in root.rglob("*")):
            time.sleep(0.1)
        downloaded = [p for p in root.rglob("*.onnx")]
        assert len(downloaded) == 1, _tmux("capture-pane", "-t", session, "-p")
        _tmux("send-keys", "-t", session, "q")
        screen = _wait_for(session, lambda s: "EXITED=" in s)
        assert "EXITED=0" in screen and "Traceback" not in screen
    finally:
        _tmux("kill-session", "-t", session)
    log = net_log(env)
    assert any(line.startswith("connect 127.0.0.1") for line in log)
    assert all(line.split()[1] in ("127.0.0.1", "localhost") for line in log), log
