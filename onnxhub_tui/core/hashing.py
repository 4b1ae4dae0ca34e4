"""Streaming SHA-256 of files, in constant memory."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from .diskio import open_regular

CHUNK = 4 * 1024 * 1024


def sha256_file(
    path: Path,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    hasher: "hashlib._Hash | None" = None,
) -> "hashlib._Hash":
    """Hash ``path`` (its first ``limit`` bytes when given) into ``hasher`` and return the hasher."""
    hasher = hasher or hashlib.sha256()
    remaining = limit
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    done = 0
    with open_regular(path, buffering=0) as f:  # a FIFO under a model name must not block us
        while remaining is None or remaining > 0:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            n = f.readinto(view[:want])
            if not n:
                break
            hasher.update(view[:n])
            done += n
            if remaining is not None:
                remaining -= n
            if progress:
                progress(done)
    return hasher


def sha256_hex(path: Path) -> str:
    return sha256_file(path).hexdigest()
