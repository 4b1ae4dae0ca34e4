"""Issue 2's "Done when", one test each: hub.load over a loopback GitHub-style hub, a killed download
resumed by the next hub.load, tampered bytes rejected with nothing left, a hostile model_path writing
nothing anywhere, and a 512 MB download in under 150 MB resident."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import onnx
import pytest

from onnxhub_tui import hub
from onnxhub_tui.core.errors import HashMismatchError, ModelNotFoundError
from onnxhub_tui.core.layout import part_owner_alive
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault
from tests.support.hubtree import tiny_model
from tests.support.reliability import MB, OutsideGuard, cache_files, download_command, part_files, sha256

REPO = "acme/models:main"


def test_load_returns_a_model_proto_at_onnx_hub_path(server, hub_tree, cache_dir):
    assert os.environ["ONNXHUB_GITHUB_RAW_URL"].startswith("http://127.0.0.1:")
    model = hub.load("squeezenet", repo=REPO, silent=True)
    assert isinstance(model, onnx.ModelProto)
    entry = hub_tree.entry("SqueezeNet")
    path = cache_dir / "validated/vision/classification/squeezenet/model" / (
        entry["metadata"]["model_sha"] + "_squeezenet-9.onnx")  # <dirs of model_path>/<sha>_<file name>
    assert path.is_file() and sha256(path) == entry["metadata"]["model_sha"]
    assert model.SerializeToString() == path.read_bytes()


@pytest.fixture
def big_model(hub_tree):
    """A real ONNX model of ~2.5 MB (an 800x800 float initializer), so a download can be killed mid-way."""
    data = tiny_model(13, width=800, name="bignet", seed=1).SerializeToString()
    path = "validated/vision/classification/bignet/model/bignet-13.onnx"
    (hub_tree.repo_dir / path).parent.mkdir(parents=True)
    (hub_tree.repo_dir / path).write_bytes(data)
    hub_tree.manifest.append({"model": "BigNet", "model_path": path, "onnx_version": "1.20", "opset_version": 13,
                              "metadata": {"model_sha": hashlib.sha256(data).hexdigest(), "model_bytes": len(data),
                                           "tags": ["vision"]}})
    hub_tree.write_manifest(hub_tree.manifest)
    return path, data


def test_a_load_killed_half_way_resumes_from_its_offset(server, big_model, cache_dir):
    path, data = big_model
    server.add_fault(path, Fault("trickle", chunk=16 * 1024, seconds=0.004))
    code = f"from onnxhub_tui import hub; hub.set_dir({str(cache_dir)!r}); hub.load('BigNet', {REPO!r}, silent=True)"
    proc = subprocess.Popen([sys.executable, "-c", code], env=subprocess_env(server, cache_dir))
    deadline = time.monotonic() + 30
    while not any(p.stat().st_size >= len(data) // 3 for p in part_files(cache_dir)):
        assert time.monotonic() < deadline and proc.poll() is None, "the download never got going"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [part] = part_files(cache_dir)
    while part_owner_alive(part):  # hub.load's download helper (onnxhub_tui/prefetch.py) dies with it
        time.sleep(0.01)
    offset = part.stat().st_size
    assert 0 < offset < len(data) and part.read_bytes() == data[:offset]

    model = hub.load("BigNet", REPO, silent=True)  # the next call
    assert isinstance(model, onnx.ModelProto) and model.SerializeToString() == data
    assert server.range_starts(path) == [None, offset]
    assert part_files(cache_dir) == []


def test_tampered_bytes_are_rejected_and_leave_nothing(server, cache_dir, tmp_path):
    server.add_fault("mnist-12.onnx", Fault("wrong_bytes", times=-1))
    with OutsideGuard(tmp_path, cache_dir) as guard, pytest.raises(HashMismatchError, match="expected"):
        hub.load("MNIST", REPO, silent=True)
    assert cache_files(cache_dir) == []
    assert guard.changes() == []


def test_a_hostile_model_path_writes_nothing_anywhere(server, hub_tree, cache_dir, tmp_path):
    evil = {"model": "Evil", "model_path": "../../../../tmp/onnxhub-evil.onnx", "opset_version": 1,
            "metadata": {"model_sha": "0" * 64, "model_bytes": 1}}
    hub_tree.write_manifest(hub_tree.manifest + [evil])
    with OutsideGuard(tmp_path, cache_dir) as guard, pytest.raises(ModelNotFoundError, match="'..'"):
        hub.load("Evil", REPO, silent=True)
    assert guard.changes() == [] and cache_files(cache_dir) == []
    assert not os.path.exists("/tmp/onnxhub-evil.onnx")


# -- memory ------------------------------------------------------------------------------------------

_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"  # KiB on Linux; only child: the download
    "print(done.returncode, peak)\n"
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_downloading_512_mb_stays_under_150_mb_resident(server, hub_tree, tmp_path, record_property):
    size = 512 * MB
    path = "big/huge.onnx"
    file = hub_tree.repo_dir / path
    file.parent.mkdir(parents=True)
    digest = hashlib.sha256()
    block = bytearray(os.urandom(MB))
    with open(file, "wb") as f:  # 512 distinct MiB blocks, without holding them
        for i in range(size // MB):
            block[:8] = i.to_bytes(8, "little")
            f.write(block)
            digest.update(block)
    sha = digest.hexdigest()
    hub_tree.write_manifest(hub_tree.manifest + [{"model": "Huge", "model_path": path, "opset_version": 13,
                                                  "metadata": {"model_sha": sha, "model_bytes": size}}])
    cache = tmp_path / "cache"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *download_command(REPO, cache, "Huge")],
                          env=subprocess_env(server, cache), capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    code, peak_kib = map(int, done.stdout.split())
    peak_mb = peak_kib / 1024
    record_property("download_512mb_peak_rss_mb", round(peak_mb, 1))
    record_property("download_512mb_seconds", round(elapsed, 1))
    print(json.dumps({"peak_rss_mb": round(peak_mb, 1), "seconds": round(elapsed, 1)}))
    assert code == 0, done.stderr
    target = cache / "big" / f"{sha}_huge.onnx"
    assert target.stat().st_size == size
    assert server.bytes_for(path) == size
    assert peak_mb < 150, f"peak resident memory {peak_mb:.0f} MB while downloading 512 MB"
    file.unlink()  # give the disk back early


def test_load_says_nothing_on_stdout_and_logs_what_it_does(server, cache_dir, capfd, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="onnxhub_tui")
    hub.load("MNIST", REPO, opset=7, silent=True)
    hub.load("MNIST", REPO, opset=7, silent=True)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no TTY here: no bar either
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Downloading MNIST") for m in messages)
    assert any(m.startswith("Using cached MNIST") for m in messages)
