"""``info`` reads a model's header remotely when the manifest lacks its ports (issue 13's done-when, at the
CLI): the right inputs and outputs with types, under 2% of a 64 MB / 16-initializer model sent by a
counting loopback server, nothing in the cache under the model's name, a second look free and offline,
``--json`` naming each field's origin; ``--no-remote`` and ``--remote`` switch it off and on."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from tests.cli.conftest import run
from tests.conftest import subprocess_env
from tests.support import onnxmodels
from tests.support.hubserver import start_server

MB = 1024 * 1024
REPO = "acme/models:main"
BIG = "weights/big.onnx"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """acme/models at main: ``Big`` (64 MB, 16 initializers) with no io_ports, ``Listed`` with full ones."""
    root = tmp_path_factory.mktemp("header-hub")
    repo = root / "acme" / "models" / "main"
    (repo / "weights").mkdir(parents=True)
    data = onnxmodels.weights_model(16, 4 * MB).SerializeToString()
    (repo / BIG).write_bytes(data)
    small = onnxmodels.weights_model(2, 1024).SerializeToString()
    (repo / "weights" / "small.onnx").write_bytes(small)
    ports = {"inputs": [{"name": "x", "shape": ["batch", 256], "type": "tensor(float)"}],
             "outputs": [{"name": "y", "shape": ["batch", 256], "type": "tensor(float)"}]}
    manifest = [
        {"model": "Big", "model_path": BIG, "opset_version": 17,
         "metadata": {"model_sha": hashlib.sha256(data).hexdigest(), "model_bytes": len(data), "tags": ["weights"]}},
        {"model": "Listed", "model_path": "weights/small.onnx", "opset_version": 17,
         "metadata": {"model_sha": hashlib.sha256(small).hexdigest(), "model_bytes": len(small), "io_ports": ports}},
    ]
    (repo / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(manifest))
    return root, len(data)


@pytest.fixture
def hub(tree, tmp_path):
    root, size = tree
    running = start_server(root)
    yield running, subprocess_env(running, tmp_path / "cache", COLUMNS="100"), size
    running.stop()


def info(env: dict[str, str], *args: str) -> dict:
    result = run(["info", *args, "--repo", REPO, "--json"], env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)["model"]


def sent(server, path: str, at_least: int) -> int:
    deadline = time.monotonic() + 2  # the server thread counts a piece just after the client has it
    while server.bytes_for(path) < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.bytes_for(path)


def cache_files(env: dict[str, str]) -> list[str]:
    root = Path(env["ONNX_HOME"]) / "hub"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_info_reads_missing_ports_remotely_for_under_2_percent_and_keeps_them_by_sha(hub):
    server, env, size = hub
    model = info(env, "big")
    ports = model["io_ports"]
    assert ports == {"inputs": [{"name": "x", "shape": ["batch", MB], "type": "tensor(float)"}],
                     "outputs": [{"name": "y", "shape": ["batch", MB], "type": "tensor(float)"}]}
    assert model["origins"] == {"inputs": "remote", "outputs": "remote", "header": "remote"}
    header = model["header"]
    assert (header["initializer_count"], header["initializer_bytes"], header["node_count"]) == (16, 16 * 4 * MB, 16)
    assert header["opset_imports"] == {"ai.onnx": 17} and header["kept"] is False and model["header_error"] is None
    assert size > 64 * MB and sent(server, BIG, header["bytes_read"]) < 0.02 * size
    # nothing under the model's name: only the manifest's copy and the result kept by SHA-256
    sha = model["sha256"]
    files = cache_files(env)
    assert f".onnxhub-tui/inspect/{sha}.json" in files
    assert not [f for f in files if "big.onnx" in f], files
    assert model["cached"] is None

    hits = len(server.hits_for(BIG))
    again = info(env, "Big", "--offline")  # free, and no network needed
    assert again["io_ports"] == ports and again["origins"]["inputs"] == "remote" and again["header"]["kept"] is True
    assert len(server.hits_for(BIG)) == hits


def test_text_info_shows_where_the_ports_came_from(hub):
    server, env, _size = hub
    result = run(["info", "Big", "--repo", REPO], env)
    assert result.returncode == 0, result.stderr
    assert "read remotely: " in result.stdout and "initializers  16 (67.1 MB)" in result.stdout
    assert "  x  tensor(float)  [batch, 1048576]" in result.stdout
    assert "  y  tensor(float)  [batch, 1048576]" in result.stdout
    assert "not listed in the manifest" not in result.stdout
    again = run(["info", "Big", "--repo", REPO, "--offline"], env)
    assert "kept from a remote read" in again.stdout and "  y  tensor(float)" in again.stdout


def test_no_remote_turns_it_off_and_remote_forces_it(hub):
    server, env, _size = hub
    off = info(env, "Big", "--no-remote")
    assert off["io_ports"] is None and off["header"] is None
    assert off["origins"] == {"inputs": None, "outputs": None, "header": None}
    listed = info(env, "Listed")  # the manifest has its ports: nothing is read
    assert listed["origins"] == {"inputs": "manifest", "outputs": "manifest", "header": None}
    assert not server.hits_for(".onnx")
    forced = info(env, "Listed", "--remote")
    assert forced["origins"] == {"inputs": "remote", "outputs": "remote", "header": "remote"}
    assert forced["io_ports"]["inputs"] == [{"name": "x", "shape": ["batch", 256], "type": "tensor(float)"}]
    both = run(["info", "Big", "--repo", REPO, "--remote", "--no-remote"], env)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_a_cached_copy_is_read_from_disk(hub):
    server, env, _size = hub
    done = run(["download", "Big", "--repo", REPO, "--yes"], env)
    assert done.returncode == 0, done.stderr
    hits = len(server.hits_for(BIG))
    model = info(env, "Big", "--offline")
    assert model["origins"] == {"inputs": "file", "outputs": "file", "header": "file"}
    assert model["io_ports"]["outputs"][0]["type"] == "tensor(float)"
    assert info(env, "Big", "--no-remote")["origins"]["header"] == "file"  # no network, the disk is fine
    assert len(server.hits_for(BIG)) == hits


def test_a_failed_automatic_read_is_said_and_info_goes_on(hub):
    server, env, _size = hub
    from tests.support.hubserver import Fault

    server.add_fault("big.onnx", Fault("status", status=404, times=-1))
    result = run(["info", "Big", "--repo", REPO, "--json"], env)
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)["model"]
    assert model["header"] is None and model["header_error"].startswith("Cannot inspect remotely")
    text = run(["info", "Big", "--repo", REPO], env)
    assert text.returncode == 0 and "warning: Cannot inspect remotely" in text.stderr
    assert "not listed in the manifest" in text.stdout
    forced = run(["info", "Big", "--repo", REPO, "--remote"], env)
    assert forced.returncode == 1 and "Cannot inspect remotely" in forced.stderr and "Traceback" not in forced.stderr
