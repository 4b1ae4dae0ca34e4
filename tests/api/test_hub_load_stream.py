"""hub.load parses a model it downloads while the bytes arrive (core/modelio.ModelStream): the verified
file is not read again, the model is the one onnx.load reads, and a cached copy is still hashed."""

from __future__ import annotations

import onnx
import pytest

from onnxhub_tui import hub
from onnxhub_tui.core import modelio
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import HubError

REPO = "acme/models:main"


def _no_file_parse(*args, **kwargs):
    raise AssertionError("the downloaded file was parsed again")


def test_a_fresh_download_is_parsed_from_the_stream_not_the_file(server, cache_dir, monkeypatch):
    monkeypatch.setattr(modelio, "_parse_file", _no_file_parse)
    model = hub.load("mnist", REPO, silent=True)
    (path,) = cache_dir.rglob("*mnist-12.onnx")
    assert model.SerializeToString() == onnx.load(str(path)).SerializeToString()
    again = hub.load("mnist", REPO, force_reload=True, silent=True)  # force: downloaded, streamed again
    assert again.SerializeToString() == model.SerializeToString()


def test_a_cached_copy_is_read_and_hashed(server, cache_dir):
    hub.load("mnist", REPO, silent=True)
    (path,) = cache_dir.rglob("*mnist-12.onnx")
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # same size, other bytes: only the hash can tell
    path.write_bytes(bytes(data))
    with pytest.raises(HubError, match="SHA256"):
        hub.load("mnist", REPO, silent=True)


def test_on_chunk_sees_the_file_in_order(server, hub_tree, tmp_path):
    seen: list[tuple[int, bytes]] = []
    with Hub(REPO, tmp_path / "cache") as h:
        path = h.download(h.manifest().find("MNIST"), on_chunk=lambda offset, chunk: seen.append((offset, chunk)))
    data = path.read_bytes()
    assert seen and seen[0][0] == 0
    assert all(a[0] + len(a[1]) == b[0] for a, b in zip(seen, seen[1:]))
    assert b"".join(chunk for _, chunk in seen) == data
