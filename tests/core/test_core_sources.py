"""Repo specs, mirrors and tokens: every spec form, the environment read at Source creation, the
onnx/models mirror order, and tokens that go only to their own hosts (checked on the wire)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import DownloadError, HubError, RepoSpecError, SettingsError
from onnxhub_tui.core.sources import parse_repo_spec
from tests.support.hubserver import Fault, start_server
from tests.support.reliability import OutsideGuard, cache_files, part_files, sha256

GH_TOKEN = "ghp_SECRETgithubTOKEN0123456789"
HF_TOKEN = "hf_SECREThuggingfaceTOKEN0123456789"
MNIST8 = "validated/vision/classification/mnist/model/mnist-8.onnx"


# -- spec forms -------------------------------------------------------------------------------------


def test_github_spec_default_ref_and_urls(monkeypatch):
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", "http://raw.example/")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", "http://lfs.example/media")
    s = parse_repo_spec("acme/models")
    assert (s.kind, s.spec, s.trusted) == ("github", "acme/models:main", False)
    assert s.manifest_url == "http://raw.example/acme/models/main/ONNX_HUB_MANIFEST.json"
    assert s.file_urls("a/b c.onnx") == ["http://lfs.example/media/acme/models/main/a/b%20c.onnx"]
    assert parse_repo_spec("acme/models:v1.2").manifest_url.endswith("/acme/models/v1.2/ONNX_HUB_MANIFEST.json")
    assert parse_repo_spec("acme/models:feature/x").spec == "acme/models:feature/x"


def test_real_defaults_without_environment():
    s = parse_repo_spec(None)
    assert s.spec == "onnx/models:main" and s.trusted
    assert s.manifest_url == "https://raw.githubusercontent.com/onnx/models/main/ONNX_HUB_MANIFEST.json"
    assert s.file_urls("x/m.onnx") == [
        "https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main/x/m.onnx",  # the mirror first
        "https://media.githubusercontent.com/media/onnx/models/main/x/m.onnx",
    ]


@pytest.mark.parametrize(
    ("spec", "trusted"),
    [("onnx/models:main", True), ("onnx/models", True), ("onnx/models:" + "a" * 40, True),
     ("onnx/models:dev", False), ("Onnx/Models:main", False), ("acme/models:main", False)],
)
def test_only_the_zoo_main_or_a_pinned_commit_is_trusted(spec, trusted):
    assert parse_repo_spec(spec).trusted is trusted


def test_hf_spec(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://hf.example")
    s = parse_repo_spec("hf:org/repo")
    assert (s.kind, s.spec) == ("hf", "hf:org/repo:main")
    assert s.manifest_url == "http://hf.example/org/repo/resolve/main/ONNX_HUB_MANIFEST.json"
    assert parse_repo_spec("hf:org/repo:v2").file_urls("m.onnx") == ["http://hf.example/org/repo/resolve/v2/m.onnx"]


@pytest.mark.parametrize("spec", ["https://models.example/hub", "https://models.example/hub/",
                                  "https://models.example/hub/ONNX_HUB_MANIFEST.json"])
def test_http_spec(spec):
    s = parse_repo_spec(spec)
    assert s.kind == "http"
    assert s.manifest_url == "https://models.example/hub/ONNX_HUB_MANIFEST.json"
    assert s.file_urls("m/x.onnx") == ["https://models.example/hub/m/x.onnx"]


def test_local_folder_and_file_url_specs(tmp_path):
    folder = tmp_path / "my hub"
    folder.mkdir()
    for spec in (str(folder), folder.as_uri(), str(folder / "ONNX_HUB_MANIFEST.json")):
        s = parse_repo_spec(spec)
        assert s.kind == "local" and s.is_local, spec
        assert s.manifest_url == folder.as_uri() + "/ONNX_HUB_MANIFEST.json"


@pytest.mark.parametrize("spec", ["owner", "a/b/c", "hf:", "hf:org", "owner/..", "../x", "owner/repo:../etc",
                                  "owner/repo:a b", "own er/repo", "http://", "https:///path", "a/b\x00"])
def test_invalid_specs_are_clear_errors(spec):
    if spec == "../x":  # a relative path is a local folder by design
        assert parse_repo_spec(spec).kind == "local"
        return
    with pytest.raises(RepoSpecError) as info:
        parse_repo_spec(spec)
    assert isinstance(info.value, HubError) and isinstance(info.value, AssertionError)
    assert "\n" not in str(info.value)


def test_environment_is_read_when_a_source_is_made(monkeypatch):
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", "http://first.example")
    first = parse_repo_spec("acme/models")
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", "http://second.example")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", "http://lfs2.example")
    monkeypatch.setenv("HF_ENDPOINT", "http://hf2.example")
    second = parse_repo_spec("onnx/models")
    assert first.manifest_url.startswith("http://first.example/")  # unchanged by later env changes
    assert second.manifest_url.startswith("http://second.example/")
    assert [u.split("/")[2] for u in second.file_urls("m.onnx")] == ["hf2.example", "lfs2.example"]


# -- local sources, end to end ----------------------------------------------------------------------


@pytest.mark.parametrize("as_url", [False, True])
def test_local_folder_source_downloads_verified(hub_tree, cache_dir, tmp_path, as_url):
    spec = hub_tree.repo_dir.as_uri() if as_url else str(hub_tree.repo_dir)
    with OutsideGuard(tmp_path, cache_dir) as guard, Hub(spec, cache_dir) as hub:
        manifest = hub.manifest()
        assert manifest.state == "local"
        info = manifest.find("MNIST", 8)
        path = hub.download(info)
    assert sha256(path) == info.model_sha
    assert path == cache_dir / "validated/vision/classification/mnist/model" / f"{info.model_sha}_mnist-8.onnx"
    assert guard.changes() == []


def test_local_folder_source_resumes_a_part(hub_tree, cache_dir):
    with Hub(str(hub_tree.repo_dir), cache_dir) as hub:
        info = hub.manifest().find("DenseNet-121")
        target = hub.local_path(info)
        target.parent.mkdir(parents=True)
        data = hub_tree.files[info.model_path]
        (target.parent / (target.name + ".part")).write_bytes(data[: len(data) // 2])
        hub.download(info)
    assert sha256(target) == info.model_sha
    assert part_files(cache_dir) == []


def test_local_folder_missing_file_is_a_clear_error(hub_tree, cache_dir):
    (hub_tree.repo_dir / MNIST8).unlink()
    with Hub(str(hub_tree.repo_dir), cache_dir) as hub, pytest.raises(DownloadError, match="file not found"):
        hub.download(hub.manifest().find("MNIST", 8))
    assert cache_files(cache_dir) == []


# -- the onnx/models mirrors: Hugging Face first, then GitHub LFS ---------------------------------


@pytest.fixture
def zoo(hub_tree, tmp_path, monkeypatch):
    """onnx/models on a "GitHub" server (127.0.0.1) and its mirror on a "Hugging Face" server (127.0.0.2)."""
    gh_root, hf_root = tmp_path / "gh", tmp_path / "hf"
    shutil.copytree(hub_tree.repo_dir, gh_root / "onnx/models/main")
    shutil.copytree(hub_tree.repo_dir, hf_root / "onnxmodelzoo/legacy_models/main")
    gh, hf = start_server(gh_root), start_server(hf_root, host="127.0.0.2")
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", gh.url + "/raw")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", gh.url + "/lfs")
    monkeypatch.setenv("HF_ENDPOINT", hf.url)
    yield gh, hf, hf_root / "onnxmodelzoo/legacy_models/main"
    gh.stop()
    hf.stop()


def _zoo_download(cache_dir: Path, name: str = "MNIST", opset: int = 8) -> Path:
    with Hub("onnx/models:main", cache_dir) as hub:
        info = hub.manifest().find(name, opset)
        path = hub.download(info)
    assert sha256(path) == info.model_sha
    return path


def test_zoo_files_come_from_the_hf_mirror_first(zoo, cache_dir):
    gh, hf, _ = zoo
    _zoo_download(cache_dir)
    assert len(hf.hits_for(MNIST8)) == 1
    assert gh.hits_for(MNIST8) == []
    assert hf.hits_for(MNIST8)[0].path == f"/onnxmodelzoo/legacy_models/resolve/main/{MNIST8}"


def test_zoo_mirror_404_falls_through_to_github_lfs(zoo, cache_dir):
    gh, hf, hf_repo = zoo
    (hf_repo / MNIST8).unlink()
    _zoo_download(cache_dir)
    assert [h.status for h in hf.hits_for(MNIST8)] == [404]
    assert [h.status for h in gh.hits_for(MNIST8)] == [200]


def test_zoo_mirror_wrong_bytes_falls_through_to_github_lfs(zoo, cache_dir):
    gh, hf, _ = zoo
    hf.add_fault(MNIST8, Fault("wrong_bytes", times=-1))
    _zoo_download(cache_dir)
    assert len(hf.hits_for(MNIST8)) == 2  # one clean retry, then the next location
    assert [h.status for h in gh.hits_for(MNIST8)] == [200]
    assert part_files(cache_dir) == []


def test_zoo_all_locations_failing_lists_every_url_and_reason(zoo, cache_dir, tmp_path):
    gh, hf, hf_repo = zoo
    (hf_repo / MNIST8).unlink()
    gh.add_fault(MNIST8, Fault("lfs_pointer", times=-1))
    with OutsideGuard(tmp_path, cache_dir) as guard, pytest.raises(DownloadError) as info:
        _zoo_download(cache_dir)
    message = str(info.value)
    assert f"{hf.url}/onnxmodelzoo/legacy_models/resolve/main/{MNIST8}: HTTP 404" in message
    assert f"{gh.url}/lfs/onnx/models/main/{MNIST8}: served a Git LFS pointer" in message
    assert "tried 2 location(s)" in message
    assert cache_files(cache_dir) == []
    assert guard.changes() == []


# -- tokens ----------------------------------------------------------------------------------------


def _auth(hits) -> set[str | None]:
    return {h.headers.get("authorization") for h in hits}


def test_zoo_tokens_go_only_to_their_own_hosts(zoo, cache_dir, monkeypatch):
    gh, hf, hf_repo = zoo
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    (hf_repo / MNIST8).unlink()  # so the download touches both hosts
    _zoo_download(cache_dir)
    assert _auth(gh.hits) == {f"Bearer {GH_TOKEN}"}  # manifest (raw) and file (LFS)
    assert _auth(hf.hits) == {f"Bearer {HF_TOKEN}"}
    assert len(gh.hits) == 2 and len(hf.hits) == 1


def test_hf_spec_sends_only_hf_token(hub_tree, cache_dir, monkeypatch, tmp_path):
    """An hf: repo is read through the Hub's API (a listing, then its manifest at that commit): every request
    to the Hub carries HF_TOKEN, none carries GITHUB_TOKEN, and the CDN (another origin) gets no token."""
    from tests.support.hfhub import FakeHub, FakeRepo

    files = {str(p.relative_to(hub_tree.repo_dir)): p.read_bytes() for p in hub_tree.repo_dir.rglob("*") if p.is_file()}
    hf = FakeHub()
    hf.valid_tokens.add(HF_TOKEN)
    hf.add(FakeRepo("org/repo", files))
    try:
        monkeypatch.setenv("HF_ENDPOINT", hf.url)
        monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
        monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
        with Hub("hf:org/repo", cache_dir) as hub:
            hub.download(hub.manifest().find("MNIST", 7))
    finally:
        hf.stop()
    assert _auth(hf.hits_on("hub")) == {f"Bearer {HF_TOKEN}"} and hf.hits_on("hub", "/resolve/")
    assert hf.cdn_violations == [] and _auth(hf.hits_on("cdn")) <= {None}


def test_http_spec_sends_no_token_even_to_a_github_configured_host(server, cache_dir, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    with Hub(server.url + "/raw/acme/models/main/", cache_dir) as hub:
        hub.download(hub.manifest().find("MNIST", 7))
    assert _auth(server.hits) == {None}


@pytest.mark.parametrize("other_host", ["127.0.0.3", "127.0.0.1"])  # another host; the same host, another port
def test_token_does_not_follow_a_redirect_to_another_origin(server, hub_tree, cache_dir, monkeypatch, other_host):
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    other = start_server(hub_tree.root, host=other_host)
    try:
        server.add_fault(MNIST8, Fault("redirect", location=f"{other.url}/lfs/acme/models/main/{MNIST8}"))
        with Hub("acme/models:main", cache_dir) as hub:
            info = hub.manifest().find("MNIST", 8)
            path = hub.download(info)
    finally:
        other.stop()
    assert sha256(path) == info.model_sha
    assert _auth(server.hits) == {f"Bearer {GH_TOKEN}"}  # the GitHub host itself gets it
    assert [h.status for h in other.hits] == [200]
    assert _auth(other.hits) == {None}  # the redirect target never does


def test_token_follows_a_redirect_back_to_its_own_host_only(server, hub_tree, cache_dir, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    other = start_server(hub_tree.root, host="127.0.0.3")
    try:
        # GitHub host -> other host -> back to the GitHub host (a different path)
        server.add_fault("/lfs/acme/models/main/" + MNIST8, Fault("redirect", location=f"{other.url}/bounce"))
        other.add_fault("/bounce", Fault("redirect", location=f"{server.url}/media/acme/models/main/{MNIST8}"))
        with Hub("acme/models:main", cache_dir) as hub:
            hub.download(hub.manifest().find("MNIST", 8))
    finally:
        other.stop()
    assert _auth(other.hits) == {None}
    assert _auth(server.hits_for("/media/")) == {f"Bearer {GH_TOKEN}"}


def test_tokens_never_in_repr_or_str(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    for spec in ("onnx/models", "hf:org/repo", "acme/x:dev"):
        s = parse_repo_spec(spec)
        for text in (repr(s), str(s), repr(s.locations)):
            assert GH_TOKEN not in text and HF_TOKEN not in text


def test_credentials_in_an_http_spec_go_only_to_their_origin_and_are_never_shown(server, hub_tree, cache_dir):
    secret = "s3cret-PASSWORD"
    spec = server.url.replace("http://", f"http://alice:{secret}@") + "/raw/acme/models/main/"
    other = start_server(hub_tree.root, host="127.0.0.3")
    try:
        server.add_fault(MNIST8, Fault("redirect", location=f"{other.url}/lfs/acme/models/main/{MNIST8}"))
        with Hub(spec, cache_dir) as hub:
            assert secret not in repr(hub.source) and "alice" not in hub.source.spec
            assert hub.source.spec == server.url + "/raw/acme/models/main/"
            info = hub.manifest().find("MNIST", 8)
            hub.download(info)
            server.add_fault(MNIST8.replace("8", "7"), Fault("status", times=-1, status=403))
            with pytest.raises(DownloadError) as failed:
                hub.download(hub.manifest().find("MNIST", 7))
    finally:
        other.stop()
    assert secret not in str(failed.value)
    assert _auth(server.hits) == {"Basic YWxpY2U6czNjcmV0LVBBU1NXT1JE"}  # alice:s3cret-PASSWORD, to its origin
    assert _auth(other.hits) == {None}  # not after a redirect to another host
    with pytest.raises(RepoSpecError) as bad:
        parse_repo_spec(f"http://alice:{secret}@[::1/")
    assert secret not in str(bad.value)


def test_credentials_in_mirror_urls_from_the_environment_are_never_shown(server, cache_dir, monkeypatch):
    secret = "mirror-PASS"
    with_creds = server.url.replace("http://", f"http://svc:{secret}@")
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", with_creds + "/raw")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", with_creds + "/lfs")
    monkeypatch.setenv("HF_ENDPOINT", with_creds)
    for spec in ("acme/models:main", "onnx/models", "hf:org/repo"):
        s = parse_repo_spec(spec)
        assert secret not in repr(s) and secret not in s.manifest_url and secret not in " ".join(s.file_urls("m"))
    server.add_fault("mnist-7.onnx", Fault("status", times=-1, status=403))
    with Hub(REPO_ACME, cache_dir) as hub:
        manifest = hub.manifest()
        with pytest.raises(DownloadError) as failed:
            hub.download(manifest.find("MNIST", 7))
    assert secret not in str(failed.value)
    assert _auth(server.hits) == {"Basic c3ZjOm1pcnJvci1QQVNT"}  # svc:mirror-PASS
    monkeypatch.setenv("HF_ENDPOINT", f"http://svc:{secret}@[::1")
    with pytest.raises(SettingsError, match="HF_ENDPOINT") as bad:
        parse_repo_spec("hf:org/repo")
    assert secret not in str(bad.value)


REPO_ACME = "acme/models:main"
