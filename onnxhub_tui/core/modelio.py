"""Load a ModelProto in one pass over a memory map, hashing as it parses.

``onnx.load`` holds the file's bytes and the parsed model at once (about 2x the file in memory).
Here each top-level and graph field is merged on its own and the pages already parsed are released,
so the peak is about the model plus its largest tensor, and the SHA-256 costs no second read.
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


def _spans(view: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, field start incl. key, value start, field end) for each field in [start, end)."""
    pos = start
    while pos < end:
        field_start = pos
        key, pos = _varint(view, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _varint(view, pos)
            value_start = pos
        elif wire == 2:
            length, value_start = _varint(view, pos)
            pos = value_start + length
        elif wire == 1:
            value_start, pos = pos, pos + 8
        elif wire == 5:
            value_start, pos = pos, pos + 4
        else:
            raise InspectError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise InspectError("a protobuf field runs past the end of the file")
        yield key >> 3, field_start, value_start, pos


def load_model(
    path: Path, expected_sha: str | None = None, digest: bool = True
) -> tuple[onnx.ModelProto, str | None]:
    """Parse ``path`` into a ModelProto; returns it with the file's SHA-256 hex digest (None when
    ``digest`` is False: a file this process has just downloaded was verified as it was written, and
    hashing 512 MB again costs ~0.4 s)."""
    model = onnx.ModelProto()
    hasher = hashlib.sha256() if digest else None
    with open_regular(path) as f:
        size = f.seek(0, 2)
        if size == 0:
            return model, hasher.hexdigest() if hasher is not None else None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            released = 0

            def consumed(upto: int) -> None:
                nonlocal released
                if hasher is not None:
                    hasher.update(view[released:upto])
                page_end = (upto // _PAGE) * _PAGE
                page_start = (released // _PAGE) * _PAGE
                if hasattr(mapped, "madvise") and page_end > page_start:
                    mapped.madvise(mmap.MADV_DONTNEED, page_start, page_end - page_start)
                released = upto

            try:
                for number, start, value_start, end in _spans(view, 0, size):
                    if number == _GRAPH:
                        for _n, g_start, _v, g_end in _spans(view, value_start, end):
                            model.graph.MergeFromString(view[g_start:g_end])
                            consumed(g_end)
                    else:
                        model.MergeFromString(view[start:end])
                    consumed(end)
            except Exception as exc:  # protobuf's DecodeError and friends
                raise InspectError(f"{path.name} is not a valid ONNX model: {exc}") from None
            finally:
                view.release()
    if uses_external_data_anywhere(model):
        load_external_data_for_model(model, str(path.parent))
    return model, hasher.hexdigest() if hasher is not None else None


def uses_external_data_anywhere(model: onnx.ModelProto) -> bool:
    return any(uses_external_data(t) for t in model.graph.initializer)
