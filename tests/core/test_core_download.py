"""Downloads against the fault-injecting loopback server: each test checks the outcome, what crossed
the wire (requests, Range starts, bytes), and that nothing in the cache was lost or corrupted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.download import CancelToken
from onnxhub_tui.core.errors import (
    CancelledError,
    DownloadError,
    HashMismatchError,
    HubError,
    LfsPointerError,
)
from tests.support.hubserver import Fault, start_server
from tests.support.reliability import MB, OutsideGuard, add_blob, cache_files, part_files, sha256

REPO = "acme/models:main"
SIZE = 3 * MB
BLOB = "blobs/blob/blob.onnx"


@pytest.fixture
def blob(hub_tree):
    return add_blob(hub_tree, "Blob", SIZE)


@pytest.fixture
def hub(server, blob, cache_dir):
    with Hub(REPO, cache_dir) as h:
        h.manifest()
        yield h


@pytest.fixture
def guard(tmp_path, cache_dir):
    with OutsideGuard(tmp_path, cache_dir) as g:
        yield g
    assert g.changes() == [], "something was written outside the cache"


def entry(hub):
    return hub.manifest().find("Blob")


def target(hub) -> Path:
    return hub.local_path(entry(hub))


def assert_verified(hub, blob) -> Path:
    path = target(hub)
    assert path.is_file()
    assert sha256(path) == blob["metadata"]["model_sha"]
    assert path.stat().st_size == SIZE
    assert part_files(hub.cache_dir) == [], "a part file was left behind"
    return path


def assert_nothing_cached(hub) -> None:
    assert cache_files(hub.cache_dir) == [], cache_files(hub.cache_dir)


def statuses(server) -> list[int]:
    return [h.status for h in server.hits_for(BLOB)]


def write_part(hub, data: bytes, name: str = cache.PART) -> Path:
    path = target(hub)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + name)
    part.write_bytes(data)
    return part


# -- transient failures: retried -------------------------------------------------------------------


def test_5xx_then_success_is_retried(server, hub, blob, guard):
    server.add_fault(BLOB, Fault("status", times=2, status=503))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert statuses(server) == [503, 503, 200]
    assert server.bytes_for(BLOB) == SIZE + 2 * len(b"try later")


def test_429_honours_retry_after(server, hub, blob, monkeypatch):
    monkeypatch.setenv("ONNXHUB_MAX_WAIT", "5")
    server.add_fault(BLOB, Fault("status", times=1, status=429, retry_after="1"))
    started = time.monotonic()
    hub.download(entry(hub))
    elapsed = time.monotonic() - started
    assert_verified(hub, blob)
    assert statuses(server) == [429, 200]
    assert elapsed >= 0.95, f"Retry-After: 1 was not honoured (waited {elapsed:.2f}s)"


def test_retry_after_is_capped_by_max_wait(server, hub, blob):
    server.add_fault(BLOB, Fault("status", times=1, status=503, retry_after="3600"))
    started = time.monotonic()
    hub.download(entry(hub))
    assert time.monotonic() - started < 2  # ONNXHUB_MAX_WAIT=0.2 in tests
    assert_verified(hub, blob)


def test_persistent_5xx_gives_up_after_the_retry_budget(server, hub, monkeypatch):
    monkeypatch.setenv("ONNXHUB_RETRIES", "3")
    server.add_fault(BLOB, Fault("status", times=-1, status=502))
    with pytest.raises(DownloadError, match=r"HTTP 502 \(after 3 attempts\)") as info:
        hub.download(entry(hub))
    assert server.url in str(info.value)
    assert statuses(server) == [502, 502, 502]
    assert_nothing_cached(hub)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_4xx_fails_fast_without_retrying(server, hub, status):
    server.add_fault(BLOB, Fault("status", times=-1, status=status))
    with pytest.raises(DownloadError, match=f"HTTP {status}") as info:
        hub.download(entry(hub))
    assert isinstance(info.value, AssertionError)
    assert f"{server.url}/lfs/acme/models/main/{BLOB}" in str(info.value)
    assert statuses(server) == [status]
    assert_nothing_cached(hub)


def test_reset_mid_body_resumes_with_range(server, hub, blob, guard):
    cut = 1536 * 1024
    server.add_fault(BLOB, Fault("reset", after_bytes=cut))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    starts = server.range_starts(BLOB)
    assert starts[0] is None and len(starts) == 2
    assert 0 < starts[1] <= cut, starts  # resumed from what had arrived, not from zero
    assert server.bytes_for(BLOB) == cut + (SIZE - starts[1])


def test_stall_longer_than_read_timeout_is_retried(server, hub, blob, monkeypatch):
    monkeypatch.setenv("ONNXHUB_READ_TIMEOUT", "0.3")
    with Hub(REPO, hub.cache_dir) as fresh:  # the timeout is read when the client is made
        server.add_fault(BLOB, Fault("stall", after_bytes=MB + 4096, seconds=5))
        started = time.monotonic()
        fresh.download(entry(fresh))
        elapsed = time.monotonic() - started
    assert_verified(hub, blob)
    assert elapsed < 4, f"the stall was waited out ({elapsed:.1f}s) instead of timed out"
    starts = server.range_starts(BLOB)
    assert starts[0] is None and 0 < starts[1] <= MB + 4096


def test_slow_trickle_completes_with_steady_progress(server, hub, blob):
    server.add_fault(BLOB, Fault("trickle", chunk=64 * 1024, seconds=0.02))
    calls: list[tuple[int, int | None]] = []
    hub.download(entry(hub), progress=lambda done, total: calls.append((done, total)))
    assert_verified(hub, blob)
    assert calls[-1] == (SIZE, SIZE)
    dones = [d for d, _ in calls]
    assert dones == sorted(dones)
    assert len(calls) >= 8, f"progress reported only {len(calls)} times over a slow link"


def test_body_shorter_than_content_length_resumes(server, hub, blob):
    server.add_fault(BLOB, Fault("short", after_bytes=2 * MB))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    starts = server.range_starts(BLOB)
    assert starts[0] is None and 0 < starts[1] <= 2 * MB


def test_connection_closed_before_response_is_retried(server, hub, blob):
    server.add_fault(BLOB, Fault("close", times=2))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert len(server.hits_for(BLOB)) == 3


def test_connection_refused_fails_after_retries(server, hub, monkeypatch):
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    server.stop()
    with Hub(REPO, hub.cache_dir) as fresh:  # a new client: no kept-alive connection to the old server
        manifest = fresh.manifest()
        assert manifest.state == "stale" and "ConnectError" in (manifest.warning or "")
        started = time.monotonic()
        with pytest.raises(DownloadError, match="after 2 attempts") as info:
            fresh.download(manifest.find("Blob"))
    assert time.monotonic() - started < 5
    assert "ConnectError" in str(info.value)
    assert_nothing_cached(hub)


# -- servers that misbehave about Range ------------------------------------------------------------


def test_server_ignoring_range_restarts_cleanly(server, hub, blob, guard):
    write_part(hub, blob_bytes(server, blob)[:MB])
    server.add_fault(BLOB, Fault("ignore_range"))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [MB]
    assert statuses(server) == [200]
    assert server.bytes_for(BLOB) == SIZE


def test_wrong_content_range_restarts_cleanly(server, hub, blob):
    write_part(hub, blob_bytes(server, blob)[:MB])
    server.add_fault(BLOB, Fault("bad_range"))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [MB, None]


# -- wrong content -------------------------------------------------------------------------------


def test_wrong_bytes_once_is_retried_from_a_clean_start(server, hub, blob, guard):
    server.add_fault(BLOB, Fault("wrong_bytes", times=1))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [None, None]


def test_wrong_bytes_always_is_rejected_and_leaves_nothing(server, hub, blob, guard):
    server.add_fault(BLOB, Fault("wrong_bytes", times=-1))
    with pytest.raises(HashMismatchError) as info:
        hub.download(entry(hub))
    message = str(info.value)
    assert blob["metadata"]["model_sha"] in message
    assert "probably stale" in message
    assert len(server.hits_for(BLOB)) == 2
    assert_nothing_cached(hub)


def test_lfs_pointer_is_named_and_leaves_nothing(server, hub, guard):
    server.add_fault(BLOB, Fault("lfs_pointer", times=-1))
    with pytest.raises(LfsPointerError, match="Git LFS pointer"):
        hub.download(entry(hub))
    assert_nothing_cached(hub)


def test_more_bytes_than_the_manifest_says_is_rejected(server, hub, blob, hub_tree):
    (hub_tree.repo_dir / BLOB).write_bytes(blob_bytes(server, blob) + b"extra")
    with pytest.raises(HashMismatchError, match="more than"):
        hub.download(entry(hub))
    assert not target(hub).exists()


def test_404_names_the_url_and_is_not_retried(server, hub, hub_tree, tmp_path):
    (hub_tree.repo_dir / BLOB).unlink()
    with OutsideGuard(tmp_path, hub.cache_dir) as guard, pytest.raises(DownloadError, match="404") as info:
        hub.download(entry(hub))
    assert guard.changes() == []
    assert f"/lfs/acme/models/main/{BLOB}" in str(info.value)
    assert len(server.hits_for(BLOB)) == 1
    assert_nothing_cached(hub)


# -- redirects -------------------------------------------------------------------------------------


def test_redirect_to_another_host_is_followed(server, hub, blob, hub_tree):
    other = start_server(hub_tree.root, host="127.0.0.2")
    try:
        server.add_fault(BLOB, Fault("redirect", location=f"{other.url}/lfs/acme/models/main/{BLOB}"))
        hub.download(entry(hub))
    finally:
        other.stop()
    assert_verified(hub, blob)
    assert statuses(server) == [302]
    assert len(other.hits_for(BLOB)) == 1


def test_redirect_loop_is_an_error_not_a_hang(server, hub, guard):
    server.add_fault(BLOB, Fault("redirect_loop", times=-1))
    with pytest.raises(DownloadError, match="Redirect loop"):
        hub.download(entry(hub))
    assert len(server.hits_for(BLOB)) <= 12
    assert_nothing_cached(hub)


# -- parts left by earlier runs --------------------------------------------------------------------


def blob_bytes(server, blob) -> bytes:
    return (server.server.root / "acme/models/main" / blob["model_path"]).read_bytes()


def test_part_larger_than_the_file_recovers(server, hub, blob):
    write_part(hub, b"\x00" * (SIZE + 10))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [None]
    assert server.bytes_for(BLOB) == SIZE


def test_corrupt_part_recovers(server, hub, blob):
    write_part(hub, b"\x00" * MB)
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [MB, None]  # resumed, caught the mismatch, restarted clean


def test_exact_size_correct_part_needs_no_request(server, hub, blob):
    write_part(hub, blob_bytes(server, blob))
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.hits_for(BLOB) == []


def test_exact_size_corrupt_part_recovers(server, hub, blob):
    write_part(hub, b"\x01" * SIZE)
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [None]


def test_private_part_of_a_dead_process_is_resumed(server, hub, blob):
    import socket
    import re

    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
    dead = 2**22 + 12345  # above pid_max's default: no such process
    write_part(hub, blob_bytes(server, blob)[: 2 * MB], name=f"{cache.PART}.{host}-{dead}-0badc0de")
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB) == [2 * MB]
    assert server.bytes_for(BLOB) == SIZE - 2 * MB


def test_cancel_keeps_the_part_and_the_next_run_resumes(server, hub, blob):
    server.add_fault(BLOB, Fault("trickle", chunk=256 * 1024, seconds=0.01))
    token = CancelToken()

    def progress(done: int, total: int | None) -> None:
        if done >= MB:
            token.cancel()

    with pytest.raises(CancelledError):
        hub.download(entry(hub), progress=progress, cancel=token)
    parts = part_files(hub.cache_dir)
    assert [p.name.endswith(cache.PART) for p in parts] == [True]
    kept = parts[0].stat().st_size
    assert kept >= MB
    assert not target(hub).exists()
    hub.download(entry(hub))
    assert_verified(hub, blob)
    assert server.range_starts(BLOB)[-1] == kept


def test_errors_are_hub_errors_and_assertion_errors():
    for kind in (DownloadError, HashMismatchError, LfsPointerError, CancelledError):
        assert issubclass(kind, HubError) and issubclass(kind, AssertionError)


def test_a_complete_but_smaller_file_fails_fast_and_names_what_came_back(server, hub, blob):
    server.add_fault(BLOB, Fault("html", times=-1))  # a sign-in page served with 200 instead of the model
    started = time.monotonic()
    with pytest.raises(HashMismatchError, match=r"served a 45-byte file where the manifest says 3,145,728 bytes.*"
                                                r"Sign in to continue"):
        hub.download(entry(hub))
    assert time.monotonic() - started < 2
    assert len(server.hits_for(BLOB)) == 1  # not retried: every byte the server announced arrived
    assert_nothing_cached(hub)


def test_an_endless_redirect_chain_stops(server, hub, guard):
    server.add_fault(BLOB, Fault("redirect_chain", times=-1))
    with pytest.raises(DownloadError, match="after 11 redirects"):
        hub.download(entry(hub))
    assert len(server.hits_for(BLOB)) == 11
    assert_nothing_cached(hub)


@pytest.fixture
def blackhole():
    """A port whose accept queue is full: connects hang until the connect timeout (SYNs are dropped)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    for s in fillers + [listener]:
        s.close()


def test_connect_timeout_is_retried_then_reported(server, hub, blackhole, monkeypatch):
    monkeypatch.setenv("ONNXHUB_CONNECT_TIMEOUT", "0.3")
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", blackhole + "/lfs")  # manifest from the server, files: nowhere
    with Hub(REPO, hub.cache_dir) as fresh:
        started = time.monotonic()
        with pytest.raises(DownloadError, match=r"ConnectTimeout.*\(after 2 attempts\)"):
            fresh.download(entry(fresh))
        assert time.monotonic() - started < 3
    assert_nothing_cached(hub)


# -- rarer answers ---------------------------------------------------------------------------------


def test_416_to_a_resume_restarts_and_a_smaller_file_is_named(server, hub, blob, hub_tree):
    """The server's file is shorter than our part (416 to the Range), and shorter than the manifest says."""
    data = blob_bytes(server, blob)
    (hub_tree.repo_dir / BLOB).write_bytes(data[:MB])
    write_part(hub, data[: 2 * MB])
    with pytest.raises(HashMismatchError, match="served a 1,048,576-byte file where the manifest says 3,145,728"):
        hub.download(entry(hub))
    assert [h.status for h in server.hits_for(BLOB)] == [416, 200]
    assert server.range_starts(BLOB) == [2 * MB, None]
    assert_nothing_cached(hub)


def test_an_unexpected_status_fails_the_location(server, hub):
    server.add_fault(BLOB, Fault("body", status=204, body=b""))
    with pytest.raises(DownloadError, match="unexpected HTTP 204"):
        hub.download(entry(hub))
    assert len(server.hits_for(BLOB)) == 1
    assert_nothing_cached(hub)


def test_two_different_wrong_bodies_fail_without_blaming_the_manifest(server, hub, blob):
    server.add_fault(BLOB, Fault("wrong_bytes"))
    server.add_fault(BLOB, Fault("body", status=200, body=b"\x00" * SIZE))
    with pytest.raises(HashMismatchError) as info:
        hub.download(entry(hub))
    message = str(info.value)
    assert f"expected {blob['metadata']['model_sha']}" in message and "probably stale" not in message
    assert len(server.hits_for(BLOB)) == 2
    assert_nothing_cached(hub)


def test_download_file_refuses_a_target_outside_the_cache(server, hub, tmp_path):
    from onnxhub_tui.core.download import download_file
    from onnxhub_tui.core.manifest import FileRef

    outside = tmp_path / "elsewhere" / "m.onnx"
    with pytest.raises(DownloadError, match="outside the cache"):
        download_file(client=hub.client, source=hub.source, file=FileRef("model", BLOB, None, None), target=outside,
                      cache_dir=hub.cache_dir)
    assert not outside.parent.exists()
    assert server.hits_for(BLOB) == []


def test_a_folder_where_a_local_file_should_be_is_a_clear_error(hub_tree, cache_dir):
    entry_ = hub_tree.entry("MNIST", 7)
    (hub_tree.repo_dir / entry_["model_path"]).unlink()
    (hub_tree.repo_dir / entry_["model_path"]).mkdir()
    with Hub(str(hub_tree.repo_dir), cache_dir) as local, pytest.raises(DownloadError, match="directory"):
        local.download(local.manifest().find("MNIST", 7))
    assert cache_files(cache_dir) == []


def test_retry_policy_reads_the_environment_and_retry_after_forms(monkeypatch):
    import email.utils

    from onnxhub_tui.core.http import RetryPolicy

    monkeypatch.setenv("ONNXHUB_RETRIES", "0")
    monkeypatch.setenv("ONNXHUB_BACKOFF", "")  # empty: the default
    monkeypatch.setenv("ONNXHUB_MAX_WAIT", "7")
    policy = RetryPolicy.from_env()
    assert (policy.attempts, policy.backoff, policy.max_wait) == (1, RetryPolicy.backoff, 7.0)
    soon = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1.5 < policy.wait(1, soon) <= 3.5  # an HTTP date
    assert policy.wait(1, email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0  # in the past
    assert policy.wait(1, "2") == 2.0 and policy.wait(1, "99999") == 7.0  # seconds, capped
    assert policy.wait(1, "-3") == 0.0
    for junk in ("soon", "", None):
        assert 0 < policy.wait(3, junk) <= 7.0  # jittered backoff instead
    waits = [RetryPolicy(backoff=1.0, max_wait=100).wait(n) for n in (1, 2, 3, 4)]
    assert all(2 ** (n - 1) * 0.5 <= w <= 2 ** (n - 1) for n, w in zip((1, 2, 3, 4), waits))
