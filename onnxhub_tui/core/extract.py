"""Safe extraction of model-with-data archives (CVE-2024-5187: nothing may land outside the folder)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from .errors import ArchiveError, UnsafePathError


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise UnsafePathError(f"Refusing {archive.name}: member {member.name!r} would land outside its folder.")
    if member.issym() or member.islnk():
        raise UnsafePathError(f"Refusing {archive.name}: member {member.name!r} is a link.")
    if not (member.isfile() or member.isdir()):
        raise UnsafePathError(f"Refusing {archive.name}: member {member.name!r} is not a regular file or folder.")


def safe_extract(archive: Path, destination: Path) -> Path:
    """Extract into a temporary folder beside ``destination``, then rename it into place."""
    tmp = destination.with_name(destination.name + f".extracting-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, archive)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, members=members, filter="data")
            else:  # Python without PEP 706; members were checked above
                tar.extractall(tmp, members=members)  # noqa: S202
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(tmp, destination)
    except tarfile.TarError as exc:
        raise ArchiveError(f"{archive.name} is not a readable tar.gz archive: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    return destination
