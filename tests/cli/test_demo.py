"""The embedded demo hub: built once from onnx's own models, served on 127.0.0.1, usable with no network.

"No network" is proven, not assumed: the CLI runs under an audit hook (``sys.addaudithook``) that logs
every ``socket.connect`` and ``socket.getaddrinfo`` and refuses any host that is not loopback, and with
HTTP(S)_PROXY/ALL_PROXY pointing at an unresolvable proxy and NO_PROXY unset, so a request that
left the machine, or went through a proxy, would fail the command. (ONNXHUB_OFFLINE cannot be the
test: the demo itself is served over HTTP on loopback.)
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import httpx
import pytest

from onnxhub_tui import demo
from onnxhub_tui.core.build import check_manifest
from tests.support.demo_guard import demo_folder, env, guarded, net_log  # noqa: F401 - fixtures

def test_the_demo_hub_is_real_and_built_once(demo_folder):
    entries = json.loads((demo_folder / "ONNX_HUB_MANIFEST.json").read_text())
    names = {e["model"] for e in entries}
    assert {"resnet50", "squeezenet", "densenet121", "inception_v1", "Conv2d", "Softmax"} <= names
    operators = [e for e in entries if "/operators/" in e["model_path"]]
    assert operators and all(e["metadata"].get("model_with_data_path") for e in operators)
    assert all("demo" not in e["metadata"]["tags"] for e in entries)
    resnet = next(e for e in entries if e["model"] == "resnet50")
    assert resnet["metadata"]["tags"] == ["vision", "classification", "resnet50"]
    assert resnet["metadata"]["io_ports"]["inputs"][0]["shape"] == [1, 3, 224, 224]
    assert check_manifest(demo_folder / "ONNX_HUB_MANIFEST.json", demo_folder).ok
    stamp = (demo_folder / demo.STAMP).stat().st_mtime_ns
    assert demo.ensure_demo_hub(demo_folder) == demo_folder
    assert (demo_folder / demo.STAMP).stat().st_mtime_ns == stamp  # not rebuilt


def test_the_demo_is_rebuilt_when_onnx_changes(demo_folder, tmp_path):
    copy = tmp_path / "demo-hub"
    shutil.copytree(demo_folder, copy)
    (copy / demo.STAMP).write_text(json.dumps({"onnx": "0.0.0", "format": demo.DEMO_FORMAT}))
    (copy / "leftover.onnx").write_bytes(b"from an older demo")
    said: list[str] = []
    assert demo.ensure_demo_hub(copy, say=said.append) == copy
    assert said and demo.is_current(copy) and not (copy / "leftover.onnx").exists()
    assert not list(tmp_path.glob("demo-hub.*"))  # no temporary folders left behind


def test_the_demo_server_honours_ranges_and_hides_what_it_should(demo_folder):
    target = "demo/vision/classification/squeezenet/squeezenet.onnx"
    data = (demo_folder / target).read_bytes()
    with demo.DemoServer(demo_folder) as server, httpx.Client(base_url=server.url, trust_env=False) as client:
        assert server.url.startswith("http://127.0.0.1:")
        full = client.get(target)
        assert full.status_code == 200 and full.content == data
        part = client.get(target, headers={"Range": "bytes=100-"})
        assert part.status_code == 206 and part.content == data[100:]
        assert part.headers["content-range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
        assert client.get(target, headers={"Range": "bytes=-10"}).content == data[-10:]
        assert client.get(target, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
        assert client.get(target, headers={"If-None-Match": full.headers["etag"]}).status_code == 304
        assert client.head(target).headers["content-length"] == str(len(data))
        assert client.get(demo.STAMP).status_code == 404
        assert client.get("demo/../../etc/passwd").status_code == 404


def test_demo_list_and_download_with_networking_disabled(env, demo_folder, cache_dir):
    listed = guarded(["--demo", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert doc["repo"] == "onnxhub-demo" and doc["trusted"] is True
    assert doc["count"] == len(json.loads((demo_folder / "ONNX_HUB_MANIFEST.json").read_text()))

    got = guarded(["download", "--demo", "resnet50", "densenet121", "Conv2d"], env)  # trusted: no --yes
    assert got.returncode == 0, got.stderr
    paths = [Path(p) for p in got.stdout.splitlines()]
    assert len(paths) == 3
    root = Path(env["ONNX_HOME"]) / "hub"
    for path, rel in zip(paths, ["demo/vision/classification/resnet50/resnet50.onnx",
                                 "demo/vision/classification/densenet121/densenet121.onnx",
                                 "demo/operators/conv/Conv2d.onnx"]):
        assert path.is_relative_to(root) and path.read_bytes() == (demo_folder / rel).read_bytes()
        assert path.name.startswith(hashlib.sha256(path.read_bytes()).hexdigest() + "_")
    data = guarded(["--demo", "download", "Conv2d", "--with-data"], env)
    assert data.returncode == 0, data.stderr
    assert (Path(data.stdout.strip()) / "test_data_set_0" / "input_0.pb").is_file()  # the folder with the test data

    log = net_log(env)
    assert any(line.startswith("connect 127.0.0.1") for line in log)  # the real HTTP path ran
    assert all(line.split()[1] in ("127.0.0.1", "localhost") for line in log), log


def test_the_network_guard_really_blocks(env):
    """The guard is not vacuous: the default hub (GitHub) cannot be reached under it."""
    result = guarded(["list"], env)
    assert result.returncode == 1
    assert any(not line.endswith(("127.0.0.1", "localhost")) for line in net_log(env))


def test_demo_files_are_removable_as_one_group(env):
    assert guarded(["--demo", "download", "squeezenet", "Softmax"], env).returncode == 0
    removed = guarded(["cache", "rm", "demo", "--yes"], env)
    assert removed.returncode == 0, removed.stderr
    assert "Deleted 2 item(s)" in removed.stderr
    assert not (Path(env["ONNX_HOME"]) / "hub" / "demo").exists()


def test_the_bare_demo_wants_a_terminal(env):
    result = guarded(["--demo"], env)
    assert result.returncode == 1 and "terminal" in result.stderr
