"""Command-line entry point (placeholder until the CLI lands)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onnxhub-tui", description="Browse and download ONNX Model Hub models.")
    parser.add_argument("--repo", help="repo spec: owner/repo[:ref], hf:owner/repo[:rev], a URL or a folder")
    parser.parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
