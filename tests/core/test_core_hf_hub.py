"""``Hub`` over a manifest-less Hugging Face repo (issue 12's wiring), against the loopback Hub and CDN of
tests/support/hfhub.py: entries from the listing, downloads with their external data, the model and
its data as one cache item, a manifest hub's prune never touching ``hf/``, offline from the cached listing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnx.reference
import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import Hint, OfflineError, render
from onnxhub_tui.core.hf_api import HfGatedRepoError
from onnxhub_tui.core.modelio import load_model, uses_external_data_anywhere
from tests.support.hfenv import fake_hf_hub
from tests.support.hfhub import FakeRepo, HubWithRepo
from tests.support.hfmodels import nested_model, save_with_data

SPEC = "hf:acme/onnx-models"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubWithRepo]:
    yield from fake_hf_hub(tmp_path, monkeypatch)


@pytest.fixture
def hub(fake: HubWithRepo, tmp_path: Path) -> Iterator[Hub]:
    with Hub(SPEC, tmp_path / "cache", offline=False) as h:
        yield h


def test_entries_come_from_the_listing_with_its_sha256(hub: Hub, fake: HubWithRepo) -> None:
    manifest = hub.manifest()
    by_name = {e.model: e for e in manifest.entries}
    assert set(by_name) == {"onnx/model", "onnx/model_quantized", "tiny", "decoder/decoder_model"}
    import hashlib

    assert by_name["onnx/model"].model_sha == hashlib.sha256(fake.files["onnx/model.onnx"]).hexdigest()
    assert by_name["onnx/model"].label == "onnx/model (opset ?)"  # unknown, not "opset 0"
    assert hub.listing is not None and len({hub.listing.commit}) == 1
    assert manifest.source.spec == "hf:acme/onnx-models:main"


def test_download_fetches_the_external_data_and_onnx_loads_it(hub: Hub, fake: HubWithRepo) -> None:
    entry = hub.manifest().find("onnx/model", None)
    before = hub.files_of(entry)
    assert [f.path for f in before] == ["onnx/model.onnx", "onnx/model.onnx_data"]  # by name only
    assert not before[1].named and all(f.local is None for f in before)
    path = hub.download(entry)
    assert path == hub.cache_dir / "hf" / "acme" / "onnx-models" / hub.listing.commit / "onnx" / "model.onnx"
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    x = np.zeros(512, dtype=np.float32)
    (y,) = onnx.reference.ReferenceEvaluator(model).run(None, {"x": x})
    assert float(y[0]) == 3.0  # W1 (1.0) + W2 (2.0): both data files, one in a subfolder
    after = hub.files_of(entry)
    assert [(f.kind, f.path, f.named) for f in after] == [
        ("model", "onnx/model.onnx", True), ("data", "onnx/model.onnx_data", True),
        ("data", "onnx/weights/extra.bin", True)]
    assert all(f.local is not None and f.local.stat().st_size == f.size for f in after)
    assert hub.local_copy(entry).state == "complete" and hub.cached_states() == {"onnx/model.onnx": "complete"}
    extra = after[2].local
    extra.unlink()
    assert hub.local_copy(entry).state == "partial"
    assert hub.download(entry) == path and extra.is_file()  # the missing data file fetched again


def test_cache_is_one_item_per_model_and_rm_deletes_model_and_data(hub: Hub) -> None:
    entry = hub.manifest().find("onnx/model", None)
    files = [hub.download(entry)]
    files += [f.local for f in hub.files_of(entry)[1:]]
    report = hub.cache_report()
    items = [f for f in report.files if f.entry is not None]
    assert len(items) == 1 and items[0].size == sum(p.stat().st_size for p in files)
    assert {m.path for m in items[0].members} == set(files)
    assert cache.verify(items[0]).ok is True
    assert cache.prunable(report) == []
    picked = cache.select(report, "onnx/model")
    assert picked == items
    result = cache.execute(cache.plan_delete(report, picked))
    assert result.deleted == items and not result.errors and result.freed == items[0].size
    assert not any(p.exists() for p in files)
    assert hub.local_copy(entry).state is None


def test_verify_finds_a_changed_data_file(hub: Hub) -> None:
    entry = hub.manifest().find("decoder/decoder_model", None)
    hub.download(entry)
    data = hub.files_of(entry)[1].local
    body = bytearray(data.read_bytes())
    body[0] ^= 0xFF
    data.write_bytes(bytes(body))
    (item,) = [f for f in hub.cache_report().files if f.entry is not None]
    result = cache.verify(item)
    assert result.ok is False and "decoder_model.onnx.data" in result.message


def test_tiny_outside_lfs_is_verified_by_git_sha1(hub: Hub) -> None:
    entry = hub.manifest().find("tiny", None)
    assert entry.model_sha is None
    path = hub.download(entry)
    onnx.checker.check_model(onnx.load(str(path)))
    (item,) = [f for f in hub.cache_report().files if f.entry is not None]
    assert cache.verify(item).ok is True
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    assert cache.verify(item).ok is False


def test_prune_scopes(hub: Hub, tmp_path: Path) -> None:
    """An hf hub's prune takes orphans under its own hf/<owner>/<repo>/ only; a manifest hub's, none of hf/."""
    hub.download(hub.manifest().find("tiny", None))
    mine = hub.cache_dir / "hf" / "acme" / "onnx-models" / ("0" * 40) / "old.onnx"
    other = hub.cache_dir / "hf" / "someone" / "else" / ("1" * 40) / "model.onnx"
    for p in (mine, other):
        p.parent.mkdir(parents=True)
        p.write_bytes(b"x")
    pruned = {f.path for f in cache.prunable(hub.cache_report())}
    assert pruned == {mine}
    from onnxhub_tui.core.manifest import ModelInfo

    # a manifest hub, even one whose paths fall under hf/, never calls those files its orphans
    entries = [ModelInfo({"model": "x", "model_path": f"hf/someone/else/{'1' * 40}/x.onnx", "opset_version": 1,
                          "metadata": {"model_sha": None}})]
    assert cache.manifest_folders(entries) == set()
    assert not any(f.path in (mine, other) for f in cache.prunable(cache.scoped_report(hub.cache_dir, entries)))


def test_offline_uses_the_cached_listing(hub: Hub, monkeypatch: pytest.MonkeyPatch, fake: HubWithRepo) -> None:
    entry = hub.manifest().find("tiny", None)
    path = hub.download(entry)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with Hub(SPEC, hub.cache_dir) as offline:
        assert offline.offline
        hits = len(fake.hub.hits)
        assert offline.manifest().state == "offline"
        assert offline.download(offline.manifest().find("tiny", None)) == path
        assert len(fake.hub.hits) == hits  # not one request
    with Hub(SPEC, hub.cache_dir.parent / "empty") as empty, pytest.raises(OfflineError, match="HF_HUB_OFFLINE"):
        empty.manifest()


def test_a_repo_with_a_manifest_uses_it_at_the_listings_commit(fake: HubWithRepo, tmp_path: Path) -> None:
    import hashlib

    data = fake.files["tiny.onnx"]
    manifest = [{"model": "Tiny", "model_path": "tiny.onnx", "opset_version": 13, "onnx_version": "1.14",
                 "metadata": {"model_sha": hashlib.sha256(data).hexdigest(), "model_bytes": len(data), "tags": []}}]
    fake.hub.add(FakeRepo("acme/with-manifest", {"tiny.onnx": data,
                                                 "ONNX_HUB_MANIFEST.json": json.dumps(manifest).encode()}))
    with Hub("hf:acme/with-manifest", tmp_path / "cache", offline=False) as h:
        entry = h.manifest().find("tiny", None)
        assert entry.label == "Tiny (opset 13)" and h.listing is None
        path = h.download(entry)
        assert path.read_bytes() == data and "/hf/" not in path.as_posix()  # onnx.hub's layout, as any hub
        commit = fake.hub.repos["acme/with-manifest"].branches["main"]
        assert fake.hub.hits_on("hub", f"/resolve/{commit}/ONNX_HUB_MANIFEST.json")


def test_gated_repo_is_one_line_naming_hf_token(fake: HubWithRepo, tmp_path: Path, monkeypatch) -> None:
    from onnxhub_tui.cli.output import CLI_TERMS

    fake.hub.add(FakeRepo("acme/gated", {"m.onnx": b"x" * 2000}, gated=True))
    monkeypatch.delenv("HF_TOKEN")
    with Hub("hf:acme/gated", tmp_path / "cache", offline=False) as h, pytest.raises(HfGatedRepoError) as info:
        h.manifest()
    assert Hint.HF_TOKEN in info.value.hints
    text = render(info.value, CLI_TERMS)
    assert "\n" not in text and text.count("HF_TOKEN") == 1 and "accept its terms" in text


def test_external_data_in_node_attributes_is_loaded(tmp_path: Path) -> None:
    """modelio looked at top-level initializers only: a Constant's or an If branch's data stayed out."""
    model = nested_model()
    save_with_data(model, tmp_path, "nested.onnx", {"C": "c.bin", "B": "b.bin", "B2": "b.bin"})
    loaded = onnx.load(str(tmp_path / "nested.onnx"), load_external_data=False)
    assert uses_external_data_anywhere(loaded)
    proto, _ = load_model(tmp_path / "nested.onnx")
    assert not uses_external_data_anywhere(proto)
    onnx.checker.check_model(proto)


def test_settings_read_the_hf_token_rules_and_offline(tmp_path: Path) -> None:
    from onnxhub_tui.core import settings

    home = tmp_path / "hf-home"
    home.mkdir()
    (home / "token").write_text("file-token\n")
    s = settings.load({"HF_HOME": str(home)})
    assert (s.hf_token, s.hf_token_origin, s.hf_offline) == ("file-token", str(home / "token"), False)
    s = settings.load({"HF_HOME": str(home), "HUGGING_FACE_HUB_TOKEN": "legacy", "HF_HUB_OFFLINE": "1"})
    assert (s.hf_token, s.hf_token_origin, s.hf_offline) == ("legacy", "HUGGING_FACE_HUB_TOKEN", True)
    assert "legacy" not in repr(s)
    with pytest.raises(settings.SettingsError, match="HF_ENDPOINT"):
        from onnxhub_tui.core.hf_env import hf_env

        hf_env({"HF_ENDPOINT": "not a url"})
