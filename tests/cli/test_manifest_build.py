"""`manifest build` / `manifest check`: the core functions on real files, and the CLI round trip
(build a manifest, serve the folder on loopback, download every model from it)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from onnxhub_tui.core.build import (
    build_manifest,
    check_manifest,
    onnx_release_for,
    read_header,
    write_manifest,
)
from onnxhub_tui.core.errors import InspectError
from onnxhub_tui.core.manifest import parse_manifest
from tests.conftest import subprocess_env
from tests.support.hubserver import start_server
from tests.support.hubtree import ONNX_DATA, tiny_model

BIN = Path(sys.executable).with_name("onnxhub-tui")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def expected_ports(model: onnx.ModelProto) -> dict:
    """What onnx itself says, loading everything: the reference for the wire-level reader."""
    def port(vi: onnx.ValueInfoProto) -> dict:
        t = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
        return {"name": vi.name, "shape": dims,
                "type": f"tensor({TensorProto.DataType.Name(t.elem_type).lower()})"}

    inits = {i.name for i in model.graph.initializer}
    return {"inputs": [port(v) for v in model.graph.input if v.name not in inits],
            "outputs": [port(v) for v in model.graph.output]}


@pytest.mark.parametrize("path", sorted((ONNX_DATA / "light").glob("*.onnx"))
                         + [ONNX_DATA / "pytorch-converted" / "test_Conv2d" / "model.onnx"], ids=lambda p: p.parent.name + "/" + p.name)
def test_header_reader_agrees_with_onnx_load(path):
    model = onnx.load(str(path))
    header = read_header(path)
    assert {"inputs": header.inputs, "outputs": header.outputs} == expected_ports(model)
    assert header.ir_version == model.ir_version
    assert header.opset == next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    assert header.producer == model.producer_name


def test_symbolic_and_unknown_dims_and_non_tensor_types(tmp_path):
    seq = helper.make_tensor_sequence_value_info("seq", TensorProto.UINT8, None)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 3, None])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x, seq],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT16, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    onnx.save(model, tmp_path / "m.onnx")
    header = read_header(tmp_path / "m.onnx")
    assert header.inputs == [{"name": "x", "shape": ["batch", 3, None], "type": "tensor(float16)"},
                             {"name": "seq", "shape": None, "type": "seq(tensor(uint8))"}]
    assert header.outputs == [{"name": "y", "shape": None, "type": "tensor(float16)"}]
    assert header.opsets == {"": 17, "ai.onnx.ml": 3} and header.opset == 17


def test_external_data_is_never_opened(tmp_path):
    model = tiny_model(13, width=64)
    onnx.save(model, tmp_path / "big.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="big.weights", size_threshold=0)
    (tmp_path / "big.weights").unlink()  # reading it would now fail
    header = read_header(tmp_path / "big.onnx")
    assert [p["name"] for p in header.inputs] == ["x"] and header.opset == 13


@pytest.mark.parametrize("data", [b"", b"not a model at all", b"\x08\x07"])
def test_not_a_model_is_an_inspect_error(tmp_path, data):
    (tmp_path / "bad.onnx").write_bytes(data)
    with pytest.raises(InspectError, match="Cannot read bad.onnx"):
        read_header(tmp_path / "bad.onnx")


def test_onnx_version_is_the_oldest_release_that_reads_the_model():
    table = helper.VERSION_TABLE
    assert onnx_release_for(3, 9) == next(r[0] for r in table if r[1] >= 3 and r[2] >= 9)
    assert onnx_release_for(7, 13) == "1.8.0"
    assert onnx_release_for(999, 1) is None


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "hub"
    for rel, opset, seed in (("vision/classification/tiny/model/tiny-13.onnx", 13, 1),
                             ("vision/classification/tiny/model/tiny-7.onnx", 7, 2),
                             ("text/Other/other.onnx", 12, 3)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        model = tiny_model(opset, seed=seed)
        onnx.save(model, path)
    (root / "vision/classification/tiny/model/tiny-13.tar.gz").write_bytes(b"an archive next to its model")
    (root / ".git").mkdir()
    onnx.save(tiny_model(13), root / ".git" / "hidden.onnx")
    return root


def test_build_manifest_reads_everything_from_the_files(tmp_path):
    root = _folder(tmp_path)
    seen: list[tuple[int, int | None]] = []
    result = build_manifest(root, progress=lambda done, total: seen.append((done, total)))
    assert result.skipped == []
    paths = [e["model_path"] for e in result.entries]
    assert paths == sorted(paths) == ["text/Other/other.onnx", "vision/classification/tiny/model/tiny-13.onnx",
                                      "vision/classification/tiny/model/tiny-7.onnx"]
    by_name = {e["model"]: e for e in result.entries}
    tiny = by_name["tiny-13"]
    data = (root / tiny["model_path"]).read_bytes()
    assert tiny["metadata"]["model_sha"] == hashlib.sha256(data).hexdigest()
    assert tiny["metadata"]["model_bytes"] == len(data)
    assert tiny["opset_version"] == 13 and by_name["tiny-7"]["opset_version"] == 7
    assert tiny["onnx_version"] == onnx_release_for(7, 13)
    assert tiny["metadata"]["tags"] == ["vision", "classification", "tiny"]  # "model" is not a tag
    assert by_name["other"]["metadata"]["tags"] == ["text", "Other"]  # the folder's spelling (issue 10 item 30)
    assert tiny["metadata"]["io_ports"] == {"inputs": [{"name": "x", "shape": [1, 4], "type": "tensor(float)"}],
                                            "outputs": [{"name": "y", "shape": [1, 4], "type": "tensor(float)"}]}
    archive = root / "vision/classification/tiny/model/tiny-13.tar.gz"
    assert tiny["metadata"]["model_with_data_path"] == "vision/classification/tiny/model/tiny-13.tar.gz"
    assert tiny["metadata"]["model_with_data_sha"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert "model_with_data_path" not in by_name["tiny-7"]["metadata"]
    assert seen and seen[-1][0] == seen[-1][1] == result.total_bytes
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    written = write_manifest(result.entries, root / "ONNX_HUB_MANIFEST.json")
    parsed = parse_manifest(written.read_bytes(), str(written))
    assert not parsed.skipped and len(parsed.entries) == 3
    assert check_manifest(written, root).ok


def test_build_reports_duplicate_names(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        onnx.save(tiny_model(13), tmp_path / folder / "model.onnx")
    result = build_manifest(tmp_path)
    assert any("2 files are named 'model' with opset 13" in note for note in result.notes)


def test_manifest_build_then_serve_then_download_round_trip(tmp_path, hub_tree, cache_dir):
    """A folder laid out like onnx/models, its manifest built by the CLI, served, and every model fetched."""
    folder = tmp_path / "myhub"
    shutil.copytree(hub_tree.repo_dir, folder, ignore=shutil.ignore_patterns("*.json"))
    env = subprocess_env(None, cache_dir)
    built = run(["manifest", "build", str(folder)], env)
    assert built.returncode == 0, built.stderr
    manifest = folder / "ONNX_HUB_MANIFEST.json"
    assert built.stdout.strip() == str(manifest)
    assert f"Wrote {len(hub_tree.manifest)} model(s)" in built.stderr
    assert "note: onnx_version is the oldest onnx release" in built.stderr
    entries = json.loads(manifest.read_bytes())
    for original in hub_tree.manifest:  # the hand-written test manifest agrees on every number
        mine = next(e for e in entries if e["model_path"] == original["model_path"])
        assert mine["opset_version"] == original["opset_version"]
        for key in ("model_sha", "model_bytes", "model_with_data_sha", "model_with_data_bytes"):
            assert mine["metadata"].get(key) == original["metadata"].get(key)
        if original["metadata"].get("io_ports"):
            assert [p["name"] for p in mine["metadata"]["io_ports"]["inputs"]] == \
                [p["name"] for p in original["metadata"]["io_ports"]["inputs"]]
    checked = run(["manifest", "check", str(manifest), "--files", str(folder)], env)
    assert checked.returncode == 0 and checked.stdout.startswith("OK:"), checked.stdout

    running = start_server(folder)
    try:
        names = [e["model"] for e in entries]
        result = run(["download", *names, "--repo", running.url + "/", "--yes", "--jobs", "4"], env)
        assert result.returncode == 0, result.stderr
        for entry, line in zip(entries, result.stdout.splitlines()):
            assert Path(line).read_bytes() == (folder / entry["model_path"]).read_bytes()
        with_data = run(["download", "mnist-8", "--with-data", "--repo", running.url, "--yes"], env)
        assert with_data.returncode == 0, with_data.stderr
        assert (Path(with_data.stdout.strip()) / "model.onnx").is_file()  # the folder with the model and its test data
    finally:
        running.stop()


def test_manifest_check_catches_a_wrong_hash_and_more(tmp_path, cache_dir):
    root = _folder(tmp_path)
    result = build_manifest(root)
    manifest = root / "ONNX_HUB_MANIFEST.json"
    env = subprocess_env(None, cache_dir)

    entries = json.loads(json.dumps(result.entries))
    entries[1]["metadata"]["model_sha"] = "0" * 64
    write_manifest(entries, manifest)
    bad = run(["manifest", "check", str(manifest), "--files", str(root)], env)
    assert bad.returncode == 1
    assert f"has SHA-256 {result.entries[1]['metadata']['model_sha']}, the manifest says {'0' * 64}" in bad.stdout
    assert bad.stdout.splitlines()[-1].startswith("FAILED:")
    # Without the files only the manifest itself is judged, and it is valid.
    assert run(["manifest", "check", str(manifest)], env).returncode == 0

    entries = json.loads(json.dumps(result.entries))
    entries[0]["metadata"]["model_bytes"] += 1
    entries[2]["opset_version"] = 8
    entries.append({"model": "broken", "model_path": "../escape.onnx", "opset_version": 1, "metadata": {}})
    entries.append(json.loads(json.dumps(result.entries[0])))
    (root / entries[1]["model_path"]).unlink()
    write_manifest(entries, manifest)
    bad = run(["manifest", "check", str(root), "--files", str(root)], env)  # a folder means its manifest
    assert bad.returncode == 1
    problems = [line for line in bad.stdout.splitlines() if line.startswith("problem: ")]
    text = "\n".join(problems)
    assert "the manifest says" in text and "bytes" in text
    assert "opset_version is 8 but" in text
    assert "entry 3 (broken): model_path" in text and "'..'" in text
    assert "is missing from" in text
    assert "same name and opset" in text
    not_json = root / "not.json"
    not_json.write_text("<html>")
    result = run(["manifest", "check", str(not_json)], env)
    assert result.returncode == 1 and "is not JSON" in result.stderr


def test_manifest_build_skips_unreadable_files_and_says_so(tmp_path, cache_dir):
    root = _folder(tmp_path)
    (root / "text" / "broken.onnx").write_bytes(b"garbage")
    env = subprocess_env(None, cache_dir)
    result = run(["manifest", "build", str(root), "-o", str(tmp_path / "out.json")], env)
    assert result.returncode == 1
    assert "skipped text/broken.onnx: Cannot read broken.onnx" in result.stderr
    assert len(json.loads((tmp_path / "out.json").read_text())) == 3
    to_stdout = run(["manifest", "build", str(root / "vision"), "-o", "-"], env)
    assert to_stdout.returncode == 0
    assert [e["model"] for e in json.loads(to_stdout.stdout)] == ["tiny-13", "tiny-7"]
    empty = run(["manifest", "build", str(tmp_path / "nowhere")], env)
    assert empty.returncode == 1 and "is not a folder" in empty.stderr
