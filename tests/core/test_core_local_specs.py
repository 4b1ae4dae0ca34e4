"""Local repo specs as users write them (issue 10 item 13): each is read as the folder it names, or
refused with the way to write it; never the current folder, ``/hub``, or GitHub's ``owner/repo``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import HubError, RepoSpecError
from onnxhub_tui.core.sources import parse_repo_spec
from tests.conftest import subprocess_env

BIN = Path(sys.executable).with_name("onnxhub-tui")


@pytest.fixture
def in_hub_parent(hub_tree, tmp_path, monkeypatch) -> Path:
    """The current folder holds ``hub/`` (a copy of the test hub's repo: manifest and models)."""
    work = tmp_path / "work"
    shutil.copytree(hub_tree.repo_dir, work / "hub")
    monkeypatch.chdir(work)
    return work / "hub"


@pytest.mark.parametrize("spec", ["file://hub", "file://./hub", "file://hub/ONNX_HUB_MANIFEST.json"])
def test_a_file_url_without_its_third_slash_is_refused_with_the_way_to_write_it(in_hub_parent, spec):
    with pytest.raises(RepoSpecError) as refused:
        parse_repo_spec(spec)
    assert "file:///" in str(refused.value) and "./hub" in str(refused.value)


@pytest.mark.parametrize("spec", ["hub/ONNX_HUB_MANIFEST.json", "hub", "hub/", "./hub", "file://localhost{abs}",
                                  "file://{abs}", "{abs}/ONNX_HUB_MANIFEST.json"])
def test_a_spec_naming_a_local_path_is_that_folder(in_hub_parent, spec, cache_dir):
    source = parse_repo_spec(spec.format(abs=in_hub_parent))
    assert (source.kind, source.spec) == ("local", str(in_hub_parent))
    with Hub(source, cache_dir) as hub:
        assert len(hub.manifest().entries) > 3


def test_a_manifest_path_that_does_not_exist_is_still_local(in_hub_parent):
    source = parse_repo_spec("nothere/ONNX_HUB_MANIFEST.json")
    assert (source.kind, source.spec) == ("local", str(in_hub_parent.parent / "nothere"))


def test_a_model_file_is_not_a_hub(in_hub_parent):
    model = next(in_hub_parent.rglob("*.onnx"))
    for spec in (str(model), str(model.relative_to(in_hub_parent.parent))):
        with pytest.raises(RepoSpecError) as refused:
            parse_repo_spec(spec)
        assert "is a file, not a hub: a hub is a folder holding ONNX_HUB_MANIFEST.json" in str(refused.value)
        assert "Not a directory" not in str(refused.value)


def test_a_github_spec_that_is_missing_says_how_it_was_read(server, cache_dir):
    with Hub("hubs/mine", cache_dir) as hub, pytest.raises(HubError) as missing:
        hub.manifest()
    assert "read as GitHub owner/repo:ref; a local folder is written ./hubs/mine" in str(missing.value)


def test_the_cli_says_which_folder_it_read(in_hub_parent, cache_dir):
    env = subprocess_env(None, cache_dir)
    run = subprocess.run([str(BIN), "list", "--repo", "hub/ONNX_HUB_MANIFEST.json"], env=env, capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=in_hub_parent.parent)
    assert run.returncode == 0, run.stderr
    assert f"models in {in_hub_parent}" in run.stderr
    bad = subprocess.run([str(BIN), "list", "--repo", "file://hub"], env=env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL, cwd=in_hub_parent.parent)
    assert bad.returncode == 2 and "file:///absolute/path/to/hub" in bad.stderr and "Traceback" not in bad.stderr
