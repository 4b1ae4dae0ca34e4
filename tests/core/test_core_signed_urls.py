"""An http(s) spec with a query string, as a signed URL has (issue 10 item 6): the query is kept on every
request, after the path (the manifest's and each model's), and never printed: not in the spec, errors,
``info``, ``--debug`` logs or the cached manifest's meta on disk."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import DownloadError, HubError
from onnxhub_tui.core.sources import parse_repo_spec, shown
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault

SIG = "sig=abc123SECRET&exp=99"
MNIST8 = "validated/vision/classification/mnist/model/mnist-8.onnx"
BIN = Path(sys.executable).with_name("onnxhub-tui")


@pytest.fixture
def signed(server):
    """The loopback hub refusing (403) every request without the signature."""
    server.server.require_query = SIG
    yield server
    server.server.require_query = None


@pytest.mark.parametrize("tail", ["ONNX_HUB_MANIFEST.json?", "?", ""])
def test_the_query_goes_after_every_path_and_is_never_shown(signed, cache_dir, tail, caplog):
    spec = f"{signed.url}/raw/acme/models/main/{tail}{SIG}" if tail else f"{signed.url}/raw/acme/models/main?{SIG}"
    caplog.set_level(logging.DEBUG)
    with Hub(spec, cache_dir) as hub:
        assert hub.source.spec == f"{signed.url}/raw/acme/models/main/?…"
        assert "SECRET" not in repr(hub.source)
        manifest = hub.manifest()
        assert "SECRET" not in manifest.url
        hub.download(manifest.find("MNIST", 8))
    paths = [urlsplit(h.path) for h in signed.hits]
    assert [p.path for p in paths] == ["/raw/acme/models/main/ONNX_HUB_MANIFEST.json", f"/raw/acme/models/main/{MNIST8}"]
    assert {p.query for p in paths} == {SIG}
    assert "SECRET" not in caplog.text  # httpx logs each request's URL
    assert all("SECRET" not in p.read_text() for p in cache_dir.rglob("*.meta"))


def test_errors_never_print_the_query(signed, cache_dir):
    spec = f"{signed.url}/raw/acme/models/main/ONNX_HUB_MANIFEST.json?{SIG}"
    with Hub(spec, cache_dir) as hub:
        signed.add_fault("mnist-8", Fault("status", times=-1, status=404))
        with pytest.raises(DownloadError) as failed:
            hub.download(hub.manifest().find("MNIST", 8))
    assert "SECRET" not in str(failed.value) and f"{MNIST8}?…" in str(failed.value)
    with Hub(f"{signed.url}/raw/acme/nothing/main/?{SIG}", cache_dir / "other") as hub, pytest.raises(HubError) as none:
        hub.manifest()
    assert "SECRET" not in str(none.value) and "ONNX_HUB_MANIFEST.json?…" in str(none.value)
    with pytest.raises(HubError) as bad:
        parse_repo_spec(f"http://[::1/?{SIG}")
    assert "SECRET" not in str(bad.value)


def test_the_cli_keeps_the_query_and_never_prints_it(signed, cache_dir):
    spec = f"{signed.url}/raw/acme/models/main/ONNX_HUB_MANIFEST.json?{SIG}"
    env = subprocess_env(signed, cache_dir)
    runs = [subprocess.run([str(BIN), "--debug", *args, "--repo", spec], env=env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
            for args in (["info", "mnist", "--json"], ["info", "mnist"], ["download", "mnist", "-y"], ["list"])]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "SECRET" not in run.stdout + run.stderr
    info = json.loads(runs[0].stdout)
    assert info["repo"] == f"{signed.url}/raw/acme/models/main/?…"
    assert {urlsplit(h.path).query for h in signed.hits} == {SIG}


def test_shown_cuts_only_the_query():
    assert shown("https://h/a/b.onnx?sig=x") == "https://h/a/b.onnx?…"
    assert shown("https://h/a/b.onnx") == "https://h/a/b.onnx"
