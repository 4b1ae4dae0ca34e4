"""Load a ModelProto field by field, from a file or from a download's bytes as they arrive.

``onnx.load`` holds the file's bytes and the parsed model at once (about 2x the file in memory). Here
each top-level field, and each field of the graph, is merged on its own (small neighbours in batches),
so the peak is about the model plus its largest tensor. A file is read over a memory map whose pages
are let go once merged, hashed in the same pass when a digest is asked for. ``ModelStream`` parses a
download on its own thread while the bytes arrive, so ``hub.load`` neither reads nor parses the file
after it is verified; a field too big to hold twice (a one-tensor embedding table) is left for
``finish``, which reads it, and what follows it, from the verified file.
"""

from __future__ import annotations

import hashlib
import mmap
import threading
from collections import deque
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
HOLD = 64 * 1024 * 1024  # ModelStream keeps at most one field this big in memory; a bigger one waits
COLLECT = 1024 * 1024  # a field bigger than this is gathered as pieces and joined once
QUEUE = 8 * 1024 * 1024  # bytes fed but not parsed yet, at most: past that, feed() waits for the parser


def _header(view: memoryview | bytearray, pos: int, end: int) -> tuple[int, int, int, int]:
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

    def __init__(self, model: onnx.ModelProto, read, merged=None) -> None:
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
            if self._merged is not None:
                self._merged(self._end)
        self._target = None
        self._start = self._end = 0


def _walk(view: memoryview, size: int, pos: int, graph_end: int, merger: _Merger) -> None:
    """Merge every field from ``pos`` on; ``graph_end`` > pos: ``pos`` is inside the graph field."""
    model = merger.model
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


def _parse_file(path: Path, model: onnx.ModelProto, pos: int, graph_end: int, hasher: "hashlib._Hash | None") -> None:
    """Merge the file's fields from ``pos`` on into ``model``, over a memory map whose pages are let go
    once merged (each field's bytes are copied once, by protobuf; measured as fast as pread and lighter)."""
    with open_regular(path) as f:  # a FIFO under a model's name must not block hub.load
        size = f.seek(0, 2)
        if size <= pos:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            released = hashed = 0

            def read(start: int, end: int) -> memoryview:
                nonlocal released, hashed
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
                _walk(view, size, pos, graph_end, _Merger(model, read, let_go))
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
    _parse_file(Path(path), model, 0, 0, hasher)
    return _external(model, Path(path)), hasher.hexdigest() if hasher is not None else None


class ModelStream:
    """Parses a model from its bytes in order, on its own thread, as a download writes them.

    ``feed`` never raises: bytes out of order (a resumed or restarted download), a field over HOLD bytes or
    a parse error stop the stream, and ``finish`` reads the rest (or all) from the file. Only bytes the
    download verified end up in the model: ``finish`` is called once the file is verified, and a stream that
    did not see exactly the file's bytes, from 0 to its end, is not used. Use it as a context manager, so a
    failed download stops the thread."""

    def __init__(self) -> None:
        self.model = onnx.ModelProto()
        self._buf = bytearray()
        self._base = 0  # file offset of _buf[0]
        self._pos = 0  # file offset of the next field to merge
        self._graph_end = 0
        self._fed = 0  # bytes seen, in order, from offset 0
        self._stopped = False
        self._failed = False
        self._pieces: list[bytes | memoryview] | None = None  # a big field being gathered (see _collect)
        self._want = 0
        self._target: object | None = None
        self._queue: deque[bytes | None] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ModelStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def feed(self, offset: int, chunk: bytes) -> None:
        """``chunk`` was written at ``offset`` (called by the download's writer)."""
        if offset != self._fed:  # counted even once stopped: a restart after that must not be missed
            self._failed = self._stopped = True
            return
        self._fed += len(chunk)
        if self._stopped or not chunk:
            return
        with self._cond:
            while self._queued > QUEUE and not self._stopped:
                self._cond.wait()
            self._queue.append(chunk)
            self._queued += len(chunk)
            self._cond.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="onnxhub-parse", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the parser thread (finish() calls this)."""
        with self._cond:
            self._queue.append(None)
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                chunk = self._queue.popleft()
                if chunk is not None:
                    self._queued -= len(chunk)
                self._cond.notify_all()
            if chunk is None:
                return
            if self._stopped:
                continue
            try:
                if self._pieces is not None:
                    chunk = self._collect(chunk)
                    if chunk is None:
                        continue
                self._buf += chunk
                self._drain()
            except Exception:  # noqa: BLE001 - the file parse after verification decides
                self._failed = True
                self._stop()

    def _stop(self) -> None:
        self._stopped = True
        self._buf = bytearray()
        self._pieces = None
        with self._cond:
            self._cond.notify_all()

    def _drain(self) -> None:
        buf, base = self._buf, self._base
        end_avail = base + len(buf)
        merger = _Merger(self.model, lambda s, e: memoryview(buf)[s - base : e - base])
        pos, graph_end = self._pos, self._graph_end
        while True:
            try:
                number, wire, value_start, end = _header(buf, pos - base, len(buf) + (1 << 62))
            except InspectError:
                break  # the header itself has not fully arrived
            value_start, end = value_start + base, end + base
            if pos >= graph_end and number == _GRAPH and wire == 2:
                merger.flush()
                pos, graph_end = value_start, end
                continue
            if end - pos > HOLD:
                merger.flush()
                self._pos, self._graph_end = pos, graph_end
                self._stop()  # finish() reads it, and what follows, from the file
                return
            if pos < graph_end < end:
                raise InspectError("a graph field runs past the graph's end")
            if end > end_avail:
                if end - pos > COLLECT:  # a tensor: gather its pieces and join them once, not byte by byte
                    merger.flush()
                    self._pieces, self._want = [bytes(memoryview(buf)[pos - base :])], end - end_avail
                    self._target = self.model.graph if pos < graph_end else self.model
                    buf.clear()
                    self._base, self._pos, self._graph_end = end, end, graph_end
                    return
                break
            merger.add(self.model.graph if pos < graph_end else self.model, pos, end)
            pos = end
        merger.flush()
        del buf[: pos - base]  # cheap at the front of a bytearray
        self._base, self._pos, self._graph_end = pos, pos, graph_end

    def _collect(self, chunk: bytes) -> bytes | None:
        """Add ``chunk`` to the field being gathered; once whole, merge it. Returns the bytes past it, if any."""
        assert self._pieces is not None
        if len(chunk) < self._want:
            self._pieces.append(chunk)
            self._want -= len(chunk)
            return None
        view = memoryview(chunk)
        self._pieces.append(view[: self._want])
        rest = chunk[self._want :] if len(chunk) > self._want else None
        data = b"".join(self._pieces)  # the field's only copy before protobuf's own
        self._pieces = None
        self._target.MergeFromString(data)  # type: ignore[union-attr]
        view.release()
        return rest

    def finish(self, path: Path) -> onnx.ModelProto:
        """The model of the verified file at ``path``: what was streamed, the rest read from the file."""
        self.close()
        path = Path(path)
        size = path.stat().st_size
        whole = not self._failed and self._fed == size  # saw exactly this file's bytes, in order
        if not whole or (not self._stopped and self._pos != size):  # else a malformed tail: say so from the file
            self.model, self._pos, self._graph_end = onnx.ModelProto(), 0, 0
        self._buf = bytearray()
        if self._pos < size:
            _parse_file(path, self.model, self._pos, self._graph_end, None)
        return _external(self.model, path)


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
