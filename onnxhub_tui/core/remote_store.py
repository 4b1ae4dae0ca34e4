"""Inspection results kept by SHA-256 in the cache's tool folder: ``<cache>/.onnxhub-tui/inspect/<sha>.json``.

A model's SHA-256 names its bytes, so a result is good for every repo and location that serves them. The
folder is the tool's own (``cache.TOOL_DIR``, skipped by cache scans), never the model's cache name, so
a kept result never looks like a download. Writes are atomic (a temporary file renamed into place) and
best-effort: a read-only cache only means the next look reads the model again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .diskio import open_regular, write_atomic
from .paths import TOOL_DIR, made_inside

FOLDER = "inspect"
VERSION = 1  # bump when the record's meaning changes: older records are then read again
MAX_RECORD = 4 * 1024 * 1024  # a record is a few KB; anything larger was not written by us
_SHA = re.compile(r"^[0-9a-f]{64}$")


def record_path(cache_dir: Path, sha: str | None) -> Path | None:
    """Where the result for ``sha`` lives; None when ``sha`` is not a SHA-256 (nothing is kept then)."""
    if not sha or not _SHA.match(sha.lower()):
        return None
    return Path(cache_dir) / TOOL_DIR / FOLDER / f"{sha.lower()}.json"


def load(cache_dir: Path, sha: str | None) -> dict[str, Any] | None:
    path = record_path(cache_dir, sha)
    if path is None:
        return None
    try:
        with open_regular(path) as f:
            raw = f.read(MAX_RECORD + 1)
        record = json.loads(raw) if len(raw) <= MAX_RECORD else None
    except (OSError, ValueError):  # missing, unreadable, or not JSON: read the model again
        return None
    if not isinstance(record, dict) or record.get("version") != VERSION or not isinstance(record.get("summary"), dict):
        return None
    return record["summary"]


def save(cache_dir: Path, sha: str | None, summary: dict[str, Any]) -> Path | None:
    """Keep ``summary`` for ``sha``; returns the record's path, or None when it could not be kept."""
    path = record_path(cache_dir, sha)
    if path is None:
        return None
    data = json.dumps({"version": VERSION, "sha256": sha.lower(), "summary": summary},  # type: ignore[union-attr]
                      ensure_ascii=False, separators=(",", ":")).encode()
    try:
        write_atomic(made_inside(path.parent, cache_dir) / path.name, data)
        return path
    except OSError:
        return None
