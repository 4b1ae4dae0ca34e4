"""Secrets: a token set in the environment never appears in any error, log line, or ``--debug`` output."""

from __future__ import annotations

import logging
import subprocess
import sys
import traceback

import pytest

from onnxhub_tui import hub as hubapi
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import HubError
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault
from tests.support.reliability import cli_command, cli_has

GH = "ghp_TOPSECRETgithub0123456789abcdef"
HF = "hf_TOPSECREThugging0123456789abcdef"
REPO = "acme/models:main"
MNIST8 = "mnist-8.onnx"
MANIFEST = "ONNX_HUB_MANIFEST.json"

FAULTS = {
    "manifest 404": ("acme/nothing:main", None, None),
    "manifest html": (REPO, MANIFEST, Fault("html", times=-1)),
    "manifest 503": (REPO, MANIFEST, Fault("status", times=-1, status=503)),
    "manifest reset": (REPO, MANIFEST, Fault("close", times=-1)),
    "model 403": (REPO, MNIST8, Fault("status", times=-1, status=403)),
    "model wrong bytes": (REPO, MNIST8, Fault("wrong_bytes", times=-1)),
    "model lfs pointer": (REPO, MNIST8, Fault("lfs_pointer", times=-1)),
    "model redirect loop": (REPO, MNIST8, Fault("redirect_loop", times=-1)),
    "model stall": (REPO, MNIST8, Fault("stall", times=-1, seconds=2)),
}


def _clean(text: str, where: str) -> None:
    assert GH not in text and HF not in text, f"a token leaked into {where}"
    assert "TOPSECRET" not in text, f"part of a token leaked into {where}"


@pytest.fixture
def tokens(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", GH)
    monkeypatch.setenv("HF_TOKEN", HF)
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    monkeypatch.setenv("ONNXHUB_READ_TIMEOUT", "0.3")


@pytest.mark.parametrize("case", sorted(FAULTS))
def test_no_token_in_errors_or_logs(server, cache_dir, tokens, caplog, capsys, case):
    repo, path, fault = FAULTS[case]
    if fault is not None:
        server.add_fault(path, fault)
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    with pytest.raises(HubError) as info:
        hubapi.load("MNIST", repo, opset=8, silent=True)
    error = info.value
    _clean(str(error), "the error message")
    _clean(repr(error), "the error repr")
    _clean("".join(traceback.format_exception(error)), "the traceback")
    _clean(caplog.text, "the log")
    out, err = capsys.readouterr()
    _clean(out + err, "stdout/stderr")
    assert any(h.headers.get("authorization") == f"Bearer {GH}" for h in server.hits)  # it really was in use


def test_no_token_in_objects_a_front_end_might_print(server, cache_dir, tokens):
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
        for text in (repr(hub.source), str(manifest), repr(manifest.entries[:3]), repr(hub.scan_cache())):
            _clean(text, "a repr")


def _run(args, server, cache_dir):
    env = subprocess_env(server, cache_dir, GITHUB_TOKEN=GH, HF_TOKEN=HF, ONNXHUB_RETRIES="2")
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not cli_has("download"), reason="the CLI has no `download` subcommand yet")
@pytest.mark.parametrize("fault", ["model 403", "manifest html", "model wrong bytes", "none"])
def test_no_token_in_cli_debug_output(server, cache_dir, fault):
    if fault != "none":
        _repo, path, f = FAULTS[fault]
        server.add_fault(path, f)
    done = _run(cli_command() + ["--debug", "download", "MNIST", "--opset", "8", "--repo", REPO,
                                 "--cache-dir", str(cache_dir), "--yes"], server, cache_dir)
    assert done.returncode == (0 if fault == "none" else 1), done.stderr
    _clean(done.stdout + done.stderr, f"--debug output ({fault})")
    if fault != "none":
        assert "Traceback" in done.stderr or "Error" in done.stderr  # --debug really said more
    assert any(h.headers.get("authorization") == f"Bearer {GH}" for h in server.hits)


def test_no_token_in_python_debug_logging(server, cache_dir):
    server.add_fault(MNIST8, Fault("status", times=-1, status=500))
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG)\n"
        "from onnxhub_tui import hub\n"
        f"hub.set_dir({str(cache_dir)!r})\n"
        "try:\n"
        f"    hub.load('MNIST', {REPO!r}, opset=8, silent=True)\n"
        "except AssertionError as e:\n"
        "    print('error:', e)\n"
        "    raise\n"
    )
    done = _run([sys.executable, "-c", code], server, cache_dir)
    assert done.returncode == 1
    assert "error: Could not download" in done.stdout
    assert "HTTP Request" in done.stderr or "DEBUG" in done.stderr  # logging was really on
    _clean(done.stdout + done.stderr, "debug logging")
