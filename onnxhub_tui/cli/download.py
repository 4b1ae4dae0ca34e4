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
from .context import ask, find_entry, is_interactive, load_manifest, open_hub
from .output import describe, err, note, path_out

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
    return not hub.local_copy(entry).ready(with_data)


class _Transfer:
    """What one job's progress callback saw: where the bytes started (a resume) and where they ended."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.first: int | None = None
        self.last = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self.first is None:
            self.first = done
        self.last = done
        if self.bar is not None:
            self.bar(done, total)


def _part_size(hub: Hub, entry: ModelInfo, with_data: bool) -> int:
    """The bytes a resume would start from: the largest part file the core keeps for this file."""
    from ..core import layout

    copy = hub.local_copy(entry)
    path = copy.data_archive if with_data else copy.path
    if path is None or (copy.data_state if with_data else copy.state) != "partial":
        return 0
    sizes = []
    for part in layout.part_files(path):
        try:
            sizes.append(part.stat().st_size)
        except OSError:
            continue
    return max(sizes, default=0)


def _fetch(hub: Hub, entry: ModelInfo, args: argparse.Namespace, bars: Any, token: CancelToken,
           lock: threading.Lock) -> Path:
    """One download job (runs in a worker thread)."""
    from ..progress import bar_callback

    label = entry.label
    fresh = args.force or _needs_download(hub, entry, args.with_data)
    resume_at = _part_size(hub, entry, args.with_data) if fresh else 0
    seen = _Transfer(bar_callback(bars, printable(label)))
    started = time.monotonic()
    path = hub.download(entry, with_data=args.with_data, force=args.force, progress=seen, cancel=token)
    if args.with_data:  # the folder with the model and its test_data_set_*, as onnx.hub and `info` give it
        path = hub.local_copy(entry).data_dir or path
    if bars is None:  # one plain line per file when stderr is not a terminal
        with lock:
            note(f"{label}: {_what_happened(entry, args.with_data, fresh, resume_at, seen, time.monotonic() - started)}")
    return path


def _what_happened(entry: ModelInfo, with_data: bool, fresh: bool, resume_at: int, seen: _Transfer,
                   seconds: float) -> str:
    if not fresh:
        return "already cached"
    size = max(entry.file(with_data).size or 0, seen.last)  # an hf: model's bytes include its data files
    if seen.first is None or seen.first < resume_at:  # no bytes came, or the server started over
        resume_at = 0
    if not resume_at:
        return f"downloaded {human_size(size)} in {seconds:.1f}s"
    return (f"resumed from {human_size(resume_at)} already here, downloaded {human_size(max(size - resume_at, 0))} "
            f"more in {seconds:.1f}s")


def _download_all(hub: Hub, order: list[ModelInfo], args: argparse.Namespace) -> int:
    """Up to ``--jobs`` downloads at once; one path printed per name given (``order``, a model named twice
    is fetched once and printed twice); Ctrl-C cancels them all (each keeps its ``.part`` file for a
    resume). Returns how many downloads failed."""
    from ..core.download import CancelToken
    from ..progress import progress_bars

    entries = list(dict.fromkeys(order))
    tokens = [CancelToken() for _ in entries]
    lock = threading.Lock()
    failures: dict[ModelInfo, HubError] = {}
    # While bars are drawn, rich swaps sys.stdout for a proxy that writes to *stderr* (and wraps long
    # lines): paths must go to the real stdout, and on a terminal only after the bars are done.
    out = sys.stdout
    held: list[Path] = []
    try:
        with progress_bars() as bars:
            hold = bars is not None and out.isatty()
            executor = ThreadPoolExecutor(max_workers=min(args.jobs, len(entries)), thread_name_prefix="download")
            futures = {e: executor.submit(_fetch, hub, e, args, bars, t, lock) for e, t in zip(entries, tokens)}
            try:
                for entry in order:
                    try:
                        path = futures[entry].result()
                    except CancelledError:
                        raise KeyboardInterrupt from None
                    except HubError as exc:
                        if entry not in failures:  # said once, however often the name was given
                            failures[entry] = exc
                            if args.debug:
                                traceback.print_exception(exc)
                            err(f"{entry.label}: {describe(exc)}")
                        continue
                    if hold:
                        held.append(path)
                    else:
                        path_out(path, out)
            except KeyboardInterrupt:
                for token in tokens:
                    token.cancel()
                executor.shutdown(wait=True, cancel_futures=True)
                raise
            executor.shutdown(wait=True)
    finally:
        for path in held:
            path_out(path, out)
    return len(failures)


def cmd_download(args: argparse.Namespace) -> int:
    with open_hub(args) as hub:
        manifest = load_manifest(hub, warn_skipped=False)
        order: list[ModelInfo] = []
        for name in args.models:  # every name given, in its order: one output line each
            entry = find_entry(manifest, name, args.opset)
            if args.with_data and not entry.has_test_data:
                raise HubError(f"{entry.label} has no model-with-data archive; drop --with-data.")
            order.append(entry)
        if args.force or any(_needs_download(hub, e, args.with_data) for e in set(order)):
            _confirm_trust(hub, args)
        failed = _download_all(hub, order, args)
    if failed:
        err(f"{failed} of {len(set(order))} download(s) failed.")
        return 1
    return 0
