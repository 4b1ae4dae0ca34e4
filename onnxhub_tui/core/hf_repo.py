"""One Hugging Face model repo: its API and file URLs, and which origin gets the token.

The URL builders belong in ``core/sources`` (only it builds URLs); they live here until the redesign
lands and are then moved as they are. Formats (huggingface_hub ``hf_api.py``, ``constants.py``):
- tree:     ``{endpoint}/api/models/{repo_id}/tree/{quote(revision, safe="")}[/{quote(path, safe="")}]``
- revision: ``{endpoint}/api/models/{repo_id}/revision/{quote(revision, safe="")}``
- file:     ``{endpoint}/{repo_id}/resolve/{revision}/{path}``; we always put the *commit* there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from .errors import RepoSpecError
from .hf_env import hf_env
from .sources import Location, Source, _host, _split_credentials, parse_repo_spec

COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HfRepo:
    endpoint: str  # without credentials, no trailing "/"
    repo_id: str  # "owner/name"
    revision: str  # as the user wrote it: a branch, a tag, "refs/pr/1" or a commit
    offline: bool = False
    # origin -> Authorization value; only the endpoint's origin ever gets one (never a CDN's)
    _auth: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    token_origin: str | None = None  # where the token came from, for messages

    @property
    def has_token(self) -> bool:
        return bool(self._auth)

    @property
    def spec(self) -> str:
        return f"hf:{self.repo_id}:{self.revision}"

    @property
    def page_url(self) -> str:
        """The repo's page, where a gated repo's terms are accepted."""
        return f"{self.endpoint}/{self.repo_id}"

    def headers_for(self, url: str) -> dict[str, str]:
        """Authorization for the endpoint's own origin only; asked again on every redirect hop."""
        value = self._auth.get(_host(url))
        return {"Authorization": value} if value else {}

    def tree_url(self, revision: str, path: str = "") -> str:
        tail = "/" + quote(path, safe="") if path else ""
        return f"{self.endpoint}/api/models/{self.repo_id}/tree/{quote(revision, safe='')}{tail}"

    def revision_url(self, revision: str) -> str:
        return f"{self.endpoint}/api/models/{self.repo_id}/revision/{quote(revision, safe='')}"

    def resolve_base(self, commit: str) -> str:
        return f"{self.endpoint}/{self.repo_id}/resolve/{quote(commit, safe='')}/"

    def source_at(self, commit: str) -> Source:
        """A Source whose files all come from ``commit`` (what ``core/download`` takes)."""
        location = Location(self.resolve_base(commit), "Hugging Face")
        return Source(
            spec=self.spec,
            kind="hf",
            manifest_url=self.tree_url(commit) + "?recursive=true",
            locations=(location,),
            _tokens=dict(self._auth),
        )


def hf_repo(spec: str, *, environ: Mapping[str, str] | None = None) -> HfRepo:
    """``hf:owner/repo[:revision]`` (revision defaults to ``main``) with the environment's endpoint and token."""
    source = parse_repo_spec(spec)
    if source.kind != "hf":
        raise RepoSpecError(f"{spec!r} is not a Hugging Face repo spec (hf:owner/repo[:revision]).")
    repo_id, _, revision = source.spec[3:].partition(":")
    env = hf_env(environ)
    try:
        endpoint, credentials = _split_credentials(env.endpoint)
    except ValueError:
        raise RepoSpecError("HF_ENDPOINT is not a valid URL.") from None
    auth = {_host(endpoint): f"Bearer {env.token}"} if env.token else {}
    auth.update(credentials)  # credentials written in the URL are explicit: they win, as in core/sources
    return HfRepo(endpoint.rstrip("/"), repo_id, revision or "main", env.offline, auth, env.token_origin)
