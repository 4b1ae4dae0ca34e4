"""core.cache.local_copy / cached_states (one answer to "is it cached?") and the hub-scoped prune."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from onnxhub_tui import hub as api
from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import HubError
from tests.conftest import REPO
from tests.support.reliability import sha256

OTHER = "acme/other:main"


def test_local_copy_states_paths_and_ready(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        m12 = hub.manifest().find("MNIST", 12)
        empty = hub.local_copy(m12)
        assert (empty.state, empty.data_state, empty.data_dir) == (None, None, None)
        assert empty.path == hub.local_path(m12) and empty.data_archive == hub.local_path(m12, with_data=True)
        assert not empty.ready() and not empty.ready(with_data=True)
        empty.path.parent.mkdir(parents=True)
        empty.path.with_name(empty.path.name + ".part").write_bytes(b"x")
        assert hub.local_copy(m12).state == "partial"
        hub.download(m12)
        hub.download(m12, with_data=True)
        copy = hub.local_copy(m12)
        assert (copy.state, copy.data_state) == ("complete", "complete") and copy.ready() and copy.ready(True)
        # the folder holding the model and its test data, as onnx.hub's download_model_with_test_data gave
        assert copy.data_dir == cache.extracted_dir(copy.data_archive) / "mnist-12"
        assert (copy.data_dir / "model.onnx").is_file() and (copy.data_dir / "test_data_set_0").is_dir()
        assert api.download_model_with_test_data("mnist", repo=REPO, opset=12, silent=True) == str(copy.data_dir)
        assert hub.cache_state(m12) == "complete"


def test_a_truncated_model_is_damaged_and_fetched_again(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 8)
        path = hub.download(info)
        hits = len(server.hits_for("mnist-8.onnx"))
        os.truncate(path, 0)  # `truncate -s 0`: it used to count as cached (list, download, hub.load)
        copy = hub.local_copy(info)
        assert copy.state == "damaged" and not copy.ready()
        assert hub.cache_state(info) == "damaged"
        assert cache.cached_states(cache.scan(cache_dir, None), [info]) == {info.key: "damaged"}
        assert hub.download(info) == path and sha256(path) == info.model_sha
        assert len(server.hits_for("mnist-8.onnx")) == hits + 1 and hub.local_copy(info).state == "complete"
        report = hub.cache_report()
        assert {f.state for f in report.files if f.entry is info} == {"complete"}
        path.write_bytes(b"short")
        assert [f.state for f in hub.cache_report().files if f.entry is info] == ["damaged"]
    proto = api.load("mnist", repo=REPO, opset=8, silent=True)  # fetched again, not "the hub was updated"
    assert proto is not None and sha256(path) == info.model_sha


def test_a_fifo_under_the_models_name_is_damaged(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 7)
        path = hub.local_path(info)
        path.parent.mkdir(parents=True)
        os.mkfifo(path)
        assert hub.local_copy(info).state == "damaged"


def test_cached_states_follow_the_cache_and_read_upper_case_names(server, cache_dir, hub_tree):
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
        m7, m8, squeeze = manifest.find("MNIST", 7), manifest.find("MNIST", 8), manifest.find("SqueezeNet")
        hub.download(m7)
        part = hub.local_path(squeeze)
        part.parent.mkdir(parents=True)
        part.with_name(part.name + ".part").write_bytes(b"x")
        upper = hub.local_path(m8).with_name(f"{m8.model_sha.upper()}_mnist-8.onnx")
        upper.write_bytes(hub_tree.files[m8.model_path])  # as onnx.hub names it for an upper-case manifest
        states = cache.cached_states(cache.scan(cache_dir, None), manifest.entries)
    assert states == {m7.key: "complete", m8.key: "complete", squeeze.key: "partial"}


@pytest.fixture
def two_hubs(server, hub_tree):
    """Hub B: the same folders as hub A (acme/models), without MNIST opset 8."""
    other = hub_tree.root / "acme" / "other" / "main"
    shutil.copytree(hub_tree.repo_dir, other)
    entries = [e for e in hub_tree.manifest if not (e["model"] == "MNIST" and e["opset_version"] == 8)]
    (other / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(entries))
    return server


def test_prune_for_hub_b_keeps_hub_as_verified_file(two_hubs, cache_dir):
    with Hub(REPO, cache_dir) as a:
        kept = a.download(a.manifest().find("MNIST", 8))
    stray = kept.with_name("0" * 64 + "_old.onnx")  # named by no manifest: B's orphan to prune
    stray.write_bytes(b"old")
    with Hub(OTHER, cache_dir) as b:
        b.download(b.manifest().find("MNIST", 7))
        report = b.cache_report()
        assert {f.path for f in cache.prunable(report)} == {stray}
        [mine] = [f for f in report.files if f.path == kept]
        assert mine.state != "orphan" and cache.verify(mine).ok is True
        assert kept.as_posix().split(f"{cache_dir.as_posix()}/")[1] in report.named
        # the TUI's call today (scan_cache + prunable with no folders) gets the same scope
        assert {f.path for f in cache.prunable(b.scan_cache(b.manifest().entries))} == {stray}
        assert cache.plan_delete(report, cache.prunable(report)).items[0].path == stray


def test_cache_report_without_a_manifest(server, cache_dir, monkeypatch):
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 8)
        path = hub.download(info)
    path.with_name("0" * 64 + "_old.onnx").write_bytes(b"old")
    dead = path.with_name(path.name + ".part")
    dead.write_bytes(b"x")
    shutil.rmtree(cache_dir / cache.TOOL_DIR)  # no cached manifest, and offline: none to be had
    monkeypatch.setenv("ONNXHUB_OFFLINE", "1")
    with Hub(REPO, cache_dir) as hub:
        with pytest.raises(HubError):
            hub.cache_report()
        report = hub.cache_report(require_manifest=False)
    assert report.folders == frozenset() and [f.path for f in cache.prunable(report)] == [dead]


def test_a_very_deep_folder_in_the_cache_is_scanned(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        kept = hub.download(hub.manifest().find("MNIST", 8))
        deep = cache_dir / "deep"
        deep.mkdir()
        folder = deep
        for _ in range(1500):  # every cache command died with RecursionError (issue 10 item 4)
            folder = folder / "d"
            folder.mkdir()  # one level at a time: pathlib's parents=True recurses too
        (folder / "x.onnx").write_bytes(b"x")
        extracted = folder / ("a" * 64 + "_m")  # an extracted-looking folder at the bottom: its size is summed
        (extracted / "e").mkdir(parents=True)
        (extracted / "e" / "big.pb").write_bytes(b"y" * 1000)
        try:
            report = hub.cache_report()
        finally:
            _remove_deep(deep)  # pytest's own clean-up (shutil.rmtree) recurses and would fail on it
    by_path = {f.path: f for f in report.files}
    assert by_path[folder / "x.onnx"].rel.count("/") == 1501 and by_path[extracted].size == 1000
    assert kept in by_path and report.warnings == []


def _remove_deep(top) -> None:
    folders, stack = [], [str(top)]  # os.walk recurses on Python < 3.12 too
    while stack:
        folder = stack.pop()
        folders.append(folder)
        with os.scandir(folder) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    os.unlink(e.path)
    for folder in reversed(folders):
        os.rmdir(folder)


def test_an_unreadable_subfolder_is_a_warning(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        hub.download(hub.manifest().find("MNIST", 8))
        hidden = cache_dir / "locked"
        (hidden / "inner").mkdir(parents=True)
        (hidden / "inner" / "m.onnx").write_bytes(b"z")
        hidden.chmod(0)
        try:
            if os.access(hidden, os.R_OK):
                pytest.skip("running as a user who reads any folder (root): cannot make one unreadable")
            report = hub.cache_report()
        finally:
            hidden.chmod(0o755)
    assert any("locked" in w and "not listed" in w for w in report.warnings)  # was: skipped in silence

