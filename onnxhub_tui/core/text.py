"""Manifest text made safe for a terminal, and human sizes. Shared by the front ends; no Textual."""

from __future__ import annotations

import re

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
