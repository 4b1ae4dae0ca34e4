"""Cache deletion: never follows a symlink out of the cache, never deletes a part a running download owns."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault
from tests.support.reliability import (
    MB,
    add_blob,
    cache_files,
    cli_command,
    cli_has,
    download_command,
    part_files,
    sha256,
)
from tests.reliability.test_reliability_processes import finish, wait_for

REPO = "acme/models:main"


@pytest.fixture
def outside(tmp_path):
    """Files outside the cache that links inside it point at; they must survive every deletion."""
    folder = tmp_path / "precious"
    (folder / "sub").mkdir(parents=True)
    (folder / "file.onnx").write_bytes(b"precious file")
    (folder / "sub" / "deep.onnx").write_bytes(b"precious deep file")
    return folder


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_deleting_everything_never_follows_links_out(server, cache_dir, outside):
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
        kept = hub.download(manifest.find("MNIST", 8))
        group = kept.parent
        (group / "link-to-file.onnx").symlink_to(outside / "file.onnx")
        (group / "link-to-dir").symlink_to(outside, target_is_directory=True)
        (cache_dir / "top-link").symlink_to(outside / "sub", target_is_directory=True)
        before = _snapshot(outside)
        report = hub.scan_cache(manifest.entries)
    links = sorted(f.path.name for f in report.files if f.is_link)
    assert links == ["link-to-dir", "link-to-file.onnx", "top-link"]
    assert all(f.state == "orphan" for f in report.files if f.is_link)
    assert not any("precious" in f.rel or "deep.onnx" in f.rel for f in report.files), "scan entered a link"
    result = cache.execute(cache.plan_delete(report, report.files))
    assert result.errors == []
    assert _snapshot(outside) == before, "a file outside the cache was touched"
    assert cache_files(cache_dir) == []


def test_a_path_under_a_linked_folder_is_refused(cache_dir, outside):
    cache_dir.mkdir(parents=True)
    (cache_dir / "validated").symlink_to(outside, target_is_directory=True)
    report = cache.CacheReport(cache_dir, [])
    forged = cache.CachedFile(cache_dir / "validated" / "file.onnx", "validated/file.onnx", 13, "orphan")
    result = cache.execute(cache.DeletePlan(cache_dir, [forged]))
    assert [reason for _f, reason in result.errors] == ["outside the cache; not deleted"]
    assert (outside / "file.onnx").read_bytes() == b"precious file"
    assert cache.select(report, str(outside / "file.onnx")) == []


def test_select_never_reaches_outside(server, cache_dir, outside):
    with Hub(REPO, cache_dir) as hub:
        hub.download(hub.manifest().find("MNIST", 8))
        report = hub.scan_cache(hub.manifest().entries)
    for target in (str(outside), str(outside / "file.onnx"), "../precious", "..", "/"):
        picked = cache.select(report, target)
        assert all(cache_dir in f.path.parents for f in picked), (target, picked)
        assert picked == [] or target == "/", target


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def test_a_running_downloads_part_is_never_deleted(server, hub_tree, cache_dir):
    blob = add_blob(hub_tree, "Blob", 2 * MB, seed=9)
    dead = cache_dir / "blobs/blob" / f"{blob['metadata']['model_sha']}_blob.onnx.part.{_host()}-{2**22 + 7}-00ff00ff"
    gate = threading.Event()
    server.add_fault("blobs/blob/blob.onnx", Fault("hold", gate=gate))
    proc = subprocess.Popen(download_command(REPO, cache_dir, "Blob"), env=subprocess_env(server, cache_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: server.hits_for("blobs/blob/blob.onnx"))  # the download is running, its part exists
        [live] = [p for p in part_files(cache_dir) if f"-{proc.pid}-" in p.name]
        dead.write_bytes(b"left by a killed process")  # and an abandoned part next to it
        report = cache.scan(cache_dir, None)
        by_name = {f.path.name: f for f in report.files}
        assert by_name[live.name].state == "partial" and by_name[live.name].in_use
        assert by_name[dead.name].state == "partial" and not by_name[dead.name].in_use
        assert [f.path.name for f in cache.prunable(report)] == [dead.name]
        plan = cache.plan_delete(report, report.files)
        assert [(f.path.name, why) for f, why in plan.skipped] == [(live.name, "a running download owns it")]
        forced = cache.execute(cache.DeletePlan(cache_dir, [by_name[live.name]]))  # even if a plan lists it
        assert forced.deleted == [] and "running download" in forced.errors[0][1]
        result = cache.execute(plan)
        assert [f.path.name for f in result.deleted] == [dead.name]
        if cli_has("cache"):
            done = subprocess.run(cli_command() + ["cache", "prune", "-y", "--cache-dir", str(cache_dir)],
                                  env=subprocess_env(server, cache_dir), capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
        assert live.exists()
    finally:
        gate.set()
    out = finish(proc)
    final = cache.cached_path(cache_dir, blob["model_path"], blob["metadata"]["model_sha"])
    assert str(final) in out
    assert sha256(final) == blob["metadata"]["model_sha"]
    assert part_files(cache_dir) == []
    assert os.path.exists(final)
