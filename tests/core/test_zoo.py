"""The whole zoo (issue 11): the shipped index, the merge with the manifest, tiers and query tokens,
names users can type, and onnx.hub parity (the manifest's 184 unless the API opts in)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from onnxhub_tui import hub
from onnxhub_tui.core import zoo
from onnxhub_tui.core.errors import ManifestError, ModelNotFoundError, QueryError
from onnxhub_tui.core.manifest import ModelInfo, parse_manifest
from onnxhub_tui.core.query import FIELDS, parse_query
from onnxhub_tui.core.sources import parse_repo_spec
from tests.conftest import subprocess_env
from tests.support.hubserver import start_server
from tests.support.zoodata import need_tarball

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).with_name("onnxhub-tui")
MAIN = parse_repo_spec("onnx/models:main")


@pytest.fixture(scope="module")
def manifest_entries() -> list[ModelInfo]:
    from tests.conftest import SHARED_MANIFEST

    if not SHARED_MANIFEST.is_file():
        pytest.skip(f"the real onnx/models manifest is not at {SHARED_MANIFEST} (../shared is absent)")
    return parse_manifest(SHARED_MANIFEST.read_bytes(), "real").entries


@pytest.fixture(scope="module")
def merged(manifest_entries) -> list[ModelInfo]:
    return zoo.with_zoo(manifest_entries, MAIN)


@pytest.mark.slow
def test_the_shipped_index_is_what_the_script_makes_from_the_tarball(tmp_path):
    tarball = need_tarball()
    out = tmp_path / "index.json.gz"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_zoo_index.py"), str(tarball), "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == zoo.index_path().read_bytes(), "rebuild the index: scripts/build_zoo_index.py"


def test_the_index_holds_every_file_the_manifest_does_not_name():
    entries = zoo.zoo_entries()
    header = zoo.index_header()
    assert header["commit"] == zoo.ZOO_COMMIT and header["manifest_entries"] == 184
    assert len(entries) == 2141 + 52 == header["counts"]["entries"]
    assert sum(1 for e in entries if e.model_path.endswith(".onnx")) == 2141
    archive_only = [e for e in entries if e.metadata.get("archive_only")]
    assert len(archive_only) == 52 and all(e.model_path == e.model_with_data_path for e in archive_only)
    assert Counter(zoo.tier_of(e) for e in entries) == {"exports": 1549, "skipped": 638, "validated": 6}
    for e in entries:
        assert re.fullmatch(r"[0-9a-f]{64}", e.model_sha or ""), e.model_path
        assert e.model_bytes and e.model_bytes > 0
        assert ("/skip/" in e.model_path) == (zoo.tier_of(e) == "skipped")
    pegasus = next(e for e in entries if e.model == "pegasus_Opset16_transformers")
    assert pegasus.metadata["archive_only"] and pegasus.opset == 16
    assert pegasus.model_bytes > 2 * 10**9  # the 2.x GB archive, known from its pointer alone
    adv = next(e for e in entries if e.model == "adv_inception_v3_Opset16_timm")
    assert adv.inputs[0].name == "x" and adv.inputs[0].shape == (1, 3, 299, 299)
    assert adv.metadata["io_ports"]["inputs"][0]["type"] is None  # unknown, never guessed
    assert dict(zoo.facts(adv))["author"] == "timm"
    assert dict(zoo.facts(adv))["parameters"] == "23.8M (23,834,568)"
    assert dict(zoo.facts(adv))["top operators"].startswith("Conv 94, Relu 94")
    assert dict(zoo.facts(adv))["unknown until downloaded"] == "input types, input order, outputs"


def test_the_index_is_small_and_loads_lazily_in_milliseconds():
    assert zoo.index_path().stat().st_size < 400_000
    code = (
        "import time\n"
        "from onnxhub_tui.core import client, query, zoo\n"
        "assert zoo._load.cache_info().currsize == 0, 'importing the core read the index'\n"
        "t = time.perf_counter(); n = len(zoo.zoo_entries()); first = time.perf_counter() - t\n"
        "t = time.perf_counter(); zoo.zoo_entries(); again = time.perf_counter() - t\n"
        "print(n, first, again)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    n, first, again = out.stdout.split()
    assert int(n) == 2193
    assert float(first) < 0.5, f"first load {float(first) * 1e3:.0f} ms"  # ~30 ms on a quiet machine
    assert float(again) < 0.01


def _index_with(tmp_path: Path, header_change=None, block_change=None) -> Path:
    """The shipped index with its header or its second block of full entries altered."""
    from onnxhub_tui.core.zooindex import _gzip, _json

    raw = zoo.index_path().read_bytes()
    inflate = zlib.decompressobj(31)
    header = json.loads(inflate.decompress(raw))
    rest = bytearray(inflate.unused_data)
    if block_change:
        block_change(rest, header["facts_blocks"][0])  # the second block starts where the first one ends
    if header_change:
        header_change(header)
    path = tmp_path / "index.json.gz"
    path.write_bytes(_gzip(_json(header)) + bytes(rest))
    return path


def test_a_damaged_block_of_full_entries_is_a_clear_error_and_spares_the_others(tmp_path):
    def damage(rest: bytearray, second_starts: int) -> None:
        rest[second_starts + 40] ^= 0xFF

    entries = zoo.zoo_entries(_index_with(tmp_path, block_change=damage))
    assert len(entries) == 2193 and entries[0].metadata["tier"]  # the rows and the first block are whole
    with pytest.raises(ManifestError, match="cannot be read.*reinstall onnxhub-tui"):
        entries[zoo.FACTS_BLOCK].metadata


@pytest.mark.parametrize("change", [
    lambda h: h["facts_blocks"].pop(),  # a block missing
    lambda h: h["facts_blocks"].__setitem__(0, h["facts_blocks"][0] + 1),  # sizes that do not add up
    lambda h: h.pop("facts_blocks"),  # a format 3 index
])
def test_an_index_whose_blocks_do_not_fit_is_refused_at_load(tmp_path, change):
    with pytest.raises(ManifestError, match="not an index of format"):
        zoo.zoo_entries(_index_with(tmp_path, header_change=change))


def test_names_are_unique_per_opset_and_never_a_manifest_name(manifest_entries, merged):
    assert len(merged) == 184 + 2193
    manifest_names = {e.model.lower() for e in manifest_entries}
    added = merged[184:]
    assert not manifest_names & {e.model.lower() for e in added}
    versions = Counter((e.model.lower(), e.opset) for e in added)
    assert max(versions.values()) == 1
    names = {e.model for e in added}
    assert {"alexnet_Opset16_torch_hub", "alexnet_Opset18_torch_hub", "adv_inception_v3_Opset16_timm",
            "age_googlenet"} <= names


def test_with_zoo_is_for_onnx_models_at_main_and_at_its_last_commit_only(manifest_entries):
    for spec in ("onnx/models:main", "onnx/models", "onnx/models:b1eeaa1", "onnx/models:b1eeaa1a" + "0" * 32,
                 "onnx/models:B1EEAA1A"):
        assert len(zoo.with_zoo(manifest_entries, parse_repo_spec(spec))) == 2377, spec
    for spec in ("onnx/models:v1.0", "onnx/models:b1eeaa2", "onnx/models:b1eeaa1b", "onnx/models:Main", "acme/models:main", "hf:onnx/models", "http://127.0.0.1:1/"):
        assert zoo.with_zoo(manifest_entries, parse_repo_spec(spec)) == manifest_entries, spec


def test_the_manifest_wins_where_both_name_a_file_and_clashing_names_are_renamed(manifest_entries):
    adv = next(e for e in zoo.zoo_entries() if e.model == "adv_inception_v3_Opset16_timm")
    mine = ModelInfo({"model": "Mine", "model_path": adv.model_path, "opset_version": 16,
                      "metadata": {"model_sha": "1" * 64, "model_bytes": 1}})
    clash = ModelInfo({"model": "ALEXNET_opset16_torch_hub", "model_path": "elsewhere/a.onnx", "opset_version": 7,
                       "metadata": {"model_sha": "2" * 64, "model_bytes": 2}})
    merged = zoo.with_zoo([mine, clash], MAIN)
    assert [e.model for e in merged if e.model_path == adv.model_path] == ["Mine"]
    assert merged[0].model_sha == "1" * 64 and zoo.tier_of(merged[0]) == "validated"
    names = {e.model for e in merged}
    assert "alexnet_Opset16_torch_hub_zoo" in names and "alexnet_Opset16_torch_hub" not in names
    assert len(merged) == 2 + 2193 - 1


def test_tier_author_task_and_params_tokens(merged):
    def count(text: str) -> int:
        return len(parse_query(text).filter(merged))

    assert count("tier:validated") == 184 + 6
    assert count("tier:exports") == 1549 and count("tier:skip") == 638
    assert count("-tier:skipped") == len(merged) - 638
    assert count("author:timm") == sum(1 for e in merged if e.metadata.get("turnkey", {}).get("author") == "timm") > 1000
    assert count("author:TORCH_hub") == sum(1 for e in merged if "torch_hub" in e.model_path)
    assert count("task:natural") == count("task:Natural_Language_Processing") > 100
    big = parse_query("params:>1B").filter(merged)
    assert big and all(e.metadata["turnkey"]["parameters"] > 1e9 for e in big)
    assert count("params:>1M") > count("params:>100M") > count("params:>1B") > 0
    assert count("params:<=1k") == 0  # the manifest's entries have no parameter count: no match
    assert count("alexnet author:torch_hub") == 3 and count("alexnet tier:exports author:torch_hub") == 2
    with pytest.raises(QueryError, match="the tiers are validated, exports, skipped"):
        parse_query("tier:golden")
    with pytest.raises(QueryError, match="params:>1X: unknown unit 'x'"):
        parse_query("params:>1X")
    assert {"tier", "author", "task", "params"} <= set(FIELDS)  # the unknown-field error lists them


@pytest.fixture
def zoo_server(tmp_path, monkeypatch, manifest_entries):
    from tests.conftest import SHARED_MANIFEST

    target = tmp_path / "srv" / "onnx" / "models" / "main"
    target.mkdir(parents=True)
    (target / "ONNX_HUB_MANIFEST.json").write_bytes(SHARED_MANIFEST.read_bytes())
    running = start_server(tmp_path / "srv")
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", running.url + "/raw")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", running.url + "/lfs")
    monkeypatch.setenv("HF_ENDPOINT", running.url)
    yield running
    running.stop()


def test_the_api_sees_the_manifest_unless_it_opts_in(zoo_server, cache_dir):
    assert len(hub.list_models()) == 184
    assert hub.get_model_info("AlexNet").model_path.startswith("validated/")
    with pytest.raises(ModelNotFoundError):
        hub.get_model_info("alexnet_Opset16_torch_hub")
    whole = hub.list_models(repo="onnx/models:main+zoo")
    assert len(whole) == 2377
    info = hub.get_model_info("ALEXNET_opset16_TORCH_HUB", repo="onnx/models:main+zoo")
    assert info.model == "alexnet_Opset16_torch_hub" and zoo.tier_of(info) == "exports"
    assert hub.get_model_info("AlexNet", repo="onnx/models:main+zoo").model_path.startswith("validated/")
    assert len(hub.list_models(repo="onnx/models:main+zoo", tags=["Graph_Machine_Learning"])) == 20


def test_the_cli_lists_the_whole_zoo_for_onnx_models(zoo_server, cache_dir):
    env = subprocess_env(zoo_server, cache_dir, ONNXHUB_GITHUB_RAW_URL=zoo_server.url + "/raw",
                         ONNXHUB_GITHUB_LFS_URL=zoo_server.url + "/lfs", HF_ENDPOINT=zoo_server.url)
    result = subprocess.run([str(BIN), "list", "--repo", "onnx/models:main", "--json"], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)["models"]
    assert len(models) >= 2300
    new = [m for m in models if not m["path"].startswith("validated/")]
    assert all(re.fullmatch(r"[0-9a-f]{64}", m["sha256"]) and m["bytes"] > 0 for m in new)  # from the LFS pointers
    assert len([m for m in new if m["path"].endswith(".tar.gz")]) == 52  # the archive-only models are there
    pegasus = next(m for m in models if m["model"] == "pegasus_Opset16_transformers")
    assert re.fullmatch(r"[0-9a-f]{64}", pegasus["sha256"]) and pegasus["bytes"] > 2 * 10**9
    timm = subprocess.run([str(BIN), "list", "--repo", "onnx/models:main", "--json", "tier:exports", "author:timm"],
                          env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert timm.returncode == 0, timm.stderr
    assert 1000 < len(json.loads(timm.stdout)["models"]) < 2000


def test_the_cli_info_shows_the_zoo_facts_and_what_is_unknown(zoo_server, cache_dir):
    env = subprocess_env(zoo_server, cache_dir, COLUMNS="100")

    def info(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN), "info", *args], env=env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    text = info("alexnet_Opset16_torch_hub", "--no-remote")
    assert text.returncode == 0, text.stderr
    for row in ("tier", "exports: a 2024 export"), ("author", "torch_hub"), ("task", "Computer_Vision"), \
               ("parameters", "61.1M (61,100,840)"), ("top operators", "Conv 5"), ("source script", "torch_hub"), \
               ("unknown until downloaded", "input types, input order, outputs"):
        assert re.search(rf"^  {re.escape(row[0])} +.*{re.escape(row[1])}", text.stdout, re.M), (row, text.stdout)
    assert '"turnkey"' not in text.stdout  # the facts as rows, not the raw metadata
    assert re.search(r"^  x +\[1, 3, 224, 224\]", text.stdout, re.M)  # the index's input, its type unknown
    js = info("alexnet_Opset16_torch_hub", "--no-remote", "--json")
    model = json.loads(js.stdout)["model"]
    assert model["zoo"]["tier"] == "exports" and model["zoo"]["tier_meaning"] == zoo.TIERS["exports"]
    assert model["zoo"]["facts"]["author"] == "torch_hub" and model["origins"]["inputs"] == "manifest"
    assert model["origins"]["outputs"] is None and model["io_ports"]["outputs"] is None  # unknown, not none
    assert model["io_ports"]["inputs"] == [{"name": "x", "shape": [1, 3, 224, 224], "type": None}]
    # an archive-only model: its facts say so; no header read is tried (its file is the archive)
    big = info("pegasus_Opset16_transformers", "--json")
    assert big.returncode == 0, big.stderr
    model = json.loads(big.stdout)["model"]
    assert model["zoo"]["archive_only"] and model["header"] is None and model["header_error"] is None
    assert "the model's file name inside the archive" in model["zoo"]["facts"]["unknown until downloaded"]
    assert not [h for h in zoo_server.hits if h.path.endswith(".tar.gz")]
    assert info("AlexNet", "--json", "--no-remote").returncode == 0
    assert json.loads(info("AlexNet", "--json", "--no-remote").stdout)["model"]["zoo"]["tier"] == "validated"
    suffixed = subprocess.run([str(BIN), "list", "--repo", "onnx/models:main+zoo", "--json", "tier:skipped"], env=env,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert suffixed.returncode == 0, suffixed.stderr
    assert json.loads(suffixed.stdout)["count"] == 638 and json.loads(suffixed.stdout)["repo"] == "onnx/models:main"
    other = subprocess.run([str(BIN), "list", "--repo", "acme/models:main+zoo"], env=env, capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert other.returncode == 2 and "+zoo (the whole ONNX Model Zoo) is for onnx/models" in other.stderr


def test_the_rows_agree_with_the_full_entries_and_a_first_paint_reads_no_full_entry():
    code = (
        "from onnxhub_tui.core import query, zoo\n"
        "entries = zoo.zoo_entries()\n"
        "facts = entries[0]._facts\n"
        "cells = [(zoo.tier_of(e), e.label, e.file(), e.tag_list, e.has_test_data) for e in entries]\n"
        "hits = [len(query.parse_query(q).filter(entries)) for q in ('tier:skipped', 'author:timm', 'task:vision', 'params:>100000000', 'adv')]\n"
        "assert not facts._blocks, 'the table or a search read the full entries'\n"
        "entries[zoo.FACTS_BLOCK + 3].metadata\n"
        "assert list(facts._blocks) == [1], 'one entry asked for inflated more than its block'\n"
        "print(*hits)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert all(int(n) > 0 for n in out.stdout.split()), out.stdout
    for e in zoo.zoo_entries():  # every attribute from the row equals what ModelInfo makes of the full entry
        full = ModelInfo(e.raw_model_info)
        for attr in ("model", "model_path", "opset", "onnx_version", "model_sha", "model_bytes", "tag_list", "tags",
                     "tags_lower", "model_with_data_path", "model_with_data_sha", "model_with_data_bytes",
                     "search_text", "opset_known", "label"):
            assert getattr(e, attr) == getattr(full, attr), (e.model_path, attr)
        assert zoo.tier_of(e) == e.metadata["tier"] and e.file() == full.file()
        turnkey = e.metadata.get("turnkey") or {}
        assert zoo.turnkey_of(e) == {k: turnkey.get(k) for k in ("author", "task", "parameters")}
        assert bool(e.metadata.get("archive_only")) == e.zoo_archive_only


def test_a_revalidation_that_changes_nothing_reuses_the_early_merge(zoo_server, cache_dir):
    from onnxhub_tui.core.client import Hub

    with Hub("onnx/models:main", cache_dir) as first:
        first.manifest()  # fetched and cached
    with Hub("onnx/models:main", cache_dir) as h:
        early = h.cached_manifest()
        loaded = h.manifest()  # 304: the same bytes
        assert loaded.state == "cached" and len(loaded.entries) == 2377
        assert all(a is b for a, b in zip(early.entries, loaded.entries))  # merged once, not twice
        assert loaded.entries is not early.entries  # each caller owns its list
    manifest_file = zoo_server.server.root / "onnx" / "models" / "main" / "ONNX_HUB_MANIFEST.json"
    raw = json.loads(manifest_file.read_text())
    raw[0]["model"] = "Renamed"
    manifest_file.write_text(json.dumps(raw))
    with Hub("onnx/models:main", cache_dir) as h:
        early = h.cached_manifest()
        loaded = h.manifest()  # changed: merged again
        assert loaded.state == "fresh" and loaded.entries[0].model == "Renamed" != early.entries[0].model
