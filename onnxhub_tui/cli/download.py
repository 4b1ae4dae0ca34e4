"""``download``: models into the cache, up to ``--jobs`` at once; their paths on stdout in the order given."""

from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import CancelledError, HubError, UntrustedRepoError
from ..core.text import human_size, printable
from .context import ask, is_interactive, load_manifest, open_hub
from .output import err, note

if TYPE_CHECKING:
    from ..core.client import Hub
    from ..core.download import CancelToken
    from ..core.manifest import ModelInfo


def _confirm_trust(hub: Hub, args: argparse.Namespace) -> None:
    if hub.source.trusted or args.yes or getattr(args, "trust", False):
        return
    spec = printable(hub.source.spec)
    if not is_interactive():
        raise UntrustedRepoError(
            f"{spec} is not a trusted repo and this run cannot ask: re-run with --yes (or --trust) if you trust it."
        )
    note(f"{spec} is not a trusted repo: download from it only if you trust whoever controls it.")
    if not ask("Download from it?"):
        raise UntrustedRepoError(f"Not downloading from {spec}.")


def _needs_download(hub: Hub, entry: ModelInfo, with_data: bool) -> bool:
    from ..core import cache

    path = hub.local_path(entry, with_data)
    if not path.exists():
        return True
    return with_data and not cache.extracted_dir(path).is_dir()


def _fetch(hub: Hub, entry: ModelInfo, args: argparse.Namespace, bars: Any, token: CancelToken,
           lock: threading.Lock) -> Path:
    """One download job (runs in a worker thread)."""
    from .progress import bar_callback

    label = f"{entry.model} (opset {entry.opset})"
    fresh = args.force or _needs_download(hub, entry, args.with_data)
    started = time.monotonic()
    path = hub.download(entry, args.with_data, args.force, progress=bar_callback(bars, printable(label)), cancel=token)
    if bars is None:  # one plain line per file when stderr is not a terminal
        size = entry.model_with_data_bytes if args.with_data else entry.model_bytes
        verb = f"downloaded {human_size(size)} in {time.monotonic() - started:.1f}s" if fresh else "already cached"
        with lock:
            note(f"{label}: {verb}")
    return path


def _download_all(hub: Hub, entries: list[ModelInfo], args: argparse.Namespace) -> int:
    """Up to ``--jobs`` downloads at once; paths printed in the order given; Ctrl-C cancels them all
    (each keeps its ``.part`` file for a resume). Returns how many failed."""
    from ..core.download import CancelToken
    from .progress import progress_bars

    tokens = [CancelToken() for _ in entries]
    lock = threading.Lock()
    failed = 0
    # While bars are drawn, rich swaps sys.stdout for a proxy that writes to *stderr* (and wraps long
    # lines): paths must go to the real stdout, and on a terminal only after the bars are done.
    out = sys.stdout
    held: list[Path] = []
    try:
        with progress_bars() as bars:
            hold = bars is not None and out.isatty()
            executor = ThreadPoolExecutor(max_workers=min(args.jobs, len(entries)), thread_name_prefix="download")
            futures = [executor.submit(_fetch, hub, e, args, bars, t, lock) for e, t in zip(entries, tokens)]
            try:
                for entry, future in zip(entries, futures):
                    try:
                        path = future.result()
                    except CancelledError:
                        raise KeyboardInterrupt from None
                    except HubError as exc:
                        failed += 1
                        if args.debug:
                            traceback.print_exception(exc)
                        err(f"{entry.model} (opset {entry.opset}): {exc}")
                        continue
                    if hold:
                        held.append(path)
                    else:
                        print(path, file=out, flush=True)
            except KeyboardInterrupt:
                for token in tokens:
                    token.cancel()
                executor.shutdown(wait=True, cancel_futures=True)
                raise
            executor.shutdown(wait=True)
    finally:
        for path in held:
            print(path, file=out, flush=True)
    return failed


def cmd_download(args: argparse.Namespace) -> int:
    with open_hub(args) as hub:
        manifest = load_manifest(hub, warn_skipped=False)
        entries: list[ModelInfo] = []
        for name in dict.fromkeys(args.models):  # once each, in the order given
            entry = manifest.find(name, args.opset)
            if args.with_data and not entry.has_test_data:
                raise HubError(f"{entry.model} (opset {entry.opset}) has no model-with-data archive; drop --with-data.")
            if entry not in entries:
                entries.append(entry)
        if args.force or any(_needs_download(hub, e, args.with_data) for e in entries):
            _confirm_trust(hub, args)
        failed = _download_all(hub, entries, args)
    if failed:
        err(f"{failed} of {len(entries)} download(s) failed.")
        return 1
    return 0
