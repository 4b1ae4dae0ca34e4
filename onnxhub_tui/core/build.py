"""Build and check an ``ONNX_HUB_MANIFEST.json`` for a folder of ``.onnx`` files.

Every number comes from the files themselves (onnx/models' old generator scraped README tables and
shipped stale hashes, onnx/models#546): SHA-256 and size from the bytes, opset and ports from the
model. Models are read at the protobuf wire level from a memory map, so weights are never loaded and
external data files are never opened; only the small input/output messages are parsed by onnx.

A checkout without LFS content works too (core/lfs.py): a pointer gives the SHA-256 and size, and a
``turnkey_stats.yaml`` beside it the rest (core/turnkey.py); what neither says is listed in
``metadata["unknown_until_download"]``. Only regular files are opened (core/buildscan.py).
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from . import lfs, turnkey
from .buildscan import FileStat, Found, regular_size, scan_tree
from .diskio import write_atomic
from .errors import InspectError, ManifestError
from .hashing import sha256_file
from .inspect import _fields, read_top_level  # the wire-format walker: zero-copy views, weights skipped
from .manifest import ModelInfo, parse_manifest
from .paths import check_relative_path, is_within
from .sources import MANIFEST_NAME

Progress = Callable[[int, "int | None"], None]  # (bytes done, bytes total), as core.download's

# Folder names that say nothing about a model (the zoo keeps files in <family>/model/).
NON_TAGS = frozenset({"model", "models"})
ONNX_VERSION_BASIS = "the oldest onnx release that reads the model's IR version and opset (onnx.helper.VERSION_TABLE)"


# -- reading a model's header without its weights ---------------------------------------------------


@dataclass
class ModelHeader:
    ir_version: int = 0
    producer: str = ""
    producer_version: str = ""
    opsets: dict[str, int] = field(default_factory=dict)  # "" is the default domain
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def opset(self) -> int | None:
        if "" in self.opsets:
            return self.opsets[""]
        return self.opsets.get("ai.onnx")


def _text(value: int | memoryview) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, memoryview) else ""


def _tensor_name(view: memoryview) -> str:
    for number, _wire, value in _fields(view):
        if number == 8:  # TensorProto.name
            return _text(value)
    return ""


def _sparse_name(view: memoryview) -> str:
    for number, _wire, value in _fields(view):
        if number == 1 and isinstance(value, memoryview):  # SparseTensorProto.values
            return _tensor_name(value)
    return ""


def type_string(type_proto: Any) -> str:
    """``tensor(float)``, ``seq(tensor(uint8))``, ``map(int64,tensor(float))``: the zoo manifest's spelling."""
    import onnx

    def elem(code: int) -> str:
        try:
            return onnx.TensorProto.DataType.Name(code).lower()
        except ValueError:
            return f"type{code}"

    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return f"tensor({elem(type_proto.tensor_type.elem_type)})"
    if kind == "sparse_tensor_type":
        return f"sparse_tensor({elem(type_proto.sparse_tensor_type.elem_type)})"
    if kind == "sequence_type":
        return f"seq({type_string(type_proto.sequence_type.elem_type)})"
    if kind == "map_type":
        return f"map({elem(type_proto.map_type.key_type)},{type_string(type_proto.map_type.value_type)})"
    if kind == "optional_type":
        return f"optional({type_string(type_proto.optional_type.elem_type)})"
    return "unknown"


def _shape(type_proto: Any) -> list[int | str | None] | None:
    """Dims as ints (dim_value) or names (dim_param); None for an unknown dim, or for an unknown rank."""
    kind = type_proto.WhichOneof("value")
    holder = getattr(type_proto, kind, None) if kind in ("tensor_type", "sparse_tensor_type") else None
    if holder is None or not holder.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for dim in holder.shape.dim:
        which = dim.WhichOneof("value")
        dims.append(dim.dim_value if which == "dim_value" else dim.dim_param if which == "dim_param" else None)
    return dims


def _port(view: memoryview) -> dict[str, Any]:
    import onnx

    info = onnx.ValueInfoProto.FromString(bytes(view))  # a few hundred bytes: names and shapes only
    return {"name": info.name, "shape": _shape(info.type), "type": type_string(info.type)}


def _read(view: memoryview) -> ModelHeader:
    top = read_top_level(view)
    header = ModelHeader(top.ir_version, top.producer, top.producer_version, dict(top.opsets))
    graph = top.graph
    initializers: set[str] = set()
    inputs: list[memoryview] = []
    for number, _wire, value in _fields(graph):
        if not isinstance(value, memoryview):
            continue
        if number == 5:
            initializers.add(_tensor_name(value))
        elif number == 15:
            initializers.add(_sparse_name(value))
        elif number == 11:
            inputs.append(value)
        elif number == 12:
            header.outputs.append(_port(value))
    # Old models list their weights as graph inputs too; those are not inputs a user feeds.
    header.inputs = [p for p in map(_port, inputs) if p["name"] not in initializers]
    return header


def read_header(path: Path) -> ModelHeader:
    """IR version, producer, opsets and io ports of an .onnx file; raises InspectError when it is not one."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise InspectError(f"{path.name} is empty")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                try:
                    return _read(view)
                finally:
                    view.release()
    except InspectError as exc:
        raise InspectError(f"Cannot read {path.name}: {exc}") from None
    except Exception as exc:  # protobuf DecodeError, OSError, ValueError: all mean "not a readable model"
        raise InspectError(f"Cannot read {path.name}: {exc}") from None


def onnx_release_for(ir_version: int, opset: int | None) -> str | None:
    """The oldest onnx release whose IR version and default-domain opset cover the model's."""
    from onnx import helper

    for row in helper.VERSION_TABLE:
        release, ir, ai_onnx = row[0], row[1], row[2]
        if ir >= ir_version and (opset is None or ai_onnx >= opset):
            return str(release)
    return None


# -- building ---------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    root: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    notes: list[str] = field(default_factory=list)
    no_opset: list[str] = field(default_factory=list)  # models whose default-domain opset is unknown

    @property
    def total_bytes(self) -> int:
        return sum(
            e["metadata"]["model_bytes"] + (0 if e["metadata"].get("archive_only") else
                                            e["metadata"].get("model_with_data_bytes", 0))
            for e in self.entries
        )


def tags_for(rel: PurePosixPath, *, own_folder: bool = True) -> list[str]:
    """The folder names on the way to the file, in order and spelled as on disk (``bigA`` stays
    ``bigA``; search matches tags case-insensitively), without generic ones like ``model``. Without
    ``own_folder`` the file's own folder is left out (a turnkey folder names that one model)."""
    parts = rel.parent.parts if own_folder else rel.parent.parts[:-1]
    tags: list[str] = []
    for part in parts:
        if part.lower() not in NON_TAGS and part not in tags:
            tags.append(part)
    return tags


def _hash(path: Path, base: int, total: int, progress: Progress | None) -> str:
    report = (lambda done: progress(base + done, total)) if progress else None
    return sha256_file(path, progress=report).hexdigest()


class _Hasher:
    """SHA-256 and size of a file: from its Git LFS pointer when it is one, else from its bytes."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def pointer(self, file: FileStat) -> lfs.Pointer | None:
        return lfs.read_pointer(file.path, file.size)

    def digest(self, file: FileStat) -> tuple[str, int]:
        pointer = self.pointer(file)
        if pointer is not None:
            return pointer.sha256, pointer.size
        sha = _hash(file.path, self.done, self.total, self.progress)
        self.done += file.size
        return sha, file.size


def _stats(found: Found, result: BuildResult) -> turnkey.TurnkeyStats | None:
    if found.stats is None:
        return None
    try:
        return turnkey.read_stats(found.stats)
    except InspectError as exc:
        result.notes.append(f"{found.model.rel}: {exc}; its turnkey facts are left out")
        return None


def _entry(found: Found, hasher: _Hasher, result: BuildResult) -> dict[str, Any] | None:
    rel_text = found.model.rel
    rel = check_relative_path(rel_text)
    stats = _stats(found, result)
    unknown: tuple[str, ...] = ()
    pointer = None if found.archive_only else hasher.pointer(found.model)
    if found.archive_only or pointer is not None:
        # Only the pointer (or an archive we do not unpack) is here: the rest is the stats' word or unknown.
        ir_version, opset = (stats.ir_version, stats.opset) if stats else (None, None)
        ports = stats.io_ports() if stats else None
        unknown = turnkey.UNKNOWN_WITH_STATS if stats else ("opset", "inputs", "outputs")
        sha, size = hasher.digest(found.model)
    else:
        try:
            header = read_header(found.model.path)
        except InspectError as exc:
            result.skipped.append((rel_text, str(exc)))
            hasher.done += found.model.size + (found.archive.size if found.archive else 0)
            return None
        ir_version, opset = header.ir_version, header.opset
        ports = {"inputs": header.inputs, "outputs": header.outputs}
        sha, size = hasher.digest(found.model)
    if opset is None:
        result.no_opset.append(rel_text)
    metadata: dict[str, Any] = {"model_sha": sha, "model_bytes": size,
                                "tags": tags_for(rel, own_folder=stats is None)}
    if ports is not None:
        metadata["io_ports"] = ports
    if found.archive is not None:
        archive_sha, archive_size = (sha, size) if found.archive_only else hasher.digest(found.archive)
        metadata.update(model_with_data_path=found.archive.rel, model_with_data_sha=archive_sha,
                        model_with_data_bytes=archive_size)
    if found.archive_only:
        metadata["archive_only"] = True  # the .onnx and its external data are inside the archive
        unknown = (*unknown, "the model's file name inside the archive")
    if stats is not None:
        metadata["turnkey"] = stats.metadata()
    if unknown:
        metadata["unknown_until_download"] = list(unknown)
    stem = turnkey.stem(rel_text)
    release = onnx_release_for(ir_version, opset) if ir_version else None  # None: the IR version is unknown
    guessed = bool(ir_version) and release is None
    if guessed:
        import onnx

        release = onnx.__version__
    return {
        "model": (turnkey.folder_name(rel_text) if stats else None) or stem,
        "model_path": rel_text,
        "onnx_version": release,
        "opset_version": opset or 0,
        "metadata": metadata,
        "_guessed": guessed,
    }


def build_manifest(root: str | os.PathLike[str], progress: Progress | None = None) -> BuildResult:
    """Manifest entries for every readable model under ``root``; unreadable files are skipped and reported.

    A file that is a Git LFS pointer (a checkout without LFS content) gives its SHA-256 and size from
    the pointer, and its opset, inputs and turnkey facts from a ``turnkey_stats.yaml`` beside it; a
    real model file is hashed and read. Special files and dangling links are reported, never opened."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"{root} is not a folder: give the folder that holds your .onnx files.")
    result = BuildResult(root)
    found, result.skipped, lonely = scan_tree(root)
    if lonely:
        result.notes.append(f"{len(lonely)} folder(s) hold a {turnkey.STATS_NAME} and no model: " + ", ".join(lonely[:3])
                            + (f" and {len(lonely) - 3} more" if len(lonely) > 3 else ""))
    plan: list[Found] = []
    for item in found:
        try:
            check_relative_path(item.model.rel)
            if item.model.path.is_symlink() and not is_within(item.model.path, root):
                raise ValueError("is a link to a file outside the folder")
        except ValueError as exc:
            result.skipped.append((item.model.rel, f"path {exc}"))
            continue
        plan.append(item)
    total = sum(f.model.size + (f.archive.size if f.archive and not f.archive_only else 0) for f in plan)
    hasher = _Hasher(total, progress)
    guessed = 0
    for item in plan:
        try:
            entry = _entry(item, hasher, result)
        except OSError as exc:  # removed or made unreadable during the walk
            result.skipped.append((item.model.rel, f"cannot be read: {exc.strerror or exc}"))
            continue
        if entry is None:
            continue
        if entry.pop("_guessed"):
            guessed += 1
        result.entries.append(entry)
        if progress:
            progress(hasher.done, total)
    if progress:
        progress(total, total)
    names: dict[tuple[str, int], int] = {}
    for entry in result.entries:
        key = (entry["model"].lower(), entry["opset_version"])
        names[key] = names.get(key, 0) + 1
    for (name, opset), count in sorted(names.items()):
        if count > 1:
            result.notes.append(
                f"{count} files are named {name!r} with opset {opset}: a client can pick only one; "
                "rename the files (the model name is the file name without .onnx)"
            )
    if result.no_opset:
        shown = ", ".join(result.no_opset[:3]) + (f" and {len(result.no_opset) - 3} more" if len(result.no_opset) > 3 else "")
        result.notes.append(f"{len(result.no_opset)} model(s) import no default-domain opset, or are LFS pointers "
                            f"without a turnkey_stats.yaml: opset_version set to 0 ({shown})")
    result.notes.append(f"onnx_version is {ONNX_VERSION_BASIS}")
    if guessed:
        result.notes.append(f"{guessed} model(s) are newer than this onnx's table: onnx_version set to the installed onnx")
    return result


def manifest_bytes(entries: list[dict[str, Any]]) -> bytes:
    return (json.dumps(entries, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_manifest(entries: list[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write atomically: a reader (or a server) never sees half a manifest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, manifest_bytes(entries))
    return path


def default_output(root: Path) -> Path:
    return Path(root) / MANIFEST_NAME


# -- checking ---------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    manifest: Path
    entries: int = 0
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_file(
    files: Path, rel: str, sha: str | None, size: int | None, where: str, progress: Progress | None,
    base: int, total: int, result: CheckResult,
) -> tuple[int, bool]:
    """Compare one file with its manifest numbers; returns the bytes it accounted for, and whether it is
    a model whose header can be read (not missing, not a Git LFS pointer, not a special file)."""
    path = files.joinpath(*PurePosixPath(rel).parts)
    if not is_within(path, files):
        result.problems.append(f"{where}: {rel} resolves outside {files}")
        return 0, False
    actual_size, problem = regular_size(path)
    if problem == "vanished" or (problem and "dangling" in problem):
        result.problems.append(f"{where}: {rel} is missing from {files}" + ("" if problem == "vanished" else f" ({problem})"))
        return 0, False
    if problem is not None or actual_size is None:
        result.problems.append(f"{where}: {rel} {problem}")
        return 0, False
    result.files_checked += 1
    pointer = lfs.read_pointer(path, actual_size)
    what = "points to" if pointer else "has"
    if pointer is not None:  # a checkout without LFS content: the pointer stands for the bytes
        actual_size, digest = pointer.size, pointer.sha256
    if size is not None and actual_size != size:
        result.problems.append(f"{where}: {rel} {what} {actual_size:,} bytes, the manifest says {size:,}")
    if pointer is None:
        digest = _hash(path, base, total, progress)
    if sha is not None and digest != sha.lower():
        result.problems.append(f"{where}: {rel} {what} SHA-256 {digest}, the manifest says {sha}")
    return (size or 0 if pointer else actual_size), pointer is None


def _expected_files(entry: ModelInfo) -> list[tuple[str, str | None, int | None]]:
    files = [(entry.model_path, entry.model_sha, entry.model_bytes)]
    if entry.model_with_data_path:
        files.append((entry.model_with_data_path, entry.model_with_data_sha, entry.model_with_data_bytes))
    return files


def check_manifest(
    manifest: str | os.PathLike[str], files: str | os.PathLike[str] | None = None, progress: Progress | None = None
) -> CheckResult:
    """Problems a client would hit: invalid or duplicate entries, missing hashes, and (with ``files``)
    missing files, wrong sizes, wrong hashes and opsets that disagree with the file."""
    manifest = Path(manifest)
    try:
        body = manifest.read_bytes()
    except OSError as exc:
        raise ManifestError(f"Cannot read {manifest}: {exc.strerror or exc}") from None
    parsed = parse_manifest(body, str(manifest))
    result = CheckResult(manifest, entries=len(parsed.entries))
    result.problems.extend(str(s) for s in parsed.skipped)
    seen_paths: dict[str, str] = {}
    seen_versions: set[tuple[str, int]] = set()
    for entry in parsed.entries:
        where = f"{entry.model} (opset {entry.opset})"
        if entry.model_path in seen_paths:
            result.problems.append(f"{where}: model_path {entry.model_path} is also used by {seen_paths[entry.model_path]}")
        seen_paths[entry.model_path] = where
        version = (entry.model.lower(), entry.opset)
        if version in seen_versions:
            result.problems.append(f"{where}: a second entry with the same name and opset (only one can be chosen)")
        seen_versions.add(version)
        for rel, sha, size in _expected_files(entry):
            if sha is None:
                result.problems.append(f"{where}: {rel} has no SHA-256, so downloads cannot be verified")
            if size is None:
                result.problems.append(f"{where}: {rel} has no byte count")
    if files is None:
        return result
    root = Path(files)
    if not root.is_dir():
        raise ManifestError(f"{root} is not a folder: --files takes the folder the manifest's paths are relative to.")
    planned = [(e, f) for e in parsed.entries for f in _expected_files(e)]
    total = sum(size or 0 for _e, (_rel, _sha, size) in planned)
    done = 0
    for entry, (rel, sha, size) in planned:
        where = f"{entry.model} (opset {entry.opset})"
        counted, readable = _check_file(root, rel, sha, size, where, progress, done, total, result)
        done += counted
        if rel == entry.model_path and readable and not entry.metadata.get("archive_only"):
            try:
                header = read_header(root / rel)
            except InspectError as exc:
                result.problems.append(f"{where}: {exc}")
                continue
            if header.opset is not None and header.opset != entry.opset:
                result.problems.append(
                    f"{where}: opset_version is {entry.opset} but {rel} imports opset {header.opset}"
                )
    return result
