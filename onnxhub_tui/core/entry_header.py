"""The one "inspect this entry" decision, for the CLI's ``info`` and the TUI's details: where a model's
header (its inputs and outputs with types, opsets, operators) comes from.

Origins, as ``info --json`` names them:

- ``"file"``: a complete cached copy of the model (or, for an archive-only zoo entry, the model inside
  its extracted archive) read from disk, no network;
- ``"remote"``: read by a few HTTP Range requests (``remote_inspect``), or a result kept from such a read
  (``summary.cached`` is then True and it cost nothing, offline too);
- ``"manifest"``: no header was read; the manifest's ``io_ports`` (if any) are all there is.

``remote``: None (automatic) reads only when the manifest's ports are incomplete (missing, no outputs, a
type unknown: the zoo's 2024 exports) and never the network in offline mode; True forces a read (a
cached file or a kept result still answers first: the same bytes, by SHA-256); False never uses the
network (a kept result or a cached file is still used). Nothing is ever written under the model's own
cache name: results are kept by SHA-256 in the cache's tool folder (``remote_store``).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from . import layout
from .byteranges import Budget, Progress
from .download import CancelToken
from .errors import HubError, InspectError
from .manifest import FileRef, ModelInfo
from .remote_inspect import RemoteSummary, cached_summary, inspect_remote
from .sources import Source, local_source

ORIGINS = ("manifest", "remote", "file")


def ports_complete(entry: ModelInfo) -> bool:
    """The manifest lists inputs and outputs, each with a type: nothing a header read would add to them."""
    ports = entry.io_ports
    if ports is None:
        return False
    inputs, outputs = ports.get("inputs"), ports.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list) or not inputs or not outputs:
        return False
    return all(isinstance(p, dict) and p.get("type") for p in (*inputs, *outputs))


def _local_model(cache_dir: Path, entry: ModelInfo) -> Path | None:
    """A model file on disk for this entry: its complete cached copy, or an archive-only entry's
    extracted model (stat calls and, for the archive, a listing of its folder)."""
    copy = layout.local_copy(cache_dir, entry)
    if entry.metadata.get("archive_only"):
        if copy.data_state != "complete" or copy.data_archive is None:
            return None
        from .zoo import archive_model_path  # noqa: PLC0415 - zoo imports the manifest machinery

        folder = layout.extracted_dir(copy.data_archive)
        if not folder.is_dir():
            return None
        try:
            return archive_model_path(folder, entry)
        except HubError:  # no model, or an ambiguous folder: no local answer
            return None
    return copy.path if copy.state == "complete" else None


def _read_file(path: Path, *, client: httpx.Client, cache_dir: Path, ref: FileRef,
               cancel: CancelToken | None) -> RemoteSummary:
    # The same walk as over HTTP, over a local folder source of the one file.
    return inspect_remote(client=client, source=local_source(path.parent),
                          file=FileRef("model", path.name, ref.sha, ref.size), cache_dir=cache_dir,
                          cancel=cancel, refresh=True)


def inspect_entry(
    *,
    client: httpx.Client,
    source: Source,
    cache_dir: Path,
    entry: ModelInfo,
    remote: bool | None = None,
    offline: bool = False,
    budget: Budget = Budget(),
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> tuple[RemoteSummary | None, str]:
    """(header, origin) for ``entry``; (None, "manifest") when no header was read. See the module's
    docstring for ``remote``. Raises a ``HubError`` (``InspectError`` "Cannot inspect remotely: ...",
    ``OfflineError``, ``CancelledError``) when a read was needed and failed; never downloads the model."""
    archive_only = bool(entry.metadata.get("archive_only"))
    # An archive's SHA-256 is not the model's: a header read from its extracted model is not kept.
    ref = entry.file()
    if archive_only:
        ref = FileRef("model", ref.path, None, None)
    needed = not ports_complete(entry)
    wanted = remote is True or (remote is None and needed)  # a read over the network, if nothing nearer answers
    if remote is True or needed:  # a cached file is read from disk: no network, whatever ``remote`` says
        local = _local_model(cache_dir, entry)
        if local is not None:
            return _read_file(local, client=client, cache_dir=cache_dir, ref=ref, cancel=cancel), "file"
    kept = cached_summary(cache_dir, ref) if not archive_only else None
    if kept is not None:
        return kept, "remote"
    if not wanted or remote is False or (remote is None and (offline or archive_only)):
        return None, "manifest"  # an archive's facts say what is unknown until it is downloaded
    if archive_only:
        raise InspectError(f"Cannot inspect remotely: {entry.model_path} is a .tar.gz archive (the model and "
                           "its external data): download it to read its model.")
    return inspect_remote(client=client, source=source, file=ref, cache_dir=cache_dir, budget=budget,
                          cancel=cancel, progress=progress), "remote"
