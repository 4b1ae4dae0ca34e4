"""core/http: plain http:// (a mirror, a loopback hub) never pays for loading the CA bundle; https://
still goes through the one verifying context (test_core_environment's private-CA test covers that)."""

from __future__ import annotations

from onnxhub_tui.core import http
from onnxhub_tui.core.client import Hub


def test_plain_http_never_loads_the_ca_bundle(server, hub_tree, tmp_path, monkeypatch):
    def refuse() -> None:
        raise AssertionError("the CA bundle was loaded for a plain http:// request")

    monkeypatch.setattr(http, "_shared_ssl_context", refuse)
    with Hub("acme/models:main", tmp_path / "cache") as h:
        path = h.download(h.manifest().find("MNIST"))
    assert path.is_file()
