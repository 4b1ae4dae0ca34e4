"""`manifest build` on a pointer checkout (GIT_LFS_SKIP_SMUDGE=1): hashes and sizes from Git LFS pointers,
facts from turnkey_stats.yaml, archive-only models, folder spelling, special files (issue 11, issue 10 items 5, 30)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.core import lfs, turnkey
from onnxhub_tui.core.build import build_manifest, check_manifest, write_manifest
from onnxhub_tui.core.manifest import parse_manifest
from tests.conftest import subprocess_env
from tests.support.hubtree import tiny_model
from tests.support.zoodata import extract_zoo, write_pointer, write_stats

BIN = Path(sys.executable).with_name("onnxhub-tui")


def _pointer_tree(root: Path) -> dict[str, str]:
    """A zoo-shaped tree of pointers: a turnkey export, an archive-only export, a skipped one, an old model."""
    shas = {}
    export = root / "Computer_Vision" / "bigA_net_Opset16_timm"
    shas["export"] = write_pointer(export / "bigA_net_Opset16.onnx", b"model bytes " * 100)
    write_stats(export, name="bigA_net", opset=16, params=2_500_000)
    archived = root / "Natural_Language_Processing" / "huge_Opset17_transformers"
    shas["archive"] = write_pointer(archived / "huge_Opset17.tar.gz", b"archive bytes" * 1000)
    write_stats(archived, name="huge", opset=17, author="transformers", task="Natural_Language_Processing")
    skipped = root / "Computer_Vision" / "skip" / "bad_Opset18_torch_hub"
    shas["skipped"] = write_pointer(skipped / "bad_Opset18.onnx", b"x" * 5000)
    write_stats(skipped, name="bad", opset=18, author="torch_hub")
    old = root / "validated" / "vision" / "Classic" / "model"
    shas["old"] = write_pointer(old / "classic-7.onnx", b"old" * 77)
    shas["old_data"] = write_pointer(old / "classic-7.tar.gz", b"old data" * 9)
    return shas


def test_pointer_checkout_gives_shas_sizes_and_turnkey_facts(tmp_path):
    shas = _pointer_tree(tmp_path)
    result = build_manifest(tmp_path)
    assert result.skipped == []
    by_path = {e["model_path"]: e for e in result.entries}
    export = by_path["Computer_Vision/bigA_net_Opset16_timm/bigA_net_Opset16.onnx"]
    assert export["model"] == "bigA_net_Opset16_timm"  # the folder: unique per source library
    assert export["opset_version"] == 16 and export["onnx_version"] == "1.11.0"
    meta = export["metadata"]
    assert meta["model_sha"] == shas["export"] and meta["model_bytes"] == 1200
    assert meta["tags"] == ["Computer_Vision"]
    # names and shapes from the yaml; the type is unknown and said to be, never guessed
    assert meta["io_ports"] == {"inputs": [{"name": "x", "shape": [1, 3, 224, 224], "type": None}], "outputs": None}
    assert meta["unknown_until_download"] == ["input types", "input order", "outputs"]
    assert meta["turnkey"] == {
        "author": "timm", "task": "Computer_Vision", "model_name": "bigA_net", "class": "Net",
        "parameters": 2_500_000, "ir_version": 8, "ops": {"Relu": 7, "Conv": 3, "Add": 1},
        "script": "https://github.com/onnx/turnkeyml/blob/main/models/timm/bigA_net.py",
    }
    archive = by_path["Natural_Language_Processing/huge_Opset17_transformers/huge_Opset17.tar.gz"]
    assert archive["model"] == "huge_Opset17_transformers" and archive["opset_version"] == 17
    am = archive["metadata"]
    assert am["archive_only"] is True and am["model_bytes"] == am["model_with_data_bytes"] == 13000
    assert am["model_sha"] == am["model_with_data_sha"] == shas["archive"]
    assert am["model_with_data_path"] == archive["model_path"]
    old = by_path["validated/vision/Classic/model/classic-7.onnx"]
    assert old["model"] == "classic-7" and old["opset_version"] == 0 and old["onnx_version"] is None
    assert old["metadata"]["tags"] == ["validated", "vision", "Classic"]
    assert old["metadata"]["model_with_data_sha"] == shas["old_data"]
    assert old["metadata"]["unknown_until_download"] == ["opset", "inputs", "outputs"]
    assert "io_ports" not in old["metadata"]
    assert any("opset_version set to 0 (validated/vision/Classic/model/classic-7.onnx)" in n for n in result.notes)
    assert result.total_bytes == 1200 + 13000 + 5000 + 231 + 72
    written = write_manifest(result.entries, tmp_path / "out.json")
    parsed = parse_manifest(written.read_bytes(), "out.json")
    assert parsed.skipped == [] and len(parsed.entries) == 4


def test_a_real_model_with_stats_keeps_its_own_header(tmp_path):
    folder = tmp_path / "Computer_Vision" / "tiny_Opset13_timm"
    folder.mkdir(parents=True)
    onnx.save(tiny_model(13), folder / "tiny_Opset13.onnx")
    write_stats(folder, name="tiny", opset=13)
    (entry,) = build_manifest(tmp_path).entries
    assert entry["metadata"]["io_ports"]["inputs"] == [{"name": "x", "shape": [1, 4], "type": "tensor(float)"}]
    assert entry["metadata"]["turnkey"]["parameters"] == 1234567
    assert "unknown_until_download" not in entry["metadata"]


def test_a_broken_stats_file_is_a_note_and_the_pointer_still_an_entry(tmp_path):
    folder = tmp_path / "m_Opset16_timm"
    write_pointer(folder / "m_Opset16.onnx", b"abc")
    (folder / "turnkey_stats.yaml").write_text("author: [unclosed\n")
    result = build_manifest(tmp_path)
    (entry,) = result.entries
    assert entry["model"] == "m_Opset16" and "turnkey" not in entry["metadata"]
    assert any("turnkey_stats.yaml is not valid YAML" in n for n in result.notes)


def test_a_pointer_is_only_a_small_file_that_says_so():
    sha = "A" * 64
    assert lfs.parse_pointer(lfs.pointer_bytes(sha, 5)) == lfs.Pointer("a" * 64, 5)
    assert lfs.parse_pointer(b"version https://git-lfs.github.com/spec/v1\nsize 5\n") is None
    assert lfs.parse_pointer(b"\x08\x07\x12\x04onnx") is None
    assert lfs.parse_pointer(lfs.pointer_bytes(sha, 5) + b" " * 2000) is None


def test_turnkey_cuts_only_the_machine_blocks():
    text = "author: timm\nbuilds:\n  a: 1\n\n  b:\n  - 2\nsystem_info:\n  X: y\ntask: Computer_Vision\nparameters: 5\n"
    stats = turnkey.parse_stats(text)
    assert (stats.author, stats.task, stats.parameters) == ("timm", "Computer_Vision", 5)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_special_files_and_dangling_links_are_reported_never_opened(tmp_path, cache_dir):
    """A FIFO used to block `manifest build` for ever; a dangling .onnx link aborted it (issue 10 item 5)."""
    onnx.save(tiny_model(13), tmp_path / "good.onnx")
    os.mkfifo(tmp_path / "fifo.onnx")
    os.mkfifo(tmp_path / "good.tar.gz")  # a FIFO where a model's archive would be
    os.symlink(tmp_path / "nowhere.onnx", tmp_path / "dangling.onnx")
    sock = socket.socket(socket.AF_UNIX)
    short = Path(f"/tmp/onnxhub-sock-{os.getpid()}")
    short.mkdir(exist_ok=True)
    try:
        sock.bind(str(short / "s.onnx"))
        os.symlink(short / "s.onnx", tmp_path / "socket.onnx")
        started = time.monotonic()
        result = subprocess.run([str(BIN), "manifest", "build", str(tmp_path), "-o", str(tmp_path / "out.json")],
                                env=subprocess_env(None, cache_dir), capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        assert time.monotonic() - started < 30
    finally:
        sock.close()
        (short / "s.onnx").unlink(missing_ok=True)
        short.rmdir()
    assert result.returncode == 1
    assert "skipped fifo.onnx: is a FIFO, not a regular file (left out, never opened)" in result.stderr
    assert "skipped good.tar.gz: is a FIFO, not a regular file" in result.stderr
    assert "skipped dangling.onnx: is a dangling link (its target does not exist)" in result.stderr
    assert "skipped socket.onnx: is a socket, not a regular file" in result.stderr
    entries = json.loads((tmp_path / "out.json").read_text())
    assert [e["model"] for e in entries] == ["good"] and "model_with_data_path" not in entries[0]["metadata"]


@pytest.fixture(scope="module")
def zoo_root(tmp_path_factory):
    return extract_zoo(tmp_path_factory.mktemp("zoo"))


def test_the_whole_zoo_tree_builds_in_seconds(zoo_root, cache_dir):
    started = time.perf_counter()
    result = build_manifest(zoo_root)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"{elapsed:.1f} s"  # 2.5 s on a quiet 2-core machine
    assert result.skipped == []
    assert len(result.entries) == 2325 + 52
    assert sum(1 for e in result.entries if e["metadata"].get("archive_only")) == 52
    exports = [e for e in result.entries if "turnkey" in e["metadata"]]
    assert len(exports) == 2190 - 3  # three turnkey folders hold a yaml and no model, and the build says so
    assert any(n.startswith("3 folder(s) hold a turnkey_stats.yaml and no model: ") and "gptbigcode_Opset16" in n
               for n in result.notes), result.notes
    assert len({e["model"].lower() for e in exports}) == len(exports)  # folder names are unique
    manifest = json.loads((zoo_root / "ONNX_HUB_MANIFEST.json").read_bytes())
    by_path = {e["model_path"]: e for e in result.entries}
    for original in manifest:  # every pointer agrees with the hub manifest's hashes and sizes
        mine = by_path[original["model_path"]]["metadata"]
        for key in ("model_sha", "model_bytes", "model_with_data_path", "model_with_data_sha", "model_with_data_bytes"):
            assert mine.get(key) == original["metadata"].get(key), (original["model_path"], key)
    adv = by_path["Computer_Vision/adv_inception_v3_Opset16_timm/adv_inception_v3_Opset16.onnx"]
    assert adv["model"] == "adv_inception_v3_Opset16_timm" and adv["opset_version"] == 16
    assert adv["metadata"]["io_ports"]["inputs"] == [{"name": "x", "shape": [1, 3, 299, 299], "type": None}]
    assert adv["metadata"]["turnkey"]["author"] == "timm"


def test_manifest_build_cli_on_the_whole_zoo(zoo_root, tmp_path, cache_dir):
    out = tmp_path / "zoo.json"
    result = subprocess.run([str(BIN), "manifest", "build", str(zoo_root), "-o", str(out)],
                            env=subprocess_env(None, cache_dir), capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    entries = json.loads(out.read_bytes())
    assert len(entries) >= 2300
    gpt = next(e for e in entries if e["model"] == "openaigptlmhead_Opset17_transformers")
    assert [p["name"] for p in gpt["metadata"]["io_ports"]["inputs"]] == ["attention_mask", "input_ids"]


def test_manifest_check_takes_a_pointer_for_its_bytes(tmp_path):
    shas = _pointer_tree(tmp_path)
    entries = build_manifest(tmp_path).entries
    manifest = write_manifest(entries, tmp_path / "ONNX_HUB_MANIFEST.json")
    result = check_manifest(manifest, tmp_path)
    assert result.ok, result.problems
    assert result.files_checked == 6  # 4 models, the old one's archive, and the archive-only one twice
    export = tmp_path / "Computer_Vision/bigA_net_Opset16_timm/bigA_net_Opset16.onnx"
    write_pointer(export, b"other bytes")
    (tmp_path / "validated/vision/Classic/model/classic-7.tar.gz").unlink()
    os.mkfifo(tmp_path / "validated/vision/Classic/model/classic-7.tar.gz")
    problems = check_manifest(manifest, tmp_path).problems
    assert any(f"points to SHA-256 {lfs.parse_pointer(export.read_bytes()).sha256}, the manifest says {shas['export']}"
               in p for p in problems), problems
    assert any("points to 11 bytes, the manifest says 1,200" in p for p in problems)
    assert any("classic-7.tar.gz is a FIFO, not a regular file" in p for p in problems)


def test_the_whole_zoo_manifest_checks_against_its_pointers(zoo_root, tmp_path):
    result = build_manifest(zoo_root)
    manifest = write_manifest(result.entries, tmp_path / "zoo.json")
    checked = check_manifest(manifest, zoo_root)
    assert checked.problems == [] and checked.files_checked == 2377 + 184 + 52
