"""What every command shares: the usage-error type, opening the hub named on the command line, its
manifest (with its warnings said once), and asking the user a yes/no question."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..core.errors import ModelNotFoundError
from ..core.text import printable
from . import startup
from .output import note

if TYPE_CHECKING:  # the core (httpx, the cache) is imported by the commands that use it: usage errors stay fast
    from ..core.client import Hub
    from ..core.manifest import Manifest, ModelInfo


class UsageError(Exception):
    """A command line that cannot work as written: exit 2."""


def is_interactive() -> bool:
    return bool(sys.stdin and sys.stdin.isatty() and sys.stderr.isatty())


def ask(question: str) -> bool:
    print(printable(question) + " [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


@contextlib.contextmanager
def open_hub(args: argparse.Namespace, quiet_offline: bool = False) -> Iterator[Hub]:
    """The Hub the command works on: ``--demo`` starts the loopback demo server for the command's lifetime.
    ``quiet_offline``: no network unless a repo was named (cache commands only want names for files)."""
    from ..core.client import Hub
    if args.demo:
        if args.repo:
            raise UsageError("--demo and --repo name two different hubs; give one of them")
        from .. import demo

        folder = demo.ensure_demo_hub(say=note)
        demo.bypass_proxies_for_loopback()
        with demo.DemoServer(folder) as server, Hub(server.source(), args.cache_dir, offline=False) as hub:
            yield hub
        return
    offline = True if (args.offline or (quiet_offline and not args.repo)) else None  # None: ONNXHUB_OFFLINE decides
    with Hub(args.repo, args.cache_dir, offline=offline) as hub:
        yield hub


def load_manifest(hub: Hub, warn_skipped: bool = True) -> Manifest:
    manifest = hub.manifest()
    startup.resume()
    if manifest.warning:
        note(f"warning: {manifest.warning}")
    if warn_skipped and manifest.skipped:
        note(f"warning: {len(manifest.skipped)} manifest entr{'y' if len(manifest.skipped) == 1 else 'ies'} "
             f"skipped as invalid, e.g. {manifest.skipped[0]}")
    return manifest


def close_names(manifest: Manifest, name: str, limit: int = 3) -> list[str]:
    """Model names a mistyped ``name`` may have meant: those containing it, then similar ones."""
    import difflib  # noqa: PLC0415 - only for a name that is not there (2 ms of every command's start otherwise)

    names = {m.model.lower(): m.model for m in manifest.entries}
    wanted = name.lower()
    found = [names[n] for n in sorted(names) if wanted and wanted in n]
    found += [names[n] for n in difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.6)
              if names[n] not in found]
    return found[:limit]


def find_entry(manifest: Manifest, name: str, opset: int | None) -> ModelInfo:
    """``manifest.find``; an unknown name suggests close ones and the command that lists them all."""
    try:
        return manifest.find(name, opset)
    except ModelNotFoundError as exc:
        if any(m.model.lower() == name.lower() for m in manifest.entries):
            raise  # the name is right, the opset is not: the message lists the valid ones
        close = close_names(manifest, name)
        shown = [printable(c) for c in close]
        either = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else "".join(shown)
        guess = f"; did you mean {either}?" if close else "."
        raise ModelNotFoundError(f"{exc.message}{guess} `onnxhub-tui list` shows every model "
                                 f"(`onnxhub-tui list WORDS` searches them).", hints=exc.hints) from None
