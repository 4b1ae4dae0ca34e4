"""``list`` and ``info``: the hub's models as a table or JSON, and every field of one model."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.text import human_size, printable
from .context import find_entry, load_manifest, open_hub
from .output import JSON_VERSION, cell, column_width, describe, json_out, note, table_width

if TYPE_CHECKING:
    from ..core.client import Hub
    from ..core.cache import LocalCopy
    from ..core.manifest import FileRef, Manifest, ModelInfo, Port
    from ..core.remote_inspect import RemoteSummary


def _port_json(port: Port) -> dict[str, Any]:
    return {"name": port.name, "shape": list(port.shape), "type": port.type or None}  # null: unknown


def model_json(hub: Hub, entry: ModelInfo) -> dict[str, Any]:
    """One model in ``list --json`` (``info --json`` adds more). Hashes in lower case, as compared."""
    ref = entry.file()
    return {
        "model": entry.model,
        "opset": entry.opset if entry.opset_known else None,
        "path": ref.path,
        "bytes": ref.size,
        "sha256": ref.sha,
        "tags": list(entry.tag_list),
        "onnx_version": entry.onnx_version or None,
        "has_test_data": entry.has_test_data,
        "cached": hub.local_copy(entry).state,
    }


def _file_json(ref: FileRef) -> dict[str, Any]:
    return {"path": ref.path, "sha256": ref.sha, "bytes": ref.size}


def _source_json(hub: Hub, manifest: Manifest) -> dict[str, Any]:
    return {"repo": hub.source.spec, "trusted": hub.source.trusted, "manifest_url": manifest.url,
            "manifest_state": manifest.state}


def cmd_list(args: argparse.Namespace) -> int:
    from ..core.query import parse_query

    query = parse_query(args.query)  # a QueryError is a usage error: one line, exit 2
    with open_hub(args) as hub:
        manifest = load_manifest(hub, warn_skipped=not args.json)
        found = sorted(query.filter(manifest.entries), key=lambda m: (m.model.lower(), m.opset))
        if args.json:
            json_out({
                "schema": "onnxhub-tui/list", "version": JSON_VERSION, **_source_json(hub, manifest),
                "query": query.text, "count": len(found), "total": len(manifest.entries),
                "skipped": [{"index": s.index, "model": s.name, "reason": s.reason} for s in manifest.skipped],
                "models": [model_json(hub, m) for m in found],
            })
            return 0
        print_list(hub, found)
        note(f"{len(found)} of {len(manifest.entries)} models in {hub.source.spec}"
             + (f" matching {query.text}" if query.text else ""))
    return 0


def print_list(hub: Hub, found: list[ModelInfo]) -> None:
    width = table_width()
    name_w = column_width([m.model for m in found], least=5, most=30 if width else None)
    sizes = [human_size(m.model_bytes) for m in found]
    size_w = column_width(sizes, least=8)  # a number is never cut: the column grows instead
    others = 2 + 5 + 2 + size_w + 2 + 4 + 2 + 7 + 2
    if width:  # a wide size column takes its room from the names, so a row still fits
        name_w = max(min(name_w, width - others - 1 - 8), 5)
    tags_w = max(width - name_w - others - 1, 8) if width else None
    print(f"{cell('MODEL', name_w)}  OPSET  {cell('SIZE', size_w, right=True)}  DATA  CACHED   TAGS")
    for m, size in zip(found, sizes):
        state = {"complete": "yes", "partial": "partial", "damaged": "damaged"}.get(hub.local_copy(m).state or "", "")
        tags = cell(", ".join(m.tag_list), tags_w, pad=False)
        print(f"{cell(m.model, name_w)}  {m.opset_text:>5}  {cell(size, size_w, right=True)}  "
              f"{'yes' if m.has_test_data else '':<4}  {state:<7}  {tags}".rstrip())


def _shape(shape: Sequence[Any]) -> str:
    return "[" + ", ".join("?" if d is None else printable(d) for d in shape) + "]"


def _ports_table(title: str, ports: list[Port]) -> None:
    print(f"\n{title}")
    if not ports:
        print("  (none listed)")
        return
    width = table_width()
    name_w = column_width([p.name for p in ports], most=36 if width else None)
    type_w = column_width([p.type for p in ports], most=24 if width else None)
    shape_w = width - name_w - type_w - 6 if width else None
    for p in ports:
        print(f"  {cell(p.name, name_w)}  {cell(p.type, type_w)}  {cell(_shape(p.shape), shape_w, pad=False)}")


_KNOWN_METADATA = {"model_sha", "model_bytes", "tags", "io_ports", "extra_ports", "model_with_data_path",
                   "model_with_data_sha", "model_with_data_bytes", "hf",  # hf: shown as "files"
                   # the zoo's facts, shown as rows of their own (core.zoo.facts)
                   "tier", "turnkey", "archive_only", "unknown_until_download"}


def _header(hub: Hub, entry: ModelInfo, remote: bool | None) -> tuple[RemoteSummary | None, str, str | None]:
    """(header, origin, why none was read) from ``Hub.inspect``. A read the user forced (``--remote``)
    fails the command; an automatic one that fails is said, and ``info`` goes on with the manifest."""
    from ..core.errors import HubError

    try:
        summary, origin = hub.inspect(entry, remote=remote)
    except HubError as exc:
        if remote:
            raise
        return None, "manifest", describe(exc)
    return summary, origin, None


def _ports_origin(entry: ModelInfo, summary: RemoteSummary | None, origin: str) -> dict[str, str | None]:
    ports = entry.io_ports or {}
    listed = {k: "manifest" if isinstance(ports.get(k), list) else None for k in ("inputs", "outputs")}
    return {k: origin for k in listed} if summary is not None else listed


def _zoo_json(entry: ModelInfo) -> dict[str, Any] | None:
    from ..core import zoo

    tier = zoo.tier_of(entry)
    if tier is None:
        return None
    return {"tier": tier, "tier_meaning": zoo.TIERS.get(tier), "archive_only": bool(entry.metadata.get("archive_only")),
            "facts": dict(zoo.facts(entry))}


def cmd_info(args: argparse.Namespace) -> int:
    remote = getattr(args, "remote", None)
    with open_hub(args) as hub:
        manifest = load_manifest(hub, warn_skipped=False)
        entry = find_entry(manifest, args.model, args.opset)
        opsets = sorted(m.opset for m in manifest.entries
                        if m.model.lower() == entry.model.lower() and m.opset_known)  # an hf: listing has none
        summary, origin, problem = _header(hub, entry, remote)
        if problem and not args.json:
            note(f"warning: {problem}")
        copy = hub.local_copy(entry)
        local = copy.path if copy.state == "complete" else None
        if args.json:
            document = model_json(hub, entry)
            if summary is not None:
                io_ports: dict[str, Any] | None = summary.io_ports()
            elif entry.io_ports:  # a list the manifest leaves out (null: the zoo's outputs) stays null: unknown
                listed = entry.io_ports
                io_ports = {"inputs": [_port_json(p) for p in entry.inputs] if isinstance(listed.get("inputs"), list) else None,
                            "outputs": [_port_json(p) for p in entry.outputs] if isinstance(listed.get("outputs"), list) else None}
            else:
                io_ports = None
            document.update(
                with_data=_file_json(entry.file(with_data=True)) if entry.has_test_data else None,
                io_ports=io_ports,
                extra_ports={group: [_port_json(p) for p in ports] for group, ports in entry.extra_ports.items()},
                opsets=opsets,
                local_path=str(local) if local else None,
                data_dir=str(copy.data_dir) if copy.data_dir else None,
                header=({**summary.to_json(), "kept": summary.cached} if summary is not None else None),
                origins={**_ports_origin(entry, summary, origin), "header": origin if summary is not None else None},
                header_error=problem,
                zoo=_zoo_json(entry),
                metadata=entry.metadata,
                files=[{"kind": f.kind, "path": f.path, "bytes": f.size, "sha256": f.sha256,
                        "local_path": str(f.local) if f.local else None, "named_by_model": f.named}
                       for f in hub.files_of(entry)],
            )
            json_out({"schema": "onnxhub-tui/info", "version": JSON_VERSION, **_source_json(hub, manifest),
                      "model": document})
            return 0
        _print_info(hub, entry, opsets, copy, summary, origin)
    return 0


def _files_rows(hub: Hub, entry: ModelInfo) -> list[tuple[str, str]]:
    """One row per file of the model (its .onnx, then its data files), its size and, once cached, its path."""
    files = hub.files_of(entry)
    total = sum(f.size or 0 for f in files)
    guessed = any(not f.named for f in files)
    rows = [("files", f"{len(files)}, {human_size(total)}" + (" (data files by name: the model says once downloaded)"
                                                               if guessed else ""))]
    for f in files:
        where = str(f.local) if f.local else "not cached"
        rows.append((f"  {f.kind}", f"{f.path}  {human_size(f.size)}  {where}"))
    return rows


def _header_rows(summary: RemoteSummary, origin: str) -> list[tuple[str, str]]:
    if origin == "file":
        how = "read from the cached file"
    elif summary.cached:
        how = f"kept from a remote read ({summary.requests} requests, {human_size(summary.bytes_read)}): no network now"
    else:
        how = (f"read remotely: {summary.requests} requests, {human_size(summary.bytes_read)} of "
               f"{human_size(summary.file_size)}")
    rows = [("header", how), ("ir_version", str(summary.ir_version)),
            ("producer", " ".join(x for x in (summary.producer, summary.producer_version) if x) or "?"),
            ("opset_import", ", ".join(f"{d} {v}" for d, v in sorted(summary.opset_imports.items())) or "?"),
            ("nodes", f"{summary.node_count:,}"),
            ("operators", ", ".join(f"{op} {n}" for op, n in summary.top_ops(8)) or "-"),
            ("initializers", f"{summary.initializer_count:,} ({human_size(summary.initializer_bytes)})")]
    if summary.external_data:
        rows.append(("external data", ", ".join(summary.external_data)))
    return rows


def _print_info(hub: Hub, entry: ModelInfo, opsets: list[int], copy: LocalCopy,
                summary: RemoteSummary | None, origin: str) -> None:
    from ..core import zoo

    model = entry.file()
    rows: list[tuple[str, str]] = [
        ("path", model.path),
        ("opsets", ", ".join(str(o) for o in opsets) + f"  (showing {entry.opset})" if entry.opset_known
         else "? (a Hugging Face listing does not say)"),
        ("onnx_version", entry.onnx_version or "?"),
        ("size", f"{human_size(model.size)} ({model.size:,} bytes)" if model.size is not None else "?"),
        ("sha256", model.sha or "(none: downloads cannot be verified)"),
        ("tags", ", ".join(entry.tag_list) or "-"),
    ]
    rows += zoo.facts(entry)
    if entry.has_test_data and not entry.metadata.get("archive_only"):  # an archive-only entry's file is its archive
        data = entry.file(with_data=True)
        rows += [("with data", data.path), ("  size", human_size(data.size)), ("  sha256", data.sha or "(none)")]
    elif not entry.has_test_data:
        rows.append(("with data", "-"))
    for key in sorted(set(entry.metadata) - _KNOWN_METADATA):
        rows.append((key, json.dumps(entry.metadata[key], ensure_ascii=True)))
    rows.append(("cached", str(copy.path) if copy.state == "complete" else (copy.state or "no")))
    if hub.listing is not None and "hf" in entry.metadata:  # a listed hf: model: the files it is made of
        rows += _files_rows(hub, entry)
    if copy.data_dir is not None:  # the model and its test_data_set_* folders, extracted
        rows.append(("extracted" if entry.metadata.get("archive_only") else "test data", str(copy.data_dir)))
    if summary is not None:
        rows += _header_rows(summary, origin)
    print(f"{printable(entry.model)}  (opset {entry.opset_text}, {printable(hub.source.spec)})")
    width = max(len(key) for key, _ in rows)
    for key, value in rows:  # values are never cut: a path or a hash is only useful whole
        print(f"  {key:<{max(width, 13)}} {printable(value)}")
    if summary is not None:
        _ports_table("inputs", list(summary.inputs))
        _ports_table("outputs", list(summary.outputs))
    elif entry.io_ports is None:
        print("\nio ports: not listed in the manifest")
    else:
        _ports_table("inputs", entry.inputs)
        _ports_table("outputs", entry.outputs)
    for group, ports in entry.extra_ports.items():
        _ports_table(f"extra ports: {printable(group)}", ports)
