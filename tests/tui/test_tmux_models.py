"""The models screen's fixes in a real terminal (tmux, 80x24, the installed `onnxhub-tui` on the loopback
hub): the header's queue count is whole, a search mistake is said with a did-you-mean and the footer keeps
keys while typing, ctrl+c says how to quit without raw markup, `?` opens on the search language."""

from __future__ import annotations

import time


from tests.conftest import subprocess_env
from tests.support.hubserver import Fault
from tests.tui.test_tmux_e2e import _screen, _tmux, _wait_for, pytestmark, start_tui  # noqa: F401


def footer_of(screen: str) -> str:
    lines = screen.rstrip("\n").splitlines()
    return lines[-1] if lines else ""


def test_models_screen_fixes_in_a_real_terminal(server, hub_tree, tmp_path):
    server.add_fault("resnet50-9.onnx", Fault("trickle", times=-1, chunk=512, seconds=0.5))  # stays running
    cache = tmp_path / "cache"
    env = subprocess_env(server, cache, TERM="xterm-256color", COLORTERM="")
    session = start_tui("models", env, cache)
    try:
        _wait_for(session, lambda s: "10 shown / 10 total" in s)
        time.sleep(0.5)
        _tmux("send-keys", "-t", session, "/")
        _wait_for(session, lambda s: "Table" in footer_of(s))  # the box has the focus
        _tmux("send-keys", "-t", session, "-l", "resnet")
        _wait_for(session, lambda s: "1 shown / 10 total" in s)
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, lambda s: "Sort" in footer_of(s))  # back in the table
        _tmux("send-keys", "-t", session, "d")
        screen = _wait_for(session, lambda s: "↓ 1 in queue" in s.splitlines()[0])
        assert screen.splitlines()[0].rstrip().endswith("↓ 1 in queue"), screen  # whole, not cut
        _tmux("send-keys", "-t", session, "/")
        _wait_for(session, lambda s: "Table" in footer_of(s))
        _tmux("send-keys", "-t", session, "End", *["BSpace"] * 8)
        _wait_for(session, lambda s: "10 shown / 10 total" in s)
        _tmux("send-keys", "-t", session, "-l", "tags:vision")
        screen = _wait_for(session, lambda s: "did you mean tag:" in s)
        assert "Table" in footer_of(screen), screen  # the footer is not empty while typing
        _tmux("send-keys", "-t", session, "Escape")
        _wait_for(session, lambda s: "Sort" in footer_of(s))
        _tmux("send-keys", "-t", session, "C-c")
        screen = _wait_for(session, lambda s: "to quit" in s)
        assert "[b]" not in screen and "Press q (or ctrl+q) to quit." in screen, screen
        _tmux("send-keys", "-t", session, "?")
        screen = _wait_for(session, lambda s: "Search (/ then type" in s)
        assert "conv -transpose" in screen
        _tmux("send-keys", "-t", session, "Escape")
        _wait_for(session, lambda s: "Search (/ then type" not in s)
        _tmux("send-keys", "-t", session, "q")  # a download runs: asks first
        _wait_for(session, lambda s: "Quit?" in s)
        _tmux("send-keys", "-t", session, "y")
        screen = _wait_for(session, lambda s: "EXITED=" in s)
        assert "EXITED=0" in screen and "Traceback" not in screen
    finally:
        _tmux("kill-session", "-t", session)


def test_a_search_typed_in_one_burst_keeps_every_key(server, hub_tree, tmp_path):
    """"/" and what follows it arrive in one read (a fast typist, or SSH sending them in one packet): the
    search gets them all; a "/" typed in the box is text."""
    cache = tmp_path / "cache"
    session = start_tui("burst", subprocess_env(server, cache, TERM="xterm-256color", COLORTERM=""), cache)
    try:
        _wait_for(session, lambda s: "10 shown / 10 total" in s)
        _tmux("send-keys", "-t", session, "-l", "/resnet")  # one write to the pane: one read for the app
        screen = _wait_for(session, lambda s: "1 shown / 10 total" in s)
        assert " / resnet" in screen.splitlines()[1], screen
        _tmux("send-keys", "-t", session, "-l", "/x")
        screen = _wait_for(session, lambda s: "0 shown / 10 total" in s)
        assert " / resnet/x" in screen.splitlines()[1], screen
    finally:
        _tmux("kill-session", "-t", session)
