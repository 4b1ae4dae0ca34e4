"""Which external data files a local ``.onnx`` names, read from its wire format (no weights loaded),
and where a Hugging Face repo's files live in the cache so those names resolve.

A tensor is external when its ``data_location`` (TensorProto field 14) is EXTERNAL (1), as in
``onnx.external_data_helper.uses_external_data``; its ``external_data`` (field 13, key/value entries)
gives ``location`` relative to the model's folder. Tensors are found wherever ONNX puts them: graph
initializers (GraphProto 5) and sparse initializers (15: values 1, indices 2), node attributes
(NodeProto 5 -> AttributeProto t 5, tensors 10, sparse_tensor 22, sparse_tensors 23) and the subgraphs
of attributes (g 6, graphs 11), training info graphs (ModelProto 20: initialization 1, algorithm 2) and
local functions' nodes (ModelProto 25 -> FunctionProto node 7). A location that is absolute, has a
``..`` part, a backslash or a drive is refused (onnx's checker refuses them too).

Layout for Hugging Face hubs: onnx.hub's flat ``<dirs>/<sha>_<name>`` renames the model, so a
``location`` next to it could never resolve. A repo's files keep their repo paths under one folder per
commit: ``<cache>/hf/<owner>/<repo>/<commit>/<path in repo>``. ``onnx.load(path)`` then finds every
external file where the model says, a commit's files never mix with another's, and the folder
``hf/<owner>/<repo>/`` is the hub's whole footprint (what ``cache ls/rm`` scope to). Manifest hubs keep
onnx.hub's layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InspectError, UnsafePathError
from .hf_repo import COMMIT
from .inspect import _fields, read_mapped, read_top_level
from .paths import check_relative_path, is_within, relative_path_problem
from .wire import text as _text
from .wire import texts

HF_DIR = "hf"
_MAX_DEPTH = 64  # nested subgraphs deeper than this are hostile


@dataclass(frozen=True)
class ExternalTensor:
    name: str
    location: str
    offset: int | None
    length: int | None


def _tensor(buf: memoryview) -> ExternalTensor | None:
    name = ""
    external = False
    entries: dict[str, str] = {}
    for number, _wire, value in _fields(buf):
        if number == 8:
            name = _text(value)
        elif number == 14 and value == 1:
            external = True
        elif number == 13 and isinstance(value, memoryview):
            key, val = texts(value, 1, 2)
            entries[key] = val
    if not external:
        return None
    location = entries.get("location", "")
    if not location:
        raise InspectError(f"tensor {name!r} is stored externally but names no location")
    problem = relative_path_problem(location)
    if problem is not None:
        raise UnsafePathError(f"Refusing the external data of tensor {name!r}: its location {problem}.")

    def number_of(key: str) -> int | None:
        text = entries.get(key, "")
        return int(text) if text.isdigit() else None

    return ExternalTensor(name, location, number_of("offset"), number_of("length"))


def _sparse(buf: memoryview, depth: int) -> Iterator[ExternalTensor]:
    for number, _w, value in _fields(buf):
        if number in (1, 2) and isinstance(value, memoryview):
            found = _tensor(value)
            if found:
                yield found


def _attribute(buf: memoryview, depth: int) -> Iterator[ExternalTensor]:
    for number, _w, value in _fields(buf):
        if not isinstance(value, memoryview):
            continue
        if number in (5, 10):
            found = _tensor(value)
            if found:
                yield found
        elif number in (22, 23):
            yield from _sparse(value, depth)
        elif number in (6, 11):
            yield from _graph(value, depth + 1)


def _nodes_attributes(node: memoryview, depth: int) -> Iterator[ExternalTensor]:
    for number, _w, value in _fields(node):
        if number == 5 and isinstance(value, memoryview):
            yield from _attribute(value, depth)


def _graph(buf: memoryview, depth: int) -> Iterator[ExternalTensor]:
    if depth > _MAX_DEPTH:
        raise InspectError(f"subgraphs nested deeper than {_MAX_DEPTH}")
    for number, _w, value in _fields(buf):
        if not isinstance(value, memoryview):
            continue
        if number == 5:
            found = _tensor(value)
            if found:
                yield found
        elif number == 15:
            yield from _sparse(value, depth)
        elif number == 1:
            yield from _nodes_attributes(value, depth)


def _model(view: memoryview) -> list[ExternalTensor]:
    top = read_top_level(view)  # also says "not an ONNX model" for anything else
    found = list(_graph(top.graph, 0))
    for number, _w, value in _fields(view):
        if number == 20 and isinstance(value, memoryview):  # training_info
            for n, _w2, g in _fields(value):
                if n in (1, 2) and isinstance(g, memoryview):
                    found.extend(_graph(g, 1))
        elif number == 25 and isinstance(value, memoryview):  # functions
            for n, _w2, node in _fields(value):
                if n == 7 and isinstance(node, memoryview):
                    found.extend(_nodes_attributes(node, 1))
    return found


def external_tensors(path: Path) -> list[ExternalTensor]:
    """Every externally stored tensor of a local model, in file order. InspectError when it is not an
    ONNX model, UnsafePathError for a location outside the model's folder."""
    return read_mapped(path, _model, prefix=f"{path.name}: ")


def data_locations(path: Path) -> list[str]:
    """The distinct external data files a model names, relative to its folder, in first-use order."""
    seen: dict[str, None] = {}
    for tensor in external_tensors(path):
        seen.setdefault(str(check_relative_path(tensor.location)), None)  # "./a" and "a" are one file
    return list(seen)


def hf_repo_dir(cache_dir: Path, repo_id: str) -> Path:
    """``<cache>/hf/<owner>/<repo>``: everything of one Hugging Face repo (all its commits)."""
    owner, _, name = repo_id.partition("/")
    for part in (owner, name):
        if relative_path_problem(part) is not None or "/" in part or part in (".", ".."):
            raise UnsafePathError(f"Refusing Hugging Face repo id {repo_id!r}.")
    return Path(cache_dir) / HF_DIR / owner / name


def hf_file_path(cache_dir: Path, *, repo_id: str, commit: str, path: str) -> Path:
    """Where a repo file lives: ``<cache>/hf/<owner>/<repo>/<commit>/<path>`` (refuses anything that
    would land outside the cache)."""
    if not COMMIT.match(commit):
        raise UnsafePathError(f"Refusing commit {commit!r}: not a 40-digit hex commit id.")
    try:
        rel = check_relative_path(path)
    except ValueError as exc:
        raise UnsafePathError(f"Refusing repo path: {exc}.") from None
    target = hf_repo_dir(cache_dir, repo_id).joinpath(commit, *rel.parts)
    if not is_within(target, cache_dir):
        raise UnsafePathError(f"Refusing repo path {path!r}: it resolves outside the cache {cache_dir}.")
    return target
