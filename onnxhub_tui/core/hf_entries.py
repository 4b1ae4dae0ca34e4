"""A tree listing as hub entries: one ``ModelInfo``-compatible raw entry per ``.onnx`` file.

Naming: an entry's ``model`` is its path in the repo without the final ``.onnx`` (any case), folders
kept and joined by ``/``: ``onnx/model_quantized.onnx`` -> ``onnx/model_quantized``, ``model.onnx`` ->
``model``. Names are matched case-insensitively (as onnx.hub did), so when two paths give names equal
but for case (``Model.onnx``, ``model.onnx``), those entries are named by their whole path, and if
that still clashes, get ``~2``, ``~3``... in path order. ``model_path`` is the repo path, the entry's key.

What the listing says and does not: ``model_sha``/``model_bytes`` are the LFS object's SHA-256 and size.
A ``.onnx`` outside LFS has no SHA-256 in the listing: ``model_sha`` is None and ``metadata["hf"]
["git_sha1"]`` holds its git blob SHA-1 (``git_blob_sha1`` verifies it). ``tags`` are the path's folders.
The opset is unknown until the file is read: ``opset_version`` is 0 and ``metadata["hf"]["opset_known"]``
False; there are no ``io_ports`` (see the remote-inspect issue). Data files are never entries: only
``.onnx`` files are models. ``metadata["hf"]["data_candidates"]`` lists the files that by name look like
the model's external data (``model.onnx_data``, ``model.onnx.data``, ``model.onnx_data_1``,
``model.data``...), for a size estimate; which files a model needs is what the model itself names
(``core/external_data``), looked up with ``Listing.file``.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diskio import open_regular
from .hashing import sha256_hex
from .hf_api import TreeFile
from .manifest import FileRef, ParsedManifest, parse_entries

ONNX_SUFFIX = ".onnx"
MANIFEST_NAME = "ONNX_HUB_MANIFEST.json"
UNKNOWN_OPSET = 0
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Listing:
    """Every file of a repo at one commit."""

    endpoint: str
    repo_id: str
    revision: str
    commit: str
    files: tuple[TreeFile, ...]
    skipped: tuple[str, ...] = ()
    _by_path: dict[str, TreeFile] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_path.update({f.path: f for f in self.files})

    def file(self, path: str) -> TreeFile | None:
        return self._by_path.get(path)

    @property
    def has_manifest(self) -> bool:
        """The repo carries an onnx.hub manifest at its root: use it as for any hub."""
        return MANIFEST_NAME in self._by_path


def is_model_path(path: str) -> bool:
    return path.lower().endswith(ONNX_SUFFIX) and len(posixpath.basename(path)) > len(ONNX_SUFFIX)


def _names(paths: list[str]) -> dict[str, str]:
    short = {p: p[: -len(ONNX_SUFFIX)] for p in paths}
    counts: dict[str, int] = {}
    for name in short.values():
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    named = {p: (n if counts[n.lower()] == 1 else p) for p, n in short.items()}
    taken: dict[str, int] = {}
    for p in sorted(paths):
        key = named[p].lower()
        taken[key] = taken.get(key, 0) + 1
        if taken[key] > 1:
            named[p] = f"{named[p]}~{taken[key]}"
    return named


def data_candidates(model: TreeFile, files: Iterable[TreeFile]) -> list[TreeFile]:
    """Files of the model's folder whose names follow the external-data conventions for this model:
    ``<file>_data*``, ``<file>.data*`` (Optimum, torch.onnx, transformers.js) or ``<stem>.data``/
    ``<stem>_data*``. Only a hint: the model names its data files itself."""
    folder, name = posixpath.split(model.path)
    stem = name[: -len(ONNX_SUFFIX)]
    prefixes = (f"{name}_data", f"{name}.data", f"{stem}.data", f"{stem}_data")
    out = []
    for f in files:
        f_folder, f_name = posixpath.split(f.path)
        if f_folder == folder and f is not model and not is_model_path(f.path) and f_name.startswith(prefixes):
            out.append(f)
    return out


def raw_entries(listing: Listing) -> list[dict[str, Any]]:
    """One raw manifest entry per ``.onnx`` file, in path order (see the module docstring)."""
    models = sorted((f for f in listing.files if is_model_path(f.path)), key=lambda f: f.path)
    names = _names([f.path for f in models])
    out = []
    for f in models:
        candidates = data_candidates(f, listing.files)
        hf: dict[str, Any] = {
            "repo_id": listing.repo_id,
            "commit": listing.commit,
            "path": f.path,
            "lfs": f.is_lfs,
            "git_sha1": None if f.is_lfs else f.oid,
            "opset_known": False,
            "data_candidates": [c.path for c in candidates],
            "data_candidates_bytes": sum(c.size for c in candidates),
        }
        out.append({
            "model": names[f.path],
            "model_path": f.path,
            "opset_version": UNKNOWN_OPSET,
            "onnx_version": "",
            "metadata": {
                "model_sha": f.sha256,
                "model_bytes": f.size,
                "tags": posixpath.dirname(f.path).split("/") if "/" in f.path else [],
                "hf": hf,
            },
        })
    return out


def entries(listing: Listing) -> ParsedManifest:
    """The listing's entries through the manifest's own validation (so they behave like any entry)."""
    return parse_entries(raw_entries(listing))


def data_file_refs(listing: Listing, model_path: str, locations: Iterable[str]) -> list[FileRef]:
    """The files a model's ``external_data`` names (relative to its folder) as ``FileRef(kind="external")``
    with the listing's SHA-256 (or None outside LFS) and size; a file the repo lacks has size None."""
    folder = posixpath.dirname(model_path)
    refs = []
    for location in locations:
        path = posixpath.normpath(posixpath.join(folder, location)) if folder else posixpath.normpath(location)
        f = listing.file(path)
        refs.append(FileRef("external", path, f.sha256 if f else None, f.size if f else None))
    return refs


def git_blob_sha1(data: bytes) -> str:
    """git's object id of a file (``git hash-object``): ``sha1(b"blob <len>\\0" + data)``."""
    return hashlib.sha1(b"blob " + str(len(data)).encode() + b"\0" + data).hexdigest()  # noqa: S324 - git's id


def git_blob_sha1_file(path: Path) -> str:
    """``git_blob_sha1`` of a file, streamed (the size prefix comes from stat)."""
    hasher = hashlib.sha1(b"blob " + str(path.stat().st_size).encode() + b"\0")  # noqa: S324
    with open_regular(path) as f:
        while chunk := f.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def verify_file(path: Path, f: TreeFile) -> bool:
    """Whether a local file is the listing's: size, then SHA-256 (LFS) or the git blob SHA-1."""
    try:
        if path.stat().st_size != f.size:
            return False
        if f.sha256:
            return sha256_hex(path) == f.sha256
        return git_blob_sha1_file(path) == f.oid
    except OSError:
        return False
