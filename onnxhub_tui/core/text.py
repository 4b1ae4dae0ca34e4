"""Manifest text made safe for a terminal, and human sizes. Shared by the front ends; no Textual."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Escape sequences (CSI, OSC, two-byte ESC) go first, then any other C0/C1 control or bidi override.
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: object, limit: int | None = None) -> str:
    """``value`` as one line of plain text: escape sequences and control characters removed.

    Nothing is interpreted: the result is printed literally (no Rich markup)."""
    text = _CONTROL.sub("", _ANSI.sub("", str(value)))
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)] + "…"
    return text


def human_size(n: int | float | None) -> str:
    """1234567 -> '1.2 MB' (decimal units, as the query language's size:<50MB)."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """How many terminal cells ``text`` takes (wide East Asian characters 2, combining marks 0)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _cut(text: str, room: int, from_end: bool) -> str:
    """The longest head (or tail) of ``text`` that fits in ``room`` cells."""
    out, used = [], 0
    for char in reversed(text) if from_end else text:
        w = _char_width(char)
        if used + w > room:
            break
        out.append(char)
        used += w
    return "".join(reversed(out) if from_end else out)


def fit_cells(text: str, width: int, *, right: bool = False, keep_tail: bool = False, pad: bool = True) -> str:
    """``text`` cut to ``width`` terminal cells (with an ellipsis) and, with ``pad``, padded to exactly that.

    ``keep_tail`` keeps the end (a path's informative part); ``right`` pads on the left (numbers)."""
    if width <= 0:
        return ""
    if cell_width(text) > width:
        if width == 1:
            text = _cut(text, 1, keep_tail)
        else:
            text = "…" + _cut(text, width - 1, True) if keep_tail else _cut(text, width - 1, False) + "…"
    if not pad:
        return text
    room = " " * (width - cell_width(text))
    return room + text if right else text + room
