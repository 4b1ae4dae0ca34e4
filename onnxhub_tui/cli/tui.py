"""The bare command: the terminal UI. Textual is imported here and nowhere else in the CLI."""

from __future__ import annotations

import argparse
import sys

from .context import open_hub
from .output import err


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from ..tui.app import run_tui
    except ImportError as exc:
        err(f"the terminal UI is not available in this installation ({exc}); "
            "the subcommands work: see onnxhub-tui --help")
        return 1
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        err("the terminal UI needs a terminal; for scripts use a subcommand, e.g. onnxhub-tui list --json")
        return 1
    with open_hub(args) as hub:
        return int(run_tui(hub, jobs=args.jobs, trust=args.trust, mouse=not args.no_mouse) or 0)
