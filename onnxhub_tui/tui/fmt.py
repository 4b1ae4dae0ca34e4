"""Display helpers: literal text from hostile manifests, human sizes, durations. No Textual here."""

from __future__ import annotations

import os
import re
from pathlib import Path

# C0/C1 controls, DEL, and the escape-sequence introducers; tabs and newlines become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")


def clean(text: object) -> str:
    """Manifest text made safe to print: escape sequences removed, other controls shown as spaces.

    Markup is not touched here: widgets display the result with markup off (rich ``Text``)."""
    s = str(text)
    s = _ANSI.sub("", s)
    return _CONTROL.sub(" ", s)


def human_size(n: int | float | None) -> str:
    """1234567 -> '1.2 MB' (decimal units, like the zoo's README and the query language)."""
    if n is None:
        return "?"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(n)} B"
            return f"{n:.1f} {unit}" if abs(n) < 100 else f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.0f} TB"  # pragma: no cover - loop always returns


def human_rate(bytes_per_second: float | None) -> str:
    if not bytes_per_second:
        return ""
    return f"{human_size(bytes_per_second)}/s"


def human_duration(seconds: float | None) -> str:
    """ETA text: '42s', '3m05s', '1h02m'; '' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 100 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return ">99h"


def one_line(message: object, limit: int = 400) -> str:
    """A multi-line error as one line (the queue row and notifications have room for one)."""
    text = " ".join(part.strip() for part in clean_lines(str(message)) if part.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_lines(text: str) -> list[str]:
    return [clean(line) for line in text.splitlines()]


def show_path(path: str | os.PathLike[str]) -> str:
    """A path as short as it can be while staying unambiguous: relative to the working directory
    when inside it, ``~/...`` when inside the home directory."""
    p = Path(path)
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        pass
    try:
        return "~/" + str(p.relative_to(Path.home()))
    except ValueError:
        return str(p)
