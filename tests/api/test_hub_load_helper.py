"""A script's first hub.load has a helper process download (or verify the cached copy of) the model while
the script imports onnx (onnxhub_tui/prefetch.py). Each test runs a real script in a fresh interpreter (in pytest's own, onnx is
imported already, so no helper would start) against the loopback hub server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest

from tests.support.hubserver import Fault

HELPER_USED = "came from a helper process"
SCRIPT = """
import hashlib, logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s %(message)s")
{preamble}
from onnxhub_tui import hub
hub.set_dir(sys.argv[1])
model = hub.load("mnist", "acme/models:main", silent={silent})
print(hashlib.sha256(model.SerializeToString()).hexdigest())
print("httpx imported:", "httpx" in sys.modules)
"""


def _script(preamble: str = "", silent: bool = True) -> str:
    return SCRIPT.format(preamble=preamble, silent=silent)


def _run(cache_dir: Path, preamble: str = "", silent: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _script(preamble, silent), str(cache_dir)], capture_output=True,
                          text=True, timeout=120, env=os.environ.copy(), stdin=subprocess.DEVNULL)


def _digest_of_cached(cache_dir: Path) -> str:
    (path,) = cache_dir.rglob("*mnist-12.onnx")
    return hashlib.sha256(onnx.load(str(path)).SerializeToString()).hexdigest()


def _model_gets(server) -> int:
    return len([h for h in server.hits_for("mnist-12.onnx") if h.method == "GET"])


def test_the_first_load_downloads_in_a_helper_and_returns_the_files_model(server, cache_dir):
    out = _run(cache_dir)
    assert out.returncode == 0, out.stderr
    assert HELPER_USED in out.stderr
    assert out.stdout.splitlines() == [_digest_of_cached(cache_dir), "httpx imported: False"]  # the core stayed out
    assert _model_gets(server) == 1


def test_a_cached_model_is_verified_by_the_helper(server, cache_dir):
    assert _run(cache_dir).returncode == 0
    out = _run(cache_dir)  # a second script: the model is cached now
    assert out.returncode == 0, out.stderr
    assert HELPER_USED in out.stderr
    assert out.stdout.splitlines() == [_digest_of_cached(cache_dir), "httpx imported: False"]
    assert _model_gets(server) == 1


def test_a_cached_model_whose_bytes_changed_is_refused_as_in_process(server, cache_dir):
    assert _run(cache_dir).returncode == 0
    (path,) = cache_dir.rglob("*mnist-12.onnx")
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # same size, other bytes: only the hash can tell
    path.write_bytes(bytes(data))
    out = _run(cache_dir)
    assert out.returncode != 0
    assert "has SHA256" in out.stderr and "force_reload" in out.stderr.lower().replace("-", "_"), out.stderr[-800:]
    assert HELPER_USED not in out.stderr


def test_an_untrusted_repo_is_not_downloaded_by_the_helper_before_the_question(server, cache_dir):
    out = _run(cache_dir, silent=False)  # no terminal to ask on: the in-process question refuses
    assert out.returncode != 0
    assert "not trusted" in out.stderr, out.stderr[-800:]
    assert _model_gets(server) == 0


def test_with_onnx_imported_already_there_is_nothing_to_overlap_and_no_helper(server, cache_dir):
    out = _run(cache_dir, preamble="import onnx")
    assert out.returncode == 0, out.stderr
    assert HELPER_USED not in out.stderr
    assert out.stdout.splitlines()[0] == _digest_of_cached(cache_dir)


def test_a_helper_that_fails_leaves_the_download_to_the_caller(server, cache_dir):
    server.add_fault("mnist-12.onnx", Fault("status", status=503))  # the helper's one attempt
    out = _run(cache_dir)
    assert out.returncode == 0, out.stderr
    assert HELPER_USED not in out.stderr
    assert out.stdout.splitlines()[0] == _digest_of_cached(cache_dir)
    assert [h.status for h in server.hits_for("mnist-12.onnx") if h.method == "GET"] == [503, 200]


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in children.read_text().split()] if children.exists() else []


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the helper through Linux's /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_a_caller_that_is_stopped_takes_its_helper_with_it(server, cache_dir, sig):
    server.add_fault("mnist-12.onnx", Fault("trickle", chunk=8, seconds=0.2))  # the 236-byte file in ~6 s
    caller = subprocess.Popen([sys.executable, "-c", _script(), str(cache_dir)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while not (list(cache_dir.rglob("*.part*")) and _children(caller.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        (helper,) = _children(caller.pid)
        time.sleep(0.5)  # the body is arriving
        caller.send_signal(sig)
        caller.wait(30)
        deadline = time.monotonic() + 10
        while _alive(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(helper), "the helper outlived its caller"
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()
    assert not list(cache_dir.rglob("*mnist-12.onnx")), "an unverified model under its final name"
    assert list(cache_dir.rglob("*mnist-12.onnx.part*")), "the part file is kept for a resume"
