"""Git LFS pointer files: what a clone without LFS content (``GIT_LFS_SKIP_SMUDGE=1``) holds instead
of a model. A pointer names the real bytes' SHA-256 and size, so a checkout of pointers is enough to
build a verifiable manifest without downloading anything (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# The spec caps a pointer at 1024 bytes; a bigger file is content, and is never read here.
MAX_POINTER_BYTES = 1024
SPEC_PREFIX = b"version https://git-lfs.github.com/spec/"
_OID = re.compile(rb"^oid sha256:([0-9a-fA-F]{64})$", re.M)
_SIZE = re.compile(rb"^size ([0-9]+)$", re.M)


@dataclass(frozen=True)
class Pointer:
    sha256: str  # lower-case hex
    size: int


def parse_pointer(data: bytes) -> Pointer | None:
    """The pointer in ``data``, or None when ``data`` is not a Git LFS pointer (e.g. real model bytes)."""
    if len(data) > MAX_POINTER_BYTES or not data.startswith(SPEC_PREFIX):
        return None
    oid, size = _OID.search(data), _SIZE.search(data)
    if oid is None or size is None:
        return None
    return Pointer(oid.group(1).decode().lower(), int(size.group(1)))


def read_pointer(path: str | os.PathLike[str], size: int) -> Pointer | None:
    """The pointer at ``path`` (a regular file of ``size`` bytes, the caller's stat), or None for content.
    Only files small enough to be pointers are opened, and only their first 1 KB is read."""
    if size > MAX_POINTER_BYTES:
        return None
    with open(path, "rb") as f:
        return parse_pointer(f.read(MAX_POINTER_BYTES + 1))


def pointer_bytes(sha256: str, size: int) -> bytes:
    """A pointer as ``git lfs`` writes it (tests make pointers for real files with it)."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256.lower()}\nsize {size}\n".encode()
