"""What a ``Hub`` over a manifest-less Hugging Face repo answers differently: where an entry lives, what
the cache holds for it, which files it is made of, and the hub-scoped cache report.

An entry comes from the listing (``core/hf_entries``) and lives at ``hf/<owner>/<repo>/<commit>/<path>``
(``core/external_data``). A model and the data files it names are one cache item (``hf_cache.local_item``):
one ``CachedFile`` whose ``members`` are every file of it, so ``cache ls`` shows one size and ``cache rm``
deletes them all (only ``core/cache`` deletes). Read-only here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import cache
from .diskio import read_regular
from .errors import InspectError, UnsafePathError
from .external_data import data_locations, hf_file_path, hf_repo_dir
from .hf_cache import local_item
from .hashing import sha256_file
from .hf_entries import Listing, data_candidates, data_file_refs, git_blob_sha1_file
from .manifest import ModelInfo


@dataclass(frozen=True)
class ModelFile:
    """One file a model is made of, for ``info`` and the TUI's details. ``named``: the model names it
    (read from the cached ``.onnx``); False for a data file guessed by its name before the download."""

    kind: str  # "model" | "data" (an external data file) | "archive" (a manifest's model-with-data)
    path: str  # in the repo (or the manifest)
    size: int | None
    sha256: str | None
    local: Path | None  # the cached copy, when it is there at its size
    named: bool = True


def hf_path(entry: ModelInfo) -> str | None:
    """The entry's path in its repo when it comes from a listing (not from a manifest), else None."""
    hf = entry.metadata.get("hf")
    return hf.get("path") if isinstance(hf, dict) and isinstance(hf.get("path"), str) else None


def model_path(cache_dir: Path, listing: Listing, entry: ModelInfo) -> Path:
    return hf_file_path(cache_dir, repo_id=listing.repo_id, commit=listing.commit, path=entry.model_path)


def local_copy(cache_dir: Path, listing: Listing, entry: ModelInfo) -> cache.LocalCopy:
    """The model and its data as one state (``hf_cache.HfItem``); there is never an archive."""
    try:
        item = local_item(cache_dir, listing, entry.model_path)
    except UnsafePathError:
        return cache.LocalCopy(None, None, None, None, None)
    return cache.LocalCopy(item.state, item.path, None, None, None)


def _local(path: Path, size: int | None) -> Path | None:
    try:
        return path if size is None or os.stat(path).st_size == size else None
    except OSError:
        return None


def files_of(cache_dir: Path, listing: Listing, entry: ModelInfo) -> list[ModelFile]:
    """The model then its data files: those the cached ``.onnx`` names, else (not downloaded yet) the
    files whose names follow the external-data conventions (``named=False``)."""
    model = listing.file(entry.model_path)
    target = model_path(cache_dir, listing, entry)
    local = _local(target, model.size if model else None)
    out = [ModelFile("model", entry.model_path, entry.model_bytes, entry.model_sha, local)]
    if local is not None:
        try:
            refs = data_file_refs(listing, entry.model_path, data_locations(local))
        except (InspectError, UnsafePathError):
            refs = []
        for ref in refs:
            data = hf_file_path(cache_dir, repo_id=listing.repo_id, commit=listing.commit, path=ref.path)
            out.append(ModelFile("data", ref.path, ref.size, ref.sha, _local(data, ref.size)))
        return out
    if model is not None:
        for f in data_candidates(model, listing.files):
            data = hf_file_path(cache_dir, repo_id=listing.repo_id, commit=listing.commit, path=f.path)
            out.append(ModelFile("data", f.path, f.size, f.sha256, _local(data, f.size), named=False))
    return out


def _listed_commits(cache_dir: Path, repo_id: str) -> set[str]:
    """Commits of ``repo_id`` that a listing cached here is at: their files belong to some hub's session."""
    store = Path(cache_dir) / cache.TOOL_DIR / "hf"
    commits: set[str] = set()
    try:
        names = [n for n in os.listdir(store) if n.endswith(".json")]
    except OSError:
        return commits
    for name in names:
        try:
            data = json.loads(read_regular(store / name))  # never a FIFO (it would block the scan)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("repo_id") == repo_id and isinstance(data.get("commit"), str):
            commits.add(data["commit"])
    return commits


def cache_report(cache_dir: Path, listing: Listing, entries: list[ModelInfo]) -> cache.CacheReport:
    """The whole cache, with this repo's models as one item each (model + data, one size, one state).
    ``folders`` (what ``prunable`` may call orphans in) is this repo's ``hf_repo_dir`` alone: a file
    there that is no model's and not at a commit another cached listing names is an orphan."""
    report = cache.unscoped_report(cache_dir)
    root = Path(cache_dir)
    repo_rel = hf_repo_dir(root, listing.repo_id).relative_to(root).as_posix()
    items: list[cache.CachedFile] = []
    taken: set[str] = set()
    for entry in entries:
        try:
            item = local_item(root, listing, entry.model_path)
        except UnsafePathError:
            continue
        if item.state is None or not item.files:
            continue
        commit_dir = hf_repo_dir(root, listing.repo_id) / listing.commit
        members = tuple(cache.Member(p, *_expected(listing, p.relative_to(commit_dir))) for p in item.files)
        rel = item.path.relative_to(root).as_posix()
        items.append(cache.CachedFile(item.path, rel, item.size, item.state, entry, "model", members=members))
        taken.update(p.relative_to(root).as_posix() for p in item.files)
    keep = _listed_commits(root, listing.repo_id) - {listing.commit}
    files: list[cache.CachedFile] = []
    folders: set[str] = set()
    for f in report.files:
        if f.rel == repo_rel or f.rel.startswith(repo_rel + "/"):
            if f.rel in taken:
                continue
            commit = f.rel[len(repo_rel) + 1:].partition("/")[0]
            folders.add(f.group)
            if f.state != "partial" and commit not in keep:
                f.state = "orphan"
        files.append(f)
    report.files = items + files
    report.folders = frozenset(folders)
    return report


def _expected(listing: Listing, rel: Path) -> tuple[int | None, str | None, str | None]:
    f = listing.file(rel.as_posix())
    if f is None:
        return None, None, None
    return f.size, f.sha256, None if f.sha256 else f.oid


def verify_members(file: cache.CachedFile, progress: Callable[[int], None] | None = None) -> cache.VerifyResult:
    """Every member of an item: size, then SHA-256 (LFS) or git blob SHA-1, as the listing says."""
    done = 0
    for m in file.members:
        offset = done
        step = (lambda n: progress(offset + n)) if progress is not None else None
        try:
            if m.size is not None and os.stat(m.path).st_size != m.size:
                return cache.VerifyResult(file, False, message=f"{m.path.name}: not the listing's size ({m.size:,} bytes)")
            if m.sha256:
                actual = sha256_file(m.path, progress=step).hexdigest()
                expected = m.sha256
            elif m.git_sha1:
                actual, expected = git_blob_sha1_file(m.path), m.git_sha1
            else:
                return cache.VerifyResult(file, False, message=f"{m.path.name}: not in the repo's listing")
            done += os.stat(m.path).st_size
        except OSError as exc:
            return cache.VerifyResult(file, False, message=f"{m.path.name}: cannot read: {exc.strerror or exc}")
        if actual != expected.lower():
            return cache.VerifyResult(file, False, actual, f"{m.path.name}: hash {actual} but expected {expected}")
    if file.state != "complete":
        return cache.VerifyResult(file, False, message=f"{file.state}: a file of it is missing")
    return cache.VerifyResult(file, True, None, f"ok ({len(file.members)} files)")
