"""``hub.load(..., repo="hf:owner/repo")`` on a repo without a manifest returns the model with its weights."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnx.reference
import pytest

from onnxhub_tui import hub
from onnxhub_tui.core.hf_api import HfRepoNotFoundError
from tests.support.hfenv import fake_hf_hub
from tests.support.hfhub import HubWithRepo

REPO = "hf:acme/onnx-models"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubWithRepo]:
    yield from fake_hf_hub(tmp_path, monkeypatch)


def test_load_returns_the_weights_from_external_data(fake: HubWithRepo, cache_dir: Path) -> None:
    model = hub.load("onnx/model", repo=REPO, silent=True)
    assert model is not None
    onnx.checker.check_model(model)
    assert all(not t.external_data for t in model.graph.initializer)  # the weights are in the proto
    (y,) = onnx.reference.ReferenceEvaluator(model).run(None, {"x": np.zeros(512, dtype=np.float32)})
    assert float(y[0]) == 3.0
    again = hub.load("ONNX/MODEL", repo=REPO, silent=True)  # cached now; names match case-insensitively
    assert again is not None and again.SerializeToString() == model.SerializeToString()


def test_list_models_and_info_from_the_listing(fake: HubWithRepo, cache_dir: Path) -> None:
    names = {m.model for m in hub.list_models(REPO)}
    assert names == {"onnx/model", "onnx/model_quantized", "tiny", "decoder/decoder_model"}
    assert hub.get_model_info("tiny", REPO).metadata["hf"]["lfs"] is False


def test_missing_repo_names_hf_token(fake: HubWithRepo, cache_dir: Path) -> None:
    with pytest.raises(HfRepoNotFoundError, match="HF_TOKEN"):
        hub.load("model", repo="hf:acme/nope", silent=True)
