"""A Hugging Face model with its external data, from a loopback Hub whose LFS files live on a CDN.

Formats, from huggingface_hub at ee0a4510 (2026-08-20):
- ``/{repo}/resolve/{rev}/{path}`` and the redirect of LFS files to another origin with ``X-Linked-Etag``,
  ``X-Linked-Size``, ``X-Repo-Commit``: ``constants.py`` ``HUGGINGFACE_CO_URL_TEMPLATE``/``HUGGINGFACE_HEADER_*``,
  ``file_download.py`` ``get_hf_file_metadata``;
- a small file's ETag is its git blob SHA-1: ``utils/sha.py`` ``git_hash`` (and ``file_download.py``);
- the token never follows a redirect to another origin: ``utils/_http.py`` (and the issue's Facts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnx.reference
import pytest

from onnxhub_tui.core.errors import DownloadError, HashMismatchError
from onnxhub_tui.core.external_data import hf_file_path
from onnxhub_tui.core.hf_download import download_model
from onnxhub_tui.core.hf_listing import load_hf_manifest
from onnxhub_tui.core.hf_repo import hf_repo
from tests.support.hfenv import fake_hf_hub
from tests.support.hfhub import HubWithRepo

@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubWithRepo]:
    yield from fake_hf_hub(tmp_path, monkeypatch, token=True)


def _load(client, tmp_path: Path):
    repo = hf_repo("hf:acme/onnx-models")
    _manifest, listing = load_hf_manifest(client, repo, tmp_path / "cache")
    return repo, listing


def test_model_with_data_in_two_files_one_in_a_subfolder(fake: HubWithRepo, client, tmp_path: Path) -> None:
    repo, listing = _load(client, tmp_path)
    cache = tmp_path / "cache"
    seen: list[tuple[int, int | None]] = []
    got = download_model(client=client, repo=repo, listing=listing, model_path="onnx/model.onnx", cache_dir=cache,
                         progress=lambda d, t: seen.append((d, t)))
    base = cache / "hf" / "acme" / "onnx-models" / listing.commit
    assert got.path == base / "onnx" / "model.onnx"
    assert got.data_files == (base / "onnx" / "model.onnx_data", base / "onnx" / "weights" / "extra.bin")
    for path in got.files:
        assert path.read_bytes() == fake.files[str(path.relative_to(base))]
    onnx.checker.check_model(str(got.path))
    model = onnx.load(str(got.path))
    (y,) = onnx.reference.ReferenceEvaluator(model).run(None, {"x": np.zeros(512, dtype=np.float32)})
    assert np.all(y == 3.0)  # W1 (1.0) + W2 (2.0): both data files were read
    total = sum(len(fake.files[p]) for p in ("onnx/model.onnx", "onnx/model.onnx_data", "onnx/weights/extra.bin"))
    assert seen[-1] == (total, total)
    # the LFS files came from the CDN, without the token; the Hub saw it
    cdn = fake.hub.hits_on("cdn")
    assert len(cdn) == 3 and all("authorization" not in h.headers for h in cdn)
    resolves = fake.hub.hits_on("hub", "/resolve/")
    assert resolves and all(h.headers.get("authorization") == "Bearer secret-token" for h in resolves)
    assert all(f"/resolve/{listing.commit}/" in h.path for h in resolves)  # pinned to the listing's commit
    # a second call downloads nothing
    before = len(fake.hub.hits)
    assert download_model(client=client, repo=repo, listing=listing, model_path="onnx/model.onnx",
                          cache_dir=cache).files == got.files
    assert len(fake.hub.hits) == before


def test_the_model_decides_which_data_files(fake: HubWithRepo, client, tmp_path: Path) -> None:
    """torch.onnx's ``model.onnx.data`` name, and a model with no external data at all."""
    repo, listing = _load(client, tmp_path)
    got = download_model(client=client, repo=repo, listing=listing, model_path="decoder/decoder_model.onnx",
                         cache_dir=tmp_path / "cache")
    assert [p.name for p in got.data_files] == ["decoder_model.onnx.data"]
    onnx.checker.check_model(str(got.path))
    quantized = download_model(client=client, repo=repo, listing=listing, model_path="onnx/model_quantized.onnx",
                               cache_dir=tmp_path / "cache")
    assert quantized.data_files == ()


def test_small_model_outside_lfs_is_verified_by_its_git_sha1(fake: HubWithRepo, client, tmp_path: Path) -> None:
    repo, listing = _load(client, tmp_path)
    assert listing.file("tiny.onnx").sha256 is None
    cache = tmp_path / "cache"
    got = download_model(client=client, repo=repo, listing=listing, model_path="tiny.onnx", cache_dir=cache)
    assert got.path.read_bytes() == fake.files["tiny.onnx"]
    onnx.checker.check_model(str(got.path))
    assert fake.hub.hits_on("cdn", "") == []  # served by the Hub itself, no redirect
    # the same size, other bytes: refused, and nothing lands in the cache
    tampered = bytearray(fake.files["tiny.onnx"])
    tampered[-1] ^= 0xFF
    fake.repo.files["tiny.onnx"] = bytes(tampered)
    got.path.unlink()
    with pytest.raises(HashMismatchError, match="git SHA-1"):
        download_model(client=client, repo=repo, listing=listing, model_path="tiny.onnx", cache_dir=tmp_path / "cache")
    assert not got.path.exists() and not list(got.path.parent.glob("tiny.onnx*"))


def test_a_data_file_the_repo_lacks_is_named(fake: HubWithRepo, client, tmp_path: Path) -> None:
    del fake.repo.files["onnx/weights/extra.bin"]
    fake.repo.branches["main"] = "3" * 40
    repo, listing = _load(client, tmp_path)
    with pytest.raises(DownloadError, match="does not have at commit 333333333333: onnx/weights/extra.bin"):
        download_model(client=client, repo=repo, listing=listing, model_path="onnx/model.onnx",
                       cache_dir=tmp_path / "cache")


def test_lfs_bytes_that_do_not_match_are_refused(fake: HubWithRepo, client, tmp_path: Path) -> None:
    repo, listing = _load(client, tmp_path)
    data = fake.files["onnx/model.onnx_data"]
    fake.repo.files["onnx/model.onnx_data"] = bytes([data[0] ^ 0xFF]) + data[1:]  # same size, other bytes
    with pytest.raises(HashMismatchError):
        download_model(client=client, repo=repo, listing=listing, model_path="onnx/model.onnx",
                       cache_dir=tmp_path / "cache")
    target = hf_file_path(tmp_path / "cache", repo_id=repo.repo_id, commit=listing.commit, path="onnx/model.onnx_data")
    assert not target.exists()


def test_resume_over_the_redirect_uses_range_on_the_cdn(fake: HubWithRepo, client, tmp_path: Path) -> None:
    repo, listing = _load(client, tmp_path)
    cache = tmp_path / "cache"
    target = hf_file_path(cache, repo_id=repo.repo_id, commit=listing.commit, path="onnx/model.onnx_data")
    target.parent.mkdir(parents=True)
    data = fake.files["onnx/model.onnx_data"]
    target.with_name(target.name + ".part").write_bytes(data[:1000])  # an interrupted download
    download_model(client=client, repo=repo, listing=listing, model_path="onnx/model.onnx", cache_dir=cache)
    assert target.read_bytes() == data
    ranged = [h for h in fake.hub.hits_on("cdn", listing.file("onnx/model.onnx_data").sha256) if "range" in h.headers]
    assert [h.headers["range"] for h in ranged] == ["bytes=1000-"]


def test_the_cache_sees_model_and_data_as_one_item(fake: HubWithRepo, client, tmp_path: Path) -> None:
    from onnxhub_tui.core.hf_cache import local_item

    repo, listing = _load(client, tmp_path)
    cache = tmp_path / "cache"
    assert local_item(cache, listing, "onnx/model.onnx").state is None
    got = download_model(client=client, repo=repo, listing=listing, model_path="onnx/model.onnx", cache_dir=cache)
    item = local_item(cache, listing, "onnx/model.onnx")
    total = sum(len(fake.files[p]) for p in ("onnx/model.onnx", "onnx/model.onnx_data", "onnx/weights/extra.bin"))
    assert item.state == "complete" and item.files == got.files and item.size == item.expected_size == total
    got.data_files[1].unlink()
    assert local_item(cache, listing, "onnx/model.onnx").state == "partial"
    got.data_files[0].write_bytes(b"short")
    assert local_item(cache, listing, "onnx/model.onnx").state == "damaged"
