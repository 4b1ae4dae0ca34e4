"""``cache ls|verify|rm|prune|dir``: look at, check and trim the cache. Only ``core.cache`` deletes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import HubError
from ..core.text import human_size, printable
from .context import ask, is_interactive, open_hub
from .output import JSON_VERSION, cell, column_width, err, json_out, note, path_out, table_width

if TYPE_CHECKING:
    from ..core import cache
    from ..core.client import Hub


def _cache_report(hub: Hub, args: argparse.Namespace, *, prune: bool = False) -> cache.CacheReport:
    """The cache scanned for the hub named by --repo/--demo (its manifest required), else with the
    default hub's cached manifest for names when there is one. A bare ``prune`` takes abandoned
    partials only (the README's promise: orphans only with --repo), so it scans without a manifest."""
    from ..core import cache

    named = bool(args.repo or args.demo)
    if prune and not named:
        return cache.unscoped_report(hub.cache_dir)
    return hub.cache_report(require_manifest=named)


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
        "model": f.entry.model if f.entry else None, "opset": f.entry.opset if f.entry and f.entry.opset_known else None,
        "expected_sha256": f.expected_sha, "in_use": f.in_use, "link": f.is_link,
        "members": [str(m.path) for m in f.members],  # an hf: model's .onnx and data files: one item
    }


def _model_cell(f: cache.CachedFile) -> str:
    if not f.entry:
        return ""
    return f"{f.entry.model} ({f.entry.opset_text})" + (" data" if f.kind == "data" else "")  # short: 24 cells


def cmd_cache_ls(args: argparse.Namespace) -> int:
    with open_hub(args, quiet_offline=True) as hub:
        report = _cache_report(hub, args)
    if args.json:
        json_out({"schema": "onnxhub-tui/cache-ls", "version": JSON_VERSION, "root": str(report.root),
                  "bytes": report.size, "count": len(report.files), "warnings": report.warnings,
                  "files": [_file_json(f) for f in report.files]})
        return 0
    print(f"{report.root}  ({len(report.files)} item(s), {human_size(report.size)})")
    width = table_width()  # once: asking the terminal per line cost ~0.2 s at 10,000 files
    model_w = 24 if width else column_width([_model_cell(f) for f in report.files], least=24)
    name_w = max(width - 50, 20) if width else None
    for group in report.groups:
        print(f"\n{printable(group.name or '.')}/  ({human_size(group.size)})")
        for f in group.files:
            state = f.state + (" (in use)" if f.in_use else "")
            name = _short_name(f.path.name) + ("/" if f.state == "extracted" else "")
            if len(f.members) > 1:  # an hf: model and its external data: one item, one size
                name += f" + {len(f.members) - 1} data file(s)"
            print(f"  {state:<10} {human_size(f.size):>9}  {cell(_model_cell(f), model_w)}  {cell(name, name_w, pad=False)}")
    for warning in report.warnings:
        note(f"warning: {warning}")
    return 0


def _select(report: cache.CacheReport, targets: list[str], args: argparse.Namespace) -> list[cache.CachedFile]:
    from ..core import cache

    chosen: list[cache.CachedFile] = []
    for target in targets:
        found = cache.select(report, target)
        if not found:
            # Without a named hub the files have no model names: a name can only match with one.
            unnamed = "" if (args.repo or args.demo) else (
                " Model names come from a hub's manifest: to name a model, add --repo SPEC (or --demo).")
            raise HubError(f"Nothing in the cache {report.root} matches {target!r}: give a path, a folder in the "
                           f"cache or a model name (see `onnxhub-tui cache ls`).{unnamed}")
        chosen.extend(f for f in found if f not in chosen)
    return chosen


def cmd_cache_verify(args: argparse.Namespace) -> int:
    from ..core import cache

    with open_hub(args, quiet_offline=True) as hub:
        report = _cache_report(hub, args)
    files = _select(report, args.targets, args) if args.targets else report.files
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
    note(f"{checked} file(s) verified, {bad} bad" + (": remove them with `onnxhub-tui cache rm PATH`" if bad else ""))
    return 1 if bad else 0


def _delete(plan: cache.DeletePlan, args: argparse.Namespace, what: str) -> int:
    from ..core import cache

    for f, reason in plan.skipped:
        note(f"keeping {_display(f)}: {reason}")
    if not plan.items:
        note(f"Nothing to {what}.")
        return 0
    verb = "Would delete" if args.dry_run else "About to delete"
    note(f"{verb} {len(plan.items)} item(s), {human_size(plan.size)}, from {plan.root}:")
    for f in plan.items:
        print(f"  {f.state:<10} {human_size(f.size):>9}  {_display(f)}")
    if args.dry_run:
        return 0
    if not args.yes:
        if not is_interactive():
            raise HubError("Not deleting without confirmation in a non-interactive run: add --yes (or --dry-run to look first).")
        if not ask("Delete these?"):
            note("Nothing deleted.")
            return 1
    result = cache.execute(plan)
    for f, reason in result.errors:
        err(f"could not delete {printable(f.rel)}: {reason}")
    note(f"Deleted {len(result.deleted)} item(s), freed {human_size(result.freed)}.")
    return 1 if result.errors else 0


def cmd_cache_rm(args: argparse.Namespace) -> int:
    from ..core import cache

    with open_hub(args, quiet_offline=True) as hub:
        report = _cache_report(hub, args)
    return _delete(cache.plan_delete(report, _select(report, args.targets, args)), args, "delete")


def cmd_cache_prune(args: argparse.Namespace) -> int:
    from ..core import cache

    with open_hub(args, quiet_offline=True) as hub:
        report = _cache_report(hub, args, prune=True)
    return _delete(cache.plan_delete(report, cache.prunable(report)), args, "prune")


def cmd_cache_dir(args: argparse.Namespace) -> int:
    from ..core import cache

    path_out(Path(args.cache_dir).expanduser() if args.cache_dir else cache.default_cache_dir())
    return 0
