"""Make the zoo index shipped with the package (onnxhub_tui/data/zoo-b1eeaa1.json.gz) from the zoo's tree.

    .venv/bin/python scripts/build_zoo_index.py [TARBALL] [-o OUT] [--check]

TARBALL is the zoo's final tree as a clone without LFS content has it (default:
../shared/data/onnx-models-b1eeaa1-tree.tar.gz). The output is the same bytes for the same tarball;
``--check`` compares with OUT instead of writing it (exit 1 when they differ).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from onnxhub_tui.core.zoo import INDEX_NAME  # noqa: E402
from onnxhub_tui.core.zooindex import index_from_tarball  # noqa: E402

DEFAULT_TARBALL = ROOT.parent / "shared" / "data" / "onnx-models-b1eeaa1-tree.tar.gz"
DEFAULT_OUT = ROOT / "onnxhub_tui" / "data" / INDEX_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", nargs="?", type=Path, default=DEFAULT_TARBALL)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare with OUTPUT instead of writing it")
    args = parser.parse_args(argv)
    if not args.tarball.is_file():
        print(f"error: no tarball at {args.tarball}", file=sys.stderr)
        return 2
    data, result = index_from_tarball(args.tarball)
    for rel, reason in result.skipped:
        print(f"skipped {rel}: {reason}", file=sys.stderr)
    if args.check:
        same = args.output.is_file() and args.output.read_bytes() == data
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from a rebuild'}", file=sys.stderr)
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    print(f"wrote {args.output} ({len(data):,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
