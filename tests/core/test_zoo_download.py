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


ARCHIVE = "Natural_Language_Processing/huge_Opset17_transformers/huge_Opset17.tar.gz"


@pytest.fixture
def archive_zoo(tmp_path, monkeypatch):
    """An archive-only zoo model (a .tar.gz of the model and its external data) on a loopback mirror,
    indexed from a pointer checkout as the shipped index is; the zoo's manifest names nothing else."""
    import io
    import tarfile

    from onnx import numpy_helper

    model = tiny_model(17, width=64, seed=5)
    weights = {t.name: numpy_helper.to_array(t).tobytes() for t in model.graph.initializer}
    folder = tmp_path / "build" / "huge_Opset17"
    folder.mkdir(parents=True)
    onnx.save(model, folder / "huge_Opset17.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="huge_Opset17.data", size_threshold=0)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="huge_Opset17")
    archive = buffer.getvalue()
    served = tmp_path / "srv" / "onnxmodelzoo" / "legacy_models" / "main" / ARCHIVE
    served.parent.mkdir(parents=True)
    served.write_bytes(archive)
    (tmp_path / "srv" / "onnx" / "models" / "main").mkdir(parents=True)
    (tmp_path / "srv" / "onnx" / "models" / "main" / "ONNX_HUB_MANIFEST.json").write_text("[]")
    checkout = tmp_path / "checkout"
    write_pointer(checkout / ARCHIVE, archive)
    write_stats(checkout / ARCHIVE.rsplit("/", 1)[0], name="huge", opset=17, author="transformers")
    (checkout / "ONNX_HUB_MANIFEST.json").write_text("[]")
    index = tmp_path / "zoo.json.gz"
    index.write_bytes(index_bytes(index_data(checkout, made_from="test")[0]))
    running = start_server(tmp_path / "srv")
    monkeypatch.setenv("HF_ENDPOINT", running.url)
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", running.url + "/raw")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", running.url + "/lfs")
    monkeypatch.setattr(zoo, "index_path", lambda: index)
    yield running, zoo.zoo_entries(index)[0], weights, served
    running.stop()


def test_an_archive_only_model_downloads_extracts_and_loads_with_its_external_data(archive_zoo, tmp_path):
    from onnxhub_tui.core.modelio import load_model

    running, entry, _model, _served = archive_zoo
    assert entry.model == "huge_Opset17_transformers" and entry.metadata["archive_only"]
    with Hub("onnx/models:main", tmp_path / "cache", zoo=False) as hub:
        extracted = hub.download(entry, with_data=True)
        model_path = hub.download(entry)  # without with_data: the model inside, extracted
    path = zoo.archive_model_path(extracted, entry)
    assert path == model_path and path.name == "huge_Opset17.onnx" and (path.parent / "huge_Opset17.data").is_file()
    loaded, _ = load_model(path)
    assert loaded.graph.initializer[0].raw_data  # the external data was read in
    assert [h.path for h in running.hits if h.path.endswith(".tar.gz")] == \
        [f"/onnxmodelzoo/legacy_models/resolve/main/{ARCHIVE}"]  # fetched once


def test_hub_load_of_an_archive_only_model_reads_the_extracted_model_and_checks_the_archive(archive_zoo, cache_dir):
    from onnx import numpy_helper

    from onnxhub_tui import hub
    from onnxhub_tui.core.errors import HubError

    running, entry, expected, _served = archive_zoo
    for _ in range(2):  # downloaded and extracted, then from the cache (its archive hashed)
        loaded = hub.load("HUGE_opset17_transformers", repo="onnx/models:main+zoo")
        assert {t.name: numpy_helper.to_array(t).tobytes() for t in loaded.graph.initializer} == expected
        assert all(not t.external_data for t in loaded.graph.initializer)
    assert len([h for h in running.hits if h.path.endswith(".tar.gz")]) == 1
    folder = hub.download_model_with_test_data("huge_Opset17_transformers", repo="onnx/models:main+zoo")
    assert (Path(folder) / "huge_Opset17.onnx").is_file()
    cached = next(cache_dir.rglob("*_huge_Opset17.tar.gz"))
    data = bytearray(cached.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes: only the hash can tell
    cached.write_bytes(bytes(data))
    with pytest.raises(HubError, match="SHA256"):
        hub.load("huge_Opset17_transformers", repo="onnx/models:main+zoo")


def test_the_cli_downloads_an_archive_only_model_and_prints_the_extracted_model(archive_zoo, tmp_path, capsys):
    from onnxhub_tui.cli import main  # in-process: the test's index stands in for the shipped one

    running, entry, _weights, _served = archive_zoo
    cache = tmp_path / "cli-cache"
    assert main(["download", "huge_Opset17_transformers", "--cache-dir", str(cache), "--yes"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed.name == "huge_Opset17.onnx" and printed.is_file() and cache in printed.parents
    assert (printed.parent / "huge_Opset17.data").is_file()
    assert main(["download", "huge_Opset17_transformers", "--cache-dir", str(cache), "--with-data"]) == 0
    assert Path(capsys.readouterr().out.strip()) == printed.parent  # the folder holding it
    assert main(["info", "huge_Opset17_transformers", "--cache-dir", str(cache), "--json", "--offline"]) == 0
    model = json.loads(capsys.readouterr().out)["model"]
    assert model["origins"] == {"inputs": "file", "outputs": "file", "header": "file"}  # the extracted model
    assert model["io_ports"]["inputs"][0]["type"].startswith("tensor(")
    assert model["header"]["external_data"] == ["huge_Opset17.data"]
    assert len([h for h in running.hits if h.path.endswith(".tar.gz")]) == 1


def test_the_zoo_suffix_is_for_the_zoo_only(archive_zoo, tmp_path):
    from onnxhub_tui.core.errors import RepoSpecError

    with Hub("onnx/models:main+zoo", tmp_path / "cache", zoo=False) as hub:
        assert hub.source.spec == "onnx/models:main" and hub.zoo
        assert [e.model for e in hub.manifest().entries] == ["huge_Opset17_transformers"]
    for spec in ("acme/models:main+zoo", "onnx/models:v1+zoo", "hf:onnx/models+zoo"):
        with pytest.raises(RepoSpecError, match=r"\+zoo .* is for onnx/models at main or at b1eeaa1a only"):
            Hub(spec, tmp_path / "cache")


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
