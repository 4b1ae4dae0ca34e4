"""Issue 10 items 14 and 15 in a real terminal (tmux): a signal or a quit during a slow start leaves the
terminal as ``q`` does (alternate screen left, mouse tracking off, cursor shown) and at once; a running
download's bytes stay as a resumable ``.part``."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from onnxhub_tui.core import cache as core_cache
from tests.conftest import REPO, subprocess_env
from tests.support.hubserver import Fault
from tests.tui.test_tmux_e2e import _entry_point, _screen, _tmux, _wait_for, pytestmark, search  # noqa: F401


def _start(tmp_path: Path, env: dict[str, str], args: str) -> tuple[str, Path]:
    """The TUI in a detached 80x24 tmux session; the shell then prints ``EXITED=<code>`` and waits.
    The program's pid lands in a file (the wrapper ``exec``s it), so the test signals that process alone."""
    session = f"onnxhub-sig-{uuid.uuid4().hex[:8]}"
    pid_file = tmp_path / "tui.pid"
    exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k not in ("TMUX", "TMUX_PANE"))
    program = " ".join(shlex.quote(p) for p in _entry_point())
    wrapper = tmp_path / "run-tui.sh"
    wrapper.write_text(f"#!/bin/sh\necho $$ > {shlex.quote(str(pid_file))}\nexec env -i {exported} {program} {args}\n")
    wrapper.chmod(0o755)
    command = f"{shlex.quote(str(wrapper))}; echo EXITED=$?; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True)
    return session, pid_file


def _start_resnet_download(session: str, hub_tree, cache: Path) -> Path:  # noqa: ANN001 - a HubTree
    """Find ResNet50, press ``d``, and wait until its ``.part`` holds bytes; the model's final path."""
    search(session, "resnet50")
    _tmux("send-keys", "-t", session, "Enter")
    time.sleep(0.2)
    _tmux("send-keys", "-t", session, "d")
    entry = hub_tree.entry("ResNet50")
    target = core_cache.cached_path(cache, entry["model_path"], entry["metadata"]["model_sha"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(p.stat().st_size for p in core_cache.part_files(target)):
        time.sleep(0.1)
    return target


def _terminal_state(session: str) -> str:
    return _tmux("display-message", "-p", "-t", session, "#{alternate_on} #{mouse_any_flag} #{cursor_flag}").strip()


def _pid(pid_file: Path) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = pid_file.read_text().strip() if pid_file.exists() else ""
        if text:
            return int(text)
        time.sleep(0.05)
    raise AssertionError("the TUI never started")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_restores_the_terminal_and_keeps_the_part_file(signum, server, hub_tree, tmp_path):
    server.add_fault("resnet50-9.onnx", Fault("trickle", chunk=512, seconds=0.1))  # minutes in all
    cache = tmp_path / "cache"
    env = subprocess_env(server, cache, TERM="xterm-256color", COLORTERM="")
    session, pid_file = _start(tmp_path, env, f"--repo {REPO} --cache-dir {shlex.quote(str(cache))} --trust")
    try:
        _wait_for(session, lambda s: "10 shown / 10 total" in s)
        assert _terminal_state(session).split()[:2] == ["1", "1"]  # the app's own state: alt screen, mouse
        target = _start_resnet_download(session, hub_tree, cache)
        assert core_cache.part_files(target), _screen(session)
        started = time.monotonic()
        os.kill(_pid(pid_file), signum)
        screen = _wait_for(session, lambda s: "EXITED=" in s, timeout=10)
        assert time.monotonic() - started < 5, "the exit waited for the transfer"
        assert "Traceback" not in screen
        assert f"EXITED={128 + signum}" in screen, screen
        assert _terminal_state(session) == "0 0 1"  # alt screen left, mouse off, cursor shown
        parts = core_cache.part_files(target)
        assert parts and parts[0].stat().st_size > 0 and not target.exists()  # resumable, not "cached"
    finally:
        _tmux("kill-session", "-t", session)


def test_quit_while_the_manifest_loads_slowly_exits_at_once(server, tmp_path):
    gate = threading.Event()
    server.add_fault("ONNX_HUB_MANIFEST.json", Fault("hold", gate=gate, times=-1))
    cache = tmp_path / "cache"
    env = subprocess_env(server, cache, TERM="xterm-256color", COLORTERM="", ONNXHUB_READ_TIMEOUT="30")
    session, _pid_file = _start(tmp_path, env, f"--repo {REPO} --cache-dir {shlex.quote(str(cache))} --trust")
    try:
        _wait_for(session, lambda s: "acme/models:main" in s)
        time.sleep(1.0)  # the manifest request is on the wire and held
        started = time.monotonic()
        _tmux("send-keys", "-t", session, "q")
        screen = _wait_for(session, lambda s: "EXITED=" in s, timeout=15)
        elapsed = time.monotonic() - started
        assert "EXITED=0" in screen and "Traceback" not in screen
        assert elapsed < 3, f"quit took {elapsed:.1f} s"
        assert _terminal_state(session) == "0 0 1"
    finally:
        gate.set()
        _tmux("kill-session", "-t", session)


def test_sigterm_with_a_download_stalled_on_a_silent_server_exits_at_once(server, hub_tree, tmp_path):
    server.add_fault("resnet50-9.onnx", Fault("stall", after_bytes=8192, seconds=60, times=-1))
    cache = tmp_path / "cache"
    env = subprocess_env(server, cache, TERM="xterm-256color", COLORTERM="", ONNXHUB_READ_TIMEOUT="30")
    session, pid_file = _start(tmp_path, env, f"--repo {REPO} --cache-dir {shlex.quote(str(cache))} --trust")
    try:
        _wait_for(session, lambda s: "10 shown / 10 total" in s)
        target = _start_resnet_download(session, hub_tree, cache)
        time.sleep(0.5)  # the read is blocked now: the server sends nothing more for a minute
        started = time.monotonic()
        os.kill(_pid(pid_file), signal.SIGTERM)
        screen = _wait_for(session, lambda s: "EXITED=" in s, timeout=20)
        assert time.monotonic() - started < 5, "the exit waited for the stalled read"
        assert "EXITED=143" in screen and "Traceback" not in screen, screen
        assert _terminal_state(session) == "0 0 1"
        parts = core_cache.part_files(target)
        assert parts and parts[0].stat().st_size > 0 and not target.exists()
    finally:
        _tmux("kill-session", "-t", session)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return state not in ("Z", "X")


@pytest.mark.parametrize("signal_first", [False, True])
def test_the_process_ends_when_its_terminal_goes_away(signal_first, server, hub_tree, tmp_path):
    """A dropped SSH or a closed tmux pane: the terminal is gone, maybe in the middle of a SIGTERM exit.
    Textual's shutdown then could wait forever (its input thread spinning on end-of-file, or its writer
    thread's queue); the process must still end (it spun at one core's worth of CPU, forever, before)."""
    server.add_fault("resnet50-9.onnx", Fault("stall", after_bytes=8192, seconds=60, times=-1))
    cache = tmp_path / "cache"
    env = subprocess_env(server, cache, TERM="xterm-256color", COLORTERM="", ONNXHUB_READ_TIMEOUT="30")
    session, pid_file = _start(tmp_path, env, f"--repo {REPO} --cache-dir {shlex.quote(str(cache))} --trust")
    try:
        _wait_for(session, lambda s: "10 shown / 10 total" in s)
        pid = _pid(pid_file)
        if signal_first:
            os.kill(pid, signal.SIGTERM)
    finally:
        _tmux("kill-session", "-t", session)
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    still = _alive(pid)
    if still:
        os.kill(pid, signal.SIGKILL)
    assert not still, "the TUI outlived its terminal"
