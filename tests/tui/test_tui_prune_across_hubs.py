"""Issue 9's "done when": two hubs share folders in one cache; the TUI opened on hub B selects with `p`
exactly what `onnxhub-tui cache prune --repo B --dry-run` lists, and `x` `y` leave hub A's verified files.

Before the redesign the cache screen called ``prunable`` without the hub's scope, so A's models in the
folders B also uses read "orphan" on B and were deleted."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.tui.screens.cache import CacheScreen
from onnxhub_tui.tui.screens.modals import ConfirmScreen
from tests.conftest import subprocess_env
from tests.support.hubtree import tiny_model
from tests.support.tui import loaded, make_app, until
from tests.tui.test_tui_cache import settle

pytestmark = pytest.mark.anyio

A = "acme/models:main"
B = "acme/other:main"
FOLDER = "validated/vision/classification/mnist/model"
_SHA = re.compile(r"^([0-9a-f]{8})[0-9a-f]{56}_")


def write_hub_b(hub_tree) -> dict:  # noqa: ANN001 - tests.support.hubtree.HubTree
    """Hub B: A's MNIST opset 12 (the same file) and a model of its own, both in A's mnist folder."""
    repo = hub_tree.root / "acme" / "other" / "main"
    shared = copy.deepcopy(hub_tree.entry("MNIST", 12))
    data = tiny_model(13, name="mnistb", seed=42).SerializeToString()
    own = copy.deepcopy(hub_tree.entry("MNIST", 8))
    own.update(model="MNIST-B", model_path=f"{FOLDER}/mnist-b.onnx", opset_version=13)
    own["metadata"].update(model_sha=hashlib.sha256(data).hexdigest(), model_bytes=len(data))
    for key in ("model_with_data_path", "model_with_data_sha", "model_with_data_bytes"):
        own["metadata"].pop(key)
    for entry in (shared, own):
        target = repo / entry["model_path"]
        target.parent.mkdir(parents=True, exist_ok=True)
    (repo / own["model_path"]).write_bytes(data)
    (repo / shared["model_path"]).write_bytes((hub_tree.repo_dir / shared["model_path"]).read_bytes())
    (repo / "ONNX_HUB_MANIFEST.json").write_text(json.dumps([shared, own]))
    return own


def shown(rel: str) -> str:
    """A cache path as `cache prune` lists it: onnx.hub's sha prefix cut to its first 8 digits."""
    folder, _, name = rel.rpartition("/")
    name = _SHA.sub(r"\1…_", name)
    return f"{folder}/{name}" if folder else name


async def test_prune_on_hub_b_selects_what_the_cli_would_and_keeps_hub_a(server, hub_tree, cache_dir, tui):
    write_hub_b(hub_tree)
    with Hub(A, cache_dir) as hub_a:  # A's verified models, in the folder B shares
        entries = {(e.model, e.opset): e for e in hub_a.manifest().entries}
        kept = {key: hub_a.download(entries[key]) for key in (("MNIST", 7), ("MNIST", 8))}
    with Hub(B, cache_dir) as hub_b:
        own = next(e for e in hub_b.manifest().entries if e.model == "MNIST-B")
        hub_b.download(own)
        leftover = hub_b.local_path(next(e for e in hub_b.manifest().entries if e.model == "MNIST"))
    part = leftover.with_name(leftover.name + cache.PART)  # an abandoned download of B's
    part.write_bytes(b"\x08" * 50)
    orphan = cache_dir / FOLDER / ("1" * 64 + "_mnist-gone.onnx")  # named by no cached manifest
    orphan.write_bytes(b"a model no hub names any more")

    dry = subprocess.run([str(Path(sys.executable).parent / "onnxhub-tui"), "cache", "prune", "--repo", B, "--cache-dir", str(cache_dir), "--dry-run"],
                         env=subprocess_env(server, cache_dir, COLUMNS="200"), capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert dry.returncode == 0, dry.stderr
    cli = {line.split("  ")[-1] for line in dry.stdout.splitlines() if line.startswith("  ")}
    assert cli == {shown(f"{FOLDER}/{orphan.name}"), shown(f"{FOLDER}/{part.name}")}, (dry.stdout, dry.stderr)

    app = make_app(cache_dir, repo=B)
    async with tui(app, size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, CacheScreen)
        await settle(pilot, screen)
        await pilot.press("p")
        await pilot.pause()
        selected = {shown(f.rel) for f in screen.cache_list.selected_files()}
        assert selected == cli
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await settle(pilot, screen)
    assert not orphan.exists() and not part.exists()
    for key, path in kept.items():  # A's files are there, whole and verified
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entries[key].model_sha, key
