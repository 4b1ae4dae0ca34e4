"""The drop-in API, covering what onnx 1.20's own hub_test.py covered, against a loopback hub."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import onnx
import pytest

from onnxhub_tui import hub
from onnxhub_tui.core.errors import HubError, ModelNotFoundError, UntrustedRepoError
from tests.support.demo_guard import demo_folder  # noqa: F401 - the session-built demo hub (a fixture)

REPO = "acme/models:main"


def test_listing_models_by_name_and_tags(server, cache_dir):
    by_name_and_tag = hub.list_models(REPO, model="mnist", tags=["vision"])
    by_tag = hub.list_models(REPO, tags=["vision"])
    everything = hub.list_models(REPO)
    assert len(by_name_and_tag) == 3
    assert len(by_tag) > len(by_name_and_tag)
    assert len(everything) > len(by_tag)
    assert {m.model for m in hub.list_models(REPO, tags=["TEXT"])} == {"Texty"}


def test_get_model_info_picks_highest_opset_case_insensitively(server, cache_dir):
    assert hub.get_model_info("mnist", REPO).opset == 12
    assert hub.get_model_info("MNIST", REPO, opset=8).opset == 8
    info = hub.get_model_info("mnist", REPO, opset=7)
    assert str(info).startswith("ModelInfo(model=MNIST, opset=7, path=validated/vision/")
    assert "metadata={" in repr(info)


def test_wrong_opset_is_an_assertion_error_listing_valid_ones(server, cache_dir):
    with pytest.raises(AssertionError, match=r"Valid opsets: \[7, 8, 12\]"):
        hub.load("mnist", REPO, opset=-1, silent=True)
    with pytest.raises(ModelNotFoundError):
        hub.get_model_info("no-such-model", REPO)


def test_load_puts_the_file_at_onnx_hub_path(server, hub_tree, cache_dir):
    model = hub.load("MNIST", REPO, opset=8, silent=True)
    assert isinstance(model, onnx.ModelProto)
    entry = hub_tree.entry("MNIST", 8)
    expected = cache_dir / "validated/vision/classification/mnist/model" / (
        entry["metadata"]["model_sha"] + "_mnist-8.onnx")
    assert expected.is_file()
    assert model == onnx.load(str(expected))
    assert not list(cache_dir.rglob("*.part*"))


def test_custom_cache_and_force_reload(server, tmp_path):
    custom = tmp_path / "custom"
    hub.set_dir(str(custom))
    assert hub.get_dir() == str(custom)
    hub.load("ResNet50", REPO, silent=True)
    files = glob.glob(os.path.join(custom, "**", "*.onnx"), recursive=True)
    assert len(files) == 1
    before = len(server.hits_for("/lfs/"))
    hub.load("ResNet50", REPO, silent=True)  # cached: no download
    assert len(server.hits_for("/lfs/")) == before
    hub.load("ResNet50", REPO, silent=True, force_reload=True)
    assert len(server.hits_for("/lfs/")) == before + 1


def test_manifest_not_found(server, cache_dir):
    with pytest.raises(AssertionError, match="Could not find manifest"):
        hub.load("MNIST", "acme/models:unknown", silent=True)


def test_untrusted_repo_without_a_terminal_says_to_pass_silent(server, cache_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", open(os.devnull))
    with pytest.raises(UntrustedRepoError, match="silent=True"):
        hub.load("MNIST", REPO)
    assert not list(cache_dir.rglob("*.onnx"))


def test_download_model_with_test_data(server, cache_dir):
    directory = hub.download_model_with_test_data("mnist", REPO, silent=True)
    assert isinstance(directory, str)
    files = os.listdir(directory)
    assert "model.onnx" in files
    assert "test_data_set_0" in files
    assert Path(directory).parent.name.endswith("_mnist-12")


def test_composite_model_with_preprocessing(server, cache_dir):
    model = hub.load_composite_model("TinyNet", "Tiny-preproc", REPO, REPO, silent=True)
    assert isinstance(model, onnx.ModelProto)
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["raw"]
    assert {n.op_type for n in model.graph.node} >= {"Mul", "MatMul", "Relu"}


def test_tampered_cached_file_is_rejected_like_onnx_hub(server, cache_dir):
    hub.load("MNIST", REPO, opset=7, silent=True)
    cached = next(cache_dir.rglob("*_mnist-7.onnx"))
    cached.write_bytes(cached.read_bytes()[:-1] + b"\x00")
    with pytest.raises(HubError, match="force_reload"):
        hub.load("MNIST", REPO, opset=7, silent=True)
    assert hub.load("MNIST", REPO, opset=7, silent=True, force_reload=True) is not None


def test_repo_demo_is_the_embedded_demo_hub_trusted_and_on_loopback(demo_folder, cache_dir, monkeypatch):
    monkeypatch.setenv("ONNXHUB_DEMO_DIR", str(demo_folder))
    monkeypatch.setenv("ONNXHUB_OFFLINE", "1")  # the demo never leaves the machine: allowed offline too
    names = {m.model for m in hub.list_models(repo="demo")}
    assert {"squeezenet", "Conv2d"} <= names
    model = hub.load("squeezenet", repo="demo")  # no silent=True: the demo is trusted, as the CLI's --demo
    assert isinstance(model, onnx.ModelProto)
    folder = hub.download_model_with_test_data("conv2d", repo="demo")
    assert folder is not None and (Path(folder) / "model.onnx").is_file()
    assert glob.glob(os.path.join(folder, "test_data_set_*"))
