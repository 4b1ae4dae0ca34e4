"""The walk behind ``manifest build``: which files under a folder are models, without opening any.

Only regular files count. A FIFO, a socket or a device under a model-like name is reported and left
out (opening a FIFO blocks for ever), and so is a dangling link (it has no bytes to describe).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .turnkey import STATS_NAME

MODEL_SUFFIX = ".onnx"
ARCHIVE_SUFFIX = ".tar.gz"

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))


@dataclass(frozen=True)
class FileStat:
    path: Path
    rel: str  # relative to the root, forward slashes
    size: int


@dataclass(frozen=True)
class Found:
    """One model: an ``.onnx`` file (with its model-with-data archive, if any), or an archive alone."""

    model: FileStat  # the .onnx file, or for an archive-only model the archive
    archive: FileStat | None  # the model-with-data archive (the same file when archive_only)
    archive_only: bool
    stats: Path | None  # turnkey_stats.yaml beside it, when that is a regular file


def regular_size(path: Path) -> tuple[int | None, str | None]:
    """(size, None) for a regular file (links followed); (None, why not) otherwise. Never opens it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None, "is a dangling link (its target does not exist)" if os.path.islink(path) else "vanished"
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISREG(info.st_mode):
        return info.st_size, None
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
    return None, f"is {kind}, not a regular file (left out, never opened)"


def scan_tree(root: Path) -> tuple[list[Found], list[tuple[str, str]], list[str]]:
    """Models under ``root`` (hidden folders and files skipped) sorted by path, (path, reason) for
    every model-like name that is not a regular file, and the folders that hold a turnkey_stats.yaml
    but no model (the zoo has three: exports whose model was not kept). An archive is a model of its own only when no
    ``.onnx`` of its stem sits beside it and a ``turnkey_stats.yaml`` does (the zoo's 52 models with
    external data); beside an ``.onnx`` it is that model's model-with-data archive."""
    found: list[Found] = []
    skipped: list[tuple[str, str]] = []
    lonely: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        folder = Path(dirpath)
        names = {n for n in filenames if not n.startswith(".")}
        stats = None
        if STATS_NAME in names:
            _size, problem = regular_size(folder / STATS_NAME)
            stats = folder / STATS_NAME if problem is None else None
            if problem is not None:
                skipped.append(((folder / STATS_NAME).relative_to(root).as_posix(), problem))

        def file_stat(name: str) -> FileStat | None:
            path = folder / name
            rel = path.relative_to(root).as_posix()
            size, problem = regular_size(path)
            if problem is not None:
                skipped.append((rel, problem))
                return None
            return FileStat(path, rel, size or 0)

        archives = {n[: -len(ARCHIVE_SUFFIX)]: n for n in names if n.endswith(ARCHIVE_SUFFIX)}
        before = len(found)
        for name in sorted(names):
            if name.endswith(MODEL_SUFFIX):
                model = file_stat(name)
                archive_name = archives.get(name[: -len(MODEL_SUFFIX)])
                archive = file_stat(archive_name) if archive_name else None
                if model is not None:
                    found.append(Found(model, archive, False, stats))
            elif name.endswith(ARCHIVE_SUFFIX) and stats is not None:
                if name[: -len(ARCHIVE_SUFFIX)] + MODEL_SUFFIX in names:
                    continue
                archive = file_stat(name)
                if archive is not None:
                    found.append(Found(archive, archive, True, stats))
        if stats is not None and len(found) == before:
            lonely.append(folder.relative_to(root).as_posix())
    found.sort(key=lambda f: f.model.rel)
    skipped.sort()
    return found, skipped, sorted(lonely)
