"""The manifest: tolerant parsing, clear errors for non-manifests, ETag revalidation (counted on the wire),
the cached copy when the network fails, and offline mode with every socket blocked."""

from __future__ import annotations

import json
import socket

import onnx
import pytest

from onnxhub_tui import hub as hubapi
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import ManifestError, ModelNotFoundError, NetworkError, OfflineError
from onnxhub_tui.core.manifest import parse_entries, parse_manifest
from tests.support.hubserver import Fault
from tests.support.reliability import cache_files

REPO = "acme/models:main"
MANIFEST = "ONNX_HUB_MANIFEST.json"


def good(name: str = "Good", **meta) -> dict:
    return {"model": name, "model_path": f"m/{name}.onnx", "opset_version": 12,
            "metadata": {"model_sha": "a" * 64, "model_bytes": 10, "tags": ["t"], **meta}}


BAD = [
    ("not an object", "entry is not a JSON object", ["x"]),
    ("no model", "model is missing", {"model_path": "a.onnx", "opset_version": 1, "metadata": {}}),
    ("model not str", "model is missing or not a string", {**good(), "model": 5}),
    ("no path", "model_path is missing", {"model": "x", "opset_version": 1, "metadata": {}}),
    ("opset str", "opset_version", {**good(), "opset_version": "12"}),
    ("opset bool", "opset_version", {**good(), "opset_version": True}),
    ("metadata list", "metadata is missing or not an object", {**good(), "metadata": []}),
    ("sha short", "model_sha is not a SHA-256", good(model_sha="abc")),
    ("bytes negative", "model_bytes is not a non-negative integer", good(model_bytes=-1)),
    ("bytes str", "model_bytes", good(model_bytes="10")),
    ("tags str", "tags is not a list", good(tags="vision")),
    ("tag int", "a tag is missing or not a string", good(tags=[1])),
    ("ports list", "io_ports is not an object", good(io_ports=[])),
    ("absolute path", "is absolute", {**good(), "model_path": "/etc/passwd"}),
    ("dotdot path", "contains '..'", {**good(), "model_path": "a/../../x.onnx"}),
    ("data dotdot", "model_with_data_path", good(model_with_data_path="../x.tar.gz")),
    ("long name", "longer than", {**good(), "model": "n" * 5000}),
]


def test_tolerant_parsing_skips_and_reports_bad_entries():
    items = [good("A"), *[b[2] for b in BAD], good("B")]
    parsed = parse_entries(items)
    assert [e.model for e in parsed.entries] == ["A", "B"]
    assert len(parsed.skipped) == len(BAD)
    for skipped, (label, reason, _raw) in zip(parsed.skipped, BAD):
        assert reason in skipped.reason, (label, skipped)
        assert str(skipped).startswith(f"entry {skipped.index} (")


def test_real_manifest_parses_whole(real_manifest):
    parsed = parse_manifest(real_manifest.read_bytes(), str(real_manifest))
    assert len(parsed.entries) == 184 and parsed.skipped == []
    assert len({e.model for e in parsed.entries}) == 116


@pytest.mark.parametrize(
    ("body", "says"),
    [(b'{"error": "rate limited"}', "JSON dict, not a list"), (b"42", "JSON int"), (b"null", "JSON NoneType"),
     (b"<!DOCTYPE html><html>Sign in</html>", "is not JSON"), (b"", "an empty body"),
     (b"\xff\xfe\x00garbage", "is not JSON"), (b"[" * 100000, "is not JSON")],
)
def test_a_body_that_is_not_a_list_is_one_clear_error(body, says):
    with pytest.raises(ManifestError) as info:
        parse_manifest(body, "http://hub.example/ONNX_HUB_MANIFEST.json", 200)
    message = str(info.value)
    assert says in message
    assert "http://hub.example/ONNX_HUB_MANIFEST.json (HTTP 200)" in message
    assert "\n" not in message and len(message) < 400


# -- over the wire --------------------------------------------------------------------------------


def test_non_list_json_from_the_server_names_url_status_and_body(server, hub_tree, cache_dir):
    hub_tree.write_manifest(b'{"message": "Not Found", "documentation_url": "https://docs"}')
    with Hub(REPO, cache_dir) as hub, pytest.raises(ManifestError) as info:
        hub.manifest()
    message = str(info.value)
    assert f"{server.url}/raw/acme/models/main/{MANIFEST} (HTTP 200)" in message
    assert "JSON dict" in message and "Not Found" in message


def test_html_body_from_the_server_is_one_clear_error(server, cache_dir):
    server.add_fault(MANIFEST, Fault("html"))
    with Hub(REPO, cache_dir) as hub, pytest.raises(ManifestError, match="not JSON.*Sign in to continue") as info:
        hub.manifest()
    assert "(HTTP 200)" in str(info.value)


def test_html_error_status_names_status_and_body(server, cache_dir):
    server.add_fault(MANIFEST, Fault("body", status=403, body=b"<html><title>Forbidden by proxy</title></html>"))
    with Hub(REPO, cache_dir) as hub, pytest.raises(ManifestError, match="HTTP 403.*Forbidden by proxy"):
        hub.manifest()
    assert len(server.hits_for(MANIFEST)) == 1  # a 4xx is not retried


def test_missing_manifest_is_a_clear_error(server, cache_dir):
    with Hub("acme/nothing:main", cache_dir) as hub, pytest.raises(ManifestError, match="Could not find manifest"):
        hub.manifest()


def test_second_load_costs_one_304(server, cache_dir):
    with Hub(REPO, cache_dir) as first:
        assert first.manifest().state == "fresh"
    with Hub(REPO, cache_dir) as second:
        manifest = second.manifest()
    hits = server.hits_for(MANIFEST)
    assert [h.status for h in hits] == [200, 304]
    assert "if-none-match" in hits[1].headers and hits[1].bytes_sent == 0
    assert manifest.state == "cached"
    assert len(manifest.entries) == len(first.manifest().entries) == 10


def test_changed_manifest_is_fetched_again(server, hub_tree, cache_dir):
    with Hub(REPO, cache_dir) as first:
        first.manifest()
    hub_tree.write_manifest(hub_tree.manifest[:2])
    with Hub(REPO, cache_dir) as second:
        manifest = second.manifest()
    assert manifest.state == "fresh" and len(manifest.entries) == 2
    assert [h.status for h in server.hits_for(MANIFEST)] == [200, 200]


@pytest.mark.parametrize("fault", [Fault("status", times=-1, status=503), Fault("html", times=-1),
                                   Fault("close", times=-1)])
def test_network_failure_uses_the_cached_copy_marked_stale(server, cache_dir, fault, monkeypatch):
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    with Hub(REPO, cache_dir) as first:
        before = [e.model_path for e in first.manifest().entries]
    server.add_fault(MANIFEST, fault)
    with Hub(REPO, cache_dir) as second:
        manifest = second.manifest()
    assert manifest.state == "stale"
    assert manifest.warning and manifest.warning.startswith("Using the cached manifest")
    assert [e.model_path for e in manifest.entries] == before


def test_network_failure_without_a_cached_copy_is_a_network_error(server, cache_dir, monkeypatch):
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    server.add_fault(MANIFEST, Fault("status", times=-1, status=503))
    with Hub(REPO, cache_dir) as hub, pytest.raises(NetworkError, match=r"HTTP 503") as info:
        hub.manifest()
    assert f"{server.url}/raw/acme/models/main/{MANIFEST}" in str(info.value)
    assert len(server.hits_for(MANIFEST)) == 2


def test_a_skipped_entry_is_named_when_asked_for(server, hub_tree, cache_dir):
    hub_tree.write_manifest(hub_tree.manifest + [{**good("Broken"), "opset_version": "x"}])
    with Hub(REPO, cache_dir) as hub:
        manifest = hub.manifest()
        assert [s.name for s in manifest.skipped] == ["Broken"]
        with pytest.raises(ModelNotFoundError, match="opset_version"):
            manifest.find("broken")


def test_cached_model_loads_when_the_network_is_down(server, cache_dir):
    assert hubapi.load("MNIST", REPO, opset=8, silent=True) is not None
    server.stop()
    assert isinstance(hubapi.load("MNIST", REPO, opset=8, silent=True), onnx.ModelProto)


# -- offline mode: no socket at all ---------------------------------------------------------------


def block_sockets(monkeypatch) -> list[str]:
    """Every way to open a connection raises, and each attempt is recorded."""
    attempts: list[str] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(name)
            raise OSError(f"test: {name} is blocked")
        return blocked

    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    return attempts


@pytest.fixture
def no_sockets(monkeypatch) -> list[str]:
    return block_sockets(monkeypatch)


def _warm_cache(cache_dir):
    with Hub(REPO, cache_dir) as hub:
        hub.download(hub.manifest().find("MNIST", 8))


def test_sockets_really_are_blocked(server, cache_dir, no_sockets):
    with Hub(REPO, cache_dir) as hub, pytest.raises(NetworkError):
        hub.manifest()
    assert no_sockets  # the guard itself works: an online hub tried and was refused


def test_offline_env_loads_cached_models_without_any_socket(server, cache_dir, monkeypatch):
    _warm_cache(cache_dir)  # online first ...
    monkeypatch.setenv("ONNXHUB_OFFLINE", "1")
    blocked = block_sockets(monkeypatch)  # ... then block every socket
    model = hubapi.load("MNIST", REPO, opset=8, silent=True)
    assert isinstance(model, onnx.ModelProto)
    assert [m.model for m in hubapi.list_models(REPO, model="mnist")] == ["MNIST"] * 3
    with pytest.raises(OfflineError, match="Offline mode"):
        hubapi.load("MNIST", REPO, opset=7, silent=True)
    assert blocked == []
    assert not any(".part" in p.name for p in cache_files(cache_dir))


def test_offline_hub_object_opens_no_socket(server, cache_dir, monkeypatch):
    _warm_cache(cache_dir)
    blocked = block_sockets(monkeypatch)
    with Hub(REPO, cache_dir, offline=True) as hub:
        assert hub.offline
        manifest = hub.manifest()
        assert manifest.state == "offline"
        path = hub.download(manifest.find("MNIST", 8))  # cached: returned as is
        assert path.is_file()
        with pytest.raises(OfflineError):
            hub.download(manifest.find("ResNet50"))
    assert blocked == []


def test_offline_without_a_cached_manifest_says_what_to_do(cache_dir, no_sockets, monkeypatch):
    monkeypatch.setenv("ONNXHUB_OFFLINE", "1")
    with Hub(REPO, cache_dir) as hub, pytest.raises(OfflineError, match="no cached manifest") as info:
        hub.manifest()
    assert "local folder" in str(info.value)
    assert no_sockets == []


@pytest.mark.parametrize("damage", [b"garbage", b"[", b""])
def test_a_damaged_cached_copy_is_fetched_again_not_revalidated(server, cache_dir, damage):
    """Found by this suite: a damaged copy was revalidated with its ETag, answered 304, and failed to
    parse on every run after."""
    with Hub(REPO, cache_dir) as first:
        first.manifest()
    [copy] = (cache_dir / ".onnxhub-tui" / "manifests").glob("*.json")
    copy.write_bytes(damage)
    with Hub(REPO, cache_dir) as second:
        manifest = second.manifest()
    assert manifest.state == "fresh" and len(manifest.entries) == 10
    hits = server.hits_for(MANIFEST)
    assert [h.status for h in hits] == [200, 200] and "if-none-match" not in hits[1].headers
    with Hub(REPO, cache_dir, offline=True) as offline:  # and the repaired copy serves offline use
        assert offline.manifest().state == "offline"


def test_a_server_without_etags_is_revalidated_with_last_modified(server, cache_dir):
    server.server.send_etags = False
    with Hub(REPO, cache_dir) as first:
        first.manifest()
    with Hub(REPO, cache_dir) as second:
        assert second.manifest().state == "cached"
    hits = server.hits_for(MANIFEST)
    assert [h.status for h in hits] == [200, 304]
    assert "if-modified-since" in hits[1].headers and "if-none-match" not in hits[1].headers


def test_null_fields_in_io_ports_read_as_unknown_not_none():
    from onnxhub_tui.core.manifest import ModelInfo, Port

    info = ModelInfo({"model": "m", "model_path": "m.onnx", "opset_version": 1, "metadata": {"io_ports": {
        "inputs": [{"name": None, "shape": [1, None], "type": None}, None, {"name": "x", "shape": None, "type": "f"}],
        "outputs": None}}})
    assert info.inputs == [Port("?", (1, None), ""), Port("?", (), ""), Port("x", (), "f")]  # issue 10 item 12
    assert info.outputs == []
