"""``hub.load(..., repo="hf:owner/repo")`` on a repo without a manifest returns the model with its weights."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def test_a_first_load_in_a_fresh_script_gets_the_weights_through_the_helper(fake: HubWithRepo, cache_dir: Path) -> None:
    """In a script that has not imported onnx the download runs in a helper process (onnxhub_tui/prefetch.py):
    the external data comes with it, and the model the script gets holds its weights."""
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format='%(name)s %(message)s')\n"
        "from onnxhub_tui import hub\n"
        "hub.set_dir(sys.argv[1])\n"
        f"model = hub.load('onnx/model', repo={REPO!r}, silent=True)\n"
        "assert all(not t.external_data for t in model.graph.initializer)\n"
        "import hashlib; print(hashlib.sha256(model.SerializeToString()).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(cache_dir)], capture_output=True, text=True, timeout=120,
                         env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert "came from a helper process" in out.stderr
    cached = hub.load("onnx/model", repo=REPO, silent=True)  # in this process, from the cache the helper filled
    assert out.stdout.strip() == hashlib.sha256(cached.SerializeToString()).hexdigest()
