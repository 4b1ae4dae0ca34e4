"""Making the zoo index that :mod:`onnxhub_tui.core.zoo` reads (``scripts/build_zoo_index.py`` runs it).

The file is gzip members: the rows (``zoo._load`` reads them at start-up), then the full entries in blocks
of ``zoo.FACTS_BLOCK`` (each read on the first use of one of its entries).
Reproducible: the same tree gives the same bytes (entries in path order, compact JSON, a gzip stream
with no time stamp, no file name and a fixed OS byte, written here rather than by ``gzip``, whose
header differs between Python versions).
"""

from __future__ import annotations

import json
import os
import struct
import tarfile
import tempfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from .build import BuildResult, build_manifest
from .errors import ManifestError
from .manifest import ModelInfo
from .sources import MANIFEST_NAME
from .zoo import FACTS_BLOCK, INDEX_FORMAT, ROW_FIELDS, ZOO_COMMIT, ops_text, row_of, tier_for_path, unique_names


def index_data(tree: str | os.PathLike[str], *, made_from: str) -> tuple[dict[str, Any], BuildResult]:
    """The index of a zoo tree (a pointer checkout with its ``ONNX_HUB_MANIFEST.json``): every model the
    manifest does not name, with its tier and a name users can type (see :mod:`onnxhub_tui.core.zoo`)."""
    tree = Path(tree)
    try:
        manifest = json.loads((tree / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{tree} has no readable {MANIFEST_NAME}: {exc}") from None
    result = build_manifest(tree)
    named = {e["model_path"] for e in manifest}
    others = []
    for raw in result.entries:
        if raw["model_path"] in named:
            continue
        raw["metadata"]["tier"] = tier_for_path(raw["model_path"])
        others.append(ModelInfo(raw))
    entries = [e.raw_model_info for e in unique_names(others, (e["model"] for e in manifest))]
    for raw in entries:  # operator counts as one string: a third of the index's parse time, read rarely
        facts = raw["metadata"].get("turnkey")
        if isinstance(facts, dict) and isinstance(facts.get("ops"), dict):
            facts["ops"] = ops_text(facts["ops"])
    tiers = Counter(e["metadata"]["tier"] for e in entries)
    data = {
        "format": INDEX_FORMAT,
        "repo": "onnx/models",
        "commit": ZOO_COMMIT,
        "made_from": made_from,
        "manifest_entries": len(manifest),
        "counts": {"entries": len(entries), **{t: tiers[t] for t in sorted(tiers)},
                   "archive_only": sum(1 for e in entries if e["metadata"].get("archive_only"))},
        "entries": entries,
    }
    return data, result


def _gzip(body: bytes) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    stream = deflate.compress(body) + deflate.flush()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"  # no mtime, max compression, OS unknown
    return header + stream + struct.pack("<II", zlib.crc32(body) & 0xFFFFFFFF, len(body) & 0xFFFFFFFF)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def index_bytes(data: dict[str, Any]) -> bytes:
    """The index file: a gzip member of the header and one compact row per entry (read at start-up),
    then one per block of full entries (read on first use of an entry's metadata; see ``zoo._load``),
    whose compressed sizes the header gives."""
    entries = data["entries"]
    blocks = [_gzip(b"".join(_json(e) for e in entries[i:i + FACTS_BLOCK])) for i in range(0, len(entries), FACTS_BLOCK)]
    head = {k: v for k, v in data.items() if k != "entries"}
    rows = {**head, "fields": list(ROW_FIELDS), "facts_blocks": [len(b) for b in blocks],
            "rows": [row_of(e) for e in entries]}
    return _gzip(_json(rows)) + b"".join(blocks)


def index_from_tarball(tarball: str | os.PathLike[str]) -> tuple[bytes, BuildResult]:
    """Extract the zoo's tree tarball (safely: tarfile's ``data`` filter) to a temporary folder and index it."""
    tarball = Path(tarball)
    with tempfile.TemporaryDirectory(prefix="onnxhub-zoo-") as tmp:
        with tarfile.open(tarball) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # Python < 3.10.12 has no filters; refuse anything that is not a plain member
                members = [m for m in tar.getmembers() if (m.isfile() or m.isdir()) and not m.name.startswith("/")
                           and ".." not in m.name.split("/")]
                tar.extractall(tmp, members=members)  # noqa: S202 - members checked above
        roots = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(roots) != 1:
            raise ManifestError(f"{tarball} should hold one folder (the zoo's tree), not {len(roots)}")
        data, result = index_data(roots[0], made_from=tarball.name)
        return index_bytes(data), result
