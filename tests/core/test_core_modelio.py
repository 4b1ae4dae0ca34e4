"""core/modelio: a model parsed from a download's bytes as they stream (ModelStream) is the model onnx.load
reads from the file, whatever the chunking; bytes that are not the file's, in order, are never used."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.core import modelio
from onnxhub_tui.core.errors import InspectError
from onnxhub_tui.core.modelio import ModelStream, load_model
from tests.support.hubtree import tiny_model

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def _feed(stream: ModelStream, data: bytes, seed: int, start: int = 0) -> None:
    rng = random.Random(seed)
    offset = start
    while offset < len(data):
        n = rng.choice([1, 3, 17, 200, 4096, 65536])
        stream.feed(offset, data[offset : offset + n])
        offset += n


@pytest.fixture(params=["tiny", "squeezenet"])
def model_file(request, tmp_path) -> Path:
    path = tmp_path / "m.onnx"
    if request.param == "tiny":
        path.write_bytes(tiny_model(13, width=64).SerializeToString())
    else:
        path.write_bytes((LIGHT / "light_squeezenet.onnx").read_bytes())
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_streamed_model_is_the_file_parsed_whole(model_file, seed):
    data = model_file.read_bytes()
    with ModelStream() as stream:
        _feed(stream, data, seed)
        model = stream.finish(model_file)
    assert model.SerializeToString() == onnx.load(str(model_file)).SerializeToString()


def test_a_field_too_big_to_hold_is_read_from_the_file_with_what_follows(model_file, monkeypatch):
    monkeypatch.setattr(modelio, "HOLD", 100)  # every initializer is "too big": the stream stops at the first
    data = model_file.read_bytes()
    with ModelStream() as stream:
        _feed(stream, data, 5)
        model = stream.finish(model_file)
    assert stream._stopped and not stream._failed  # it did stop, and continued from the file
    assert model.SerializeToString() == onnx.load(str(model_file)).SerializeToString()


def test_a_restarted_download_is_not_mixed_with_the_first_attempt(tmp_path):
    """A download that resets (a wrong hash, a server ignoring Range) writes from 0 again: what the stream
    parsed of the first attempt must not end up in the model."""
    first = tiny_model(13, width=32, seed=1).SerializeToString()
    second = tiny_model(13, width=32, seed=2).SerializeToString()
    assert len(first) == len(second) and first != second
    path = tmp_path / "m.onnx"
    path.write_bytes(second)
    with ModelStream() as stream:
        _feed(stream, first, 1)
        _feed(stream, second, 2)  # offset 0 again
        model = stream.finish(path)
    assert model.SerializeToString() == second


def test_a_resumed_download_reads_the_file(model_file):
    """Fed from the middle (a resume of a part file), the stream has not seen the start: the file decides."""
    data = model_file.read_bytes()
    with ModelStream() as stream:
        _feed(stream, data, 1, start=len(data) // 2)
        model = stream.finish(model_file)
    assert model.SerializeToString() == data


def test_a_damaged_file_is_an_inspect_error_even_when_streamed(tmp_path):
    data = tiny_model(13, width=32).SerializeToString()[:-7]
    path = tmp_path / "cut.onnx"
    path.write_bytes(data)
    with ModelStream() as stream, pytest.raises(InspectError):
        _feed(stream, data, 1)
        stream.finish(path)


def test_load_model_hashes_the_file_in_the_same_pass(model_file):
    model, digest = load_model(model_file)
    assert digest == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert model.SerializeToString() == model_file.read_bytes()


def test_a_stream_closed_early_stops_its_thread(model_file):
    stream = ModelStream()
    stream.feed(0, model_file.read_bytes()[:100])
    stream.close()
    assert stream._thread is None


@pytest.mark.parametrize("seed", [1, 2])
def test_big_fields_gathered_in_pieces_make_the_same_model(model_file, monkeypatch, seed):
    monkeypatch.setattr(modelio, "COLLECT", 64)  # every tensor goes through the gather-and-join path
    data = model_file.read_bytes()
    with ModelStream() as stream:
        _feed(stream, data, seed)
        model = stream.finish(model_file)
    assert not stream._stopped
    assert model.SerializeToString() == onnx.load(str(model_file)).SerializeToString()
