"""The CLI on a real terminal (tmux): it asks before trusting a repo or deleting, and draws progress bars."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

BIN = Path(sys.executable).with_name("onnxhub-tui")
REPO = "acme/models:main"


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.name = f"onnxhub-cli-{uuid.uuid4().hex[:8]}"
        exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k != "TMUX")
        command = f"env -i {exported} TERM=xterm-256color {shlex.join([str(BIN), *argv])}; echo EXITED=$?; sleep 30"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "160", "-y", "30", command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-t", self.name, "-p", "-J"], capture_output=True,
                              text=True, timeout=10).stdout

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def type(self, keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", keys], check=True)
        subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal():
    opened: list[Terminal] = []

    def open_(argv: list[str], env: dict[str, str]) -> Terminal:
        opened.append(Terminal(argv, env))
        return opened[-1]

    yield open_
    for t in opened:
        t.close()


def test_download_asks_before_trusting_and_draws_bars(server, cache_dir, terminal, hub_tree):
    env = subprocess_env(server, cache_dir)
    root = Path(env["ONNX_HOME"]) / "hub"
    refused = terminal(["download", "MNIST", "--repo", REPO], env)
    refused.wait_for("Download from it? [y/N]")
    refused.type("n")
    screen = refused.wait_for("EXITED=")
    assert "EXITED=1" in screen and "Not downloading from acme/models:main" in screen
    assert not root.joinpath("validated").exists()

    accepted = terminal(["download", "MNIST", "ResNet50", "--repo", REPO], env)
    accepted.wait_for("Download from it? [y/N]")
    accepted.type("y")
    screen = accepted.wait_for("EXITED=")
    assert "EXITED=0" in screen
    assert "MNIST (opset 12)" in screen and "ResNet50 (opset 9)" in screen and "━" in screen  # rich bars
    sha = hub_tree.entry("ResNet50")["metadata"]["model_sha"]
    lines = screen.splitlines()
    paths = [line for line in lines if line.startswith("/")]  # whole lines, after the bars
    assert len(paths) == 2 and paths[1].endswith(f"/{sha}_resnet50-9.onnx") and Path(paths[1]).is_file()
    assert lines.index(paths[0]) > max(i for i, line in enumerate(lines) if "━" in line)


def test_paths_go_to_stdout_even_when_bars_are_drawn(server, cache_dir, terminal, tmp_path):
    """`model=$(onnxhub-tui download X)` on a terminal: stderr is a TTY (bars), stdout is captured."""
    env = subprocess_env(server, cache_dir)
    out = tmp_path / "stdout.txt"
    t = Terminal.__new__(Terminal)
    t.name = f"onnxhub-cli-{uuid.uuid4().hex[:8]}"
    exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k != "TMUX")
    command = (f"env -i {exported} TERM=xterm-256color {BIN} download ResNet50 TinyNet --repo {REPO} --yes "
               f"> {out}; echo EXITED=$?; sleep 30")
    subprocess.run(["tmux", "new-session", "-d", "-s", t.name, "-x", "160", "-y", "30", command], check=True)
    try:
        screen = t.wait_for("EXITED=")
    finally:
        t.close()
    assert "EXITED=0" in screen and "━" in screen
    paths = out.read_text().splitlines()
    assert len(paths) == 2 and all(Path(p).is_file() for p in paths)


def test_cache_rm_asks_and_no_keeps_everything(server, cache_dir, terminal):
    env = subprocess_env(server, cache_dir)
    got = subprocess.run([str(BIN), "download", "TinyNet", "--repo", REPO, "--yes"], env=env,
                         capture_output=True, text=True, timeout=60)
    path = Path(got.stdout.strip())
    assert path.is_file()
    t = terminal(["cache", "rm", "TinyNet", "--repo", REPO], env)
    t.wait_for("Delete these? [y/N]")
    t.type("n")
    screen = t.wait_for("EXITED=")
    assert "EXITED=1" in screen and "Nothing deleted." in screen and path.is_file()
    t = terminal(["cache", "rm", "TinyNet", "--repo", REPO], env)
    t.wait_for("Delete these? [y/N]")
    t.type("y")
    assert "EXITED=0" in t.wait_for("EXITED=") and not path.exists()
