"""Hostile hubs: paths that escape, archives that escape or link out, markup and terminal escapes,
wrong types, 10 MB strings, 50,000 entries, non-manifests. Clear errors, nothing written outside the cache."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from onnxhub_tui import hub as hubapi
from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import (
    ArchiveError,
    ManifestError,
    ModelNotFoundError,
    UnsafePathError,
)
from onnxhub_tui.core.manifest import parse_manifest
from onnxhub_tui.core.query import parse_query
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault
from tests.support.reliability import OutsideGuard, cache_files, cli_command, cli_has, sha256

REPO = "acme/models:main"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b[31m\r\x08"
MARKUP = "[bold red]loud[/] [link=https://evil.example]click[/link] [/]"


@pytest.fixture
def guard(tmp_path, cache_dir):
    """Created after the test changed the hub tree: run the hostile part inside ``with guard():``."""
    return lambda: OutsideGuard(tmp_path, cache_dir)


def _entry(name: str, path: str, data: bytes, **meta) -> dict:
    return {"model": name, "model_path": path, "opset_version": 12, "onnx_version": "1.20",
            "metadata": {"model_sha": hashlib.sha256(data).hexdigest(), "model_bytes": len(data), **meta}}


# -- model_path --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/etc/evil.onnx", "../../evil.onnx", "models/../../../evil.onnx",
                                  "C:/evil.onnx", "models\\..\\..\\evil.onnx", "models/evil.onnx\x00.txt", "models/"])
def test_hostile_model_path_writes_nothing_anywhere(server, hub_tree, cache_dir, guard, path):
    data = b"not a model"
    hub_tree.write_manifest(hub_tree.manifest + [_entry("Evil", path, data)])
    with guard() as g:
        with pytest.raises(ModelNotFoundError) as info:
            hubapi.load("Evil", REPO, silent=True)
        assert "skipped" not in str(info.value) or True
        assert any(w in str(info.value) for w in ("absolute", "'..'", "NUL or backslash", "does not name a file"))
        with pytest.raises(UnsafePathError):
            cache.cached_path(cache_dir, path, None)
    assert g.changes() == []
    assert cache_files(cache_dir) == []
    assert [h.path for h in server.hits if "Evil".lower() in h.path.lower() or "evil" in h.path] == []


def test_symlink_in_the_cache_pointing_out_is_refused(server, cache_dir, tmp_path, guard):
    outside = tmp_path / "outside"
    outside.mkdir()
    cache_dir.mkdir(parents=True)
    (cache_dir / "validated").symlink_to(outside, target_is_directory=True)
    with guard() as g, pytest.raises(UnsafePathError, match="outside the cache"):
        hubapi.load("MNIST", REPO, opset=8, silent=True)
    assert g.changes() == []
    assert list(outside.iterdir()) == []
    assert server.hits_for("mnist-8.onnx") == []


# -- archives -----------------------------------------------------------------------------------------


def _tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


HOSTILE_TARS = {
    "dotdot": [(_member("pkg/model.onnx"), b"m"), (_member("../escaped.txt"), b"x")],
    "deep-dotdot": [(_member("pkg/../../escaped.txt"), b"x")],
    "absolute": [(_member("/tmp/onnxhub-escaped.txt"), b"x")],
    "symlink-out": [(_member("pkg/link", tarfile.SYMTYPE, "/etc/passwd"), None)],
    "symlink-up": [(_member("pkg/link", tarfile.SYMTYPE, "../../../outside"), None),
                   (_member("pkg/link/escaped.txt"), b"x")],
    "hardlink": [(_member("pkg/hard", tarfile.LNKTYPE, "/etc/passwd"), None)],
    "fifo": [(_member("pkg/fifo", tarfile.FIFOTYPE), None)],
    "device": [(_member("pkg/dev", tarfile.CHRTYPE), None)],
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_TARS))
def test_hostile_archives_are_refused(server, hub_tree, cache_dir, guard, kind):
    archive = _tar(*HOSTILE_TARS[kind])
    model = hub_tree.files["validated/vision/classification/mnist/model/mnist-8.onnx"]
    (hub_tree.repo_dir / "evil").mkdir()
    (hub_tree.repo_dir / "evil/model.onnx").write_bytes(model)
    (hub_tree.repo_dir / "evil/model.tar.gz").write_bytes(archive)
    hub_tree.write_manifest(hub_tree.manifest + [_entry(
        "EvilArchive", "evil/model.onnx", model, model_with_data_path="evil/model.tar.gz",
        model_with_data_sha=hashlib.sha256(archive).hexdigest(), model_with_data_bytes=len(archive))])
    with guard() as g, pytest.raises(UnsafePathError, match=r"Refusing [0-9a-f]{64}_model\.tar\.gz: member"):
        hubapi.download_model_with_test_data("EvilArchive", REPO, silent=True)
    assert g.changes() == []
    assert not Path("/tmp/onnxhub-escaped.txt").exists()
    left = [p.relative_to(cache_dir).as_posix() for p in cache_files(cache_dir)]
    assert left == [f"evil/{hashlib.sha256(archive).hexdigest()}_model.tar.gz"]  # the verified download only
    assert not any(p.is_dir() for p in (cache_dir / "evil").iterdir()), "an extraction folder was left"


def test_archive_that_is_not_a_tarball_is_a_clear_error(server, hub_tree, cache_dir):
    junk = b"this is not gzip" * 10
    model = hub_tree.files["validated/vision/classification/mnist/model/mnist-8.onnx"]
    (hub_tree.repo_dir / "junk").mkdir()
    (hub_tree.repo_dir / "junk/m.onnx").write_bytes(model)
    (hub_tree.repo_dir / "junk/m.tar.gz").write_bytes(junk)
    hub_tree.write_manifest(hub_tree.manifest + [_entry(
        "Junk", "junk/m.onnx", model, model_with_data_path="junk/m.tar.gz",
        model_with_data_sha=hashlib.sha256(junk).hexdigest(), model_with_data_bytes=len(junk))])
    with pytest.raises(ArchiveError, match="not a readable tar.gz"):
        hubapi.download_model_with_test_data("Junk", REPO, silent=True)
    assert not any(p.is_dir() for p in (cache_dir / "junk").iterdir())


# -- markup and escapes, wrong types, huge strings, huge manifests ---------------------------------------


def test_markup_and_escapes_in_every_string_stay_literal(server, hub_tree, cache_dir, guard):
    data = hub_tree.files["validated/vision/classification/mnist/model/mnist-8.onnx"]
    path = "markup/[red]x[/red] $(id) `id`.onnx"
    (hub_tree.repo_dir / path).parent.mkdir(parents=True)  # "[/red]" holds a slash: a folder "[red]x["
    (hub_tree.repo_dir / path).write_bytes(data)
    name = MARKUP + ESCAPES
    entry = _entry(name, path, data, tags=[MARKUP, ESCAPES, "ok"], description=ESCAPES + MARKUP,
                   io_ports={"inputs": [{"name": ESCAPES, "shape": [MARKUP, 1], "type": MARKUP}], "outputs": []},
                   extra_ports={ESCAPES: [{"name": MARKUP, "shape": [], "type": ESCAPES}]})
    entry["onnx_version"] = ESCAPES
    hub_tree.write_manifest(hub_tree.manifest + [entry])
    with guard() as g, Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find(name)
        assert info.model == name and info.tag_list == (MARKUP, ESCAPES, "ok")
        assert info.inputs[0].name == ESCAPES and list(info.extra_ports) == [ESCAPES]
        assert parse_query(["tag:[bold"]).filter(hub.manifest().entries) == [info]
        saved = hub.download(info)
    assert saved == cache_dir / "markup" / "[red]x[" / f"{info.model_sha}_red] $(id) `id`.onnx"
    assert sha256(saved) == info.model_sha
    assert g.changes() == []
    with pytest.raises(ModelNotFoundError) as missing:
        hubapi.get_model_info(ESCAPES, REPO)
    assert isinstance(missing.value, AssertionError)


@pytest.mark.skipif(not cli_has("list"), reason="the CLI has no `list` subcommand yet")
def test_cli_shows_hostile_strings_without_terminal_escapes(hub_tree, tmp_path):
    data = b"x"
    entry = _entry(MARKUP + ESCAPES, "m/a.onnx", data, tags=[ESCAPES + "vision"], description=ESCAPES)
    hub_tree.write_manifest(hub_tree.manifest + [entry, {"model": ESCAPES, "bad": True}])
    cache = tmp_path / "c"
    for args in (["list"], ["info", MARKUP + ESCAPES], ["list", "--json"]):
        done = subprocess.run(cli_command() + [*args, "--repo", str(hub_tree.repo_dir), "--cache-dir", str(cache)],
                              env=subprocess_env(None, cache), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (args, done.stderr)
        for stream in (done.stdout, done.stderr):
            assert "\x1b" not in stream and "\x07" not in stream and "\x08" not in stream, args
        assert "[bold red]loud" in done.stdout or "\\u001b" in done.stdout


def test_wrong_types_everywhere_load_as_skipped_entries(server, hub_tree, cache_dir):
    wrong = [None, 1, "s", [], {"model": ["x"]}, {"model": "A", "model_path": 3},
             {"model": "B", "model_path": "b.onnx", "opset_version": 1.5, "metadata": {}},
             {"model": "C", "model_path": "c.onnx", "opset_version": 1, "metadata": {"model_bytes": 1e3}},
             {"model": "D", "model_path": "d.onnx", "opset_version": 1, "metadata": {"tags": [None]}},
             {"model": "E", "model_path": "e.onnx", "opset_version": 1, "metadata": {"model_sha": 5}},
             {"model": "F", "model_path": "f.onnx", "opset_version": 1, "metadata": {"model_with_data_path": 7}},
             {"model": "G", "model_path": "g.onnx", "opset_version": 1, "metadata": {}, "onnx_version": {}}]
    hub_tree.write_manifest(wrong)
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
    assert manifest.entries == [] and len(manifest.skipped) == len(wrong)
    with pytest.raises(ModelNotFoundError, match="not an integer"):
        manifest.find("b")


def test_ten_megabyte_strings_are_refused_quickly(server, hub_tree, cache_dir):
    huge = "A" * (10 * 1024 * 1024)
    data = b"x"
    entries = [_entry(huge, "h/a.onnx", data), _entry("HugeTag", "h/b.onnx", data, tags=[huge]),
               {**_entry("HugePath", "h/" + "p" * 10_000_000 + ".onnx", data)},
               _entry("HugeDescription", "h/d.onnx", data, description=huge)]
    hub_tree.write_manifest(hub_tree.manifest + entries)
    started = time.monotonic()
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"{elapsed:.1f}s to load a manifest with 10 MB strings"
    assert [s.name for s in manifest.skipped] == ["A" * 60, "HugeTag", "HugePath"]
    assert all(len(str(s)) < 300 for s in manifest.skipped)
    assert manifest.find("HugeDescription").metadata["description"] == huge  # valid, kept


def test_fifty_thousand_entries_parse_and_search_in_reasonable_time(server, hub_tree, cache_dir, record_property):
    base = hub_tree.manifest[0]
    meta = {k: v for k, v in base["metadata"].items() if k != "io_ports"}  # ~12 MB instead of 30
    many = [{**base, "model": f"model-{i}", "model_path": f"many/{i % 100}/m{i}.onnx",
             "metadata": {**meta, "tags": ["vision", f"t{i % 7}"]}} for i in range(50_000)]
    hub_tree.write_manifest(json.dumps(many).encode())
    started = time.monotonic()
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
    loaded = time.monotonic() - started
    started = time.monotonic()
    found = parse_query("tag:t3 opset:>=7 name:model-4 -name:model-49").filter(manifest.entries)
    searched = time.monotonic() - started
    record_property("load_50k_s", round(loaded, 2))
    record_property("search_50k_s", round(searched, 3))
    assert len(manifest.entries) == 50_000 and manifest.skipped == []
    assert found and all(m.model.startswith("model-4") for m in found)
    assert loaded < 10, f"{loaded:.1f}s to fetch and parse 50,000 entries"
    assert searched < 2, f"{searched:.2f}s to search 50,000 entries"


@pytest.mark.parametrize("body", [b'{"models": []}', b"<html><body>Rate limited</body></html>"])
def test_non_manifests_via_the_api_are_clear_errors(server, hub_tree, cache_dir, guard, body):
    hub_tree.write_manifest(body)
    with guard() as g, pytest.raises(ManifestError) as info:
        hubapi.load("MNIST", REPO, silent=True)
    assert isinstance(info.value, AssertionError)
    assert "ONNX_HUB_MANIFEST.json (HTTP 200)" in str(info.value)
    assert g.changes() == [] and cache_files(cache_dir) == []


@pytest.mark.parametrize("name", [".tar.gz", "..tar.gz", "...tar.gz"])
def test_archive_names_that_strip_to_nothing_or_dots_stay_inside(server, hub_tree, cache_dir, guard, name):
    """Found by this suite: without a SHA prefix, "...tar.gz" stripped to ".." (the parent folder) and
    ".tar.gz" to "" (a ValueError)."""
    model = hub_tree.files["validated/vision/classification/mnist/model/mnist-8.onnx"]
    archive = _tar((_member("pkg/model.onnx"), model))
    (hub_tree.repo_dir / "dots").mkdir()
    (hub_tree.repo_dir / "dots/m.onnx").write_bytes(model)
    (hub_tree.repo_dir / "dots" / name).write_bytes(archive)
    entry = _entry("Dots", "dots/m.onnx", model, model_with_data_path=f"dots/{name}")
    hub_tree.write_manifest(hub_tree.manifest + [entry])
    with guard() as g:
        folder = hubapi.download_model_with_test_data("Dots", REPO, silent=True)
    assert g.changes() == []
    assert Path(folder) == cache_dir / "dots" / f"{name}.d" / "pkg"
    assert (Path(folder) / "model.onnx").read_bytes() == model
