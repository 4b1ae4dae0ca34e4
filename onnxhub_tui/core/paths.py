"""Path safety: a manifest's paths are untrusted and must stay inside the cache."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


def check_relative_path(value: object) -> PurePosixPath:
    """Accept a relative, forward-slash path with no ``..``, drive or NUL; raise ValueError otherwise."""
    if not isinstance(value, str) or not value:
        raise ValueError("is empty or not a string")
    if "\x00" in value or "\\" in value:
        raise ValueError(f"{value[:80]!r} contains a NUL or backslash")
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"{value[:80]!r} is absolute")
    parts = PurePosixPath(value).parts
    if any(part == ".." for part in parts):
        raise ValueError(f"{value[:80]!r} contains '..'")
    if not parts or value.endswith("/"):
        raise ValueError(f"{value[:80]!r} does not name a file")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{value[:80]!r} contains control characters")
    return PurePosixPath(value)


def is_within(path: Path, root: Path) -> bool:
    """True when ``path`` (symlinks resolved) lies inside ``root`` (symlinks resolved)."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True
