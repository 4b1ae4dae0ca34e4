"""Shared fixtures: a real hub tree, a loopback server for it, and an isolated cache."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from onnxhub_tui import hub
from tests.support.hubserver import RunningServer, start_server
from tests.support.hubtree import HubTree, build_hub_tree

SHARED_MANIFEST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "onnx-models-main.ONNX_HUB_MANIFEST.json"
REPO = "acme/models:main"

_ENV_KEYS = ("ONNX_HOME", "XDG_CACHE_HOME", "ONNXHUB_OFFLINE", "GITHUB_TOKEN", "HF_TOKEN", "HF_ENDPOINT",
             "ONNXHUB_GITHUB_RAW_URL", "ONNXHUB_GITHUB_LFS_URL", "ONNXHUB_LOCKS")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's cache, tokens or proxies; backoff is fast."""
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("ONNXHUB_BACKOFF", "0.01")
    monkeypatch.setenv("ONNXHUB_MAX_WAIT", "0.2")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    yield
    hub._hub_dir = None  # noqa: SLF001 - reset onnx.hub-style module state


@pytest.fixture(scope="session")
def hub_source_tree(tmp_path_factory: pytest.TempPathFactory) -> HubTree:
    return build_hub_tree(tmp_path_factory.mktemp("hub-src"))


@pytest.fixture
def hub_tree(hub_source_tree: HubTree, tmp_path: Path) -> HubTree:
    """A private copy, so a test may tamper with files or the manifest."""
    root = tmp_path / "hub"
    shutil.copytree(hub_source_tree.root, root)
    repo_dir = root / hub_source_tree.repo_dir.relative_to(hub_source_tree.root)
    return HubTree(root, repo_dir, copy.deepcopy(hub_source_tree.manifest), dict(hub_source_tree.files))


@pytest.fixture
def server(hub_tree: HubTree, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """The hub served on loopback with GitHub raw/LFS-style paths; the env points the GitHub source at it."""
    running = start_server(hub_tree.root)
    monkeypatch.setenv("ONNXHUB_GITHUB_RAW_URL", running.url + "/raw")
    monkeypatch.setenv("ONNXHUB_GITHUB_LFS_URL", running.url + "/lfs")
    monkeypatch.setenv("HF_ENDPOINT", running.url)
    yield running
    running.stop()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    hub.set_dir(str(path))
    return path


@pytest.fixture
def real_manifest() -> Path:
    if not SHARED_MANIFEST.is_file():
        pytest.skip(f"the real onnx/models manifest is not at {SHARED_MANIFEST} (../shared is absent)")
    return SHARED_MANIFEST


def subprocess_env(server: RunningServer | None, cache: Path, **extra: str) -> dict[str, str]:
    """Environment for a real `onnxhub-tui` subprocess: loopback hub, isolated cache, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(ONNX_HOME=str(cache.parent / "onnx-home"), NO_PROXY="127.0.0.1,localhost",
               ONNXHUB_BACKOFF="0.01", ONNXHUB_MAX_WAIT="0.2")
    if server is not None:
        env.update(ONNXHUB_GITHUB_RAW_URL=server.url + "/raw", ONNXHUB_GITHUB_LFS_URL=server.url + "/lfs",
                   HF_ENDPOINT=server.url)
    env.update(extra)
    return env
