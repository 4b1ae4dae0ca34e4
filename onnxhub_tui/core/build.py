"""Build and check an ``ONNX_HUB_MANIFEST.json`` for a folder of ``.onnx`` files.

Every number comes from the files themselves (onnx/models' old generator scraped README tables and
shipped stale hashes, onnx/models#546): SHA-256 and size from the bytes, opset and ports from the
model. Models are read at the protobuf wire level from a memory map, so weights are never loaded and
external data files are never opened; only the small input/output messages are parsed by onnx.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import InspectError, ManifestError
from .hashing import sha256_file
from .inspect import _fields, read_top_level  # the wire-format walker: zero-copy views, weights skipped
from .manifest import ModelInfo, parse_manifest
from .paths import check_relative_path, is_within
from .sources import MANIFEST_NAME

Progress = Callable[[int, "int | None"], None]  # (bytes done, bytes total), as core.download's

ARCHIVE_SUFFIX = ".tar.gz"
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

    @property
    def total_bytes(self) -> int:
        return sum(
            e["metadata"]["model_bytes"] + e["metadata"].get("model_with_data_bytes", 0) for e in self.entries
        )


def find_models(root: Path) -> list[Path]:
    """Every ``.onnx`` file under ``root``, hidden folders skipped, sorted by relative path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(Path(dirpath) / n for n in filenames if n.endswith(".onnx") and not n.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def tags_for(rel: PurePosixPath) -> list[str]:
    """The folder names on the way to the file, in order, without generic ones like ``model``."""
    tags: list[str] = []
    for part in rel.parent.parts:
        tag = part.lower()
        if tag not in NON_TAGS and tag not in tags:
            tags.append(tag)
    return tags


def archive_for(model: Path) -> Path | None:
    """The model-with-data archive next to a model: the same stem with ``.tar.gz``."""
    archive = model.with_name(model.name[: -len(".onnx")] + ARCHIVE_SUFFIX)
    return archive if archive.is_file() else None


def _hash(path: Path, base: int, total: int, progress: Progress | None) -> str:
    report = (lambda done: progress(base + done, total)) if progress else None
    return sha256_file(path, progress=report).hexdigest()


def build_manifest(root: str | os.PathLike[str], progress: Progress | None = None) -> BuildResult:
    """Manifest entries for every readable model under ``root``; unreadable files are skipped and reported."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"{root} is not a folder: give the folder that holds your .onnx files.")
    result = BuildResult(root)
    models = find_models(root)
    plan = [(m, archive_for(m)) for m in models]
    total = sum(m.stat().st_size + (a.stat().st_size if a else 0) for m, a in plan)
    done = 0
    guessed = 0
    for model, archive in plan:
        rel_text = model.relative_to(root).as_posix()
        try:
            rel = check_relative_path(rel_text)
            if model.is_symlink() and not is_within(model, root):
                raise ValueError("is a link to a file outside the folder")
        except ValueError as exc:
            result.skipped.append((rel_text, f"path {exc}"))
            continue
        size = model.stat().st_size
        try:
            header = read_header(model)
        except InspectError as exc:
            result.skipped.append((rel_text, str(exc)))
            done += size + (archive.stat().st_size if archive else 0)
            continue
        opset = header.opset
        if opset is None:
            result.notes.append(f"{rel_text}: imports no default-domain opset; opset_version set to 0")
        release = onnx_release_for(header.ir_version, opset)
        if release is None:
            guessed += 1
            import onnx

            release = onnx.__version__
        metadata: dict[str, Any] = {
            "model_sha": _hash(model, done, total, progress),
            "model_bytes": size,
            "tags": tags_for(rel),
            "io_ports": {"inputs": header.inputs, "outputs": header.outputs},
        }
        done += size
        if archive is not None:
            archive_size = archive.stat().st_size
            metadata.update(
                model_with_data_path=archive.relative_to(root).as_posix(),
                model_with_data_sha=_hash(archive, done, total, progress),
                model_with_data_bytes=archive_size,
            )
            done += archive_size
        result.entries.append(
            {
                "model": model.name[: -len(".onnx")],
                "model_path": rel_text,
                "onnx_version": release,
                "opset_version": opset or 0,
                "metadata": metadata,
            }
        )
        if progress:
            progress(done, total)
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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(manifest_bytes(entries))
    os.replace(tmp, path)
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
) -> int:
    """Compare one file with its manifest numbers; returns the bytes it accounted for."""
    path = files.joinpath(*PurePosixPath(rel).parts)
    if not is_within(path, files):
        result.problems.append(f"{where}: {rel} resolves outside {files}")
        return 0
    if not path.is_file():
        result.problems.append(f"{where}: {rel} is missing from {files}")
        return 0
    actual_size = path.stat().st_size
    result.files_checked += 1
    if size is not None and actual_size != size:
        result.problems.append(f"{where}: {rel} has {actual_size:,} bytes, the manifest says {size:,}")
    digest = _hash(path, base, total, progress)
    if sha is not None and digest != sha.lower():
        result.problems.append(f"{where}: {rel} has SHA-256 {digest}, the manifest says {sha}")
    return actual_size


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
        done += _check_file(root, rel, sha, size, where, progress, done, total, result)
        if rel == entry.model_path and (root / rel).is_file():
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
