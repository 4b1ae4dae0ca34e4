"""hub.load parses the file it has just downloaded and verified without hashing it again; a cached copy is
hashed as it is parsed, and one whose bytes changed (same size) is refused."""

from __future__ import annotations

import onnx
import pytest

from onnxhub_tui import hub
from onnxhub_tui.core import modelio
from onnxhub_tui.core.errors import HubError

REPO = "acme/models:main"


@pytest.fixture
def parses(monkeypatch):
    """Whether each file parse of this test hashed its file (its hasher argument)."""
    hashed: list[bool] = []
    real = modelio._parse_file

    def spy(path, model, hasher):
        hashed.append(hasher is not None)
        return real(path, model, hasher)

    monkeypatch.setattr(modelio, "_parse_file", spy)
    return hashed


def test_a_fresh_download_is_parsed_without_hashing_it_again(server, cache_dir, parses):
    model = hub.load("mnist", REPO, silent=True)
    (path,) = cache_dir.rglob("*mnist-12.onnx")
    assert model.SerializeToString() == onnx.load(str(path)).SerializeToString()
    again = hub.load("mnist", REPO, force_reload=True, silent=True)  # force: downloaded and verified again
    assert again.SerializeToString() == model.SerializeToString()
    assert parses == [False, False]


def test_a_cached_copy_is_hashed_and_a_changed_one_refused(server, cache_dir, parses):
    hub.load("mnist", REPO, silent=True)
    assert hub.load("mnist", REPO, silent=True) is not None
    (path,) = cache_dir.rglob("*mnist-12.onnx")
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # same size, other bytes: only the hash can tell
    path.write_bytes(bytes(data))
    with pytest.raises(HubError, match="SHA256"):
        hub.load("mnist", REPO, silent=True)
    assert parses == [False, True, True]
