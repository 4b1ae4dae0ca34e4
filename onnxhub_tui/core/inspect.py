"""What a local .onnx file holds, read from its protobuf wire format without loading the weights.

``onnx.load`` would read every initializer into memory (hundreds of MB for the zoo's models); here the
file is memory-mapped and only message headers are decoded, so weights are skipped, never copied.
"""

from __future__ import annotations

import mmap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import TypeVar

from .diskio import open_regular
from .errors import HubError, InspectError, UnsafePathError
from .wire import VARINT as _VARINT
from .wire import fields as _fields  # build imports it from here
from .wire import text as _text
from .wire import texts
from .wire import varint as _varint

T = TypeVar("T")

# TensorProto.DataType -> bytes per element (sub-byte types rounded up per element)
_ITEM_SIZE = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2}


@dataclass
class ModelSummary:
    ir_version: int = 0
    producer: str = ""
    producer_version: str = ""
    opset_imports: dict[str, int] = field(default_factory=dict)
    node_count: int = 0
    op_counts: Counter[str] = field(default_factory=Counter)
    initializer_count: int = 0
    initializer_bytes: int = 0
    external_data: bool = False

    def top_ops(self, n: int = 8) -> list[tuple[str, int]]:
        return self.op_counts.most_common(n)


def _tensor_bytes(buf: memoryview) -> tuple[int, bool]:
    dims: list[int] = []
    data_type = 0
    raw = None
    external = False
    for number, wire, value in _fields(buf):
        if number == 1:  # dims, packed or not
            if isinstance(value, memoryview):
                pos = 0
                while pos < len(value):
                    dim, pos = _varint(value, pos)
                    dims.append(dim)
            else:
                dims.append(value)
        elif number == 2 and wire == _VARINT:
            data_type = int(value)
        elif number == 9 and isinstance(value, memoryview):
            raw = len(value)
        elif number == 14 and value == 1:
            external = True
    if raw is not None:
        return raw, external
    return prod(dims) * _ITEM_SIZE.get(data_type, 0), external


def _graph(buf: memoryview, summary: ModelSummary) -> None:
    for number, _wire, value in _fields(buf):
        if not isinstance(value, memoryview):
            continue
        if number == 1:  # node
            op_type, domain = texts(value, 4, 7)
            summary.node_count += 1
            summary.op_counts[f"{domain}.{op_type}" if domain and domain != "ai.onnx" else op_type] += 1
        elif number in (5, 15):  # initializer, sparse_initializer
            size, external = _tensor_bytes(value)
            summary.initializer_count += 1
            summary.initializer_bytes += size
            summary.external_data |= external


def read_mapped(path: Path, reader: Callable[[memoryview], T], *, prefix: str = "") -> T:
    """``reader`` over a read-only memory map of a regular file. An ``InspectError`` or ``UnsafePathError``
    it raises comes back with its message only (after ``prefix``): a traceback's frames hold slices of the
    map, and while they live the map cannot close (a BufferError that used to replace the real error)."""
    failure: tuple[type[HubError], str] | None = None
    try:
        with open_regular(path) as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                return reader(view)
            except (InspectError, UnsafePathError) as exc:
                failure = (type(exc), str(exc))
            finally:
                view.release()
    except (OSError, ValueError) as exc:  # ValueError: an empty file cannot be mapped
        raise InspectError(f"Cannot read {path.name}: {exc}") from None
    kind, message = failure
    raise kind(message if kind is UnsafePathError else prefix + message)


def summarize(path: Path) -> ModelSummary:
    """Summarize an ONNX model file; raises InspectError when it is not one."""
    return read_mapped(path, _summarize)


@dataclass
class TopLevel:
    """A ModelProto's own fields; ``graph`` is a zero-copy view of the GraphProto bytes."""

    ir_version: int
    producer: str
    producer_version: str
    opsets: dict[str, int]  # domain as written ("" is the default domain) -> version
    graph: memoryview


def read_top_level(view: memoryview) -> TopLevel:
    """The model's header fields and its graph's bytes; InspectError when it is not an ONNX model."""
    ir_version, producer, producer_version = 0, "", ""
    opsets: dict[str, int] = {}
    graph: memoryview | None = None
    for number, wire, value in _fields(view):
        if number == 1 and wire == _VARINT:
            ir_version = int(value)
        elif number == 2:
            producer = _text(value)
        elif number == 3:
            producer_version = _text(value)
        elif number == 7 and isinstance(value, memoryview):
            graph = value
        elif number == 8 and isinstance(value, memoryview):
            domain, version = "", 0
            for n, w, v in _fields(value):
                if n == 1:
                    domain = _text(v)
                elif n == 2 and w == _VARINT:
                    version = int(v)
            opsets[domain] = version
    if graph is None or ir_version == 0:
        raise InspectError("not an ONNX model (no graph or IR version found)")
    return TopLevel(ir_version, producer, producer_version, opsets, graph)


def _summarize(view: memoryview) -> ModelSummary:
    top = read_top_level(view)
    summary = ModelSummary(
        ir_version=top.ir_version,
        producer=top.producer,
        producer_version=top.producer_version,
        opset_imports={(domain or "ai.onnx"): version for domain, version in top.opsets.items()},
    )
    _graph(top.graph, summary)
    return summary
