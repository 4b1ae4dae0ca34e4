"""Manifest entries (``ModelInfo``), tolerant parsing, and fetching with a revalidated local copy."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import http
from .diskio import read_regular, write_atomic
from .errors import Hint, ManifestError, ModelNotFoundError, NetworkError, OfflineError
from .paths import TOOL_DIR, made_inside, relative_path_problem
from .sources import Source, file_url_to_path, shown

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_TEXT = 4096  # longer names, paths or tags are hostile or broken: the entry is skipped


@dataclass(frozen=True)
class FileRef:
    """One file an entry names: the model itself ("model") or its model-with-data archive ("data")."""

    kind: str
    path: str
    sha: str | None  # lower-case hex, or None when the manifest gives none
    size: int | None


@dataclass(frozen=True)
class Port:
    name: str
    shape: tuple[Any, ...]
    type: str


class ModelInfo:
    """One manifest entry. Attribute names and ``str()`` follow onnx.hub's ``ModelInfo``."""

    def __init__(self, raw_model_info: dict[str, Any]) -> None:
        metadata = raw_model_info["metadata"]
        self.raw_model_info = raw_model_info
        self.model: str = raw_model_info["model"]
        self.model_path: str = raw_model_info["model_path"]
        self.opset: int = raw_model_info["opset_version"]
        self.onnx_version: str = str(raw_model_info.get("onnx_version") or "")
        self.metadata: dict[str, Any] = metadata
        self.model_sha: str | None = metadata.get("model_sha")
        self.model_bytes: int | None = metadata.get("model_bytes")
        self.tag_list: tuple[str, ...] = tuple(metadata.get("tags") or ())
        self.tags: set[str] = set(self.tag_list)
        self.tags_lower: tuple[str, ...] = tuple(t.lower() for t in self.tag_list)  # for tag: searches
        self.model_with_data_path: str | None = metadata.get("model_with_data_path")
        self.model_with_data_sha: str | None = metadata.get("model_with_data_sha")
        self.model_with_data_bytes: int | None = metadata.get("model_with_data_bytes")
        self.search_text = "\n".join((self.model, self.model_path, *self.tag_list)).lower()

    @property
    def io_ports(self) -> dict[str, Any] | None:
        ports = self.metadata.get("io_ports")
        return ports if isinstance(ports, dict) else None

    @property
    def inputs(self) -> list[Port]:
        return _ports((self.io_ports or {}).get("inputs"))

    @property
    def outputs(self) -> list[Port]:
        return _ports((self.io_ports or {}).get("outputs"))

    @property
    def extra_ports(self) -> dict[str, list[Port]]:
        extra = self.metadata.get("extra_ports")
        if not isinstance(extra, dict):
            return {}
        return {str(group): _ports(ports) for group, ports in extra.items()}

    @property
    def has_test_data(self) -> bool:
        return bool(self.model_with_data_path)

    @property
    def opset_known(self) -> bool:
        """False for a model listed from a Hugging Face repo and not read yet (its ``opset`` is 0 then)."""
        hf = self.metadata.get("hf")
        return not (isinstance(hf, dict) and hf.get("opset_known") is False)

    @property
    def opset_text(self) -> str:
        """The opset as the front ends show it: ``"?"`` when unknown, never ``"0"``."""
        return str(self.opset) if self.opset_known else "?"

    @property
    def label(self) -> str:
        """How every front end names an entry to a person: ``name (opset N)`` (``opset ?`` when unknown)."""
        return f"{self.model} (opset {self.opset_text})"

    def file(self, with_data: bool = False) -> FileRef:
        """The model file, or with ``with_data`` its model-with-data archive (``ModelNotFoundError`` if none)."""
        if not with_data:
            return FileRef("model", self.model_path, _lower(self.model_sha), self.model_bytes)
        if not self.model_with_data_path:
            raise ModelNotFoundError(f"{self.label} has no model-with-data archive.")
        return FileRef("data", self.model_with_data_path, _lower(self.model_with_data_sha), self.model_with_data_bytes)

    @property
    def key(self) -> str:
        """Unique within a manifest: the model file's path."""
        return self.model_path

    def __str__(self) -> str:
        return f"ModelInfo(model={self.model}, opset={self.opset}, path={self.model_path}, metadata={self.metadata})"

    __repr__ = __str__


def _lower(sha: str | None) -> str | None:
    return sha.lower() if sha else None


def _ports(raw: Any) -> list[Port]:
    """Ports as listed; a null field reads as unknown ("?" name, "" type), never the string "None", and a
    null item stays in the list (as an unknown port) so positions still match the model's."""
    if not isinstance(raw, list):
        return []
    ports = []
    for item in raw:
        item = item if isinstance(item, dict) else {}
        shape, name, type_ = item.get("shape"), item.get("name"), item.get("type")
        ports.append(
            Port(
                name="?" if name is None else str(name),
                shape=tuple(shape) if isinstance(shape, list) else (),
                type="" if type_ is None else str(type_),
            )
        )
    return ports


class _Skip(Exception):
    pass


def _text(value: Any, what: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or (not value and not optional):
        raise _Skip(f"{what} is missing or not a string")
    if len(value) > MAX_TEXT:
        raise _Skip(f"{what} is longer than {MAX_TEXT} characters")


def _count(value: Any, what: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _Skip(f"{what} is not a non-negative integer")


def _sha(value: Any, what: str) -> None:
    if value is not None and (not isinstance(value, str) or not _SHA256.match(value)):
        raise _Skip(f"{what} is not a SHA-256 hex digest")


def _safe_path(value: Any, what: str) -> None:
    problem = relative_path_problem(value)
    if problem is not None:
        raise _Skip(f"{what} {problem}")


def _validate(raw: Any) -> None:
    if not isinstance(raw, dict):
        raise _Skip("entry is not a JSON object")
    _text(raw.get("model"), "model")
    _text(raw.get("model_path"), "model_path")
    _safe_path(raw["model_path"], "model_path")
    opset = raw.get("opset_version")
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise _Skip("opset_version is missing or not an integer")
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        raise _Skip("metadata is missing or not an object")
    _sha(metadata.get("model_sha"), "model_sha")
    _count(metadata.get("model_bytes"), "model_bytes")
    tags = metadata.get("tags")
    if tags is not None:
        if not isinstance(tags, list):
            raise _Skip("tags is not a list")
        for tag in tags:
            _text(tag, "a tag")
    if metadata.get("io_ports") is not None and not isinstance(metadata["io_ports"], dict):
        raise _Skip("io_ports is not an object")
    if metadata.get("model_with_data_path") is not None:
        _text(metadata["model_with_data_path"], "model_with_data_path")
        _safe_path(metadata["model_with_data_path"], "model_with_data_path")
        _sha(metadata.get("model_with_data_sha"), "model_with_data_sha")
        _count(metadata.get("model_with_data_bytes"), "model_with_data_bytes")
    if raw.get("onnx_version") is not None and not isinstance(raw["onnx_version"], (str, int, float)):
        raise _Skip("onnx_version is not a string")


@dataclass(frozen=True)
class SkippedEntry:
    index: int
    name: str
    reason: str

    def __str__(self) -> str:
        return f"entry {self.index} ({self.name}): {self.reason}"


@dataclass
class ParsedManifest:
    entries: list[ModelInfo]
    skipped: list[SkippedEntry] = field(default_factory=list)


def _entry_name(raw: Any) -> str:
    name = raw.get("model") if isinstance(raw, dict) else None
    return name[:60] if isinstance(name, str) else "?"


def parse_entries(items: Iterable[Any]) -> ParsedManifest:
    """Keep every valid entry; skip and report the rest."""
    parsed = ParsedManifest(entries=[])
    for index, raw in enumerate(items):
        try:
            _validate(raw)
        except _Skip as skip:
            parsed.skipped.append(SkippedEntry(index, _entry_name(raw), str(skip)))
            continue
        parsed.entries.append(ModelInfo(raw))
    return parsed


def _preview(body: bytes) -> str:
    text = body[:120].decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:80] or "an empty body"


def parse_manifest(body: bytes, url: str, status: int | None = None) -> ParsedManifest:
    """Parse a manifest body; anything but a JSON list is one clear ManifestError."""
    where = shown(url) + (f" (HTTP {status})" if status is not None else "")
    with _gc_paused():
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise ManifestError(f"The manifest at {where} is not JSON; it starts with: {_preview(body)!r}") from None
        if not isinstance(data, list):
            raise ManifestError(
                f"The manifest at {where} is a JSON {type(data).__name__}, not a list of models; "
                f"it starts with: {_preview(body)!r}"
            )
        return parse_entries(data)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """A big manifest is millions of new dicts and lists, and each batch of them starts the cyclic GC,
    which walks all the earlier ones again: 50,000 entries (52 MB) parsed in 4.3 s with it, 1.6 s without.
    Parsing makes no reference cycles, so pausing it loses nothing. Left off if it was off already."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- fetching, with a copy kept in the cache ---------------------------------------------------------


@dataclass
class Manifest:
    source: Source
    entries: list[ModelInfo]
    skipped: list[SkippedEntry]
    state: str  # "fresh" | "cached" (revalidated, 304) | "stale" (network failed) | "offline" | "local"
    url: str
    fetched_at: float | None = None
    warning: str | None = None

    def find(self, model: str, opset: int | None = None) -> ModelInfo:
        """onnx.hub's choice: case-insensitive name, the highest opset unless one is given."""
        matching = [m for m in self.entries if m.model.lower() == model.lower()]
        if not matching:
            hint = "".join(f"; {s}" for s in self.skipped if s.name.lower() == model.lower())
            raise ModelNotFoundError(f"No models found with name {model}{hint}")
        if opset is None:
            return max(matching, key=lambda m: m.opset)
        for m in matching:
            if m.opset == opset:
                return m
        raise ModelNotFoundError(
            f"{model} has no version with opset {opset}. Valid opsets: {[m.opset for m in matching]}"
        )


def _store_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / TOOL_DIR / "manifests"


def _read_cached(cache_dir: Path, source: Source) -> tuple[bytes, dict[str, Any]] | None:
    store = _store_dir(cache_dir)
    try:
        body = read_regular(store / f"{source.slug}.json")
        meta = json.loads(read_regular(store / f"{source.slug}.meta"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("url") != shown(source.manifest_url):
        return None
    # A damaged copy (or a crash between writing the body and its meta) would otherwise be revalidated
    # with its ETag, answered 304, and fail to parse on every run: treat it as no copy, fetch it whole.
    if meta.get("sha256") and hashlib.sha256(body).hexdigest() != meta["sha256"]:
        return None
    return body, meta


def _write_cached(cache_dir: Path, source: Source, body: bytes, response: httpx.Response) -> None:
    meta = {
        "url": shown(source.manifest_url),  # a signature is a credential: not on disk either
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
        "fetched_at": time.time(),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    try:
        store = made_inside(_store_dir(cache_dir), cache_dir)
        write_atomic(store / f"{source.slug}.json", body)
        write_atomic(store / f"{source.slug}.meta", json.dumps(meta).encode())
    except OSError:
        pass  # a read-only or full cache still lets us use what we fetched


def _from_cache(source: Source, cached: tuple[bytes, dict[str, Any]], state: str, warning: str | None) -> Manifest:
    body, meta = cached
    parsed = parse_manifest(body, source.manifest_url)
    return Manifest(source, parsed.entries, parsed.skipped, state, shown(source.manifest_url), meta.get("fetched_at"), warning)


def cached_manifest(source: Source, cache_dir: Path, max_bytes: int | None = None) -> Manifest | None:
    """The copy an earlier ``load_manifest`` cached, read without the network (state "cached"), or None:
    no copy, a damaged one, a local-folder source, or a copy over ``max_bytes``. Why: a front end can show
    it at once and revalidate in the background (stale-while-revalidate)."""
    if source.is_local:
        return None
    if max_bytes is not None:
        try:
            if (_store_dir(cache_dir) / f"{source.slug}.json").stat().st_size > max_bytes:
                return None
        except OSError:
            return None
    cached = _read_cached(cache_dir, source)
    if cached is None:
        return None
    try:
        return _from_cache(source, cached, "cached", None)
    except ManifestError:
        return None


def load_manifest(source: Source, cache_dir: Path, client: httpx.Client) -> Manifest:
    """Fetch (or revalidate) the manifest; fall back to the cached copy when the network fails."""
    url = source.manifest_url
    if source.is_local:
        path = file_url_to_path(url)
        try:
            body = read_regular(path)
        except OSError as exc:
            raise ManifestError(f"Could not read the manifest at {path}: {exc.strerror or exc}") from None
        parsed = parse_manifest(body, str(path))
        return Manifest(source, parsed.entries, parsed.skipped, "local", str(path), time.time())

    cached = _read_cached(cache_dir, source)
    if http.is_offline(client):
        if cached is None:
            raise OfflineError(
                f"Offline mode is on and there is no cached manifest for {source.spec}: "
                "run once with the network to cache it.",
                hints=(Hint.ONLINE, Hint.REPO, Hint.DEMO),
            )
        return _from_cache(source, cached, "offline", None)

    conditional = {}
    if cached is not None:
        if cached[1].get("etag"):
            conditional["If-None-Match"] = cached[1]["etag"]
        if cached[1].get("last_modified"):
            conditional["If-Modified-Since"] = cached[1]["last_modified"]
    try:
        response, body = http.fetch_bytes(client, url, source.headers_for, conditional)
    except NetworkError as exc:
        if cached is None:
            raise NetworkError(f"Could not fetch the manifest: {exc.message}", hints=(Hint.REPO, Hint.DEMO)) from None
        return _from_cache(source, cached, "stale", f"Using the cached manifest: {exc}")

    if response.status_code == 304 and cached is not None:
        return _from_cache(source, cached, "cached", None)
    if response.status_code == 404:
        understood = ""
        if source.kind == "github":  # "hubs/mine" is GitHub's owner/repo unless that folder exists here
            understood = (f" {source.spec!r} was read as GitHub owner/repo:ref; a local folder is written "
                          f"./{source.spec.partition(':')[0]}.")
        raise ManifestError(f"Could not find manifest at {shown(url)} (HTTP 404). Check the repo spec and its ref."
                            + understood, hints=(Hint.REPO,))
    if response.status_code != 200:
        error = ManifestError(f"Could not fetch the manifest at {shown(url)}: HTTP {response.status_code}, {_preview(body)!r}",
                              hints=(Hint.TOKEN,) if response.status_code in (401, 403) else ())
        if cached is None:
            raise error
        return _from_cache(source, cached, "stale", f"Using the cached manifest: {error}")
    try:
        parsed = parse_manifest(body, url, response.status_code)
    except ManifestError as error:
        if cached is None:
            raise
        return _from_cache(source, cached, "stale", f"Using the cached manifest: {error}")
    _write_cached(cache_dir, source, body, response)
    return Manifest(source, parsed.entries, parsed.skipped, "fresh", shown(url), time.time())
