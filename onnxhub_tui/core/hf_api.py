"""The Hub API calls we need: revision -> commit, and the recursive tree listing at that commit.

Formats and error codes follow huggingface_hub (``hf_api.py`` ``list_repo_tree``/``model_info``,
``utils/_pagination.py``, ``utils/_http.py`` ``hf_raise_for_status``/``parse_ratelimit_headers``):
- the tree is a JSON list of ``{"type": "file"|"directory", "oid", "size", "path", "lfs": {"oid", "size",
  "pointerSize"}}``, paged by ``Link: <…>; rel="next"``;
- ``X-Error-Code``: RepoNotFound (401 too, for private repos without a token), GatedRepo (401 without a
  token, 403 with one not approved), RevisionNotFound, EntryNotFound; ``X-Error-Message`` "Invalid
  credentials in Authorization header" for a refused token;
- 429 with ``RateLimit: "api";r=0;t=55`` (wait ``t`` seconds) or ``Retry-After``.
A wait up to the retry policy's ``max_wait`` is slept and the request retried; a longer one is an
``HfRateLimitError`` that says how long.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from . import http
from .errors import Hint, HubError, NetworkError, OfflineError
from .hf_repo import COMMIT, HfRepo
from .paths import relative_path_problem
from .sources import _host

MAX_PAGES = 10_000  # 10 million files at 1,000 a page: anything past it is a loop
MAX_PAGE_BYTES = 64 * 1024 * 1024
_RATELIMIT = re.compile(r"\"(?P<kind>\w+)\"\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


class HfError(HubError):
    """A Hugging Face Hub answer a user can act on. Gated, missing or private, and refused: the
    ``Hint.HF_TOKEN`` hint (the message names HF_TOKEN already; front ends may act on the hint)."""


class HfRepoNotFoundError(HfError, LookupError):
    """No such repo, or a private one this token (or no token) cannot see."""


class HfGatedRepoError(HfError):
    """A gated repo: its terms must be accepted, and the request made with that account's token."""


class HfRevisionNotFoundError(HfError, LookupError):
    """The branch, tag or commit does not exist in the repo."""


class HfEntryNotFoundError(HfError, LookupError):
    """A path that is not in the repo at that commit."""


class HfAuthError(HfError):
    """The token was refused, or lacks a permission."""


class HfRateLimitError(NetworkError):
    """Rate limited for longer than we wait; ``wait`` is the Hub's own figure, in seconds."""

    def __init__(self, message: str, wait: float | None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class TreeFile:
    """One file of a listing."""

    path: str  # from the repo root
    size: int  # the content's size (the LFS object's for an LFS file)
    oid: str  # git blob SHA-1 (of the pointer, for an LFS file)
    sha256: str | None  # the content's SHA-256, LFS files only

    @property
    def is_lfs(self) -> bool:
        return self.sha256 is not None

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "file", "path": self.path, "size": self.size, "oid": self.oid}
        if self.sha256:
            item["lfs"] = {"oid": self.sha256, "size": self.size}
        return item


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Seconds the Hub asks us to wait: ``RateLimit``'s ``t`` when ``r=0``, else ``Retry-After``."""
    match = _RATELIMIT.search(headers.get("ratelimit", ""))
    if match and int(match["r"]) == 0:
        return float(match["t"])
    return http._parse_retry_after(headers.get("retry-after"))  # noqa: SLF001 - the one parser of it


def _token_name(repo: HfRepo) -> str:
    return repo.token_origin or "HF_TOKEN"


def _error(repo: HfRepo, response: httpx.Response, url: str, what: str) -> HubError:
    error = _classify(repo, response, url, what)
    if isinstance(error, (HfGatedRepoError, HfAuthError, HfRepoNotFoundError)):
        error.hints = (Hint.HF_TOKEN,)  # what the user can do next: a token that can read the repo
    return error


def _classify(repo: HfRepo, response: httpx.Response, url: str, what: str) -> HubError:
    code = response.headers.get("x-error-code", "")
    message = response.headers.get("x-error-message", "")
    status = response.status_code
    name = repo.repo_id
    if code == "GatedRepo":
        if status == 403 or repo.has_token:
            return HfGatedRepoError(
                f"{name} is a gated repo and the token from {_token_name(repo)} has no access to it yet: "
                f"accept its terms on {repo.page_url} (approval may take a while), then try again."
            )
        return HfGatedRepoError(
            f"{name} is a gated repo: accept its terms on {repo.page_url}, then set HF_TOKEN to a token "
            f"of that account ({repo.endpoint}/settings/tokens)."
        )
    if status == 401 and message == "Invalid credentials in Authorization header":
        return HfAuthError(f"The Hugging Face Hub refused the token from {_token_name(repo)}: "
                           "it is invalid or expired. Set HF_TOKEN to a valid token, or unset it for public repos.")
    if code == "RevisionNotFound":
        return HfRevisionNotFoundError(
            f"{name} has no revision {repo.revision!r}: check the branch, tag or commit after the ':' "
            f"in {repo.spec}."
        )
    if code == "EntryNotFound":
        return HfEntryNotFoundError(f"{name} has no {what} at revision {repo.revision!r}.")
    if code == "RepoNotFound" or status in (401, 404):
        if repo.has_token:
            tail = "or it is private and the token cannot read it: check the name, or set HF_TOKEN to a token that can"
        else:
            tail = "or it is private: check the name, or set HF_TOKEN for a private repo"
        return HfRepoNotFoundError(f"Hugging Face repo {name} was not found ({repo.page_url}), {tail}.")
    if status == 403:
        how = f"with the token from {_token_name(repo)}" if repo.has_token else "without a token"
        return HfAuthError(f"The Hugging Face Hub refused access to {name} {how}: {message or 'HTTP 403'}. "
                           "Set HF_TOKEN to a token with read access to it.")
    detail = f": {message}." if message else "."
    return NetworkError(f"The Hugging Face Hub answered HTTP {status} for {url}{detail}")


def get_json(
    client: httpx.Client, repo: HfRepo, url: str, *, what: str, policy: http.RetryPolicy | None = None
) -> tuple[httpx.Response, Any]:
    """GET a JSON answer of the API, retrying transient failures and honouring rate limits."""
    policy = policy or http.RetryPolicy.from_env()
    last = ""
    wait: float | None = None
    for attempt in range(1, policy.attempts + 1):
        wait = None
        try:
            response, body = _get_once(client, repo, url)
        except OfflineError:
            raise
        except http.TRANSIENT_ERRORS as exc:
            last = http.describe(exc)
        else:
            if response.status_code == 429:
                wait = rate_limit_wait(response.headers)
                last = "HTTP 429 (rate limited)"
                if wait is not None and wait > policy.max_wait:
                    break  # longer than we block for: say so now rather than sleep
            elif response.status_code in http.RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
            elif response.status_code != 200:
                raise _error(repo, response, url, what)
            else:
                try:
                    return response, json.loads(body)
                except ValueError:
                    raise NetworkError(f"The Hugging Face Hub sent something that is not JSON for {url}.") from None
        if attempt < policy.attempts:
            time.sleep(wait if wait is not None else policy.wait(attempt))
    if last.startswith("HTTP 429"):
        when = f"try again in {wait:.0f} s" if wait is not None else "try again later"
        raise HfRateLimitError(
            f"The Hugging Face Hub rate limit was reached reading {repo.repo_id}: {when}"
            + ("" if repo.has_token else " (a token in HF_TOKEN has a higher limit)") + ".",
            wait,
        )
    raise NetworkError(f"Could not fetch {url} after {policy.attempts} attempts: {last}.")


def _get_once(client: httpx.Client, repo: HfRepo, url: str) -> tuple[httpx.Response, bytes]:
    with http.open_stream(client, url, repo.headers_for, {"Accept": "application/json"}) as response:
        body = bytearray()
        if response.status_code == 200:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_BYTES:
                    raise NetworkError(f"{url} sent more than {MAX_PAGE_BYTES} bytes; refusing it.")
        return response, bytes(body)


def resolve_commit(client: httpx.Client, repo: HfRepo, *, policy: http.RetryPolicy | None = None) -> str:
    """The commit ``repo.revision`` names now (``sha`` of the revision API); a commit is taken as is."""
    if COMMIT.match(repo.revision):
        return repo.revision
    url = repo.revision_url(repo.revision)
    _response, data = get_json(client, repo, url, what="revision", policy=policy)
    sha = data.get("sha") if isinstance(data, dict) else None
    if not isinstance(sha, str) or not COMMIT.match(sha):
        raise NetworkError(f"The Hugging Face Hub's answer for {url} names no commit.")
    return sha


@dataclass
class TreePage:
    files: list[TreeFile]
    skipped: list[str]  # "path: reason"


def parse_tree_items(items: Any, out: TreePage) -> None:
    """Keep the files with a safe path and well-formed ids; directories are dropped, the rest reported."""
    if not isinstance(items, list):
        raise NetworkError("The Hugging Face Hub's tree listing is not a JSON list.")
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "file":
            continue
        path = item.get("path")
        problem = relative_path_problem(path)
        size, oid, lfs = item.get("size"), item.get("oid"), item.get("lfs")
        sha256 = lfs.get("oid") if isinstance(lfs, dict) else None
        if isinstance(lfs, dict) and isinstance(lfs.get("size"), int):
            size = lfs["size"]
        if problem is None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            problem = "has no size"
        if problem is None and not (isinstance(oid, str) and _SHA1.match(oid)):
            problem = "has no git object id"
        if problem is None and lfs is not None and not (isinstance(sha256, str) and _SHA256.match(sha256)):
            problem = "has an LFS entry without a SHA-256"
        if problem is not None:
            out.skipped.append(f"{str(path)[:80]!r}: {problem}")
            continue
        out.files.append(TreeFile(path, size, oid, sha256))


def list_tree(
    client: httpx.Client, repo: HfRepo, commit: str, *, path: str = "", policy: http.RetryPolicy | None = None
) -> TreePage:
    """Every file of the repo at ``commit`` (under ``path`` when given), recursively, following
    ``rel="next"`` pages. A ``path`` the repo lacks is an ``HfEntryNotFoundError``."""
    url = repo.tree_url(commit, path) + "?recursive=true"
    origin = _host(url)
    page = TreePage([], [])
    seen: set[str] = set()
    while url:
        if url in seen or len(seen) >= MAX_PAGES:
            raise NetworkError(f"The tree listing of {repo.repo_id} does not end (page {len(seen) + 1}).")
        seen.add(url)
        response, data = get_json(client, repo, url, what=repr(path) if path else "files", policy=policy)
        parse_tree_items(data, page)
        following = response.links.get("next", {}).get("url")
        url = urljoin(url, following) if following else ""
        if url and _host(url) != origin:  # a page elsewhere is not the Hub's listing
            raise NetworkError(f"The tree listing of {repo.repo_id} points its next page at another host.")
    return page
