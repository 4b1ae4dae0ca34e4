"""Reading model files that are damaged: summarize (details pane), load_model (hub.load) and read_header
(manifest build) give a result or an InspectError (a HubError), never another exception."""

from __future__ import annotations

import os
import random
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.core.build import read_header
from onnxhub_tui.core.errors import HubError, InspectError
from onnxhub_tui.core.inspect import summarize
from onnxhub_tui.core.modelio import load_model
from tests.support.hubtree import tiny_model

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
READERS = {"summarize": summarize, "load_model": load_model, "read_header": read_header}


def _mutations(seed: int, count: int):
    rng = random.Random(seed)
    sources = [tiny_model(13, width=8).SerializeToString(), (LIGHT / "light_squeezenet.onnx").read_bytes()]
    for _ in range(count):
        data = bytearray(rng.choice(sources))
        op = rng.randrange(5)
        if op == 0:
            data = data[: rng.randrange(len(data))]
        elif op == 1:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 2:
            data = bytearray(rng.randbytes(rng.randrange(0, 300)))
        elif op == 3:
            data += rng.randbytes(rng.randrange(1, 50))
        else:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randrange(1, 10))
        yield bytes(data)


def test_a_truncated_model_is_an_inspect_error_not_a_buffer_error(tmp_path):
    """Found by this suite: the error's traceback held slices of the memory map, so closing the map raised
    BufferError, which replaced the InspectError."""
    path = tmp_path / "cut.onnx"
    path.write_bytes((LIGHT / "light_squeezenet.onnx").read_bytes()[:5000])
    with pytest.raises(InspectError):
        summarize(path)


@pytest.mark.parametrize("name", sorted(READERS))
def test_damaged_models_never_raise_anything_but_a_hub_error(tmp_path, name):
    read = READERS[name]
    path = tmp_path / "m.onnx"
    for i, data in enumerate(_mutations(seed=7, count=int(os.environ.get("ONNXHUB_FUZZ_CASES", "300")))):
        path.write_bytes(data)
        try:
            read(path)
        except HubError:
            pass
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{name} raised {type(exc).__name__}: {exc} on mutation {i} ({len(data)} bytes)")
