"""``onnxhub-tui list/info/download/cache --repo hf:owner/repo`` on a repo without a manifest, in real
subprocesses against the loopback Hugging Face Hub and its CDN (tests/support/hfhub.py)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest

from tests.cli.conftest import run
from tests.conftest import subprocess_env
from tests.support.hfenv import fake_hf_hub
from tests.support.hfhub import FakeRepo, HubWithRepo

REPO = "hf:acme/onnx-models"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubWithRepo]:
    yield from fake_hf_hub(tmp_path, monkeypatch)


@pytest.fixture
def hf_env(fake: HubWithRepo, tmp_path: Path) -> dict[str, str]:
    return subprocess_env(None, tmp_path / "cache", COLUMNS="100")


def test_list_shows_every_onnx_file_with_opset_unknown(hf_env) -> None:
    out = run(["list", "--repo", REPO], hf_env)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert set(rows) == {"onnx/model", "onnx/model_quantized", "tiny", "decoder/decoder_model"}
    assert rows["tiny"][1] == "?"  # not 0
    data = json.loads(run(["list", "--repo", REPO, "--json"], hf_env).stdout)
    assert {m["opset"] for m in data["models"]} == {None}


def test_info_lists_the_files_then_their_local_paths(hf_env, fake: HubWithRepo) -> None:
    out = run(["info", "onnx/model", "--repo", REPO], hf_env)
    assert out.returncode == 0, out.stderr
    assert "(opset ?," in out.stdout and "onnx/model.onnx_data" in out.stdout and "not cached" in out.stdout
    assert hashlib.sha256(fake.files["onnx/model.onnx"]).hexdigest() in out.stdout  # from the listing
    assert run(["download", "onnx/model", "--repo", REPO, "--yes"], hf_env).returncode == 0
    doc = json.loads(run(["info", "onnx/model", "--repo", REPO, "--json"], hf_env).stdout)
    assert doc["model"]["opset"] is None and doc["model"]["opsets"] == []
    files = doc["model"]["files"]
    assert [f["path"] for f in files] == ["onnx/model.onnx", "onnx/model.onnx_data", "onnx/weights/extra.bin"]
    assert all(f["local_path"] and os.path.getsize(f["local_path"]) == f["bytes"] for f in files)
    assert "onnx/weights/extra.bin" in run(["info", "onnx/model", "--repo", REPO], hf_env).stdout


def test_download_prints_a_path_onnx_loads_with_its_weights(hf_env, fake: HubWithRepo) -> None:
    out = run(["download", "onnx/model", "decoder/decoder_model", "--repo", REPO, "--yes"], hf_env)
    assert out.returncode == 0, out.stderr
    paths = out.stdout.split()
    assert len(paths) == 2
    for path in paths:
        model = onnx.load(path)
        onnx.checker.check_model(model)
        assert all(t.raw_data for t in model.graph.initializer)  # the weights were found and read
    assert fake.hub.hits_on("cdn")  # LFS files came from the CDN, which never saw the token (fixture)


def test_cache_ls_shows_one_item_and_rm_deletes_model_and_data(hf_env, tmp_path: Path) -> None:
    path = Path(run(["download", "onnx/model", "--repo", REPO, "--yes"], hf_env).stdout.strip())
    folder = path.parent
    data = [folder / "model.onnx_data", folder / "weights" / "extra.bin"]
    size = path.stat().st_size + sum(p.stat().st_size for p in data)
    ls = json.loads(run(["cache", "ls", "--repo", REPO, "--json"], hf_env).stdout)
    (item,) = [f for f in ls["files"] if f["model"]]
    assert item["bytes"] == size and item["state"] == "complete" and len(item["members"]) == 3
    text = run(["cache", "ls", "--repo", REPO], hf_env).stdout
    assert "model.onnx + 2 data file(s)" in text
    assert run(["cache", "verify", "--repo", REPO], hf_env).returncode == 0
    rm = run(["cache", "rm", "onnx/model", "--repo", REPO, "--yes"], hf_env)
    assert rm.returncode == 0, rm.stderr
    assert not path.exists() and not any(p.exists() for p in data)


def test_gated_repo_is_one_stderr_line_naming_hf_token(hf_env, fake: HubWithRepo) -> None:
    fake.hub.add(FakeRepo("acme/gated", {"m.onnx": b"x" * 2000}, gated=True))
    env = {k: v for k, v in hf_env.items() if k != "HF_TOKEN"}
    out = run(["list", "--repo", "hf:acme/gated"], env)
    assert out.returncode != 0 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "HF_TOKEN" in lines[0] and "accept its terms" in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_offline_lists_and_downloads_from_the_cache(hf_env, fake: HubWithRepo) -> None:
    path = run(["download", "tiny", "--repo", REPO, "--yes"], hf_env).stdout.strip()
    hits = len(fake.hub.hits)
    for offline in (["--offline"], []):
        env = hf_env if offline else {**hf_env, "HF_HUB_OFFLINE": "1"}
        out = run(["download", "tiny", "--repo", REPO, "--yes", *offline], env)
        assert out.returncode == 0 and out.stdout.strip() == path, out.stderr
    assert len(fake.hub.hits) == hits  # not one request
    out = run(["list", "--repo", "hf:acme/never-seen", "--offline"], hf_env)
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1 and "cached listing" in out.stderr


def test_a_long_rate_limit_says_how_long_in_one_line(hf_env, fake: HubWithRepo) -> None:
    fake.hub.rate_limited = 100
    out = run(["list", "--repo", REPO], {**hf_env, "ONNXHUB_MAX_WAIT": "0.2"})
    assert out.returncode != 0 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "try again in 55 s" in lines[0], out.stderr
