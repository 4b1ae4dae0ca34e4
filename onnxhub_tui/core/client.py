"""``Hub``: one repo, one cache, one HTTP client. The TUI, the CLI and the API all go through it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import download, layout
from .errors import DownloadError, HubError
from .http import is_offline, make_client
from .manifest import Manifest, ModelInfo, cached_manifest, load_manifest
from .sources import MANIFEST_NAME, Source, parse_repo_spec
from .zoo import archive_model_path, split_zoo_suffix, whole_zoo

# The hf_* modules (8 ms of imports) and the cache's scans (4 ms; where files live is ``layout``'s) are
# imported where they are needed: a download of a manifest's model, the common case, needs neither.
if TYPE_CHECKING:
    from . import cache, hf_hub
    from .hf_entries import Listing
    from .hf_repo import HfRepo
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
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else layout.default_cache_dir()
        # hf: repos are listed from the Hub's API when they carry no manifest (core/hf_*); HF_HUB_OFFLINE=1
        # makes such a hub offline as ONNXHUB_OFFLINE would
        self.hf: HfRepo | None = None
        if self.source.kind == "hf":
            from .hf_repo import hf_repo  # noqa: PLC0415 - see the imports

            self.hf = hf_repo(self.source.spec)
        if offline is None and self.hf is not None and self.hf.offline:
            offline = True
        self.client = make_client(offline)
        # the repo's files at the one commit this session reads (None: not an hf: hub, or one with a manifest)
        self.listing: Listing | None = None
        self._files_source = self.source  # where files come from: an hf: repo's commit, once resolved
        self._manifest: Manifest | None = None
        self._last_merge: tuple[list[dict], list[ModelInfo]] | None = None  # see _with_zoo
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
                if self.hf is not None:
                    self._manifest = self._hf_manifest(refresh)
                else:
                    self._manifest = load_manifest(self.source, self.cache_dir, self.client)
                if self.zoo:
                    self._manifest = self._with_zoo(self._manifest)
            return self._manifest

    def cached_manifest(self, max_bytes: int | None = None) -> Manifest | None:
        """The copy an earlier run cached, read without the network and with what ``manifest()`` adds
        (the whole zoo for onnx/models), or None (``manifest.cached_manifest``): a front end paints it
        while ``manifest()`` revalidates, and the first paint shows the rows the loaded one will."""
        if self.hf is not None:  # a Hugging Face listing is read at its commit: no early copy to paint
            return None
        early = cached_manifest(self.source, self.cache_dir, max_bytes)
        return self._with_zoo(early) if early is not None and self.zoo else early

    def _with_zoo(self, manifest: Manifest) -> Manifest:
        """``whole_zoo(manifest)``, reusing the last merge when the manifest's entries are the same: the
        revalidation after an early paint mostly answers 304, and merging the zoo's 2,193 entries again took
        ~10 ms of the GIL while the first paint was being drawn."""
        raw = [entry.raw_model_info for entry in manifest.entries]
        last = self._last_merge
        if last is not None and last[0] == raw:
            return replace(manifest, entries=list(last[1]))
        merged = whole_zoo(manifest)
        self._last_merge = (raw, merged.entries)
        return merged

    def _hf_manifest(self, refresh: bool) -> Manifest:
        """The listing at the revision's commit; the repo's own ONNX_HUB_MANIFEST.json when it has one
        (read from that same commit), else one entry per ``.onnx`` file (``core/hf_entries``)."""
        assert self.hf is not None
        from .hf_listing import load_hf_manifest  # noqa: PLC0415 - hf: only; a download of a manifest's model never needs it

        manifest, listing = load_hf_manifest(self.client, self.hf, self.cache_dir, refresh=refresh)
        if listing.has_manifest:
            at_commit = self.hf.source_at(listing.commit)
            at_commit = replace(at_commit, manifest_url=at_commit.locations[0].url_for(MANIFEST_NAME))
            manifest = load_manifest(at_commit, self.cache_dir, self.client)
            self.listing = None
        else:
            self.listing = listing
        self._files_source = manifest.source
        return manifest

    def _listed(self, entry: ModelInfo) -> Listing | None:
        """The listing ``entry`` comes from, when it is one of this hub's listed (manifest-less) models."""
        if self.listing is None:
            return None
        from . import hf_hub  # noqa: PLC0415 - see the imports

        return self.listing if hf_hub.hf_path(entry) is not None else None

    def files_of(self, entry: ModelInfo) -> list[hf_hub.ModelFile]:
        """The files ``entry`` is made of, with their sizes, hashes and cached paths: a listed model and
        its external data (before the download, the data files its name suggests: ``named=False``), or a
        manifest entry's model and its model-with-data archive."""
        from . import hf_hub  # noqa: PLC0415 - see the imports

        listing = self._listed(entry)
        if listing is not None:
            return hf_hub.files_of(self.cache_dir, listing, entry)
        copy = self.local_copy(entry)
        ref = entry.file()
        files = [hf_hub.ModelFile("model", ref.path, ref.size, ref.sha, copy.path if copy.state == "complete" else None)]
        if entry.has_test_data:
            data = entry.file(with_data=True)
            local = copy.data_archive if copy.data_state == "complete" else None
            files.append(hf_hub.ModelFile("archive", data.path, data.size, data.sha, local))
        return files

    # -- cache
    def local_path(self, entry: ModelInfo, with_data: bool = False) -> Path:
        """Where the model (or its test-data archive) lives in the cache."""
        listing = self._listed(entry)
        if listing is not None and not with_data:
            from . import hf_hub  # noqa: PLC0415 - see the imports

            return hf_hub.model_path(self.cache_dir, listing, entry)
        if with_data:
            archive = layout.data_archive(self.cache_dir, entry)
            if archive is None:
                raise DownloadError(f"{entry.label} has no model-with-data archive.")
            return archive
        return layout.model_file(self.cache_dir, entry)

    def local_copy(self, entry: ModelInfo) -> layout.LocalCopy:
        """What the cache holds for ``entry`` (stat calls only; for a listed model, its data files too)."""
        listing = self._listed(entry)
        if listing is not None:
            from . import hf_hub  # noqa: PLC0415 - see the imports

            return hf_hub.local_copy(self.cache_dir, listing, entry)
        return layout.local_copy(self.cache_dir, entry)

    def cached_states(self, entries: list[ModelInfo] | None = None) -> dict[str, str]:
        """Entry key -> "complete" | "partial" | "damaged" for a whole table (``layout.cached_states``;
        a listed model counts its data files, as ``local_copy``)."""
        entries = self.manifest().entries if entries is None else entries
        if self.listing is None:
            from . import cache  # noqa: PLC0415 - see the imports

            return cache.cached_states(cache.unscoped_report(self.cache_dir), entries)
        states = {}
        for entry in entries:
            state = self.local_copy(entry).state
            if state:
                states[entry.model_path] = state
        return states

    def cache_state(self, entry: ModelInfo) -> str | None:
        """Old name for ``local_copy(entry).state``: "complete", "partial", "damaged" or None."""
        return self.local_copy(entry).state

    def cache_report(self, *, require_manifest: bool = True) -> cache.CacheReport:
        """The cache scanned for this hub (``cache.scoped_report``): ``cache.prunable(report)`` then takes
        abandoned partials and this hub's orphans only. Without a manifest (offline, unreachable) it
        raises, unless ``require_manifest=False``: then an unscoped scan that prunes only abandoned partials."""
        from . import cache  # noqa: PLC0415 - see the imports

        try:
            entries = self.manifest().entries
        except HubError:
            if require_manifest:
                raise
            return cache.unscoped_report(self.cache_dir)
        if self.listing is not None:  # scoped to hf/<owner>/<repo>/: a model and its data are one item
            from . import hf_hub  # noqa: PLC0415 - see the imports

            return hf_hub.cache_report(self.cache_dir, self.listing, entries)
        return cache.scoped_report(self.cache_dir, entries)

    def scan_cache(self, entries: list[ModelInfo] | None = None) -> cache.CacheReport:
        """Old form of ``cache_report``, kept until the front ends switch: scoped to ``entries`` (this
        hub's) for ``prunable`` but with the old labels (another hub's file still reads "orphan")."""
        from . import cache  # noqa: PLC0415 - see the imports

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
    ) -> Path:
        """Download (if needed) and return the model file, or the archive's extraction folder (onnx.hub's
        ``<sha>_<name>``; the folder holding the model and its test_data_set_* inside it is
        ``local_copy(entry).data_dir``). A damaged copy (wrong size) is fetched again.
        An archive-only zoo entry (``metadata["archive_only"]``: its file is a ``.tar.gz`` holding the model
        and its external data) is always fetched with its data and extracted; without ``with_data`` the
        answer is then the ``.onnx`` inside, ready to load with its external data beside it.
        ``with_data`` and ``force`` become keyword-only once the front ends pass them so. A listed
        model (hf:) comes with every external data file it names: the path returned is its ``.onnx``,
        and ``onnx.load`` finds the data next to it (``hf/<owner>/<repo>/<commit>/<path>``)."""
        listing = self._listed(entry)
        if listing is not None:
            return self._download_listed(listing, entry, with_data=with_data, force=force, progress=progress,
                                         cancel=cancel)
        if entry.metadata.get("archive_only"):
            folder = self._download(entry, True, force, progress, cancel)
            return folder if with_data else archive_model_path(folder, entry)
        return self._download(entry, with_data, force, progress, cancel)

    def _download(self, entry: ModelInfo, with_data: bool, force: bool, progress: download.Progress | None,
                  cancel: download.CancelToken | None) -> Path:
        target = self.local_path(entry, with_data)
        copy = self.local_copy(entry)
        if force or (copy.data_state if with_data else copy.state) != "complete":
            download.download_file(
                client=self.client, source=self._files_source, file=entry.file(with_data), target=target,
                cache_dir=self.cache_dir, progress=progress, cancel=cancel, force=force,
            )
        if not with_data:
            return target
        folder = layout.extracted_dir(target)
        if force or not folder.is_dir():
            from . import extract  # noqa: PLC0415 - tarfile and friends, only for an archive

            extract.safe_extract(target, folder)
        return folder

    def _download_listed(
        self, listing: Listing, entry: ModelInfo, *, with_data: bool, force: bool,
        progress: download.Progress | None, cancel: download.CancelToken | None,
    ) -> Path:
        if with_data:
            raise DownloadError(f"{entry.label} has no model-with-data archive: its data files come with the model.")
        assert self.hf is not None
        state = self.local_copy(entry).state
        if state == "complete" and not force:
            return self.local_path(entry)
        from . import hf_download  # noqa: PLC0415 - 7 ms of imports no manifest download needs

        model = hf_download.download_model(
            client=self.client, repo=self.hf, listing=listing, model_path=entry.model_path, cache_dir=self.cache_dir,
            progress=progress, cancel=cancel, force=force or state == "damaged",
        )
        return model.path

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

        return inspect_entry(client=self.client, source=self._files_source, cache_dir=self.cache_dir, entry=entry,
                             remote=remote, offline=self.offline, progress=progress, cancel=cancel)
