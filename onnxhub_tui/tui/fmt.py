"""Display helpers: literal text from hostile manifests, human sizes, durations (no Textual)."""

from __future__ import annotations

import os

from ..core.text import human_size, printable

__all__ = ["clean", "human_size", "human_rate", "human_duration", "one_line", "show_path"]


def clean(text: object) -> str:
    """Manifest text made safe to print (escape sequences and controls removed, see core.text).

    Markup is not touched here: widgets display the result with markup off (rich ``Text``)."""
    return printable(text)


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
    return [clean(line) for line in str(text).splitlines()]


def show_path(path: str | os.PathLike[str]) -> str:
    """A path as the user can paste it anywhere: absolute (a cache under the working directory was
    shown as ``home/.cache/...``, which reads as relative to nothing). Symlinks are kept as given."""
    return os.path.abspath(os.fspath(path))
