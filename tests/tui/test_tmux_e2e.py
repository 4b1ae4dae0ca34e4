"""The installed `onnxhub-tui` in a real terminal (tmux, 80x24) against the loopback hub: type a search,
queue a download, see it land in the cache and the row marked cached, quit cleanly."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, subprocess_env

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-t", session, "-p")


def _wait_for(session: str, predicate: Callable[[str], bool], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out; the screen was:\n{screen}")


def _entry_point() -> list[str]:
    script = Path(sys.executable).parent / "onnxhub-tui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "onnxhub_tui.cli"]


def search(session: str, text: str) -> None:
    """Type a search that leaves one row; a ``/`` sent while the first paint settles can be lost on a busy
    machine, so the box is cleared and the typing tried again."""
    for _attempt in range(3):
        time.sleep(1.0)
        _tmux("send-keys", "-t", session, "/")
        time.sleep(0.3)
        _tmux("send-keys", "-t", session, "-l", text)
        try:
            _wait_for(session, lambda s: "1 shown / 10 total" in s, timeout=5)
            return
        except AssertionError:
            _tmux("send-keys", "-t", session, "Escape")
            _tmux("send-keys", "-t", session, "/")
            _tmux("send-keys", "-t", session, "C-u")
            _tmux("send-keys", "-t", session, "Escape")
    raise AssertionError(f"the search never took:\n{_screen(session)}")


def start_tui(name: str, env: dict[str, str], cache: Path) -> str:
    """The TUI on the test hub in a detached 80x24 tmux session (its own environment only); when it ends,
    the shell prints ``EXITED=<code>`` and waits. Returns the session's name."""
    session = f"onnxhub-{name}-{uuid.uuid4().hex[:8]}"
    exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k not in ("TMUX", "TMUX_PANE"))
    program = " ".join(shlex.quote(p) for p in _entry_point())
    command = (f"env -i {exported} {program} --repo {REPO} --cache-dir {shlex.quote(str(cache))} --trust; "
               "echo EXITED=$?; sleep 30")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True)
    return session


def test_search_download_and_quit_in_a_real_terminal(server, hub_tree, tmp_path):
    cache = tmp_path / "cache"
    env = subprocess_env(server, cache, TERM="xterm-256color", COLORTERM="")
    session = start_tui("e2e", env, cache)
    try:
        screen = _wait_for(session, lambda s: "10 shown / 10 total" in s)
        assert "acme/models:main" in screen and "MNIST" in screen
        search(session, "squeeze")
        screen = _screen(session)
        assert "SqueezeNet" in screen and "ResNet50" not in screen.split("tags")[1].split("\n\n")[0]
        _tmux("send-keys", "-t", session, "Enter")
        time.sleep(0.2)
        _tmux("send-keys", "-t", session, "d")
        entry = hub_tree.entry("SqueezeNet")
        target = cache.joinpath(*entry["model_path"].split("/")[:-1]) / (
            entry["metadata"]["model_sha"] + "_" + entry["model_path"].rsplit("/", 1)[1])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not target.is_file():
            time.sleep(0.1)
        assert target.is_file(), _screen(session)
        assert target.read_bytes() == hub_tree.files[entry["model_path"]]
        _wait_for(session, lambda s: "1 cached" in s and "✓" in s)
        _tmux("send-keys", "-t", session, "2")
        _wait_for(session, lambda s: "1 done" in s and "SqueezeNet / 9" in s)
        _tmux("send-keys", "-t", session, "q")
        screen = _wait_for(session, lambda s: "EXITED=" in s)
        assert "EXITED=0" in screen and "Traceback" not in screen
    finally:
        _tmux("kill-session", "-t", session)
