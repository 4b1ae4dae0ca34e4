"""A Hugging Face model with every external data file it names, verified, in the ``hf/`` layout.

Bytes are written only by ``core/download.download_file`` (SHA-256 verified, resumable, atomic). It
verifies SHA-256 only, and a file outside LFS has just a git blob SHA-1 in the listing: such a file
(small: the Hub keeps big files in LFS) is first read into memory and checked against its SHA-1, and
its SHA-256 then given to ``download_file``. That costs a second request for a small file; when
``download_file`` learns to verify a git SHA-1 as it writes, ``_verified_sha256`` goes away.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import download, http
from .errors import DownloadError, HashMismatchError
from .external_data import data_locations, hf_file_path
from .hf_api import TreeFile
from .hf_entries import Listing, data_file_refs, git_blob_sha1
from .hf_repo import HfRepo
from .manifest import FileRef

MAX_NON_LFS_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class DownloadedModel:
    path: Path  # the .onnx: onnx.load(path) finds its data next to it
    data_files: tuple[Path, ...]  # every external data file it names, in first-use order

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path, *self.data_files)


def _verified_sha256(client: httpx.Client, repo: HfRepo, listing: Listing, f: TreeFile) -> str:
    url = repo.source_at(listing.commit).file_urls(f.path)[0]
    if f.size > MAX_NON_LFS_BYTES:
        raise DownloadError(f"{f.path} is {f.size:,} bytes outside LFS: too big to verify by its git SHA-1.")
    response, body = http.fetch_bytes(client, url, repo.headers_for, {"Accept-Encoding": "identity"},
                                      max_bytes=MAX_NON_LFS_BYTES)
    if response.status_code != 200:
        raise DownloadError(f"Could not download {f.path} from {url}: HTTP {response.status_code}.")
    if len(body) != f.size or git_blob_sha1(body) != f.oid:
        raise HashMismatchError(
            f"{f.path} from {url} is not the listing's file (git SHA-1 {git_blob_sha1(body)}, expected {f.oid})."
        )
    return hashlib.sha256(body).hexdigest()


def _fetch(
    client: httpx.Client, repo: HfRepo, listing: Listing, f: TreeFile, cache_dir: Path, *,
    progress: download.Progress | None, cancel: download.CancelToken | None, force: bool,
) -> Path:
    target = hf_file_path(cache_dir, repo_id=listing.repo_id, commit=listing.commit, path=f.path)
    if target.exists() and not force:
        return target
    sha = f.sha256 or _verified_sha256(client, repo, listing, f)
    return download.download_file(client=client, source=repo.source_at(listing.commit),
                                  file=FileRef("external", f.path, sha, f.size), target=target, cache_dir=cache_dir,
                                  progress=progress, cancel=cancel, force=force)


def download_model(
    *, client: httpx.Client, repo: HfRepo, listing: Listing, model_path: str, cache_dir: Path,
    progress: Callable[[int, int | None], None] | None = None,
    cancel: download.CancelToken | None = None, force: bool = False,
) -> DownloadedModel:
    """The model at ``model_path`` and the data files its tensors name, each checked against the listing.
    ``progress(done, total)`` counts all files; ``total`` grows once the model says what it needs."""
    model = listing.file(model_path)
    if model is None:
        raise DownloadError(f"{listing.repo_id} has no {model_path} at commit {listing.commit[:12]}.")
    done = 0
    total = model.size

    def report(offset: int) -> download.Progress | None:
        if progress is None:
            return None
        return lambda d, _t: progress(offset + d, total)

    path = _fetch(client, repo, listing, model, cache_dir, progress=report(0), cancel=cancel, force=force)
    done += model.size
    refs = data_file_refs(listing, model_path, data_locations(path))
    missing = [r.path for r in refs if r.size is None]
    if missing:
        raise DownloadError(
            f"{model_path} names external data that {listing.repo_id} does not have at commit "
            f"{listing.commit[:12]}: {', '.join(missing)}."
        )
    files = [listing.file(r.path) for r in refs]
    total += sum(f.size for f in files if f)
    data: list[Path] = []
    for f in files:
        assert f is not None
        data.append(_fetch(client, repo, listing, f, cache_dir, progress=report(done), cancel=cancel, force=force))
        done += f.size
    if progress is not None:
        progress(done, total)
    return DownloadedModel(path, tuple(data))
