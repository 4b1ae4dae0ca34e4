"""Repo specs and where their manifest and files live. Only this module builds URLs."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname, pathname2url

from . import settings as _settings
from .errors import RepoSpecError
from .settings import GITHUB_LFS, GITHUB_RAW, HF_DEFAULT  # noqa: F401 - re-exported, as before

MANIFEST_NAME = "ONNX_HUB_MANIFEST.json"
DEFAULT_REPO = "onnx/models:main"
# The zoo's models, since GitHub LFS stopped serving them (2025-07-01).
ZOO_MIRROR = ("onnxmodelzoo", "legacy_models", "main")

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_REF = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Location:
    """One place the files of a hub can be fetched from."""

    base: str  # ends with "/"; http(s):// or file://; never a query
    label: str
    # A signed URL's query (``sig=...``): sent after the path on every request, never shown (see ``shown``).
    query: str = field(default="", repr=False)

    def url_for(self, model_path: str) -> str:
        return self.base + quote(model_path, safe="/") + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True)
class Source:
    """A parsed repo spec: the manifest's URL and the file locations, tried in order."""

    spec: str
    kind: str  # "github" | "hf" | "http" | "local"
    manifest_url: str = field(repr=False)  # may hold a signed URL's query: see ``shown``
    locations: tuple[Location, ...]
    trusted: bool = False
    # origin (scheme://host:port) -> Authorization header value; kept out of repr so it is never printed.
    _tokens: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def file_urls(self, model_path: str) -> list[str]:
        return [loc.url_for(model_path) for loc in self.locations]

    def headers_for(self, url: str) -> dict[str, str]:
        """Authorization only for the host its token belongs to (checked again on every redirect hop)."""
        value = self._tokens.get(_host(url))
        return {"Authorization": value} if value else {}

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @property
    def slug(self) -> str:
        """A file-name-safe, collision-free key for this source's cached manifest."""
        readable = re.sub(r"[^A-Za-z0-9_-]+", "_", self.spec).strip("_")[:80] or "repo"
        # shown(): a re-signed URL (a new ?sig=) is the same hub, and its cached manifest too
        return f"{readable}-{hashlib.sha256(shown(self.manifest_url).encode()).hexdigest()[:12]}"

    def as_trusted(self) -> Source:
        return replace(self, trusted=True)


def shown(url: str) -> str:
    """A URL as it may be printed (errors, ``info``, the TUI header, logs): without its query, which in a
    signed URL is a credential. ``?…`` says one is there."""
    head, sep, _ = url.partition("?")
    return f"{head}?…" if sep else url


def _base_auth(value: str) -> tuple[str, dict[str, str]]:
    """A base URL from the settings (checked there), with any ``user:password@`` taken out into
    origin-bound auth (a corporate mirror's credentials must not show up in every URL we print)."""
    return _split_credentials(value)


def _host(url: str) -> str:
    """The origin (scheme, host, port) a token is bound to. Not the host name alone: a redirect to
    another port of that host, or from https down to plain http, must not carry the token either."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    except ValueError:  # a malformed port: no token for it
        return ""
    host = (parts.hostname or "").lower()
    return f"{scheme}://{host}:{port}" if host else ""


def _tokens_for(hosts_tokens: list[tuple[str, str | None]]) -> dict[str, str]:
    return {host: f"Bearer {token}" for host, token in hosts_tokens if host and token}


def _split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """``https://user:pass@host/`` -> (``https://host/``, {origin: Basic auth}). The credentials then go
    where tokens go (their own origin only) and never into a spec, a URL in a message, a log or a repr."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, {}
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = parts._replace(netloc=hostport).geturl()
    basic = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return bare, {_host(bare): f"Basic {basic}"}


def _parse_owner_repo(text: str, spec: str) -> tuple[str, str, str | None]:
    path, _, ref = text.partition(":")
    parts = path.split("/")
    if len(parts) != 2 or not all(_NAME.match(p) and p not in (".", "..") for p in parts):
        raise RepoSpecError(
            f"Cannot read repo spec {spec!r}: expected owner/repo[:ref], hf:owner/repo[:revision], "
            "an http(s):// URL or a local folder."
        )
    if ref and (not _REF.match(ref) or ".." in ref.split("/") or ref.startswith("/")):
        raise RepoSpecError(f"Cannot read repo spec {spec!r}: {ref!r} is not a valid git ref.")
    return parts[0], parts[1], ref or None


def _hf_location(settings: _settings.Settings, owner: str, repo: str, revision: str) -> Location:
    endpoint, _auth = _base_auth(settings.hf_endpoint)
    return Location(f"{endpoint}/{owner}/{repo}/resolve/{quote(revision, safe='')}/", "Hugging Face")


def github_source(owner: str, repo: str, ref: str = "main", settings: _settings.Settings | None = None) -> Source:
    settings = settings or _settings.load()
    raw, raw_auth = _base_auth(settings.github_raw_url)
    lfs, lfs_auth = _base_auth(settings.github_lfs_url)
    locations = [Location(f"{lfs}/{owner}/{repo}/{ref}/", "GitHub LFS")]
    zoo = owner.lower() == "onnx" and repo.lower() == "models"
    if zoo:
        locations.insert(0, _hf_location(settings, *ZOO_MIRROR))
    github_token = settings.github_token
    hf_endpoint, hf_auth = _base_auth(settings.hf_endpoint)
    tokens = _tokens_for(
        [(_host(raw), github_token), (_host(lfs), github_token)]
        + ([(_host(hf_endpoint), settings.hf_token)] if zoo else [])
    )
    tokens.update(raw_auth | lfs_auth | (hf_auth if zoo else {}))  # credentials in a URL are explicit: they win
    return Source(
        spec=f"{owner}/{repo}:{ref}",
        kind="github",
        manifest_url=f"{raw}/{owner}/{repo}/{ref}/{MANIFEST_NAME}",
        locations=tuple(locations),
        trusted=zoo and owner == "onnx" and repo == "models" and (ref == "main" or bool(_COMMIT.match(ref))),
        _tokens=tokens,
    )


def hf_source(owner: str, repo: str, revision: str = "main", settings: _settings.Settings | None = None) -> Source:
    settings = settings or _settings.load()
    location = _hf_location(settings, owner, repo, revision)
    return Source(
        spec=f"hf:{owner}/{repo}:{revision}",
        kind="hf",
        manifest_url=location.url_for(MANIFEST_NAME),
        locations=(location,),
        _tokens=_tokens_for([(_host(location.base), settings.hf_token)]) | _base_auth(settings.hf_endpoint)[1],
    )


def http_source(base: str) -> Source:
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - raises on a port that is not a number, which httpx would only hit later
    except ValueError as exc:  # "http://[": urlsplit's "Invalid IPv6 URL"; "http://h:x/": a bad port
        safe = shown(re.sub(r"//[^/]*@", "//***@", base))  # never echo a password or a signature
        raise RepoSpecError(f"Cannot read repo spec {safe!r}: {str(exc).rstrip('.')}.") from None
    base, credentials = _split_credentials(base)
    if not parts.hostname:
        raise RepoSpecError(f"Cannot read repo spec {shown(base)!r}: the URL has no host.")
    # A signed URL (``.../ONNX_HUB_MANIFEST.json?sig=abc``): the paths go before its query, which every
    # request keeps (the manifest's and each model's); a fragment is never sent.
    query = urlsplit(base).query
    base = urlsplit(base)._replace(query="", fragment="").geturl()
    base = base if base.endswith("/") else base + "/"
    # A URL that names the manifest itself is accepted too.
    if base.endswith("/" + MANIFEST_NAME + "/"):
        base = base[: -len(MANIFEST_NAME) - 1]
    location = Location(base, "HTTP", query)
    return Source(spec=shown(f"{base}?{query}" if query else base), kind="http",
                  manifest_url=location.url_for(MANIFEST_NAME), locations=(location,), _tokens=credentials)


def local_source(folder: str | os.PathLike[str]) -> Source:
    try:
        path = Path(folder).expanduser().resolve()
        if path.name == MANIFEST_NAME:
            path = path.parent
        elif path.is_file() or (path.exists() and not path.is_dir()):
            raise RepoSpecError(
                f"{_fs(folder)} is a file, not a hub: a hub is a folder holding {MANIFEST_NAME} "
                "(give that folder, or its manifest)."
            )
        base = "file://" + _path_to_url(path).rstrip("/") + "/"
    except RepoSpecError:
        raise
    except (RuntimeError, OSError, ValueError) as exc:  # "~nobody", a symlink loop, a name not in UTF-8
        raise RepoSpecError(f"Cannot read repo spec {_fs(folder)}: {str(exc).rstrip('.')}.") from None
    location = Location(base, "local folder")
    return Source(
        spec=str(path), kind="local", manifest_url=location.url_for(MANIFEST_NAME), locations=(location,)
    )


def _path_to_url(path: Path) -> str:
    """The URL path of ``path``. On POSIX from the file system's bytes: a name that is not UTF-8 arrives
    surrogate-escaped, and quoting the str raised UnicodeEncodeError."""
    if os.name == "posix":
        return quote(os.fsencode(path), safe="/")
    return pathname2url(str(path))


def file_url_to_path(url: str) -> Path:
    """The inverse of ``_path_to_url``: percent-escapes back to the file system's bytes on POSIX."""
    if os.name == "posix":
        return Path(os.fsdecode(unquote_to_bytes(urlsplit(url).path)))
    return Path(url2pathname(urlsplit(url).path))


def _fs(path: str | os.PathLike[str]) -> str:
    """A path for a message: its text, with bytes that are not UTF-8 escaped (never an encode error)."""
    return repr(os.fsdecode(path)).encode("utf-8", "backslashreplace").decode("utf-8")


def _file_url_source(spec: str) -> Source:
    """``file:///abs/hub`` (or ``file://localhost/abs/hub``). ``file://hub`` and ``file://./hub`` put a
    host where the path goes: they used to mean the current folder and ``/hub``; refused, with the way."""
    try:
        parts = urlsplit(spec)
    except ValueError as exc:  # "file://[": urlsplit's "Invalid IPv6 URL"
        raise RepoSpecError(f"Cannot read repo spec {spec!r}: {str(exc).rstrip('.')}.") from None
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        rest = (parts.netloc + parts.path).lstrip("/") or "hub"
        raise RepoSpecError(
            f"Cannot read repo spec {spec!r}: a file:// URL needs an absolute path after a third slash. "
            f"Write file:///absolute/path/to/{rest.removeprefix('./')} or a plain path such as ./{rest.removeprefix('./')}."
        )
    try:
        folder = file_url_to_path(spec)
    except ValueError as exc:  # a lone surrogate (not a file system byte) cannot name a file
        raise RepoSpecError(f"Cannot read repo spec {_fs(spec)}: {str(exc).rstrip('.')}.") from None
    return local_source(folder)


def _names_local_path(spec: str) -> bool:
    """A spec that names something on this disk, or a manifest or model file: local, never GitHub's
    ``owner/repo`` (``hub/ONNX_HUB_MANIFEST.json`` was fetched from GitHub as repo "ONNX_HUB_MANIFEST.json")."""
    last = spec.rstrip("/").rpartition("/")[2]
    return os.path.lexists(spec) or last == MANIFEST_NAME or last.endswith((".onnx", ".json", ".tar.gz"))


def parse_repo_spec(spec: str | None) -> Source:
    """Turn a repo spec into a Source. The environment is read now, not at import."""
    spec = (spec or DEFAULT_REPO).strip()
    if not spec:
        spec = DEFAULT_REPO
    if "\x00" in spec:
        raise RepoSpecError("Cannot read repo spec: it contains a NUL character.")
    lowered = spec.lower()
    if lowered.startswith(("http://", "https://")):
        return http_source(spec)
    if lowered.startswith("file://"):
        return _file_url_source(spec)
    if lowered.startswith("hf:"):
        owner, repo, revision = _parse_owner_repo(spec[3:], spec)
        return hf_source(owner, repo, revision or "main")
    if spec.startswith(("/", ".", "~")) or _names_local_path(spec):
        return local_source(spec)
    owner, repo, ref = _parse_owner_repo(spec, spec)
    return github_source(owner, repo, ref or "main")
