"""Path safety: a manifest's paths are untrusted and must stay inside the cache, and so must the tool's own
files (``made_inside``)."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path, PurePosixPath


TOOL_DIR = ".onnxhub-tui"  # our own files inside the cache (manifests, locks, listings); onnx.hub ignores it
_CONTROL = re.compile(r"[\x00-\x1f]")


def relative_path_problem(value: object) -> str | None:
    """Why ``value`` is not a safe relative path, or None when it is. Plain string checks (no PurePath
    objects): a manifest of 50,000 entries checks 100,000 paths, and PurePosixPath made that take seconds."""
    if not isinstance(value, str) or not value:
        return "is empty or not a string"
    if "\x00" in value or "\\" in value:
        return f"{value[:80]!r} contains a NUL or backslash"
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        return f"{value[:80]!r} is absolute"
    if ".." in value and ".." in value.split("/"):
        return f"{value[:80]!r} contains '..'"
    # PurePosixPath(value).parts would drop "" and "." segments: nothing left means no file is named
    if value.endswith("/") or (not value.strip("/.") and all(p in ("", ".") for p in value.split("/"))):
        return f"{value[:80]!r} does not name a file"
    if _CONTROL.search(value):
        return f"{value[:80]!r} contains control characters"
    return None


def check_relative_path(value: object) -> PurePosixPath:
    """Accept a relative, forward-slash path with no ``..``, drive or NUL; raise ValueError otherwise."""
    problem = relative_path_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return PurePosixPath(value)  # type: ignore[arg-type]


def is_within(path: Path, root: Path) -> bool:
    """True when ``path`` (symlinks resolved) lies inside ``root`` (symlinks resolved)."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


def made_inside(folder: Path, cache_dir: Path) -> Path:
    """``folder``, made if missing, for the tool's own files in the cache (cached manifests and listings,
    stored headers, locks, under ``TOOL_DIR``). A link in its way that leads out of the cache is an
    OSError, which each of those writers takes as a cache it cannot write to: nothing lands outside."""
    if not is_within(folder, cache_dir):
        raise OSError(errno.EPERM, "a link there leads out of the cache", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
