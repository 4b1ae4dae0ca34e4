"""Safe extraction of model-with-data archives (CVE-2024-5187: nothing may land outside the folder)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from .diskio import open_regular
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
    """Extract into a private temporary folder beside ``destination``, then rename it into place.

    Two jobs or processes may extract one archive at once (the download lock is released by then): each
    uses its own folder, and one that finds ``destination`` already made by another keeps that one (the
    same verified archive, the same files). A folder that existed before we started (a forced
    re-extraction) is swapped out by rename, so a reader never sees it half deleted."""
    replacing = destination.exists()
    tmp = destination.with_name(f"{destination.name}.extracting-{os.getpid()}-{os.urandom(4).hex()}")
    aside = destination.with_name(f"{destination.name}.replaced-{os.getpid()}-{os.urandom(4).hex()}")
    tmp.mkdir(parents=True)
    try:
        # One streamed pass ("r|*"): each member is checked, then written, as it comes. Listing the
        # members first and extracting after would decompress a 2.7 GB archive twice; nothing is held in
        # memory either way, and a refused member leaves only the private folder, removed below.
        with open_regular(archive) as raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
            for member in tar:
                _check_member(member, archive)
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, tmp, filter="data")
                else:  # Python without PEP 706; the member was checked above
                    tar.extract(member, tmp)  # noqa: S202
        if replacing:
            with contextlib.suppress(FileNotFoundError):
                os.rename(destination, aside)
        try:
            os.rename(tmp, destination)
        except OSError:
            if not destination.is_dir():
                raise
            # another job or process put it there while we extracted: keep theirs
    except tarfile.TarError as exc:
        raise ArchiveError(f"{archive.name} is not a readable tar.gz archive: {exc}") from None
    except OSError as exc:  # e.g. the disk filled up
        raise ArchiveError(f"Could not extract {archive.name}: {exc.strerror or exc}") from None
    finally:
        for leftover in (tmp, aside):
            with contextlib.suppress(OSError):
                shutil.rmtree(leftover)
    return destination
