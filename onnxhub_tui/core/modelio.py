"""Load a ModelProto field by field from a file.

``onnx.load`` holds the file's bytes and the parsed model at once (about 2x the file in memory). Here
each top-level field, and each field of the graph, is merged on its own (small neighbours in batches),
so the peak is about the model plus its largest tensor. The file is read over a memory map whose pages
are let go once merged, hashed in the same pass when a digest is asked for. (Parsing a download while
its bytes arrived measured level with this, after it, and held more memory: 1.25-1.33x the file
against 1.22x, on a 256 MB model of 64 tensors.)
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Iterator
from pathlib import Path

import onnx
from onnx.external_data_helper import load_external_data_for_model, uses_external_data

from .diskio import open_regular
from .errors import InspectError
from .wire import varint as _varint

_GRAPH = 7
_PAGE = mmap.PAGESIZE
BATCH = 4 * 1024 * 1024  # neighbouring small fields (nodes, names) are merged this many bytes at a time


def _header(view: memoryview, pos: int, end: int) -> tuple[int, int, int, int]:
    """(field number, wire type, value start, field end) of the field at ``pos``."""
    key, pos = _varint(view, pos)
    wire = key & 7
    if wire == 0:
        _, field_end = _varint(view, pos)
        value_start = pos
    elif wire == 2:
        length, value_start = _varint(view, pos)
        field_end = value_start + length
    elif wire == 1:
        value_start, field_end = pos, pos + 8
    elif wire == 5:
        value_start, field_end = pos, pos + 4
    else:
        raise InspectError(f"unsupported protobuf wire type {wire}")
    if field_end > end:
        raise InspectError("a protobuf field runs past the end of the file")
    return key >> 3, wire, value_start, field_end


class _Merger:
    """Merges runs of neighbouring fields into the model or its graph, a batch at a time."""

    def __init__(self, model: onnx.ModelProto, read, merged) -> None:
        self.model = model
        self._read = read  # (start, end) -> the bytes (a view is fine)
        self._merged = merged  # (end) -> None: those bytes are in the model now
        self._target: object | None = None
        self._start = self._end = 0

    def add(self, target: object, start: int, end: int) -> None:
        if self._target is not target or start != self._end or end - self._start > BATCH:
            self.flush()
            self._target, self._start = target, start
        self._end = end

    def flush(self) -> None:
        if self._target is not None and self._end > self._start:
            self._target.MergeFromString(self._read(self._start, self._end))  # type: ignore[attr-defined]
            self._merged(self._end)
        self._target = None
        self._start = self._end = 0


def _walk(view: memoryview, size: int, merger: _Merger) -> None:
    """Merge every field of the model; the graph's one by one (``pos`` < ``graph_end``: inside it)."""
    model = merger.model
    pos = graph_end = 0
    while pos < size:
        if pos < graph_end:
            g_end = _header(view, pos, graph_end)[3]
            merger.add(model.graph, pos, g_end)
            pos = g_end
            continue
        number, wire, value_start, end = _header(view, pos, size)
        if number == _GRAPH and wire == 2:
            merger.flush()
            pos, graph_end = value_start, end  # descend: the graph's fields are merged one by one
            continue
        merger.add(model, pos, end)
        pos = end
    merger.flush()


def _parse_file(path: Path, model: onnx.ModelProto, hasher: "hashlib._Hash | None") -> None:
    """Merge the file's fields into ``model``, over a memory map whose pages are let go once merged (each
    field's bytes are copied once, by protobuf; measured as fast as pread and lighter)."""
    with open_regular(path) as f:  # a FIFO under a model's name must not block hub.load
        size = f.seek(0, 2)
        if not size:  # nothing to map: an empty model (a file of 0 bytes parses as one)
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            released = hashed = 0

            def read(start: int, end: int) -> memoryview:
                nonlocal hashed
                if hasher is not None:
                    hasher.update(view[hashed:end])
                    hashed = end
                return view[start:end]

            def let_go(upto: int) -> None:
                nonlocal released
                page_end = (upto // _PAGE) * _PAGE
                if hasattr(mapped, "madvise") and page_end > released:
                    mapped.madvise(mmap.MADV_DONTNEED, released, page_end - released)
                    released = page_end

            try:
                _walk(view, size, _Merger(model, read, let_go))
                if hasher is not None and hashed < size:
                    hasher.update(view[hashed:size])
            except InspectError:
                raise
            except Exception as exc:  # protobuf's DecodeError and friends
                raise InspectError(f"{path.name} is not a valid ONNX model: {exc}") from None
            finally:
                view.release()


def _external(model: onnx.ModelProto, path: Path) -> onnx.ModelProto:
    if uses_external_data_anywhere(model):
        load_external_data_for_model(model, str(path.parent))
    return model


def load_model(
    path: Path, expected_sha: str | None = None, digest: bool = True
) -> tuple[onnx.ModelProto, str | None]:
    """Parse ``path`` into a ModelProto; returns it with the file's SHA-256 hex digest (None when
    ``digest`` is False: a file this process has just downloaded was verified as it was written)."""
    model = onnx.ModelProto()
    hasher = hashlib.sha256() if digest else None
    _parse_file(Path(path), model, hasher)
    return _external(model, Path(path)), hasher.hexdigest() if hasher is not None else None


def uses_external_data_anywhere(model: onnx.ModelProto) -> bool:
    """Whether any tensor keeps its bytes outside the file: initializers and node attributes, subgraphs
    and local functions included (where ``core/external_data`` looks, and ``onnx`` loads from)."""
    return any(uses_external_data(t) for t in _all_tensors(model))


def _all_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    graphs = [model.graph, *(g for t in model.training_info for g in (t.initialization, t.algorithm))]
    nodes = [n for f in model.functions for n in f.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            yield from (s.values for s in graph.sparse_initializer)
            nodes.extend(graph.node)
            continue
        for attribute in nodes.pop().attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("sparse_tensor"):
                yield attribute.sparse_tensor.values
            yield from (s.values for s in attribute.sparse_tensors)
            if attribute.HasField("g"):
                graphs.append(attribute.g)
            graphs.extend(attribute.graphs)
