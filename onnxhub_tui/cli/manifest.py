"""``manifest build`` and ``manifest check``: write or validate an ONNX_HUB_MANIFEST.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.text import human_size, printable
from .output import err, note


def cmd_manifest_build(args: argparse.Namespace) -> int:
    from ..core.build import build_manifest, default_output, manifest_bytes, write_manifest
    from ..progress import bar_callback, progress_bars

    folder = Path(args.folder).expanduser()
    with progress_bars() as bars:
        result = build_manifest(folder, progress=bar_callback(bars, "hashing and reading models"))
    for rel, reason in result.skipped:
        note(f"skipped {printable(rel)}: {printable(reason)}")
    for line in result.notes:
        note(f"note: {line}")
    if args.output == "-":
        sys.stdout.buffer.write(manifest_bytes(result.entries))
        sys.stdout.flush()
    else:
        path = write_manifest(result.entries, Path(args.output).expanduser() if args.output else default_output(folder))
        note(f"Wrote {len(result.entries)} model(s), {human_size(result.total_bytes)} of files, to {path}")
        print(path)
    if result.skipped:
        err(f"{len(result.skipped)} file(s) could not be read and are not in the manifest.")
        return 1
    if not result.entries:
        err(f"No .onnx files under {folder}.")
        return 1
    return 0


def cmd_manifest_check(args: argparse.Namespace) -> int:
    from ..core.build import check_manifest
    from ..core.sources import MANIFEST_NAME
    from ..progress import bar_callback, progress_bars

    path = Path(args.manifest).expanduser()
    if path.is_dir():
        path = path / MANIFEST_NAME
    with progress_bars() as bars:
        callback = bar_callback(bars, "hashing files") if args.files else None
        result = check_manifest(path, Path(args.files).expanduser() if args.files else None, progress=callback)
    for problem in result.problems:
        print(f"problem: {printable(problem)}")
    summary = f"{result.entries} entries" + (f", {result.files_checked} files checked" if args.files else "")
    if result.ok:
        print(f"OK: {path}: {summary}")
        return 0
    print(f"FAILED: {path}: {len(result.problems)} problem(s); {summary}")
    return 1
