"""``Hub``: one repo, one cache, one HTTP client. The TUI, the CLI and the API all go through it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache, download, extract
from .errors import DownloadError, HubError
from .http import is_offline, make_client
from .manifest import Manifest, ModelInfo, load_manifest
from .sources import Source, parse_repo_spec
from .zoo import archive_model_path, split_zoo_suffix, whole_zoo

if TYPE_CHECKING:
    from .remote_inspect import RemoteSummary


class Hub:
    def __init__(
        self,
        repo: str | Source | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool | None = None,
        zoo: bool = True,
    ) -> None:
        if isinstance(repo, Source):
            self.source = repo
        else:  # "onnx/models:main+zoo": the whole zoo, also where it is the default (core/zoo.py)
            repo, opted_in = split_zoo_suffix(repo)
            self.source = parse_repo_spec(repo)
            zoo = zoo or opted_in
        self.zoo = zoo  # for onnx/models: the manifest plus the zoo's other models (core/zoo.py)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else cache.default_cache_dir()
        self.client = make_client(offline)
        self._manifest: Manifest | None = None
        self._lock = threading.Lock()

    # -- context management
    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    @property
    def offline(self) -> bool:
        return is_offline(self.client)

    # -- manifest
    def manifest(self, refresh: bool = False) -> Manifest:
        with self._lock:
            if self._manifest is None or refresh:
                self._manifest = load_manifest(self.source, self.cache_dir, self.client)
                if self.zoo:
                    self._manifest = whole_zoo(self._manifest)
            return self._manifest

    # -- cache
    def local_path(self, entry: ModelInfo, with_data: bool = False) -> Path:
        """Where the model (or its test-data archive) lives in the cache."""
        if with_data:
            archive = cache.data_archive(self.cache_dir, entry)
            if archive is None:
                raise DownloadError(f"{entry.label} has no model-with-data archive.")
            return archive
        return cache.model_file(self.cache_dir, entry)

    def local_copy(self, entry: ModelInfo) -> cache.LocalCopy:
        """What the cache holds for ``entry`` (stat calls only): see ``cache.LocalCopy``."""
        return cache.local_copy(self.cache_dir, entry)

    def cache_state(self, entry: ModelInfo) -> str | None:
        """Old name for ``local_copy(entry).state``: "complete", "partial", "damaged" or None."""
        return self.local_copy(entry).state

    def cache_report(self, *, require_manifest: bool = True) -> cache.CacheReport:
        """The cache scanned for this hub (``cache.scoped_report``): ``cache.prunable(report)`` then takes
        abandoned partials and this hub's orphans only. Without a manifest (offline, unreachable) it
        raises, unless ``require_manifest=False``: then an unscoped scan that prunes only abandoned partials."""
        try:
            entries = self.manifest().entries
        except HubError:
            if require_manifest:
                raise
            return cache.unscoped_report(self.cache_dir)
        return cache.scoped_report(self.cache_dir, entries)

    def scan_cache(self, entries: list[ModelInfo] | None = None) -> cache.CacheReport:
        """Old form of ``cache_report``, kept until the front ends switch: scoped to ``entries`` (this
        hub's) for ``prunable`` but with the old labels (another hub's file still reads "orphan")."""
        if entries is None:
            return cache.unscoped_report(self.cache_dir)
        return cache.scoped_report(self.cache_dir, entries, verdicts=False)

    # -- downloads
    def download(
        self,
        entry: ModelInfo,
        with_data: bool = False,
        force: bool = False,
        progress: download.Progress | None = None,
        cancel: download.CancelToken | None = None,
        *,
        on_chunk: download.Chunk | None = None,
    ) -> Path:
        """Download (if needed) and return the model file, or the archive's extraction folder (onnx.hub's
        ``<sha>_<name>``; the folder holding the model and its test_data_set_* inside it is
        ``local_copy(entry).data_dir``). A damaged copy (wrong size) is fetched again.
        An archive-only zoo entry (``metadata["archive_only"]``: its file is a ``.tar.gz`` holding the model
        and its external data) is always fetched with its data and extracted; without ``with_data`` the
        answer is then the ``.onnx`` inside, ready to load with its external data beside it (``on_chunk``
        is not called for it: its bytes are the archive's, not a model's).
        ``with_data`` and ``force`` become keyword-only once the front ends pass them so. ``on_chunk``: see
        ``download.download_file`` (hub.load parses the model with it while it arrives)."""
        if entry.metadata.get("archive_only"):
            folder = self._download(entry, True, force, progress, cancel, None)
            return folder if with_data else archive_model_path(folder, entry)
        return self._download(entry, with_data, force, progress, cancel, on_chunk)

    def _download(self, entry: ModelInfo, with_data: bool, force: bool, progress: download.Progress | None,
                  cancel: download.CancelToken | None, on_chunk: download.Chunk | None) -> Path:
        target = self.local_path(entry, with_data)
        copy = self.local_copy(entry)
        if force or (copy.data_state if with_data else copy.state) != "complete":
            download.download_file(
                client=self.client, source=self.source, file=entry.file(with_data), target=target,
                cache_dir=self.cache_dir, progress=progress, cancel=cancel, force=force, on_chunk=on_chunk,
            )
        if not with_data:
            return target
        folder = cache.extracted_dir(target)
        if force or not folder.is_dir():
            extract.safe_extract(target, folder)
        return folder

    # -- headers
    def inspect(
        self,
        entry: ModelInfo,
        *,
        remote: bool | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: download.CancelToken | None = None,
    ) -> tuple[RemoteSummary | None, str]:
        """The entry's header and where it came from ("file", "remote" or "manifest" when none was read):
        ``core/entry_header.inspect_entry``. ``remote`` None reads only when the manifest's ports are
        incomplete (never the network offline), True forces a read, False never uses the network.
        Raises a ``HubError`` when a read was needed and failed; never downloads the model."""
        from .entry_header import inspect_entry  # noqa: PLC0415 - only front ends that show headers need it

        return inspect_entry(client=self.client, source=self.source, cache_dir=self.cache_dir, entry=entry,
                             remote=remote, offline=self.offline, progress=progress, cancel=cancel)
