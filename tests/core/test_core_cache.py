"""The cache: onnx.hub's location and layout, scan states grouped by folder, verify, delete plans."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import DownloadError, UnsafePathError
from tests.support.hubserver import Fault
from tests.support.reliability import cache_files, part_files, sha256

REPO = "acme/models:main"


def test_default_location_follows_onnx_hub(monkeypatch, tmp_path):
    monkeypatch.setenv("ONNX_HOME", str(tmp_path / "onnx-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_cache_dir() == tmp_path / "onnx-home" / "hub"
    monkeypatch.delenv("ONNX_HOME")
    assert cache.default_cache_dir() == tmp_path / "xdg" / "onnx" / "hub"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.default_cache_dir() == tmp_path / "home" / ".cache" / "onnx" / "hub"


def test_layout_is_onnx_hubs(tmp_path):
    sha = "ab" * 32
    assert cache.cached_rel("validated/vision/m/model/m-7.onnx", sha).as_posix() == f"validated/vision/m/model/{sha}_m-7.onnx"
    assert cache.cached_rel("top.onnx", None).as_posix() == "top.onnx"
    archive = cache.cached_path(tmp_path, "a/m-7.tar.gz", sha)
    assert cache.extracted_dir(archive) == tmp_path / "a" / f"{sha}_m-7"
    for bad in ("/abs.onnx", "../x.onnx", "a/../../x.onnx", "a\\b.onnx", ""):
        with pytest.raises(UnsafePathError):
            cache.cached_path(tmp_path, bad, sha)


@pytest.fixture
def filled(server, cache_dir, hub_tree):
    """A cache with two complete models, an extracted archive, a resumable part, and an orphan."""
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
        m7, m8 = manifest.find("MNIST", 7), manifest.find("MNIST", 8)
        hub.download(m7)
        hub.download(m8, with_data=True)
        squeeze = manifest.find("SqueezeNet")
        part = hub.local_path(squeeze)
        part.parent.mkdir(parents=True)
        part.with_name(part.name + ".part").write_bytes(b"x" * 100)
        orphan = cache_dir / "validated/vision/classification/mnist/model" / ("0" * 64 + "_old.onnx")
        orphan.write_bytes(b"old")
        yield hub, manifest


def test_scan_states_sizes_and_groups(filled, cache_dir):
    hub, manifest = filled
    report = hub.scan_cache(manifest.entries)
    states = {f.rel.rsplit("/", 1)[-1].split("_", 1)[-1]: (f.state, f.kind) for f in report.files}
    assert states["mnist-7.onnx"] == ("complete", "model")
    assert states["mnist-8.tar.gz"] == ("complete", "data")
    assert states["mnist-8"] == ("extracted", "data")
    assert states["squeezenet-9.onnx.part"] == ("partial", "model")
    assert states["old.onnx"] == ("orphan", "model")
    by_name = {f.path.name: f for f in report.files}
    m7 = manifest.find("MNIST", 7)
    assert by_name[f"{m7.model_sha}_mnist-7.onnx"].entry is m7
    assert by_name[f"{m7.model_sha}_mnist-7.onnx"].size == m7.model_bytes
    assert [g.name for g in report.groups] == ["validated/vision/classification/mnist/model",
                                               "validated/vision/classification/squeezenet/model"]
    assert report.size == sum(f.size for f in report.files) == sum(g.size for g in report.groups)
    assert {f.state for f in cache.prunable(report)} == {"partial", "orphan"}


def test_verify_rehashes(filled):
    hub, manifest = filled
    report = hub.scan_cache(manifest.entries)
    m7 = next(f for f in report.files if f.path.name.endswith("_mnist-7.onnx"))
    assert cache.verify(m7).ok is True
    m7.path.write_bytes(m7.path.read_bytes()[:-1] + b"\x00")
    result = cache.verify(m7)
    assert result.ok is False and m7.entry.model_sha in result.message
    part = next(f for f in report.files if f.state == "partial")
    assert cache.verify(part).ok is None


def test_delete_plan_then_execute(filled, cache_dir):
    hub, manifest = filled
    report = hub.scan_cache(manifest.entries)
    chosen = cache.select(report, "MNIST")
    assert {f.path.name.split("_", 1)[1] for f in chosen} == {"mnist-7.onnx", "mnist-8.tar.gz", "mnist-8"}
    plan = cache.plan_delete(report, chosen)
    assert plan.size == sum(f.size for f in chosen) > 0
    result = cache.execute(plan)
    assert result.errors == [] and result.freed == plan.size
    left = {p.name.split("_", 1)[-1] for p in cache_files(cache_dir)}
    assert left == {"squeezenet-9.onnx.part", "old.onnx"}


def test_force_reload_that_fails_keeps_the_good_file(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 8)
        path = hub.download(info)
        server.add_fault("mnist-8.onnx", Fault("wrong_bytes", times=-1))
        with pytest.raises(DownloadError):
            hub.download(info, force=True)
    assert sha256(path) == info.model_sha  # the verified copy was never replaced by unverified bytes
    assert part_files(cache_dir) == []


def test_two_jobs_in_one_process_share_one_download(server, cache_dir):
    gate = threading.Event()
    server.add_fault("squeezenet-9.onnx", Fault("hold", gate=gate))
    results: list[Path | BaseException] = []
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("SqueezeNet")

        def job():
            try:
                results.append(hub.download(info))
            except BaseException as exc:  # noqa: BLE001
                results.append(exc)

        threads = [threading.Thread(target=job) for _ in range(3)]
        for t in threads:
            t.start()
        while not server.hits_for("squeezenet-9.onnx"):
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)  # the other two are waiting on the lock now
        gate.set()
        for t in threads:
            t.join(30)
    assert len(results) == 3 and all(isinstance(r, Path) for r in results), results
    assert len({str(r) for r in results}) == 1
    assert len(server.hits_for("squeezenet-9.onnx")) == 1
    assert sha256(results[0]) == info.model_sha
    assert os.listdir(results[0].parent) == [results[0].name]


def test_concurrent_extractions_of_one_archive_all_succeed(server, cache_dir):
    """Found by this suite: jobs extracting at once shared one temporary folder and raised raw OSErrors."""
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("DenseNet-121")
        folder = hub.download(info, with_data=True)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        for round_ in range(3):
            import shutil

            shutil.rmtree(folder)
            barrier = threading.Barrier(4)
            results: list[object] = []

            def job():
                barrier.wait()
                try:
                    results.append(hub.download(info, with_data=True))
                except BaseException as exc:  # noqa: BLE001
                    results.append(exc)

            threads = [threading.Thread(target=job) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert results == [folder] * 4, (round_, results)
            assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == files
        assert sorted(os.listdir(folder.parent)) == sorted([folder.name, folder.name + ".tar.gz"])


def test_forced_re_extraction_replaces_the_folder_and_leaves_no_temporaries(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 12)
        folder = hub.download(info, with_data=True)
        (folder / "stray.txt").write_text("left by a user")
        again = hub.download(info, with_data=True, force=True)
    assert again == folder and not (folder / "stray.txt").exists()
    assert (folder / "mnist-12" / "model.onnx").is_file()
    assert sorted(os.listdir(folder.parent)) == sorted([folder.name, folder.name + ".tar.gz"])


def test_cancel_while_waiting_for_another_download(server, cache_dir):
    from onnxhub_tui.core.download import CancelToken
    from onnxhub_tui.core.errors import CancelledError

    gate = threading.Event()
    server.add_fault("squeezenet-9.onnx", Fault("hold", gate=gate))
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("SqueezeNet")
        first = threading.Thread(target=hub.download, args=(info,))
        first.start()
        while not server.hits_for("squeezenet-9.onnx"):
            threading.Event().wait(0.01)
        token = CancelToken()
        threading.Timer(0.3, token.cancel).start()
        with pytest.raises(CancelledError, match="waiting for another download"):
            hub.download(info, cancel=token)
        gate.set()
        first.join(30)
    assert sha256(hub.local_path(info)) == info.model_sha
    assert len(server.hits_for("squeezenet-9.onnx")) == 1


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="zombies are detected through /proc")
def test_a_zombies_part_counts_as_abandoned(tmp_path):
    """Found by this suite: a killed process that was never reaped (PID 1 in many containers does not
    reap) kept its part "in use" forever, so no run resumed it and prune never removed it."""
    import socket
    import subprocess
    import time

    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    host = "".join(ch for ch in socket.gethostname() if ch.isalnum())[:32] or "host"
    part = tmp_path / f"{'a' * 64}_m.onnx.part.{host}-{child.pid}-0123abcd"
    try:
        assert cache.part_owner_alive(part) is False
        live = tmp_path / f"{'a' * 64}_m.onnx.part.{host}-{os.getppid()}-0123abcd"  # our parent: running
        assert cache.part_owner_alive(live) is True
    finally:
        child.wait()


def test_many_jobs_with_random_cancels_never_corrupt_anything(server, hub_tree, cache_dir):
    """The TUI's queue in miniature: jobs on the same and on different files, some cancelled at random
    moments. Each ends with a verified file or CancelledError; no file is ever corrupt; what remains
    is resumable, and a last round completes everything."""
    import random

    from onnxhub_tui.core.download import CancelToken
    from onnxhub_tui.core.errors import CancelledError
    from tests.support.reliability import MB, add_blob

    blobs = [add_blob(hub_tree, f"Job{i}", MB + i * 50_000, seed=i) for i in range(3)]
    for b in blobs:
        server.add_fault(b["model_path"], Fault("trickle", times=-1, chunk=32 * 1024, seconds=0.01))
    rng = random.Random(5)
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
        infos = [manifest.find(b["model"]) for b in blobs]
        outcomes: list[str] = []

        def job(info, token):
            try:
                path = hub.download(info, cancel=token)
                outcomes.append("ok" if sha256(path) == info.model_sha else "CORRUPT")
            except CancelledError:
                outcomes.append("cancelled")
            except BaseException as exc:  # noqa: BLE001
                outcomes.append(f"{type(exc).__name__}: {exc}")

        threads = []
        for _ in range(9):
            token = CancelToken()
            t = threading.Thread(target=job, args=(rng.choice(infos), token))
            threads.append(t)
            t.start()
            if rng.random() < 0.6:
                threading.Timer(rng.uniform(0.01, 0.5), token.cancel).start()
        for t in threads:
            t.join(60)
        assert len(outcomes) == 9 and set(outcomes) <= {"ok", "cancelled"}, outcomes
        assert "cancelled" in outcomes  # the test really cancelled something mid-way
        for info in infos:  # the last round: everything completes, resuming what was left
            assert sha256(hub.download(info)) == info.model_sha
    assert part_files(cache_dir) == []
