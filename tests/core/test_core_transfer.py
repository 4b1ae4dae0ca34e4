"""core/throttle, download_file's keyword-only FileRef form, file:// through an httpx transport, and
upper-case SHA-256 in a manifest (issue 10 item 2)."""

from __future__ import annotations

import copy
import inspect
import os
import threading
import time

import pytest

from onnxhub_tui import hub as api
from onnxhub_tui.core import cache, download, http
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import DownloadError
from onnxhub_tui.core.throttle import Throttle
from tests.conftest import REPO
from tests.support.reliability import sha256


def test_throttle_says_yes_first_then_once_per_interval_and_always_when_forced():
    t = Throttle(0.5)
    assert t.due(10.0) is True
    assert t.due(10.2) is False and t.due(10.49) is False
    assert t.due(10.5) is True
    assert t.due(10.6, force=True) is True and t.due(11.0) is False  # forcing restarts the interval
    assert t.due(11.1) is True


def test_download_loop_reports_through_the_throttle(server, cache_dir):
    calls: list[tuple[int, int | None]] = []
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("ResNet50")
        hub.download(info, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (info.model_bytes, info.model_bytes)  # the last report always comes
    assert "_Throttle" not in vars(download) and "_LocalResponse" not in vars(download)


def test_download_file_is_keyword_only_and_takes_a_file_ref(server, cache_dir):
    params = inspect.signature(download.download_file).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert {"client", "source", "file", "target", "cache_dir", "progress", "cancel", "force"} <= set(params)
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 7)
        with pytest.raises(TypeError):
            download.download_file(hub.client, hub.source, info.file(), hub.local_path(info), cache_dir)  # type: ignore[misc]
        path = download.download_file(client=hub.client, source=hub.source, file=info.file(),
                                      target=hub.local_path(info), cache_dir=cache_dir)
    assert sha256(path) == info.model_sha


def test_file_urls_are_served_by_the_clients_transport(hub_tree, tmp_path):
    model = hub_tree.repo_dir / hub_tree.entry("MNIST", 8)["model_path"]
    url = "file://" + model.as_posix()
    with http.make_client(offline=True) as client:  # a local hub needs no network, even offline
        assert isinstance(client._transport_for_url(client.build_request("GET", "file://localhost/x").url),  # noqa: SLF001
                          http.FileTransport)
        with http.open_stream(client, url, lambda _u: {}, {"Range": "bytes=10-"}) as response:
            assert response.status_code == 206 and response.read() == model.read_bytes()[10:]
            assert response.headers["content-range"] == f"bytes 10-{model.stat().st_size - 1}/{model.stat().st_size}"
        with http.open_stream(client, url + ".missing", lambda _u: {}) as response:
            assert response.status_code == 404 and response.reason_phrase == "file not found"


def test_a_local_hub_download_resumes_its_part_through_the_transport(hub_tree, cache_dir):
    with Hub(str(hub_tree.repo_dir), cache_dir) as hub:
        info = hub.manifest().find("ResNet50")
        target = hub.local_path(info)
        target.parent.mkdir(parents=True)
        data = hub_tree.files[info.model_path]
        target.with_name(target.name + cache.PART).write_bytes(data[: len(data) // 2])
        seen: list[int] = []
        hub.download(info, progress=lambda done, _total: seen.append(done))
    assert sha256(target) == info.model_sha and min(seen) >= len(data) // 2  # resumed, not restarted


def test_a_fifo_in_a_local_hub_is_refused_without_blocking(hub_tree, cache_dir):
    path = hub_tree.repo_dir / hub_tree.entry("MNIST", 7)["model_path"]
    path.unlink()
    os.mkfifo(path)
    outcome: list[BaseException] = []

    def run() -> None:
        with Hub(str(hub_tree.repo_dir), cache_dir) as hub:
            try:
                hub.download(hub.manifest().find("MNIST", 7))
            except DownloadError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "a FIFO in the hub blocked the download"
    assert outcome and "not a regular file" in str(outcome[0])


def test_an_upper_case_sha_in_the_manifest_downloads_once_and_verifies(server, hub_tree, cache_dir):
    manifest = copy.deepcopy(hub_tree.manifest)  # the tree's entries share their metadata with the session's
    for entry in manifest:
        meta = entry["metadata"]
        for key in ("model_sha", "model_with_data_sha"):
            if meta.get(key):
                meta[key] = meta[key].upper()
    hub_tree.write_manifest(manifest)
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 12)
        started = time.monotonic()
        path = hub.download(info)  # used to fail twice, blaming a stale manifest
        folder = hub.download(info, with_data=True)
        assert time.monotonic() - started < 10 and len(server.hits_for("mnist-12.onnx")) == 1
        assert path.name.startswith(info.model_sha)  # onnx.hub's name: the manifest's SHA as written
        assert sha256(path) == info.model_sha.lower() and folder.is_dir()
        assert hub.local_copy(info).ready() and hub.local_copy(info).ready(with_data=True)
        report = hub.cache_report()
        verified = [cache.verify(f) for f in report.files if f.entry is info and f.state == "complete"]
        assert len(verified) == 2 and all(v.ok for v in verified)
        assert cache.cached_states(cache.scan(cache_dir, None), [info]) == {info.key: "complete"}
    assert api.load("mnist", repo=REPO, opset=12, silent=True) is not None  # the cached copy's digest matches


def test_a_lock_folder_that_refuses_is_named_and_the_download_goes_on(server, cache_dir, caplog):
    locks = cache_dir / cache.TOOL_DIR / "locks"
    locks.parent.mkdir(parents=True)
    locks.write_text("a file where the lock folder should be")  # refuses as a read-only folder would, even to root
    with Hub(REPO, cache_dir) as hub, caplog.at_level("WARNING", logger="onnxhub_tui.core.download"):
        info = hub.manifest().find("MNIST", 8)
        path = hub.download(info)  # was: "Cannot write mnist-8.onnx in <the model folder>"
    assert sha256(path) == info.model_sha
    assert [r.getMessage() for r in caplog.records if str(locks) in r.getMessage() and "without a lock" in r.getMessage()]


def test_a_body_sent_with_content_encoding_gzip_is_named(hub_tree, cache_dir):
    import gzip
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    manifest = json.dumps(hub_tree.manifest).encode()
    entry = hub_tree.entry("MNIST", 8)
    model = hub_tree.files[entry["model_path"]]

    class Gzipping(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.endswith("ONNX_HUB_MANIFEST.json"):
                body, headers = manifest, {}
            else:  # despite Accept-Encoding: identity
                body, headers = gzip.compress(model), {"Content-Encoding": "gzip"}
            self.send_response(200)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gzipping)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        with Hub(f"http://127.0.0.1:{server.server_address[1]}/hub/", cache_dir) as hub:
            info = hub.manifest().find("MNIST", 8)
            with pytest.raises(DownloadError) as failed:
                hub.download(info)
    finally:
        server.shutdown()
        server.server_close()
    assert "Content-Encoding: gzip" in str(failed.value) and "\\x1f" not in str(failed.value)
    assert hub.local_copy(info).state is None  # nothing corrupt left in the cache
