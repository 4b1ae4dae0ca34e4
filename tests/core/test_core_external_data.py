"""External data locations read from a model's wire format, and the ``hf/`` cache layout.

Field numbers are onnx.proto's (checked here against the installed onnx's descriptors); "external"
means ``data_location == EXTERNAL``, as ``onnx.external_data_helper.uses_external_data`` has it.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx.external_data_helper import set_external_data

from onnxhub_tui.core import external_data
from onnxhub_tui.core.errors import InspectError, UnsafePathError
from onnxhub_tui.core.external_data import data_locations, external_tensors, hf_file_path, hf_repo_dir
from tests.support.hfmodels import add_model, nested_model, save_with_data, _weights


def test_field_numbers_are_onnx_protos() -> None:
    def numbers(message: type, *names: str) -> tuple[int, ...]:
        by_name = {f.name: f.number for f in message.DESCRIPTOR.fields}
        return tuple(by_name[n] for n in names)

    assert numbers(onnx.ModelProto, "graph", "training_info", "functions") == (7, 20, 25)
    assert numbers(onnx.GraphProto, "node", "initializer", "sparse_initializer") == (1, 5, 15)
    assert numbers(onnx.NodeProto, "attribute") == (5,) and numbers(onnx.FunctionProto, "node") == (7,)
    assert numbers(onnx.AttributeProto, "t", "g", "tensors", "graphs", "sparse_tensor", "sparse_tensors") == (
        5, 6, 10, 11, 22, 23)
    assert numbers(onnx.TensorProto, "name", "external_data", "data_location") == (8, 13, 14)
    assert numbers(onnx.SparseTensorProto, "values", "indices") == (1, 2)
    assert numbers(onnx.TrainingInfoProto, "initialization", "algorithm") == (1, 2)
    assert numbers(onnx.StringStringEntryProto, "key", "value") == (1, 2)


def test_initializers_attributes_and_subgraphs(tmp_path: Path) -> None:
    locations = {"W": "w.bin", "C": "sub/c.bin", "B": "sub/b.bin", "B2": "b2.bin"}
    save_with_data(nested_model(), tmp_path, "m.onnx", locations)
    found = {t.name: t for t in external_tensors(tmp_path / "m.onnx")}
    assert set(found) == {"W", "C", "B", "B2"}  # initializer, Constant attribute, both If branches
    assert found["C"].location == "sub/c.bin" and found["C"].offset == 0 and found["C"].length == 16
    assert sorted(data_locations(tmp_path / "m.onnx")) == ["b2.bin", "sub/b.bin", "sub/c.bin", "w.bin"]
    onnx.checker.check_model(str(tmp_path / "m.onnx"))  # the model is real: onnx resolves the same files


def test_one_file_for_many_tensors_is_listed_once(tmp_path: Path) -> None:
    model = add_model([_weights("A", 8, 1.0), _weights("B", 8, 2.0)], 8)
    save_with_data(model, tmp_path, "m.onnx", {"A": "model.onnx_data", "B": "./model.onnx_data"})
    assert data_locations(tmp_path / "m.onnx") == ["model.onnx_data"]
    assert data_locations(_inline(tmp_path)) == []


def _inline(tmp_path: Path) -> Path:
    path = tmp_path / "inline.onnx"
    onnx.save(add_model([_weights("A", 8, 1.0)], 8), str(path))
    return path


def test_training_info_and_functions_are_searched(tmp_path: Path) -> None:
    model = add_model([_weights("A", 8, 1.0)], 8)
    init_graph = onnx.helper.make_graph([], "init", [], [], initializer=[_weights("T", 8, 1.0)])
    set_external_data(init_graph.initializer[0], "train.bin")
    init_graph.initializer[0].ClearField("raw_data")
    model.training_info.add().initialization.CopyFrom(init_graph)
    const = onnx.helper.make_node("Constant", [], ["k"], value=_weights("F", 8, 1.0))
    set_external_data(const.attribute[0].t, "func.bin")
    const.attribute[0].t.ClearField("raw_data")
    model.functions.add().CopyFrom(onnx.helper.make_function("local", "f", [], ["k"], [const], []))
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    assert sorted(data_locations(path)) == ["func.bin", "train.bin"]


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/passwd", "a/../../b", "C:\\x.bin", "a\\b.bin"])
def test_locations_outside_the_folder_are_refused(tmp_path: Path, location: str) -> None:
    model = add_model([_weights("A", 8, 1.0)], 8)
    set_external_data(model.graph.initializer[0], location)
    model.graph.initializer[0].ClearField("raw_data")
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(UnsafePathError, match="Refusing the external data of tensor 'A'"):
        data_locations(path)


def test_external_without_location_and_not_onnx(tmp_path: Path) -> None:
    model = add_model([_weights("A", 8, 1.0)], 8)
    model.graph.initializer[0].data_location = onnx.TensorProto.EXTERNAL
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(InspectError, match="names no location"):
        data_locations(tmp_path / "m.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"<html>not a model</html>")
    with pytest.raises(InspectError):
        data_locations(tmp_path / "junk.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(InspectError, match="Cannot read empty.onnx"):
        data_locations(tmp_path / "empty.onnx")


def test_hf_layout_keeps_repo_paths_under_the_commit(tmp_path: Path) -> None:
    commit = "a" * 40
    path = hf_file_path(tmp_path, repo_id="onnx-community/gpt2", commit=commit, path="onnx/model.onnx")
    assert path == tmp_path / "hf" / "onnx-community" / "gpt2" / commit / "onnx" / "model.onnx"
    assert hf_repo_dir(tmp_path, "onnx-community/gpt2") == tmp_path / external_data.HF_DIR / "onnx-community" / "gpt2"
    for bad in ("../x.onnx", "/abs.onnx", "a/../../x"):
        with pytest.raises(UnsafePathError):
            hf_file_path(tmp_path, repo_id="o/r", commit=commit, path=bad)
    with pytest.raises(UnsafePathError):
        hf_file_path(tmp_path, repo_id="o/r", commit="main", path="m.onnx")
    with pytest.raises(UnsafePathError):
        hf_repo_dir(tmp_path, "../r")
