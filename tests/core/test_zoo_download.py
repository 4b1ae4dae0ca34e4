"""A new-zoo entry downloads from the Hugging Face mirror (onnxmodelzoo/legacy_models) at its zoo path
first, and its Git LFS pointer's SHA-256 verifies whatever answers (issue 11, done-when 3)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.core import zoo
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import HashMismatchError, ModelNotFoundError
from onnxhub_tui.core.manifest import ModelInfo
from onnxhub_tui.core.zooindex import index_bytes, index_data
from tests.support.hubserver import Fault, start_server
from tests.support.hubtree import tiny_model
from tests.support.zoodata import write_pointer, write_stats

EXPORT = "Computer_Vision/tiny_Opset13_timm/tiny_Opset13.onnx"
SKIPPED = "Computer_Vision/skip/wide_Opset14_torch_hub/wide_Opset14.onnx"


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Real small models on a loopback server at Hugging Face paths (and GitHub LFS paths for the zoo);
    a pointer checkout of the same files, indexed as the shipped index is."""
    real = {EXPORT: tiny_model(13).SerializeToString(), SKIPPED: tiny_model(14, width=8, seed=3).SerializeToString()}
    served = tmp_path / "srv"
    checkout = tmp_path / "checkout"
    for rel, data in real.items():
        for folder in (served / "onnxmodelzoo" / "legacy_models" / "main", served / "onnx" / "models" / "main"):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        write_pointer(checkout / rel, data)
        name = Path(rel).parent.name
        write_stats(checkout / Path(rel).parent, name=name.split("_Opset")[0], opset=int(name.split("Opset")[1][:2]))
    manifest = [{"model": "Tiny", "model_path": "validated/tiny/model/tiny-7.onnx", "opset_version": 7,
                 "metadata": {"model_sha": "0" * 64, "model_bytes": 1}}]
    (checkout / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(manifest))
    (served / "onnx" / "models" / "main" / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(manifest))
    index = tmp_path / "zoo.json.gz"
    index.write_bytes(index_bytes(index_data(checkout, made_from="test")[0]))
    running = start_server(served)
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", running.url + "/raw")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", running.url + "/lfs")
    monkeypatch.setenv("HF_ENDPOINT", running.url)
    monkeypatch.setattr(zoo, "index_path", lambda: index)  # the shipped index names files too big to serve
    yield running, zoo.zoo_entries(index), real
    running.stop()


def _merged(hub: Hub, entries: list[ModelInfo]) -> list[ModelInfo]:
    return zoo.with_zoo(hub.manifest().entries, hub.source, zoo=entries)


def test_a_new_zoo_entry_comes_from_the_hugging_face_mirror_first(mirror, tmp_path):
    server, entries, real = mirror
    with Hub("onnx/models:main", tmp_path / "cache", zoo=False) as hub:
        merged = _merged(hub, entries)
        assert [e.model for e in merged] == ["Tiny", "wide_Opset14_torch_hub", "tiny_Opset13_timm"]  # path order
        entry = next(e for e in merged if e.model_path == EXPORT)
        assert zoo.tier_of(entry) == "exports" and entry.opset == 13
        path = hub.download(entry)
    assert path.read_bytes() == real[EXPORT]
    onnx.checker.check_model(onnx.load(str(path)))
    model_hits = [h.path for h in server.hits if h.path.endswith(".onnx")]
    assert model_hits == [f"/onnxmodelzoo/legacy_models/resolve/main/{EXPORT}"]


def test_the_pointers_sha256_rejects_wrong_bytes_from_the_mirror_and_verifies_the_fallback(mirror, tmp_path):
    server, entries, real = mirror
    server.add_fault("legacy_models", Fault("wrong_bytes", times=-1))
    with Hub("onnx/models:main", tmp_path / "cache", zoo=False) as hub:
        entry = next(e for e in _merged(hub, entries) if e.model_path == SKIPPED)
        assert zoo.tier_of(entry) == "skipped"
        path = hub.download(entry)
    assert path.read_bytes() == real[SKIPPED]  # GitHub LFS answered with the right bytes
    model_hits = [h.path for h in server.hits if h.path.endswith(".onnx")]
    assert model_hits[0] == f"/onnxmodelzoo/legacy_models/resolve/main/{SKIPPED}"
    assert model_hits[-1] == f"/lfs/onnx/models/main/{SKIPPED}"
    server.add_fault("/lfs/", Fault("wrong_bytes", times=-1))
    with Hub("onnx/models:main", tmp_path / "cache2", zoo=False) as hub, pytest.raises(HashMismatchError):
        hub.download(next(e for e in _merged(hub, entries) if e.model_path == EXPORT))
    assert not list((tmp_path / "cache2").rglob("*tiny_Opset13.onnx"))  # no corrupt file kept


def test_an_archive_only_model_downloads_extracts_and_loads_with_its_external_data(tmp_path, monkeypatch):
    import io
    import tarfile

    from onnxhub_tui.core.modelio import load_model

    model = tiny_model(17, width=64, seed=5)
    folder = tmp_path / "build" / "huge_Opset17"
    folder.mkdir(parents=True)
    onnx.save(model, folder / "huge_Opset17.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="huge_Opset17.data", size_threshold=0)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="huge_Opset17")
    archive = buffer.getvalue()
    rel = "Natural_Language_Processing/huge_Opset17_transformers/huge_Opset17.tar.gz"
    served = tmp_path / "srv" / "onnxmodelzoo" / "legacy_models" / "main" / rel
    served.parent.mkdir(parents=True)
    served.write_bytes(archive)
    checkout = tmp_path / "checkout"
    write_pointer(checkout / rel, archive)
    write_stats(checkout / rel.rsplit("/", 1)[0], name="huge", opset=17, author="transformers")
    (checkout / "ONNX_HUB_MANIFEST.json").write_text("[]")
    index = tmp_path / "zoo.json.gz"
    index.write_bytes(index_bytes(index_data(checkout, made_from="test")[0]))
    running = start_server(tmp_path / "srv")
    monkeypatch.setenv("HF_ENDPOINT", running.url)
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", running.url + "/lfs")
    try:
        (entry,) = zoo.zoo_entries(index)
        assert entry.model == "huge_Opset17_transformers" and entry.metadata["archive_only"]
        with Hub("onnx/models:main", tmp_path / "cache", zoo=False) as hub:
            extracted = hub.download(entry, with_data=True)
        path = zoo.archive_model_path(extracted, entry)
        assert path.name == "huge_Opset17.onnx" and (path.parent / "huge_Opset17.data").is_file()
        loaded, _ = load_model(path)
        assert loaded.graph.initializer[0].raw_data  # the external data was read in
        assert [h.path for h in running.hits if h.path.endswith(".tar.gz")] == \
            [f"/onnxmodelzoo/legacy_models/resolve/main/{rel}"]
    finally:
        running.stop()


def test_archive_model_path_refuses_to_guess(tmp_path):
    from onnxhub_tui.core.errors import HubError

    entry = ModelInfo({"model": "m", "model_path": "a/m_Opset16.tar.gz", "opset_version": 16,
                       "metadata": {"archive_only": True}})
    with pytest.raises(HubError, match="cannot tell which model .* none"):
        zoo.archive_model_path(tmp_path, entry)
    for name in ("a.onnx", "b.onnx"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(HubError, match="a.onnx, b.onnx"):
        zoo.archive_model_path(tmp_path, entry)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m_Opset16.onnx").write_bytes(b"x")
    assert zoo.archive_model_path(tmp_path, entry) == tmp_path / "sub" / "m_Opset16.onnx"


def test_hub_load_of_a_new_zoo_entry_needs_the_opt_in_then_comes_from_the_mirror(mirror, cache_dir):
    from onnxhub_tui import hub

    server, _entries, real = mirror
    with pytest.raises(ModelNotFoundError):
        hub.load("tiny_Opset13_timm")
    model = hub.load("TINY_opset13_timm", repo="onnx/models:main+zoo")
    assert model.SerializeToString() == real[EXPORT]
    assert [h.path for h in server.hits if h.path.endswith(".onnx")] == [f"/onnxmodelzoo/legacy_models/resolve/main/{EXPORT}"]
    assert [m.model for m in hub.list_models(repo="onnx/models:main+zoo")] == \
        ["Tiny", "wide_Opset14_torch_hub", "tiny_Opset13_timm"]
    assert [m.model for m in hub.list_models()] == ["Tiny"]
