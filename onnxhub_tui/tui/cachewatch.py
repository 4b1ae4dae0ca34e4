"""Noticing another process's change to the cache cheaply: the modification times of its folders.

Adding, removing or renaming a file changes its folder's mtime; a folder removed whole no longer stats.
So a few hundred ``stat`` calls every few seconds (well under a millisecond each) tell the TUI when to
scan again, instead of walking the cache on a timer. No Textual here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..core.cache import CacheReport
from ..core.layout import data_archive, model_file
from ..core.manifest import ModelInfo

WATCH_SECONDS = 3.0  # how often a screen compares; a change shows within this
# Up to this many entries the app watches every entry's folder (the whole zoo: 2,285 folders, 6 ms a
# look); beyond it, only the folders of what is cached (50,000 folders would cost ~0.15 s every look).
MAX_ENTRIES = 5000

Signature = dict[str, int | None]


def with_ancestors(root: Path, folders: Iterable[Path]) -> list[Path]:
    """``folders`` and every folder between them and ``root`` (a model fetched into a new subfolder
    changes only its nearest existing ancestor), ``root`` included; sorted, each once."""
    root = Path(root)
    seen: set[Path] = {root}
    for folder in folders:
        folder = Path(folder)
        while folder not in seen and len(folder.parts) > len(root.parts):
            seen.add(folder)
            folder = folder.parent
    return sorted(seen)


def report_folders(report: CacheReport) -> list[Path]:
    """The folders a scan found files in, with their ancestors: what a change under it would touch."""
    return with_ancestors(report.root, (f.path.parent for f in report.files))


def entry_folders(cache_dir: Path, entries: Iterable[ModelInfo]) -> list[Path]:
    """The folders where ``entries``' files (models and test-data archives) live or would land."""
    folders: set[Path] = set()
    for entry in entries:
        try:
            folders.add(model_file(cache_dir, entry).parent)
            archive = data_archive(cache_dir, entry)
        except Exception:  # noqa: BLE001 - an unsafe path is refused elsewhere; it has no folder here
            continue
        if archive is not None:
            folders.add(archive.parent)
    return with_ancestors(cache_dir, folders)


def signature(folders: Iterable[Path]) -> Signature:
    """Folder -> mtime in ns (None when it does not stat): equal signatures, no change seen."""
    sig: Signature = {}
    for folder in folders:
        try:
            sig[str(folder)] = os.stat(folder).st_mtime_ns
        except OSError:
            sig[str(folder)] = None
    return sig
