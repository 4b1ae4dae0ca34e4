"""core/modelio: a model merged field by field from its file is the model onnx.load reads, whatever the batch
size; it is hashed in the same pass; a damaged file is an InspectError."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.core import modelio
from onnxhub_tui.core.errors import InspectError
from onnxhub_tui.core.modelio import load_model
from tests.support.hubtree import tiny_model

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


@pytest.fixture(params=["tiny", "squeezenet"])
def model_file(request, tmp_path) -> Path:
    path = tmp_path / "m.onnx"
    if request.param == "tiny":
        path.write_bytes(tiny_model(13, width=64).SerializeToString())
    else:
        path.write_bytes((LIGHT / "light_squeezenet.onnx").read_bytes())
    return path


@pytest.mark.parametrize("batch", [1, 100, modelio.BATCH])
def test_a_model_merged_field_by_field_is_the_file_onnx_reads(model_file, monkeypatch, batch):
    monkeypatch.setattr(modelio, "BATCH", batch)  # 1: every field merged on its own
    model, digest = load_model(model_file, digest=False)
    assert digest is None
    assert model.SerializeToString() == onnx.load(str(model_file)).SerializeToString()


def test_load_model_hashes_the_file_in_the_same_pass(model_file):
    model, digest = load_model(model_file)
    assert digest == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert model.SerializeToString() == model_file.read_bytes()


def test_a_damaged_file_is_an_inspect_error(tmp_path):
    path = tmp_path / "cut.onnx"
    path.write_bytes(tiny_model(13, width=32).SerializeToString()[:-7])
    with pytest.raises(InspectError):
        load_model(path)


def test_an_empty_file_is_an_empty_model(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    model, digest = load_model(path)
    assert model.SerializeToString() == b"" and digest == hashlib.sha256(b"").hexdigest()
