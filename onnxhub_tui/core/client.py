"""``Hub``: one repo, one cache, one HTTP client. The TUI, the CLI and the API all go through it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from . import cache, download, extract
from .errors import DownloadError
from .http import is_offline, make_client
from .manifest import Manifest, ModelInfo, load_manifest
from .sources import Source, parse_repo_spec
from .zoo import whole_zoo


class Hub:
    def __init__(
        self,
        repo: str | Source | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool | None = None,
        zoo: bool = True,
    ) -> None:
        self.source = repo if isinstance(repo, Source) else parse_repo_spec(repo)
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
                raise DownloadError(f"{entry.model} (opset {entry.opset}) has no model-with-data archive.")
            return archive
        return cache.model_file(self.cache_dir, entry)

    def cache_state(self, entry: ModelInfo) -> str | None:
        """"complete", "partial" or None, from file names alone (cheap enough for every table row)."""
        try:
            path = cache.model_file(self.cache_dir, entry)
        except Exception:  # an unsafe path is simply not cached
            return None
        if path.is_file():
            return "complete"
        return "partial" if cache.part_files(path) else None

    def scan_cache(self, entries: list[ModelInfo] | None = None) -> cache.CacheReport:
        return cache.scan(self.cache_dir, entries)

    # -- downloads
    def download(
        self,
        entry: ModelInfo,
        with_data: bool = False,
        force: bool = False,
        progress: download.Progress | None = None,
        cancel: download.CancelToken | None = None,
    ) -> Path:
        """Download (if needed) and return the model file, or the extracted test-data folder."""
        target = self.local_path(entry, with_data)
        rel = entry.model_with_data_path if with_data else entry.model_path
        sha = entry.model_with_data_sha if with_data else entry.model_sha
        size = entry.model_with_data_bytes if with_data else entry.model_bytes
        if force or not target.exists():
            download.download_file(
                self.client, self.source, rel, target, self.cache_dir, sha, size, progress, cancel, force
            )
        if not with_data:
            return target
        folder = cache.extracted_dir(target)
        if force or not folder.is_dir():
            extract.safe_extract(target, folder)
        return folder
