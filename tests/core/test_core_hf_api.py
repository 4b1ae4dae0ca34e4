"""The Hugging Face listing client against a loopback Hub (tests/support/hfhub.py).

Formats, from huggingface_hub at ee0a4510 (2026-08-20):
- tree URL, revision quoted with ``safe=""``, ``recursive``: ``hf_api.py`` ``list_repo_tree``;
- ``Link: <…>; rel="next"`` pages: ``utils/_pagination.py`` ``paginate``/``_get_next_page``;
- file entries ``oid``/``size``/``path``/``lfs{oid,size,pointerSize}``: ``hf_api.py`` ``RepoFile.__init__``;
- ``/api/models/{repo}/revision/{rev}`` -> ``sha``: ``hf_api.py`` ``model_info``;
- ``X-Error-Code`` RepoNotFound/GatedRepo/RevisionNotFound/EntryNotFound, 401 for private repos,
  "Invalid credentials in Authorization header": ``utils/_http.py`` ``hf_raise_for_status``;
- ``RateLimit: "api";r=0;t=55``: ``utils/_http.py`` ``parse_ratelimit_headers``;
- HF_TOKEN > HUGGING_FACE_HUB_TOKEN > ``$HF_HOME/token`` (``HF_TOKEN_PATH``), HF_HOME's default, token
  cleaning: ``utils/_auth.py`` ``_get_token_from_environment``/``_clean_token``, ``constants.py``;
- HF_HUB_OFFLINE's true values: ``constants.py`` ``_is_true``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onnxhub_tui.core import http
from onnxhub_tui.core.errors import HubError, NetworkError, OfflineError
from onnxhub_tui.core.hf_api import (
    HfAuthError,
    HfEntryNotFoundError,
    HfGatedRepoError,
    HfRateLimitError,
    HfRepoNotFoundError,
    HfRevisionNotFoundError,
    list_tree,
    resolve_commit,
)
from onnxhub_tui.core.hf_entries import entries, git_blob_sha1, raw_entries
from onnxhub_tui.core.hf_env import hf_env
from onnxhub_tui.core.hf_listing import load_hf_manifest, load_listing
from onnxhub_tui.core.hf_repo import hf_repo
from tests.support.hfenv import fake_hf_hub
from tests.support.hfhub import FakeRepo, HubWithRepo

@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubWithRepo]:
    yield from fake_hf_hub(tmp_path, monkeypatch, token=False)


def test_env_token_precedence_and_file(tmp_path: Path) -> None:
    home = tmp_path / "hfhome"
    home.mkdir()
    (home / "token").write_text("  file-token\n")
    assert hf_env({"HF_HOME": str(home)}).token == "file-token"
    assert hf_env({"HF_HOME": str(home)}).token_origin == str(home / "token")
    assert hf_env({"HF_HOME": str(home), "HUGGING_FACE_HUB_TOKEN": "legacy"}).token == "legacy"
    assert hf_env({"HF_HOME": str(home), "HUGGING_FACE_HUB_TOKEN": "legacy", "HF_TOKEN": "new"}).token == "new"
    assert hf_env({"HF_HOME": str(home), "HF_TOKEN": " \n"}).token == "file-token"  # empty is no token
    (tmp_path / "t2").write_text("other")
    assert hf_env({"HF_HOME": str(home), "HF_TOKEN_PATH": str(tmp_path / "t2")}).token == "other"
    xdg = tmp_path / "xdg"
    (xdg / "huggingface").mkdir(parents=True)
    (xdg / "huggingface" / "token").write_text("xdg-token")
    assert hf_env({"XDG_CACHE_HOME": str(xdg)}).token == "xdg-token"
    assert hf_env({"XDG_CACHE_HOME": str(tmp_path / "none")}).token is None
    assert "file-token" not in repr(hf_env({"HF_HOME": str(home)}))
    assert hf_env({"HF_HUB_OFFLINE": "yes"}).offline and hf_env({"HF_HUB_OFFLINE": "TRUE"}).offline
    assert not hf_env({"HF_HUB_OFFLINE": "0"}).offline
    assert hf_env({"HF_ENDPOINT": "https://mirror.example/"}).endpoint == "https://mirror.example"


def test_git_blob_sha1_is_gits_object_id() -> None:
    # the example of huggingface_hub utils/sha.py git_hash; `git hash-object` gives the same
    assert git_blob_sha1(b"Hello, World!") == "b45ef6fec89518d314f546fd6c3025367b721684"


def test_listing_over_several_pages_at_one_commit(fake: HubWithRepo, client) -> None:
    repo = hf_repo("hf:acme/onnx-models")
    commit = resolve_commit(client, repo)
    assert commit == fake.repo.branches["main"]
    page = list_tree(client, repo, commit)
    assert sorted(f.path for f in page.files) == sorted(fake.files)  # directories dropped
    trees = fake.hub.hits_on("hub", "/tree/")
    assert len(trees) >= 4  # 10 files and 4 folders, 3 a page
    assert all(f"/tree/{commit}" in h.path and "recursive=true" in h.path for h in trees)
    by_path = {f.path: f for f in page.files}
    assert by_path["onnx/model.onnx_data"].sha256 is not None  # LFS: the content's SHA-256
    assert by_path["tiny.onnx"].sha256 is None and by_path["tiny.onnx"].oid == git_blob_sha1(fake.files["tiny.onnx"])


def test_revision_is_quoted_whole(fake: HubWithRepo, client) -> None:
    fake.repo.branches["refs/pr/1"] = "1" * 40
    repo = hf_repo("hf:acme/onnx-models:refs/pr/1")
    assert resolve_commit(client, repo) == "1" * 40
    assert fake.hub.hits_on("hub", "/revision/refs%2Fpr%2F1")


def test_entries_one_per_onnx_file(fake: HubWithRepo, client, tmp_path: Path) -> None:
    manifest, listing = load_hf_manifest(client, hf_repo("hf:acme/onnx-models"), tmp_path / "cache")
    by_name = {e.model: e for e in manifest.entries}
    assert sorted(by_name) == ["decoder/decoder_model", "onnx/model", "onnx/model_quantized", "tiny"]
    model = by_name["onnx/model"]
    assert model.model_path == "onnx/model.onnx" and model.tags == {"onnx"}
    assert model.model_sha == hashlib.sha256(fake.files["onnx/model.onnx"]).hexdigest()
    assert model.model_bytes == len(fake.files["onnx/model.onnx"])
    assert model.opset == 0 and model.metadata["hf"]["opset_known"] is False and model.io_ports is None
    assert model.metadata["hf"]["data_candidates"] == ["onnx/model.onnx_data"]  # by name; the model says more
    assert by_name["decoder/decoder_model"].metadata["hf"]["data_candidates"] == ["decoder/decoder_model.onnx.data"]
    tiny = by_name["tiny"]
    assert tiny.model_sha is None and tiny.metadata["hf"]["git_sha1"] == git_blob_sha1(fake.files["tiny.onnx"])
    assert tiny.tags == set()
    # every file comes from the listing's commit
    pinned = f"{fake.hub.url}/acme/onnx-models/resolve/{listing.commit}/tiny.onnx"
    assert manifest.source.file_urls("tiny.onnx") == [pinned]
    assert manifest.state == "fresh" and not listing.has_manifest
    fake.repo.files["ONNX_HUB_MANIFEST.json"] = b"[]"
    fake.repo.branches["main"] = "5" * 40
    assert load_hf_manifest(client, hf_repo("hf:acme/onnx-models"), tmp_path / "cache")[1].has_manifest


def test_names_unique_ignoring_case() -> None:
    from onnxhub_tui.core.hf_api import TreeFile
    from onnxhub_tui.core.hf_entries import Listing

    files = tuple(TreeFile(p, 10, "a" * 40, None) for p in ("Model.onnx", "model.onnx", "m/a.ONNX", "m/a.onnx_data"))
    names = {e["model_path"]: e["model"] for e in raw_entries(Listing("e", "o/r", "main", "b" * 40, files))}
    assert names == {"Model.onnx": "Model.onnx", "model.onnx": "model.onnx~2", "m/a.ONNX": "m/a"}
    assert len(entries(Listing("e", "o/r", "main", "b" * 40, files)).entries) == 3


def test_gated_repo_without_and_with_token(fake: HubWithRepo, client, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.hub.add(FakeRepo("acme/gated", {"m.onnx": b"x" * 10}, gated=True, approved={"ok-token"}))
    fake.hub.valid_tokens |= {"ok-token", "new-token"}
    with pytest.raises(HfGatedRepoError) as excinfo:
        resolve_commit(client, hf_repo("hf:acme/gated"))
    message = str(excinfo.value)
    assert "accept its terms" in message and f"{fake.hub.url}/acme/gated" in message and "HF_TOKEN" in message
    assert "\n" not in message
    monkeypatch.setenv("HF_TOKEN", "new-token")
    with pytest.raises(HfGatedRepoError, match="token from HF_TOKEN has no access to it yet: accept its terms"):
        resolve_commit(client, hf_repo("hf:acme/gated"))
    monkeypatch.setenv("HF_TOKEN", "ok-token")
    assert resolve_commit(client, hf_repo("hf:acme/gated")) == fake.hub.repos["acme/gated"].branches["main"]


def test_missing_and_private_repos(fake: HubWithRepo, client, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.hub.add(FakeRepo("acme/private", {"m.onnx": b"x" * 10}, private=True, approved={"ok"}))
    fake.hub.valid_tokens |= {"ok", "other"}
    for name in ("acme/nothing", "acme/private"):
        with pytest.raises(HfRepoNotFoundError, match="check the name, or set HF_TOKEN") as excinfo:
            list_tree(client, hf_repo(f"hf:{name}"), "a" * 40)
        assert fake.hub.hits[-1].path.startswith(f"/api/models/{name}/tree/")
        assert isinstance(excinfo.value, (HubError, LookupError))
    monkeypatch.setenv("HF_TOKEN", "other")  # 404 now, same advice
    with pytest.raises(HfRepoNotFoundError, match="token cannot read it"):
        resolve_commit(client, hf_repo("hf:acme/nothing"))
    monkeypatch.setenv("HF_TOKEN", "ok")
    assert resolve_commit(client, hf_repo("hf:acme/private"))


def test_a_folder_alone_and_a_missing_one(fake: HubWithRepo, client) -> None:
    repo = hf_repo("hf:acme/onnx-models")
    commit = resolve_commit(client, repo)
    page = list_tree(client, repo, commit, path="onnx")
    assert sorted(f.path for f in page.files) == sorted(p for p in fake.files if p.startswith("onnx/"))
    assert fake.hub.hits[-1].path.startswith(f"/api/models/acme/onnx-models/tree/{commit}/onnx?")
    with pytest.raises(HfEntryNotFoundError, match="acme/onnx-models has no 'nope' at revision 'main'"):
        list_tree(client, repo, commit, path="nope")


def test_refused_token_and_missing_revision(fake: HubWithRepo, client, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(HfRevisionNotFoundError, match="no revision 'v9'"):
        resolve_commit(client, hf_repo("hf:acme/onnx-models:v9"))
    monkeypatch.setenv("HF_TOKEN", "expired")
    with pytest.raises(HfAuthError, match="refused the token from HF_TOKEN: it is invalid or expired"):
        resolve_commit(client, hf_repo("hf:acme/onnx-models"))


def test_rate_limit_longer_than_we_wait_says_how_long(fake: HubWithRepo, client) -> None:
    fake.hub.rate_limited, fake.hub.rate_limit_reset = 1, 55
    started = time.monotonic()
    with pytest.raises(HfRateLimitError, match="try again in 55 s") as excinfo:
        resolve_commit(client, hf_repo("hf:acme/onnx-models"))
    assert excinfo.value.wait == 55 and isinstance(excinfo.value, NetworkError)
    assert time.monotonic() - started < 5  # not slept
    assert len(fake.hub.hits_on("hub", "/revision/")) == 1


def test_rate_limit_wait_is_honoured(fake: HubWithRepo, client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONNXHUB_MAX_WAIT", "5")
    fake.hub.rate_limited, fake.hub.rate_limit_reset = 1, 1
    started = time.monotonic()
    assert resolve_commit(client, hf_repo("hf:acme/onnx-models")) == fake.repo.branches["main"]
    assert time.monotonic() - started >= 1.0  # the Hub's t=1, not our 10 ms backoff
    assert len(fake.hub.hits_on("hub", "/revision/")) == 2


def test_rate_limit_wait_headers() -> None:
    import httpx

    from onnxhub_tui.core.hf_api import rate_limit_wait

    assert rate_limit_wait(httpx.Headers({"RateLimit": '"api";r=0;t=55'})) == 55
    assert rate_limit_wait(httpx.Headers({"RateLimit": '"api";r=3;t=55', "Retry-After": "7"})) == 7  # not the cause
    assert rate_limit_wait(httpx.Headers({"Retry-After": "12"})) == 12
    assert rate_limit_wait(httpx.Headers({})) is None


def test_next_page_on_another_host_is_refused(fake: HubWithRepo, client) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b'[{"type": "file", "path": "a.onnx", "size": 1, "oid": "' + b"a" * 40 + b'"}]'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Link", f'<{fake.hub.cdn.url}/steal?cursor=x>; rel="next"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        repo = hf_repo("hf:acme/onnx-models", environ={"HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}"})
        with pytest.raises(NetworkError, match="another host"):
            list_tree(client, repo, "a" * 40)
    finally:
        server.shutdown()
        server.server_close()


def test_cached_listing_revalidates_with_one_request(fake: HubWithRepo, client, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    repo = hf_repo("hf:acme/onnx-models")
    first = load_listing(client, repo, cache)
    assert first.state == "fresh"
    before = len(fake.hub.hits)
    again = load_listing(client, repo, cache)
    assert again.state == "cached" and again.listing.files == first.listing.files
    assert [h.path.split("?")[0] for h in fake.hub.hits[before:]] == ["/api/models/acme/onnx-models/revision/main"]
    # a new commit on the branch: listed again
    fake.repo.files["new.onnx"] = b"y" * 20
    fake.repo.branches["main"] = "2" * 40
    newer = load_listing(client, repo, cache)
    assert newer.state == "fresh" and newer.listing.commit == "2" * 40 and newer.listing.file("new.onnx")
    # a commit as revision: no request at all once cached
    pinned = hf_repo(f"hf:acme/onnx-models:{'2' * 40}")
    load_listing(client, pinned, cache)
    before = len(fake.hub.hits)
    assert load_listing(client, pinned, cache).state == "cached" and len(fake.hub.hits) == before


def test_offline_uses_the_cached_listing(fake: HubWithRepo, client, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="no cached listing of hf:acme/onnx-models:main.*HF_HUB_OFFLINE"):
        load_listing(client, hf_repo("hf:acme/onnx-models"), cache)
    assert fake.hub.hits == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    online, _ = load_hf_manifest(client, hf_repo("hf:acme/onnx-models"), cache)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(fake.hub.hits)
    offline, listing = load_hf_manifest(client, hf_repo("hf:acme/onnx-models"), cache)
    assert offline.state == "offline" and len(fake.hub.hits) == before
    assert [e.model for e in offline.entries] == [e.model for e in online.entries]
    assert [e.model_sha for e in offline.entries] == [e.model_sha for e in online.entries]
    assert listing.commit == fake.repo.branches["main"]
    # the client's own offline mode (--offline / ONNXHUB_OFFLINE) counts too
    monkeypatch.delenv("HF_HUB_OFFLINE")
    offline_client = http.make_client(offline=True)
    try:
        assert load_listing(offline_client, hf_repo("hf:acme/onnx-models"), cache).state == "offline"
    finally:
        offline_client.close()


def test_network_failure_falls_back_to_the_cached_listing(fake: HubWithRepo, client, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_listing(client, hf_repo("hf:acme/onnx-models"), cache)
    fake.hub.rate_limited = 1
    stale = load_listing(client, hf_repo("hf:acme/onnx-models"), cache)
    assert stale.state == "stale" and "try again in 55 s" in (stale.warning or "")
    # the answers a user must act on are not hidden behind the copy
    fake.hub.repos["acme/onnx-models"].gated = True
    with pytest.raises(HfGatedRepoError):
        load_listing(client, hf_repo("hf:acme/onnx-models"), cache)


def test_hostile_listing_entries_are_skipped_and_reported(fake: HubWithRepo, client, tmp_path: Path) -> None:
    from onnxhub_tui.core.hf_api import TreePage, parse_tree_items

    page = TreePage([], [])
    good = {"type": "file", "path": "ok.onnx", "size": 3, "oid": "a" * 40}
    parse_tree_items([
        good,
        {"type": "directory", "path": "onnx", "oid": "b" * 40, "size": 0},
        {**good, "path": "../escape.onnx"},
        {**good, "path": "/abs.onnx"},
        {**good, "size": -1},
        {**good, "size": True},
        {**good, "oid": "not-a-sha"},
        {**good, "lfs": {"oid": "short", "size": 3}},
        "junk",
    ], page)
    assert [f.path for f in page.files] == ["ok.onnx"]
    assert len(page.skipped) == 6 and "'../escape.onnx': " in page.skipped[0]
    with pytest.raises(NetworkError, match="not a JSON list"):
        parse_tree_items({"error": "x"}, page)
    # through the whole path: the entry is dropped, the manifest says why
    fake.repo.files["a\\b.onnx"] = b"z" * 10
    fake.repo.branches["main"] = "4" * 40
    manifest, _ = load_hf_manifest(client, hf_repo("hf:acme/onnx-models"), tmp_path / "cache")
    assert all("\\" not in e.model_path for e in manifest.entries)
    assert "1 file(s) of the listing skipped" in (manifest.warning or "")
