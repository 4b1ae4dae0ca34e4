"""A repo's listing, from the network or the copy kept in the cache (like a manifest's).

Revalidation is one small request: the revision is resolved to its commit, and when that is the commit
of the cached listing, the cached files are used (a listing at a commit never changes). A revision
that is itself a commit needs no request at all once cached. Offline (``HF_HUB_OFFLINE=1`` or an offline
client), the cached listing of that revision is used as is. When the network fails (rate limits
included), the cached listing is used with a warning; answers that say the repo is gone, gated or
the token refused are raised even with a copy, since the user must act on them.

The copy: ``<cache>/.onnxhub-tui/hf/<slug>.json`` with the endpoint, repo, revision, commit, time and
files; a copy for another endpoint or repo (a slug clash) or that does not parse counts as none.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import http
from .diskio import read_regular, write_atomic
from .errors import NetworkError, OfflineError
from .hf_api import TreePage, list_tree, parse_tree_items, resolve_commit
from .hf_entries import Listing, entries
from .hf_repo import COMMIT, HfRepo
from .manifest import Manifest
from .paths import TOOL_DIR, made_inside

_FORMAT = 1


@dataclass(frozen=True)
class LoadedListing:
    listing: Listing
    state: str  # "fresh" | "cached" (same commit, revalidated) | "stale" (network failed) | "offline"
    fetched_at: float
    warning: str | None = None


def _store(cache_dir: Path) -> Path:
    return Path(cache_dir) / TOOL_DIR / "hf"


def _slug(repo: HfRepo) -> str:
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{repo.repo_id}_{repo.revision}").strip("_")[:80]
    digest = hashlib.sha256(f"{repo.endpoint}\n{repo.repo_id}\n{repo.revision}".encode()).hexdigest()[:12]
    return f"{readable}-{digest}"


def listing_path(cache_dir: Path, repo: HfRepo) -> Path:
    return _store(cache_dir) / f"{_slug(repo)}.json"


def read_cached(cache_dir: Path, repo: HfRepo) -> tuple[Listing, float] | None:
    """The cached listing of this endpoint, repo and revision, or None."""
    try:
        data = json.loads(read_regular(listing_path(cache_dir, repo)))  # never a FIFO
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    wanted = (repo.endpoint, repo.repo_id, repo.revision)
    if (data.get("endpoint"), data.get("repo_id"), data.get("revision")) != wanted:
        return None
    commit = data.get("commit")
    if not isinstance(commit, str) or not COMMIT.match(commit):
        return None
    page = TreePage([], [])
    try:
        parse_tree_items(data.get("files"), page)
    except NetworkError:
        return None
    fetched_at = data.get("fetched_at")
    listing = Listing(repo.endpoint, repo.repo_id, repo.revision, commit, tuple(page.files), tuple(page.skipped))
    return listing, float(fetched_at) if isinstance(fetched_at, (int, float)) else 0.0


def write_cached(cache_dir: Path, repo: HfRepo, listing: Listing, fetched_at: float) -> None:
    body = json.dumps({
        "format": _FORMAT,
        "endpoint": repo.endpoint,
        "repo_id": repo.repo_id,
        "revision": repo.revision,
        "commit": listing.commit,
        "fetched_at": fetched_at,
        "files": [f.as_json() for f in listing.files],
    }).encode()
    try:
        path = listing_path(cache_dir, repo)
        write_atomic(made_inside(path.parent, cache_dir) / path.name, body)
    except OSError:
        pass  # a read-only or full cache still lets us use what we fetched


def _fetch(client: httpx.Client, repo: HfRepo, commit: str, policy: http.RetryPolicy | None) -> Listing:
    page = list_tree(client, repo, commit, policy=policy)
    return Listing(repo.endpoint, repo.repo_id, repo.revision, commit, tuple(page.files), tuple(page.skipped))


def load_listing(
    client: httpx.Client, repo: HfRepo, cache_dir: Path, *, refresh: bool = False,
    policy: http.RetryPolicy | None = None,
) -> LoadedListing:
    """The listing of ``repo`` at the commit its revision names (see the module docstring)."""
    cached = read_cached(cache_dir, repo)
    if repo.offline or http.is_offline(client):
        if cached is None:
            raise OfflineError(
                f"Offline mode is on and there is no cached listing of {repo.spec}. "
                "Run once with the network to cache it (unset HF_HUB_OFFLINE / ONNXHUB_OFFLINE)."
            )
        return LoadedListing(cached[0], "offline", cached[1])
    if cached is not None and not refresh and COMMIT.match(repo.revision):
        return LoadedListing(cached[0], "cached", cached[1])  # a commit's listing never changes
    try:
        commit = resolve_commit(client, repo, policy=policy)
        if cached is not None and cached[0].commit == commit and not refresh:
            now = time.time()
            write_cached(cache_dir, repo, cached[0], now)
            return LoadedListing(cached[0], "cached", now)
        listing = _fetch(client, repo, commit, policy)
    except NetworkError as exc:  # rate limits too; not the answers a user must act on
        if cached is None:
            raise
        return LoadedListing(cached[0], "stale", cached[1], f"Using the cached listing of {repo.spec}: {exc}")
    now = time.time()
    write_cached(cache_dir, repo, listing, now)
    return LoadedListing(listing, "fresh", now)


def load_hf_manifest(
    client: httpx.Client, repo: HfRepo, cache_dir: Path, *, refresh: bool = False,
    policy: http.RetryPolicy | None = None,
) -> tuple[Manifest, Listing]:
    """The listing's entries as a ``Manifest`` whose source serves every file from the listing's commit."""
    loaded = load_listing(client, repo, cache_dir, refresh=refresh, policy=policy)
    listing = loaded.listing
    parsed = entries(listing)
    source = repo.source_at(listing.commit)
    warning = loaded.warning
    if listing.skipped:
        extra = f"{len(listing.skipped)} file(s) of the listing skipped: {listing.skipped[0]}"
        warning = f"{warning}; {extra}" if warning else extra
    manifest = Manifest(source, parsed.entries, parsed.skipped, loaded.state, source.manifest_url,
                        loaded.fetched_at, warning)
    return manifest, listing

