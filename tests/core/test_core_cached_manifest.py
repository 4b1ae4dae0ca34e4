"""core.manifest.cached_manifest: the cached copy without the network (the TUI paints it before revalidating)."""

from __future__ import annotations

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.manifest import _store_dir, cached_manifest
from onnxhub_tui.core.sources import parse_repo_spec

REPO = "acme/models:main"
MANIFEST = "ONNX_HUB_MANIFEST.json"


def test_cached_manifest_reads_the_copy_without_the_network(server, cache_dir):
    source = parse_repo_spec(REPO)
    assert cached_manifest(source, cache_dir) is None  # nothing cached yet
    with Hub(REPO, cache_dir) as hub:
        loaded = hub.manifest()
    hits = len(server.hits_for(MANIFEST))
    copy = cached_manifest(source, cache_dir)
    assert copy is not None and copy.state == "cached"
    assert [(e.model, e.opset, e.model_path) for e in copy.entries] == [
        (e.model, e.opset, e.model_path) for e in loaded.entries]
    assert len(server.hits_for(MANIFEST)) == hits  # no request
    assert cached_manifest(source, cache_dir, max_bytes=10) is None  # over the limit: not read
    body = _store_dir(cache_dir) / f"{source.slug}.json"
    body.write_bytes(body.read_bytes()[:-5])  # damaged: its sha256 no longer matches
    assert cached_manifest(source, cache_dir) is None


def test_cached_manifest_is_none_for_a_local_folder(hub_tree, cache_dir):
    assert cached_manifest(parse_repo_spec(str(hub_tree.root)), cache_dir) is None
