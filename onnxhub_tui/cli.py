"""``onnxhub-tui``: the terminal UI when run bare, headless subcommands for scripts and remote shells.

A thin front end over ``core``: every decision (names, opsets, cache paths, hashing, deletion) is the
core's. Output contract: results on stdout (tables, JSON, paths), progress and messages on stderr,
exit 0 on success, 1 on failure, 2 on a usage error, 130 on Ctrl-C. Textual is imported only to run the TUI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .core.errors import CancelledError, HubError, QueryError, RepoSpecError, UntrustedRepoError
from .core.text import human_size, printable

if TYPE_CHECKING:  # the core (httpx, the cache) is imported by the commands that use it: usage errors stay fast
    from .core import cache
    from .core.client import Hub
    from .core.download import CancelToken
    from .core.manifest import Manifest, ModelInfo, Port

PROG = "onnxhub-tui"
JSON_VERSION = 1  # bump only on an incompatible change to any --json shape (documented in the README)
log = logging.getLogger("onnxhub_tui")


class UsageError(Exception):
    """A command line that cannot work as written: exit 2."""


# -- small output helpers ---------------------------------------------------------------------------


def _err(message: str) -> None:
    """One line on stderr: multi-line core messages are joined, control characters removed."""
    lines = [printable(line).strip() for line in str(message).splitlines()]
    print(f"{PROG}: " + "; ".join(line for line in lines if line), file=sys.stderr, flush=True)


def _note(message: str) -> None:
    print(printable(message), file=sys.stderr, flush=True)


def _width() -> int:
    return max(shutil.get_terminal_size((80, 24)).columns, 60)


def _cell(text: object, width: int) -> str:
    return printable(text, limit=width).ljust(width)


def _json(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _is_interactive() -> bool:
    return bool(sys.stdin and sys.stdin.isatty() and sys.stderr.isatty())


def _ask(question: str) -> bool:
    print(printable(question) + " [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


# -- argument parsing -------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _common(repo: bool = True) -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand. SUPPRESS keeps a subcommand from resetting a value
    given before it (``onnxhub-tui --repo R list`` and ``onnxhub-tui list --repo R`` mean the same)."""
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    if repo:
        parent.add_argument("--repo", metavar="SPEC", help="repo spec: owner/repo[:ref], hf:owner/repo[:rev], URL or folder")
        parent.add_argument("--demo", action="store_true", help="use the embedded demo hub (no network needed)")
        parent.add_argument("--offline", action="store_true", help="no network: use the cached manifest and files")
    parent.add_argument("--cache-dir", metavar="DIR", help="cache folder (default: onnx.hub's, see `cache dir`)")
    parent.add_argument("--debug", action="store_true", help="log details and show tracebacks")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Browse, inspect and download ONNX Model Hub models. Without a command: the terminal UI.",
        epilog="Try it with no network: onnxhub-tui --demo   (or: onnxhub-tui --demo list)",
    )
    parser.add_argument("--repo", metavar="SPEC", default=None,
                        help="repo spec: owner/repo[:ref], hf:owner/repo[:rev], a URL or a folder (default onnx/models:main)")
    parser.add_argument("--cache-dir", metavar="DIR", default=None, help="cache folder (default: onnx.hub's)")
    parser.add_argument("--offline", action="store_true", default=False, help="no network: cached manifest and files only")
    parser.add_argument("--jobs", type=_positive, default=3, metavar="N", help="parallel downloads (default 3)")
    parser.add_argument("--trust", action="store_true", default=False, help="trust the repo: no confirmation before downloads")
    parser.add_argument("--no-mouse", action="store_true", default=False, help="TUI: leave the mouse to the terminal")
    parser.add_argument("--demo", action="store_true", default=False, help="the embedded demo hub, served on 127.0.0.1")
    parser.add_argument("--debug", action="store_true", default=False, help="log details and show tracebacks")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    hub_opts = _common()
    p = commands.add_parser("list", parents=[hub_opts], help="list models, filtered by a search query",
                            description="List the hub's models. QUERY uses the TUI's search language: "
                                        "words, tag:vision, name:res, path:text/, opset:>=12, size:<50MB, -negated, \"quoted words\".")
    p.add_argument("query", nargs="*", metavar="QUERY")
    p.add_argument("--json", action="store_true", help="machine-readable output (see the README)")

    p = commands.add_parser("info", parents=[hub_opts], help="every field of one model, io ports as a table")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="this opset (default: the highest)")
    p.add_argument("--json", action="store_true", help="machine-readable output (see the README)")

    p = commands.add_parser("download", parents=[hub_opts], help="download models into the cache; prints their paths")
    p.add_argument("models", nargs="+", metavar="MODEL")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="this opset (default: the highest)")
    p.add_argument("--with-data", action="store_true", help="the model-with-data archive, extracted; prints its folder")
    p.add_argument("--force", action="store_true", help="download again even when cached")
    p.add_argument("--jobs", type=_positive, default=argparse.SUPPRESS, metavar="N", help="parallel downloads (default 3)")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before downloading from an untrusted repo")
    p.add_argument("--trust", action="store_true", default=argparse.SUPPRESS, help="same as --yes")

    p = commands.add_parser("cache", help="inspect, verify and trim the cache")
    cache_commands = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    q = cache_commands.add_parser("ls", parents=[hub_opts], help="cached files, grouped by folder")
    q.add_argument("--json", action="store_true", help="machine-readable output (see the README)")
    q = cache_commands.add_parser("verify", parents=[hub_opts], help="re-hash cached files against their SHA-256")
    q.add_argument("targets", nargs="*", metavar="TARGET", help="a path, a folder in the cache or a model name (default: all)")
    q = cache_commands.add_parser("rm", parents=[hub_opts], help="delete cached files")
    q.add_argument("targets", nargs="+", metavar="TARGET", help="a path, a folder in the cache or a model name")
    q.add_argument("--dry-run", action="store_true", help="show what would be deleted, delete nothing")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask")
    q = cache_commands.add_parser("prune", parents=[hub_opts],
                                  help="delete abandoned partial downloads (and, with --repo, files its manifest does not name)")
    q.add_argument("--dry-run", action="store_true", help="show what would be deleted, delete nothing")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask")
    cache_commands.add_parser("dir", parents=[_common(repo=False)], help="print the cache folder")

    p = commands.add_parser("manifest", help="build or check an ONNX_HUB_MANIFEST.json")
    manifest_commands = p.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)
    q = manifest_commands.add_parser("build", parents=[_common(repo=False)],
                                     help="a manifest for a folder of .onnx files (and their .tar.gz archives)")
    q.add_argument("folder", metavar="DIR")
    q.add_argument("-o", "--output", metavar="FILE", help="where to write it (default DIR/ONNX_HUB_MANIFEST.json; - for stdout)")
    q = manifest_commands.add_parser("check", parents=[_common(repo=False)],
                                     help="validate a manifest, and with --files its files' sizes and hashes")
    q.add_argument("manifest", metavar="FILE", help="the manifest (or the folder holding ONNX_HUB_MANIFEST.json)")
    q.add_argument("--files", metavar="DIR", help="the folder the manifest's paths are relative to")
    return parser


# -- opening the hub --------------------------------------------------------------------------------


@contextlib.contextmanager
def open_hub(args: argparse.Namespace, quiet_offline: bool = False) -> Iterator[Hub]:
    """The Hub the command works on: ``--demo`` starts the loopback demo server for the command's lifetime.
    ``quiet_offline``: no network unless a repo was named (cache commands only want names for files)."""
    from .core.client import Hub
    if args.demo:
        if args.repo:
            raise UsageError("--demo and --repo name two different hubs; give one of them")
        from . import demo

        folder = demo.ensure_demo_hub(say=_note)
        demo.bypass_proxies_for_loopback()
        with demo.DemoServer(folder) as server, Hub(server.source(), args.cache_dir, offline=False) as hub:
            yield hub
        return
    offline = True if (args.offline or (quiet_offline and not args.repo)) else None  # None: ONNXHUB_OFFLINE decides
    with Hub(args.repo, args.cache_dir, offline=offline) as hub:
        yield hub


def _manifest(hub: Hub, warn_skipped: bool = True) -> Manifest:
    manifest = hub.manifest()
    if manifest.warning:
        _note(f"warning: {manifest.warning}")
    if warn_skipped and manifest.skipped:
        _note(f"warning: {len(manifest.skipped)} manifest entr{'y' if len(manifest.skipped) == 1 else 'ies'} "
              f"skipped as invalid, e.g. {manifest.skipped[0]}")
    return manifest


# -- list / info ------------------------------------------------------------------------------------


def _port_json(port: Port) -> dict[str, Any]:
    return {"name": port.name, "shape": list(port.shape), "type": port.type}


def model_json(hub: Hub, entry: ModelInfo) -> dict[str, Any]:
    """One model in ``list --json`` (``info --json`` adds more)."""
    return {
        "model": entry.model,
        "opset": entry.opset,
        "path": entry.model_path,
        "bytes": entry.model_bytes,
        "sha256": entry.model_sha,
        "tags": list(entry.tag_list),
        "onnx_version": entry.onnx_version or None,
        "has_test_data": entry.has_test_data,
        "cached": hub.cache_state(entry),
    }


def _source_json(hub: Hub, manifest: Manifest) -> dict[str, Any]:
    return {"repo": hub.source.spec, "trusted": hub.source.trusted, "manifest_url": manifest.url,
            "manifest_state": manifest.state}


def cmd_list(args: argparse.Namespace) -> int:
    from .core.query import parse_query

    try:
        query = parse_query(args.query)
    except QueryError as exc:
        raise UsageError(str(exc)) from None
    with open_hub(args) as hub:
        manifest = _manifest(hub, warn_skipped=not args.json)
        found = sorted(query.filter(manifest.entries), key=lambda m: (m.model.lower(), m.opset))
        if args.json:
            _json({
                "schema": "onnxhub-tui/list", "version": JSON_VERSION, **_source_json(hub, manifest),
                "query": query.text, "count": len(found), "total": len(manifest.entries),
                "skipped": [{"index": s.index, "model": s.name, "reason": s.reason} for s in manifest.skipped],
                "models": [model_json(hub, m) for m in found],
            })
            return 0
        _print_list(hub, found)
        _note(f"{len(found)} of {len(manifest.entries)} models in {hub.source.spec}"
              + (f" matching {query.text}" if query.text else ""))
    return 0


def _print_list(hub: Hub, found: list[ModelInfo]) -> None:
    name_w = min(max([len(printable(m.model)) for m in found] + [5]), 30)
    fixed = name_w + 2 + 5 + 2 + 8 + 2 + 4 + 2 + 7 + 2
    tags_w = max(_width() - fixed - 1, 8)
    print(f"{'MODEL'.ljust(name_w)}  OPSET      SIZE  DATA  CACHED   TAGS")
    for m in found:
        state = {"complete": "yes", "partial": "partial"}.get(hub.cache_state(m) or "", "")
        tags = printable(", ".join(m.tag_list), limit=tags_w)
        print(f"{_cell(m.model, name_w)}  {m.opset:>5}  {human_size(m.model_bytes):>8}  "
              f"{'yes' if m.has_test_data else '':<4}  {state:<7}  {tags}".rstrip())


def _shape(shape: Sequence[Any]) -> str:
    return "[" + ", ".join("?" if d is None else printable(d) for d in shape) + "]"


def _ports_table(title: str, ports: list[Port]) -> None:
    print(f"\n{title}")
    if not ports:
        print("  (none listed)")
        return
    name_w = min(max(len(printable(p.name)) for p in ports), 36)
    type_w = min(max(len(printable(p.type)) for p in ports), 24)
    for p in ports:
        print(f"  {_cell(p.name, name_w)}  {_cell(p.type, type_w)}  {printable(_shape(p.shape), limit=_width() - name_w - type_w - 6)}")


_KNOWN_METADATA = {"model_sha", "model_bytes", "tags", "io_ports", "extra_ports", "model_with_data_path",
                   "model_with_data_sha", "model_with_data_bytes"}


def cmd_info(args: argparse.Namespace) -> int:
    with open_hub(args) as hub:
        manifest = _manifest(hub, warn_skipped=False)
        entry = manifest.find(args.model, args.opset)
        opsets = sorted(m.opset for m in manifest.entries if m.model.lower() == entry.model.lower())
        local = hub.local_path(entry) if hub.cache_state(entry) == "complete" else None
        if args.json:
            document = model_json(hub, entry)
            document.update(
                with_data=({"path": entry.model_with_data_path, "sha256": entry.model_with_data_sha,
                            "bytes": entry.model_with_data_bytes} if entry.has_test_data else None),
                io_ports=({"inputs": [_port_json(p) for p in entry.inputs],
                           "outputs": [_port_json(p) for p in entry.outputs]} if entry.io_ports else None),
                extra_ports={group: [_port_json(p) for p in ports] for group, ports in entry.extra_ports.items()},
                opsets=opsets,
                local_path=str(local) if local else None,
                metadata=entry.metadata,
            )
            _json({"schema": "onnxhub-tui/info", "version": JSON_VERSION, **_source_json(hub, manifest),
                   "model": document})
            return 0
        rows: list[tuple[str, str]] = [
            ("path", entry.model_path),
            ("opsets", ", ".join(str(o) for o in opsets) + f"  (showing {entry.opset})"),
            ("onnx_version", entry.onnx_version or "?"),
            ("size", f"{human_size(entry.model_bytes)} ({entry.model_bytes:,} bytes)" if entry.model_bytes is not None else "?"),
            ("sha256", entry.model_sha or "(none: downloads cannot be verified)"),
            ("tags", ", ".join(entry.tag_list) or "-"),
        ]
        if entry.has_test_data:
            rows += [("with data", entry.model_with_data_path or ""),
                     ("  size", human_size(entry.model_with_data_bytes)),
                     ("  sha256", entry.model_with_data_sha or "(none)")]
        else:
            rows.append(("with data", "-"))
        for key in sorted(set(entry.metadata) - _KNOWN_METADATA):
            rows.append((key, json.dumps(entry.metadata[key], ensure_ascii=True)))
        rows.append(("cached", str(local) if local else (hub.cache_state(entry) or "no")))
        print(f"{printable(entry.model)}  (opset {entry.opset}, {printable(hub.source.spec)})")
        for key, value in rows:  # values are never cut: a path or a hash is only useful whole
            print(f"  {key:<13} {printable(value)}")
        if entry.io_ports is None:
            print("\nio ports: not listed in the manifest")
        else:
            _ports_table("inputs", entry.inputs)
            _ports_table("outputs", entry.outputs)
        for group, ports in entry.extra_ports.items():
            _ports_table(f"extra ports: {printable(group)}", ports)
    return 0


# -- download ---------------------------------------------------------------------------------------


def _confirm_trust(hub: Hub, args: argparse.Namespace) -> None:
    if hub.source.trusted or args.yes or getattr(args, "trust", False):
        return
    spec = printable(hub.source.spec)
    if not _is_interactive():
        raise UntrustedRepoError(
            f"{spec} is not a trusted repo and this run cannot ask: re-run with --yes (or --trust) if you trust it."
        )
    _note(f"{spec} is not a trusted repo: download from it only if you trust whoever controls it.")
    if not _ask("Download from it?"):
        raise UntrustedRepoError(f"Not downloading from {spec}.")


def _needs_download(hub: Hub, entry: ModelInfo, with_data: bool) -> bool:
    from .core import cache

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
            _note(f"{label}: {verb}")
    return path


def _download_all(hub: Hub, entries: list[ModelInfo], args: argparse.Namespace) -> int:
    """Up to ``--jobs`` downloads at once; paths printed in the order given; Ctrl-C cancels them all
    (each keeps its ``.part`` file for a resume). Returns how many failed."""
    from .core.download import CancelToken
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
                        _err(f"{entry.model} (opset {entry.opset}): {exc}")
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
        manifest = _manifest(hub, warn_skipped=False)
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
        _err(f"{failed} of {len(entries)} download(s) failed.")
        return 1
    return 0


# -- cache ------------------------------------------------------------------------------------------


def _cache_report(hub: Hub, args: argparse.Namespace) -> tuple[cache.CacheReport, set[str]]:
    """Scan the cache, naming files from the manifest when one is at hand (never fetched unless a repo
    was named). Returns the report and the folders of the named hub: only there is a file the manifest
    does not name an orphan, since every hub a user visits shares this cache."""
    from .core import cache

    named = bool(args.repo or args.demo)
    try:
        entries = hub.manifest().entries
    except HubError as exc:
        if named:
            raise
        log.debug("cache: no manifest for names (%s)", exc)
        return hub.scan_cache(None), set()
    folders = cache.manifest_folders(entries) if named else set()
    report = hub.scan_cache(entries)
    if any(f.state == "orphan" and not f.is_link and f.group not in folders for f in report.files):
        plain = {f.rel: f for f in hub.scan_cache(None).files}  # another hub's file: no verdict
        report.files = [plain.get(f.rel, f) if f.state == "orphan" and not f.is_link and f.group not in folders
                        else f for f in report.files]
    return report, folders


def _short_name(name: str) -> str:
    """``<64 hex>_resnet50.onnx`` -> ``05e77a5c…_resnet50.onnx``: readable at 80 columns."""
    head, sep, tail = name.partition("_")
    return f"{head[:8]}…_{tail}" if sep and len(head) == 64 else name


def _display(f: cache.CachedFile) -> str:
    """A cache path short enough for 80 columns (the full one is in ``cache ls --json``)."""
    name = _short_name(f.path.name) + ("/" if f.state == "extracted" else "")
    return printable(f"{f.group}/{name}" if f.group else name)


def _file_json(f: cache.CachedFile) -> dict[str, Any]:
    return {
        "path": str(f.path), "rel": f.rel, "group": f.group, "bytes": f.size, "state": f.state, "kind": f.kind,
        "model": f.entry.model if f.entry else None, "opset": f.entry.opset if f.entry else None,
        "expected_sha256": f.expected_sha, "in_use": f.in_use, "link": f.is_link,
    }


def cmd_cache_ls(args: argparse.Namespace) -> int:
    with open_hub(args, quiet_offline=True) as hub:
        report, _folders = _cache_report(hub, args)
    if args.json:
        _json({"schema": "onnxhub-tui/cache-ls", "version": JSON_VERSION, "root": str(report.root),
               "bytes": report.size, "count": len(report.files), "warnings": report.warnings,
               "files": [_file_json(f) for f in report.files]})
        return 0
    print(f"{report.root}  ({len(report.files)} item(s), {human_size(report.size)})")
    name_width = max(_width() - 50, 20)  # once: asking the terminal per line cost ~0.2 s at 10,000 files
    for group in report.groups:
        print(f"\n{printable(group.name or '.')}/  ({human_size(group.size)})")
        for f in group.files:
            model = f"{f.entry.model} ({f.entry.opset})" if f.entry else ""
            if f.kind == "data" and f.entry:
                model += " data"
            state = f.state + (" (in use)" if f.in_use else "")
            name = _short_name(f.path.name) + ("/" if f.state == "extracted" else "")
            print(f"  {state:<10} {human_size(f.size):>9}  {_cell(model, 24)}  {printable(name, limit=name_width)}")
    for warning in report.warnings:
        _note(f"warning: {warning}")
    return 0


def _select(report: cache.CacheReport, targets: list[str]) -> list[cache.CachedFile]:
    from .core import cache

    chosen: list[cache.CachedFile] = []
    for target in targets:
        found = cache.select(report, target)
        if not found:
            raise HubError(f"Nothing in the cache {report.root} matches {target!r}: give a path, a folder in the "
                           "cache or a model name (see `onnxhub-tui cache ls`).")
        chosen.extend(f for f in found if f not in chosen)
    return chosen


def cmd_cache_verify(args: argparse.Namespace) -> int:
    from .core import cache

    with open_hub(args, quiet_offline=True) as hub:
        report, _folders = _cache_report(hub, args)
    files = _select(report, args.targets) if args.targets else report.files
    bad = checked = 0
    for f in files:
        result = cache.verify(f)
        if result.ok is None:
            print(f"skip  {_display(f)}  ({f.state}: {result.message})")
            continue
        checked += 1
        if result.ok:
            print(f"ok    {_display(f)}")
        else:
            bad += 1
            print(f"BAD   {_display(f)}  ({printable(result.message)})")
    _note(f"{checked} file(s) verified, {bad} bad" + (": remove them with `onnxhub-tui cache rm PATH`" if bad else ""))
    return 1 if bad else 0


def _delete(plan: cache.DeletePlan, args: argparse.Namespace, what: str) -> int:
    from .core import cache

    for f, reason in plan.skipped:
        _note(f"keeping {_display(f)}: {reason}")
    if not plan.items:
        _note(f"Nothing to {what}.")
        return 0
    verb = "Would delete" if args.dry_run else "About to delete"
    _note(f"{verb} {len(plan.items)} item(s), {human_size(plan.size)}, from {plan.root}:")
    for f in plan.items:
        print(f"  {f.state:<10} {human_size(f.size):>9}  {_display(f)}")
    if args.dry_run:
        return 0
    if not args.yes:
        if not _is_interactive():
            raise HubError("Not deleting without confirmation in a non-interactive run: add --yes (or --dry-run to look first).")
        if not _ask("Delete these?"):
            _note("Nothing deleted.")
            return 1
    result = cache.execute(plan)
    for f, reason in result.errors:
        _err(f"could not delete {f.rel}: {reason}")
    _note(f"Deleted {len(result.deleted)} item(s), freed {human_size(result.freed)}.")
    return 1 if result.errors else 0


def cmd_cache_rm(args: argparse.Namespace) -> int:
    from .core import cache

    with open_hub(args, quiet_offline=True) as hub:
        report, _folders = _cache_report(hub, args)
    return _delete(cache.plan_delete(report, _select(report, args.targets)), args, "delete")


def cmd_cache_prune(args: argparse.Namespace) -> int:
    from .core import cache

    with open_hub(args, quiet_offline=True) as hub:
        report, folders = _cache_report(hub, args)
    return _delete(cache.plan_delete(report, cache.prunable(report, folders)), args, "prune")


def cmd_cache_dir(args: argparse.Namespace) -> int:
    from .core import cache

    print(Path(args.cache_dir).expanduser() if args.cache_dir else cache.default_cache_dir())
    return 0


# -- manifest ---------------------------------------------------------------------------------------


def cmd_manifest_build(args: argparse.Namespace) -> int:
    from .core.build import build_manifest, default_output, manifest_bytes, write_manifest
    from .progress import bar_callback, progress_bars

    folder = Path(args.folder).expanduser()
    with progress_bars() as bars:
        result = build_manifest(folder, progress=bar_callback(bars, "hashing and reading models"))
    for rel, reason in result.skipped:
        _note(f"skipped {printable(rel)}: {printable(reason)}")
    for note in result.notes:
        _note(f"note: {note}")
    if args.output == "-":
        sys.stdout.buffer.write(manifest_bytes(result.entries))
        sys.stdout.flush()
    else:
        path = write_manifest(result.entries, Path(args.output).expanduser() if args.output else default_output(folder))
        _note(f"Wrote {len(result.entries)} model(s), {human_size(result.total_bytes)} of files, to {path}")
        print(path)
    if result.skipped:
        _err(f"{len(result.skipped)} file(s) could not be read and are not in the manifest.")
        return 1
    if not result.entries:
        _err(f"No .onnx files under {folder}.")
        return 1
    return 0


def cmd_manifest_check(args: argparse.Namespace) -> int:
    from .core.build import check_manifest
    from .core.sources import MANIFEST_NAME
    from .progress import bar_callback, progress_bars

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


# -- the TUI ----------------------------------------------------------------------------------------


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from .tui.app import run_tui  # Textual is imported here and nowhere else in the CLI
    except ImportError as exc:
        _err(f"the terminal UI is not available in this installation ({exc}); "
             "the subcommands work: see onnxhub-tui --help")
        return 1
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        _err("the terminal UI needs a terminal; for scripts use a subcommand, e.g. onnxhub-tui list --json")
        return 1
    with open_hub(args) as hub:
        return int(run_tui(hub, jobs=args.jobs, trust=args.trust, mouse=not args.no_mouse) or 0)


COMMANDS = {
    "list": cmd_list, "info": cmd_info, "download": cmd_download,
    ("cache", "ls"): cmd_cache_ls, ("cache", "verify"): cmd_cache_verify, ("cache", "rm"): cmd_cache_rm,
    ("cache", "prune"): cmd_cache_prune, ("cache", "dir"): cmd_cache_dir,
    ("manifest", "build"): cmd_manifest_build, ("manifest", "check"): cmd_manifest_check,
}


def _command(args: argparse.Namespace) -> Any:
    if args.command is None:
        return cmd_tui
    if args.command == "cache":
        return COMMANDS[("cache", args.cache_command)]
    if args.command == "manifest":
        return COMMANDS[("manifest", args.manifest_command)]
    return COMMANDS[args.command]


_TAKES_VALUE = {"--repo", "--cache-dir", "--jobs"}


def _negated_terms_last(argv: list[str]) -> list[str]:
    """``list -tag:text`` is a negated query term, not an option: move such words after ``--``."""
    if "--" in argv:
        return argv
    at = 0
    while at < len(argv) and argv[at].startswith("-"):  # skip the options before the command
        at += 2 if argv[at] in _TAKES_VALUE else 1
    if at >= len(argv) or argv[at] != "list":
        return argv
    at += 1
    terms = [a for a in argv[at:] if len(a) > 1 and a[0] == "-" and a[1] != "-" and a != "-h"]
    if not terms:
        return argv
    rest = [a for a in argv[at:] if a not in terms]
    return [*argv[:at], *rest, "--", *terms]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_negated_terms_last(list(sys.argv[1:] if argv is None else argv)))  # exits 2 on misuse
    for name, default in (("repo", None), ("demo", False), ("offline", False), ("yes", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    for stream in (sys.stdout, sys.stderr):  # a model name the terminal's encoding lacks must not crash us
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")
    try:
        return _command(args)(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        _err(str(exc))
        return 2
    except RepoSpecError as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        resumable = args.command == "download" or args.command is None
        _err("interrupted" + ("; partial downloads are kept and the same command resumes them." if resumable else "."))
        return 130
    except BrokenPipeError:
        # `onnxhub-tui list | head`: the reader left; say nothing more.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except HubError as exc:
        if args.debug:
            traceback.print_exc()
        _err(str(exc))
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, a traceback only with --debug
        if args.debug:
            traceback.print_exc()
        _err(f"unexpected error: {type(exc).__name__}: {exc} (re-run with --debug for details)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
