"""The protobuf wire format, as far as reading ONNX headers needs it: varints and length-delimited fields.

Shared by the local readers (``inspect``, ``modelio``, ``build``: zero-copy views of a memory map) and the
remote one (``remote_inspect``: the same decoding over byte windows fetched on demand).
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import InspectError

VARINT, I64, LEN, I32 = 0, 1, 2, 5
MAX_VARINT = 10  # a 64-bit varint takes at most 10 bytes


def varint(buf: memoryview | bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; InspectError when it is cut off or too long."""
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise InspectError("truncated or malformed protobuf varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def signed(value: int) -> int:
    """An int64 field's varint as the signed number (negative values are written as 2**64 - n)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) for each field; length-delimited values are zero-copy views.
    Fixed-width fields (floats, doubles) are skipped: no header reader needs them."""
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = varint(buf, pos)
            yield number, wire, value
        elif wire == LEN:
            length, pos = varint(buf, pos)
            if pos + length > end:
                raise InspectError("a protobuf field runs past the end of the file")
            yield number, wire, buf[pos : pos + length]
            pos += length
        elif wire == I64:
            pos += 8
        elif wire == I32:
            pos += 4
        else:
            raise InspectError(f"unsupported protobuf wire type {wire}")


def text(value: int | memoryview | bytes) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, (memoryview, bytes)) else ""


def texts(buf: memoryview, *numbers: int) -> tuple[str, ...]:
    """The string fields ``numbers`` of one message, in that order ("" where absent; the last one wins)."""
    found = dict.fromkeys(numbers, "")
    for number, _wire, value in fields(buf):
        if number in found:
            found[number] = text(value)
    return tuple(found.values())
