"""What a model takes and gives, read before it is downloaded: a walk of its protobuf over byte windows.

ModelProto and GraphProto are walked field by field through a ``byteranges.Window``: small fields are
decoded from the bytes in hand, and every length-delimited payload nobody needs (weights, doc strings)
is skipped by its length, so a 64 MB model of 16 tensors costs about 17 small requests (over HTTP, a
run of same-sized weights is read ahead in parallel: see ``byteranges._Ahead``). Serializers write
fields in number order, so the graph's inputs and outputs and the model's ``opset_import`` come after the
weights, near the end of the file; the walk reaches them by skipping, never by reading what lies between.

The same walk reads a local-folder source's file (another back end of the same Window). Results are
kept by the model's SHA-256 under the cache's tool folder (``remote_store``), never under the model's
own cache name: a second look costs nothing and works offline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from . import remote_store
from .byteranges import Budget, Meter, Progress, RangeFailed, Window, open_location
from .download import CancelToken
from .errors import InspectError
from .manifest import FileRef, Port
from .sources import Source
from .wire import LEN, VARINT, signed

__all__ = ["Budget", "RemoteSummary", "cached_summary", "inspect_remote"]

MAX_DEPTH = 32  # subgraphs (If/Loop/Scan bodies) nest; a damaged file could nest without end
MAX_TEXT = 1024  # longer names are cut: a header is for reading, not for a 1 MB doc string
# TensorProto.DataType -> bytes per element (sub-byte types rounded up per element); as core/inspect's
_ITEM_SIZE = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
              **dict.fromkeys(range(17, 29), 1)}
# TensorProto.DataType names, lower-cased: the zoo manifest's spelling (``tensor(float)``), as core/build's
_TYPE_NAMES = ("undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool",
               "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16", "float8e4m3fn",
               "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1", "float8e8m0",
               "uint2", "int2", "float6e2m3", "float6e3m2")


@dataclass(frozen=True)
class RemoteSummary:
    """A model's header. ``requests`` and ``bytes_read`` are what the first read cost; ``cached`` says this
    copy came from the result cache (and cost nothing)."""

    ir_version: int
    producer: str
    producer_version: str
    opset_imports: dict[str, int]  # "ai.onnx" for the default domain, as core.inspect.ModelSummary
    inputs: tuple[Port, ...]  # the graph's inputs less its initializers (old IR lists weights as inputs)
    outputs: tuple[Port, ...]
    node_count: int  # the main graph's nodes (subgraph nodes are not counted)
    op_counts: dict[str, int]  # op type ("domain.Op" outside the default domain) -> nodes, main graph
    initializer_count: int  # the main graph's (sparse ones included)
    initializer_bytes: int
    external_data: tuple[str, ...]  # the files external tensors name, anywhere in the model, first seen first
    file_size: int
    requests: int
    bytes_read: int
    cached: bool = False

    def top_ops(self, n: int = 8) -> list[tuple[str, int]]:
        return Counter(self.op_counts).most_common(n)

    def io_ports(self) -> dict[str, list[dict[str, Any]]]:
        """Inputs and outputs in the manifest's ``io_ports`` form."""
        return {"inputs": [_port_json(p) for p in self.inputs], "outputs": [_port_json(p) for p in self.outputs]}

    def to_json(self) -> dict[str, Any]:
        return {
            "ir_version": self.ir_version, "producer": self.producer, "producer_version": self.producer_version,
            "opset_imports": dict(self.opset_imports), **self.io_ports(), "node_count": self.node_count,
            "op_counts": dict(self.op_counts), "initializer_count": self.initializer_count,
            "initializer_bytes": self.initializer_bytes, "external_data": list(self.external_data),
            "file_size": self.file_size, "requests": self.requests, "bytes_read": self.bytes_read,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, cached: bool = False) -> RemoteSummary:
        """The inverse of ``to_json``; KeyError, TypeError or ValueError when ``data`` is not one."""
        return cls(
            ir_version=int(data["ir_version"]), producer=str(data["producer"]),
            producer_version=str(data["producer_version"]),
            opset_imports={str(k): int(v) for k, v in data["opset_imports"].items()},
            inputs=tuple(_port_from_json(p) for p in data["inputs"]),
            outputs=tuple(_port_from_json(p) for p in data["outputs"]),
            node_count=int(data["node_count"]), op_counts={str(k): int(v) for k, v in data["op_counts"].items()},
            initializer_count=int(data["initializer_count"]), initializer_bytes=int(data["initializer_bytes"]),
            external_data=tuple(str(x) for x in data["external_data"]), file_size=int(data["file_size"]),
            requests=int(data["requests"]), bytes_read=int(data["bytes_read"]), cached=cached,
        )


def _port_json(port: Port) -> dict[str, Any]:
    return {"name": port.name, "shape": list(port.shape), "type": port.type}


def _port_from_json(data: dict[str, Any]) -> Port:
    shape = data["shape"]
    if not isinstance(shape, list) or not all(d is None or isinstance(d, (int, str)) for d in shape):
        raise TypeError("a port's shape is a list of ints, names or nulls")
    return Port(name=str(data["name"]), shape=tuple(shape), type=str(data["type"]))


# -- the walk ---------------------------------------------------------------------------------------


class _Span(NamedTuple):  # a tuple, not a dataclass: one is made per field, 30,000 for 5,000 nodes
    start: int
    end: int


@dataclass
class _Walk:
    """What the walk has found so far."""

    win: Window
    ir_version: int = 0
    producer: str = ""
    producer_version: str = ""
    opsets: dict[str, int] = field(default_factory=dict)
    graph_seen: bool = False
    inputs: list[Port] = field(default_factory=list)
    outputs: list[Port] = field(default_factory=list)
    initializer_names: set[str] = field(default_factory=set)
    node_count: int = 0
    op_counts: Counter[str] = field(default_factory=Counter)
    initializer_count: int = 0
    initializer_bytes: int = 0
    external: dict[str, None] = field(default_factory=dict)  # an ordered set

    def fields(self, span: _Span) -> Iterator[tuple[int, int, int | _Span]]:
        """(field number, wire type, value) of the message in ``span``; LEN values as spans, not bytes."""
        win, pos, end = self.win, span.start, span.end
        while pos < end:
            key, pos = win.varint(pos, end)
            number, wire = key >> 3, key & 7
            if wire == VARINT:
                value, pos = win.varint(pos, end)
                yield number, wire, value
            elif wire == LEN:
                length, pos = win.varint(pos, end)
                if pos + length > end:
                    raise InspectError("a protobuf field runs past the end of its message")
                yield number, wire, _Span(pos, pos + length)
                pos += length
            elif wire in (1, 5):  # fixed 64 / 32 bits: floats nobody here needs
                pos += 8 if wire == 1 else 4
                if pos > end:
                    raise InspectError("a protobuf field runs past the end of its message")
            else:
                raise InspectError(f"unsupported protobuf wire type {wire}")

    def text(self, value: int | _Span) -> str:
        if not isinstance(value, _Span):
            return ""
        return self.win.get(value.start, min(value.end, value.start + MAX_TEXT)).decode("utf-8", "replace")

    # -- messages
    def model(self, span: _Span) -> None:
        for number, wire, value in self.fields(span):
            if number == 1 and wire == VARINT:
                self.ir_version = int(value)  # type: ignore[arg-type]
            elif number == 2:
                self.producer = self.text(value)
            elif number == 3:
                self.producer_version = self.text(value)
            elif number == 7 and isinstance(value, _Span):
                self.graph_seen = True
                self.graph(value, depth=0)
            elif number == 8 and isinstance(value, _Span):
                self.opset(value)
            elif number == 25 and isinstance(value, _Span):  # FunctionProto: its nodes may name external data
                for n, _w, v in self.fields(value):
                    if n == 7 and isinstance(v, _Span):
                        self.node(v, depth=1)

    def opset(self, span: _Span) -> None:
        domain, version = "", 0
        for number, wire, value in self.fields(span):
            if number == 1:
                domain = self.text(value)
            elif number == 2 and wire == VARINT:
                version = int(value)  # type: ignore[arg-type]
        self.opsets[domain or "ai.onnx"] = version

    def graph(self, span: _Span, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InspectError(f"subgraphs nest deeper than {MAX_DEPTH} levels")
        main = depth == 0
        for number, _wire, value in self.fields(span):
            if not isinstance(value, _Span):
                continue
            if number == 1:
                self.node(value, depth)
            elif number in (5, 15):  # initializer, sparse_initializer
                name, size = self.tensor(value) if number == 5 else self.sparse(value)
                if main:
                    self.initializer_names.add(name)
                    self.initializer_count += 1
                    self.initializer_bytes += size
            elif main and number in (11, 12):
                (self.inputs if number == 11 else self.outputs).append(self.value_info(value))

    def node(self, span: _Span, depth: int) -> None:
        op_type = domain = ""
        for number, _wire, value in self.fields(span):
            if number == 4:
                op_type = self.text(value)
            elif number == 7:
                domain = self.text(value)
            elif number == 5 and isinstance(value, _Span):
                self.attribute(value, depth)
        if depth == 0:
            self.node_count += 1
            self.op_counts[f"{domain}.{op_type}" if domain and domain != "ai.onnx" else op_type] += 1

    def attribute(self, span: _Span, depth: int) -> None:
        for number, _wire, value in self.fields(span):
            if not isinstance(value, _Span):
                continue
            if number in (5, 10):  # t, tensors
                self.tensor(value)
            elif number in (6, 11):  # g, graphs: If/Loop/Scan bodies
                self.graph(value, depth + 1)
            elif number in (22, 23):  # sparse_tensor, sparse_tensors
                self.sparse(value)

    def tensor(self, span: _Span) -> tuple[str, int]:
        """(name, bytes) of a TensorProto; its payload is skipped, its external location noted."""
        dims: list[int] = []
        data_type = 0
        name = location = ""
        raw: int | None = None
        external_length: int | None = None
        for number, wire, value in self.fields(span):
            if number == 1:  # dims, packed or not
                if isinstance(value, _Span):
                    pos = value.start
                    while pos < value.end:
                        dim, pos = self.win.varint(pos, value.end)
                        dims.append(signed(dim))
                else:
                    dims.append(signed(value))
            elif number == 2 and wire == VARINT:
                data_type = int(value)  # type: ignore[arg-type]
            elif number == 8:
                name = self.text(value)
            elif number == 9 and isinstance(value, _Span):
                raw = value.end - value.start
            elif number == 13 and isinstance(value, _Span):  # external_data: key/value entries
                key, text = self.entry(value)
                if key == "location":
                    location = text
                elif key == "length" and text.isdigit():
                    external_length = int(text)
        if location:
            self.external.setdefault(location, None)
        if raw is not None:
            return name, raw
        if external_length is not None:
            return name, external_length
        return name, prod(max(d, 0) for d in dims) * _ITEM_SIZE.get(data_type, 0)

    def sparse(self, span: _Span) -> tuple[str, int]:
        name, size = "", 0
        for number, _wire, value in self.fields(span):
            if number in (1, 2) and isinstance(value, _Span):  # values, indices
                tensor_name, tensor_size = self.tensor(value)
                name = name or (tensor_name if number == 1 else "")
                size += tensor_size
        return name, size

    def entry(self, span: _Span) -> tuple[str, str]:
        found = {1: "", 2: ""}  # key, value
        for number, _wire, v in self.fields(span):
            if number in found:
                found[number] = self.text(v)
        return found[1], found[2]

    def value_info(self, span: _Span) -> Port:
        name, type_name, shape = "", "unknown", None
        for number, _wire, value in self.fields(span):
            if number == 1:
                name = self.text(value)
            elif number == 2 and isinstance(value, _Span):
                type_name, shape = self.type(value, 0)
        return Port(name=name, shape=tuple(shape or ()), type=type_name)

    def type(self, span: _Span, depth: int) -> tuple[str, list[int | str | None] | None]:
        """``tensor(float)``, ``seq(tensor(uint8))``, ``map(int64,tensor(float))`` and, for tensors, the
        dims (ints, names, None when unknown; None for an unknown rank): core.build's spelling."""
        if depth > MAX_DEPTH:
            raise InspectError(f"types nest deeper than {MAX_DEPTH} levels")
        for number, _wire, value in self.fields(span):
            if not isinstance(value, _Span):
                continue
            if number in (1, 8):  # tensor_type, sparse_tensor_type
                elem, shape = self.tensor_type(value)
                return f"{'tensor' if number == 1 else 'sparse_tensor'}({elem})", shape
            if number in (4, 9):  # sequence_type, optional_type: elem_type is field 1
                inner = "unknown"
                for n, _w, v in self.fields(value):
                    if n == 1 and isinstance(v, _Span):
                        inner = self.type(v, depth + 1)[0]
                return f"{'seq' if number == 4 else 'optional'}({inner})", None
            if number == 5:  # map_type
                key, inner = "undefined", "unknown"
                for n, w, v in self.fields(value):
                    if n == 1 and w == VARINT:
                        key = _elem_name(int(v))  # type: ignore[arg-type]
                    elif n == 2 and isinstance(v, _Span):
                        inner = self.type(v, depth + 1)[0]
                return f"map({key},{inner})", None
        return "unknown", None

    def tensor_type(self, span: _Span) -> tuple[str, list[int | str | None] | None]:
        elem, shape = 0, None
        for number, wire, value in self.fields(span):
            if number == 1 and wire == VARINT:
                elem = int(value)  # type: ignore[arg-type]
            elif number == 2 and isinstance(value, _Span):
                shape = []
                for n, _w, dim in self.fields(value):
                    if n == 1 and isinstance(dim, _Span):
                        shape.append(self.dim(dim))
        return _elem_name(elem), shape

    def dim(self, span: _Span) -> int | str | None:
        found: int | str | None = None
        for number, wire, value in self.fields(span):
            if number == 1 and wire == VARINT:
                found = signed(int(value))  # type: ignore[arg-type]
            elif number == 2:
                found = self.text(value)
        return found


def _elem_name(code: int) -> str:
    return _TYPE_NAMES[code] if 0 <= code < len(_TYPE_NAMES) else f"type{code}"


def _summary(walk: _Walk, meter: Meter) -> RemoteSummary:
    if not walk.graph_seen or walk.ir_version == 0:
        raise InspectError("it is not an ONNX model (no graph or IR version found)")
    return RemoteSummary(
        ir_version=walk.ir_version, producer=walk.producer, producer_version=walk.producer_version,
        opset_imports=dict(walk.opsets),
        inputs=tuple(p for p in walk.inputs if p.name not in walk.initializer_names),
        outputs=tuple(walk.outputs), node_count=walk.node_count, op_counts=dict(walk.op_counts),
        initializer_count=walk.initializer_count, initializer_bytes=walk.initializer_bytes,
        external_data=tuple(walk.external), file_size=walk.win.size, requests=meter.requests,
        bytes_read=meter.bytes,
    )


# -- the entry points -------------------------------------------------------------------------------


def cached_summary(cache_dir: Path, file: FileRef) -> RemoteSummary | None:
    """The kept result for this file, if any: no network, a small file read (cheap on a UI thread)."""
    data = remote_store.load(cache_dir, file.sha)
    if data is None:
        return None
    try:
        kept = RemoteSummary.from_json(data, cached=True)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # an older or damaged record: read the model again
    return kept if file.size is None or kept.file_size == file.size else None


def inspect_remote(
    *,
    client: httpx.Client,
    source: Source,
    file: FileRef,
    cache_dir: Path,
    budget: Budget = Budget(),
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
    refresh: bool = False,
) -> RemoteSummary:
    """The header of ``file`` (a manifest entry's model) without downloading it.

    Tries the source's locations in order, as downloads do; reads at most ``budget``. Raises
    ``InspectError("Cannot inspect remotely: ...")`` when no location serves byte ranges of a readable
    model within the budget, ``OfflineError`` when it would need the network in offline mode,
    ``CancelledError`` once ``cancel`` is set. ``progress(requests, bytes)`` follows each request.
    A result for a file with a SHA-256 is kept in the cache and given back (``cached=True``) next time.
    """
    if file.kind != "model":
        raise InspectError(f"Cannot inspect remotely: {file.path} is a model-with-data archive, not a model.")
    if not refresh:
        kept = cached_summary(cache_dir, file)
        if kept is not None:
            return kept
    meter = Meter(budget, cancel, progress)
    tried: list[str] = []
    for url in source.file_urls(file.path):
        try:
            backend, first = open_location(client, source, url, meter)
        except RangeFailed as failed:
            tried.append(f"  {url}: {failed.reason}")
            continue
        except InspectError as exc:
            raise InspectError(f"Cannot inspect remotely: {file.path}: {exc}.") from None
        try:
            if file.size is not None and backend.size != file.size:
                tried.append(f"  {url}: the file is {backend.size:,} bytes, the manifest says {file.size:,}")
                continue
            summary = _read(Window(backend, first, meter), meter)
        except (InspectError, RangeFailed) as exc:
            raise InspectError(f"Cannot inspect remotely: {file.path}: {exc}.") from None
        finally:
            backend.close()
        remote_store.save(cache_dir, file.sha, summary.to_json())
        return summary
    lines = "\n".join(tried)
    raise InspectError(f"Cannot inspect remotely: {file.path}; tried {len(tried)} location(s):\n{lines}")


def _read(win: Window, meter: Meter) -> RemoteSummary:
    walk = _Walk(win)
    try:
        walk.model(_Span(0, win.size))
    finally:
        win.close()  # before the costs are summed: a read ahead may still be arriving
    meter.reported()  # the last word on what it cost, reads ahead included
    return _summary(walk, meter)
