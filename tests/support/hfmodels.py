"""Real ONNX models for the Hugging Face tests, built with onnx.helper and onnx.external_data_helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data, write_external_data_tensors


def _weights(name: str, n: int, value: float) -> TensorProto:
    return numpy_helper.from_array(np.full((n,), value, dtype=np.float32), name)


def add_model(initializers: list[TensorProto], n: int) -> onnx.ModelProto:
    """y = x + W1 + W2 + ...: every initializer is used, so check_model and a run see them all."""
    nodes, last = [], "x"
    for i, init in enumerate(initializers):
        out = "y" if i == len(initializers) - 1 else f"t{i}"
        nodes.append(helper.make_node("Add", [last, init.name], [out]))
        last = out
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])], initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def save_with_data(model: onnx.ModelProto, folder: Path, name: str, locations: dict[str, str]) -> None:
    """Save ``model`` as ``folder/name`` with each named tensor in its own external file (``locations``:
    tensor name -> location relative to the model's folder); tensors written in order, files appended."""
    for tensor in _all_tensors(model):
        if tensor.name in locations:
            target = folder / locations[tensor.name]
            target.parent.mkdir(parents=True, exist_ok=True)
            offset = target.stat().st_size if target.exists() else 0
            set_external_data(tensor, locations[tensor.name], offset=offset, length=len(tensor.raw_data))
            with open(target, "ab") as f:
                f.write(tensor.raw_data)
            tensor.ClearField("raw_data")
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / name))


def _all_tensors(model: onnx.ModelProto) -> list[TensorProto]:
    out = list(model.graph.initializer)
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                out.append(attr.t)
            if attr.HasField("g"):
                out.extend(attr.g.initializer)
    return out


def nested_model() -> onnx.ModelProto:
    """External tensors in three places: an initializer, a Constant node's attribute, an If branch."""
    n = 4
    w = _weights("W", n, 1.0)
    const = helper.make_node("Constant", [], ["c"], value=_weights("C", n, 2.0))

    def branch(name: str, init: str, value: float) -> onnx.GraphProto:
        return helper.make_graph([helper.make_node("Add", ["c", init], [f"{name}_out"])], name, [],
                                 [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [n])],
                                 initializer=[_weights(init, n, value)])

    cond = helper.make_node("Constant", [], ["cond"], value=helper.make_tensor("cv", TensorProto.BOOL, [], [True]))
    if_node = helper.make_node("If", ["cond"], ["z"], then_branch=branch("then", "B", 3.0),
                               else_branch=branch("else", "B2", 4.0))
    add = helper.make_node("Add", ["x", "W"], ["s"])
    out = helper.make_node("Add", ["s", "z"], ["y"])
    graph = helper.make_graph([const, cond, if_node, add, out], "nested",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])], initializer=[w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def repo_files(folder: Path) -> dict[str, bytes]:
    """A transformers.js/Optimum-like repo (paths relative to its root) with:
    - ``onnx/model.onnx``: weights in ``onnx/model.onnx_data`` and ``onnx/weights/extra.bin`` (a subfolder);
    - ``onnx/model_quantized.onnx``: all its weights inside (LFS by size);
    - ``tiny.onnx``: small enough to stay outside LFS (verified by its git blob SHA-1);
    - ``decoder/decoder_model.onnx`` with ``decoder/decoder_model.onnx.data`` (torch.onnx's name);
    - text files, so the listing spans several pages."""
    n = 512  # 2 KB a tensor: LFS in the fake hub (lfs_min 1 KB)
    save_with_data(add_model([_weights("W1", n, 1.0), _weights("W2", n, 2.0)], n), folder / "onnx", "model.onnx",
                   {"W1": "model.onnx_data", "W2": "weights/extra.bin"})
    onnx.save(add_model([_weights("Q", n, 0.5)], n), str(folder / "onnx" / "model_quantized.onnx"))
    onnx.save(add_model([_weights("T", 2, 0.5)], 2), str(folder / "tiny.onnx"))
    save_with_data(add_model([_weights("D", n, 1.5)], n), folder / "decoder", "decoder_model.onnx",
                   {"D": "decoder_model.onnx.data"})
    (folder / "config.json").write_text('{"model_type": "test"}\n')
    (folder / "README.md").write_text("# test repo\n")
    (folder / "tokenizer.json").write_text("{}\n")
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
