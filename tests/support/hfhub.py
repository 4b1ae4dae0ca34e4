"""A loopback Hugging Face Hub: the API and resolve answers of huggingface.co, and a CDN on a second origin.

Formats, as huggingface_hub reads them (cited per behaviour in tests/test_core_hf.py):
- ``GET /api/models/{repo}/revision/{rev}`` -> ``{"id", "sha", "siblings"}``;
- ``GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=true`` -> a JSON list of files (``type``, ``oid``,
  ``size``, ``path``, ``lfs`` for LFS files) and, when recursive, directories; ``page_size`` entries a page,
  the next page in ``Link: <…&cursor=…>; rel="next"``;
- ``GET|HEAD /{repo}/resolve/{rev}/{path}``: an LFS file answers 302 to the CDN (a signed query) with
  ``ETag``/``X-Linked-Etag`` (its SHA-256), ``X-Linked-Size``, ``X-Repo-Commit``; a small file is served
  here with its git blob SHA-1 as ETag. Range on both;
- errors with ``X-Error-Code``: RepoNotFound (404 with a token, 401 without, and 401 for a private repo
  without a valid token), GatedRepo (401 without a token, 403 with one not approved), RevisionNotFound,
  EntryNotFound; a refused token: 401 "Invalid credentials in Authorization header"; 429 with
  ``RateLimit: "api";r=0;t=N`` while ``rate_limited`` is above zero.
The CDN refuses (400) and records any request carrying Authorization: ``cdn_violations`` must stay empty.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob " + str(len(data)).encode() + b"\0" + data).hexdigest()


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes]
    lfs_min: int = 1024  # files this big or bigger are LFS (the Hub's rule is 10 MB; small here)
    # and files matching .gitattributes' LFS patterns (the Hub's default one has *.onnx, *.bin, ...)
    lfs_suffixes: tuple[str, ...] = (".onnx", ".onnx_data", ".data", ".bin")
    plain: set[str] = field(default_factory=set)  # committed outside LFS whatever their name
    gated: bool = False
    private: bool = False
    approved: set[str] = field(default_factory=set)  # tokens that may read a gated or private repo
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit; "main" by default

    def __post_init__(self) -> None:
        if not self.branches:
            digest = hashlib.sha1(json.dumps(sorted((p, git_sha1(d)) for p, d in self.files.items())).encode())
            self.branches = {"main": digest.hexdigest()}

    def is_lfs(self, path: str) -> bool:
        if path in self.plain:
            return False
        return len(self.files[path]) >= self.lfs_min or path.endswith(self.lfs_suffixes)

    def tree(self, path: str, recursive: bool) -> list[dict]:
        prefix = f"{path}/" if path else ""
        items: dict[str, dict] = {}

        def folder(name: str) -> None:
            items.setdefault(name, {"type": "directory", "oid": git_sha1(name.encode()), "size": 0, "path": name})

        for p in sorted(self.files):
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix):].split("/")
            if not recursive and len(rest) > 1:
                folder(prefix + rest[0])
                continue
            for depth in range(1, len(rest)):
                folder(prefix + "/".join(rest[:depth]))
            items[p] = self.entry(p)
        return [items[k] for k in sorted(items)]

    def entry(self, p: str) -> dict:
        data = self.files[p]
        if not self.is_lfs(p):
            return {"type": "file", "oid": git_sha1(data), "size": len(data), "path": p}
        pointer = self.pointer(p)
        # an LFS file: oid is the pointer's blob id, size and lfs.oid the content's
        return {"type": "file", "oid": git_sha1(pointer), "size": len(data), "path": p,
                "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": len(pointer)}}

    def pointer(self, path: str) -> bytes:
        data = self.files[path]
        return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(data).hexdigest()}\n"
                f"size {len(data)}\n").encode()


@dataclass
class Hit:
    server: str  # "hub" | "cdn"
    method: str
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, hub: FakeHub, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hub = hub
        self.name = name

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up are normal here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._route(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._route(head=True)

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"", head: bool = False) -> None:
        self.send_response(status)
        headers.setdefault("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _error(self, status: int, code: str | None, message: str, head: bool) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, headers, json.dumps({"error": message}).encode(), head)

    def _route(self, head: bool) -> None:
        hub = self.server.hub
        hit = Hit(self.server.name, self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
        with hub.lock:
            hub.hits.append(hit)
        if self.server.name == "cdn":
            self._cdn(hit, head)
            return
        with hub.lock:
            limited = hub.rate_limited > 0
            if limited:
                hub.rate_limited -= 1
        if limited:
            self._send(429, {"RateLimit": f'"api";r=0;t={hub.rate_limit_reset}',
                             "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}, b"rate limited", head)
            return
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.split("/")[1:]]
        if segments[:2] == ["api", "models"] and len(segments) >= 6 and segments[4] in ("tree", "revision"):
            repo = self._repo("/".join(segments[2:4]), head)
            if repo is None:
                return
            commit = self._commit(repo, segments[5], head)
            if commit is None:
                return
            if segments[4] == "revision":
                body = {"id": repo.repo_id, "sha": commit, "siblings": [{"rfilename": p} for p in sorted(repo.files)]}
                self._send(200, {"Content-Type": "application/json"}, json.dumps(body).encode(), head)
            else:
                self._tree(repo, commit, segments[5], "/".join(segments[6:]), parse_qs(parts.query), head)
            return
        if len(segments) >= 5 and segments[2] == "resolve":
            repo = self._repo("/".join(segments[:2]), head)
            if repo is None:
                return
            commit = self._commit(repo, segments[3], head)
            if commit is not None:
                self._resolve(repo, commit, "/".join(segments[4:]), head)
            return
        self._send(404, {"Content-Type": "text/plain"}, b"Not Found", head)

    def _token(self) -> str | None:
        value = self.headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def _repo(self, repo_id: str, head: bool) -> FakeRepo | None:
        hub = self.server.hub
        token = self._token()
        if token is not None and token not in hub.valid_tokens:
            self._error(401, None, "Invalid credentials in Authorization header", head)
            return None
        repo = hub.repos.get(repo_id)
        if repo is None or (repo.private and token not in repo.approved):
            # huggingface.co: 401 without a token (it will not say whether the repo exists), else 404
            self._error(404 if token else 401, "RepoNotFound", "Repository not found", head)
            return None
        if repo.gated and token not in repo.approved:
            if token is None:
                self._error(401, "GatedRepo", "Access to model is restricted. You must be authenticated.", head)
            else:
                self._error(403, "GatedRepo", "Access to model is restricted and you are not in the authorized "
                            "list. Visit the repo page to ask for access.", head)
            return None
        return repo

    def _commit(self, repo: FakeRepo, revision: str, head: bool) -> str | None:
        if revision in repo.branches:
            return repo.branches[revision]
        if revision in repo.branches.values():
            return revision
        self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
        return None

    def _tree(self, repo: FakeRepo, commit: str, revision: str, path: str, query: dict, head: bool) -> None:
        hub = self.server.hub
        if path and path not in repo.files and not any(p.startswith(path + "/") for p in repo.files):
            self._error(404, "EntryNotFound", f"{path} does not exist on {revision}", head)
            return
        items = repo.tree(path, query.get("recursive", [""])[0].lower() == "true")
        cursor = query.get("cursor", [""])[0]
        start = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
        page = items[start:start + hub.page_size]
        headers = {"Content-Type": "application/json"}
        if start + hub.page_size < len(items):
            nxt = base64.urlsafe_b64encode(str(start + hub.page_size).encode()).decode()
            tail = "/" + quote(path, safe="") if path else ""
            link = (f"{self.server.url}/api/models/{repo.repo_id}/tree/{quote(revision, safe='')}{tail}"
                    f"?recursive={query.get('recursive', ['false'])[0]}&cursor={nxt}")
            headers["Link"] = f'<{link}>; rel="next"'
        self._send(200, headers, json.dumps(page).encode(), head)

    def _resolve(self, repo: FakeRepo, commit: str, path: str, head: bool) -> None:
        hub = self.server.hub
        data = repo.files.get(path)
        if data is None:
            self._error(404, "EntryNotFound", f"{path} does not exist", head)
            return
        if repo.is_lfs(path):
            sha = hashlib.sha256(data).hexdigest()
            hub.blobs[sha] = data
            location = f"{hub.cdn.url}/repos/{sha}?X-Amz-Signature=signed&Expires=9999999999"
            self._send(302, {"Location": location, "ETag": f'"{sha}"', "X-Linked-Etag": f'"{sha}"',
                             "X-Linked-Size": str(len(data)), "X-Repo-Commit": commit}, b"", head)
            return
        self._ranged(data, {"ETag": f'"{git_sha1(data)}"', "X-Repo-Commit": commit}, head)

    def _ranged(self, data: bytes, headers: dict[str, str], head: bool) -> None:
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", **headers}
        spec = self.headers.get("Range", "")
        if spec.startswith("bytes=") and spec[6:].split("-")[0].isdigit():
            start = int(spec[6:].split("-")[0])
            if start >= len(data):
                self._send(416, {"Content-Range": f"bytes */{len(data)}"}, b"", head)
                return
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            self._send(206, headers, data[start:], head)
            return
        self._send(200, headers, data, head)

    def _cdn(self, hit: Hit, head: bool) -> None:
        hub = self.server.hub
        if "authorization" in hit.headers:
            with hub.lock:
                hub.cdn_violations.append(hit)
            self._send(400, {"Content-Type": "text/plain"}, b"Authorization must not reach the CDN", head)
            return
        parts = urlsplit(self.path)
        sha = parts.path.rsplit("/", 1)[-1]
        data = hub.blobs.get(sha)
        if data is None or "X-Amz-Signature=signed" not in parts.query:
            self._send(403, {"Content-Type": "text/plain"}, b"bad signature", head)
            return
        self._ranged(data, {"ETag": f'"{sha}"'}, head)


class FakeHub:
    """Both servers; ``url`` is the Hub endpoint (set HF_ENDPOINT to it)."""

    def __init__(self, page_size: int = 3) -> None:
        self.page_size = page_size
        self.repos: dict[str, FakeRepo] = {}
        self.valid_tokens: set[str] = set()
        self.blobs: dict[str, bytes] = {}
        self.hits: list[Hit] = []
        self.cdn_violations: list[Hit] = []
        self.rate_limited = 0  # the next N API/resolve requests answer 429
        self.rate_limit_reset = 55
        self.lock = threading.Lock()
        self.api = _Server(self, "hub")
        self.cdn = _Server(self, "cdn")
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
                         for s in (self.api, self.cdn)]
        for t in self._threads:
            t.start()

    @property
    def url(self) -> str:
        return self.api.url

    def add(self, repo: FakeRepo) -> FakeRepo:
        self.repos[repo.repo_id] = repo
        return repo

    def hits_on(self, server: str, contains: str = "") -> list[Hit]:
        return [h for h in self.hits if h.server == server and contains in h.path]

    def stop(self) -> None:
        for s in (self.api, self.cdn):
            s.shutdown()
            s.server_close()


@dataclass
class HubWithRepo:
    hub: FakeHub
    repo: FakeRepo
    files: dict[str, bytes]


def start_fake_hub(folder: Path, page_size: int = 3) -> HubWithRepo:
    """A hub serving ``acme/onnx-models`` (tests/support/hfmodels.repo_files) with a small page size."""
    from tests.support.hfmodels import repo_files

    hub = FakeHub(page_size=page_size)
    files = repo_files(folder)
    repo = hub.add(FakeRepo("acme/onnx-models", dict(files), plain={"tiny.onnx"}))
    return HubWithRepo(hub, repo, files)
