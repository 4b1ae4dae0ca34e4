"""Real ONNX models built with onnx.helper for the header readers' tests and benchmarks: many
initializers, symbolic dims, every kind of port type, subgraphs, external data, thousands of nodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def weights_model(count: int, tensor_bytes: int, *, random: bool = False, name: str = "weights") -> onnx.ModelProto:
    """x[batch, n] -> x + w0 + w1 + ... : ``count`` float initializers of ``tensor_bytes`` each."""
    n = max(1, tensor_bytes // 4)
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.random(n, dtype=np.float32) if random else np.zeros(n, np.float32), f"w{i}")
        for i in range(count)
    ]
    nodes = [
        helper.make_node("Add", ["x" if i == 0 else f"h{i - 1}", f"w{i}"], ["y" if i == count - 1 else f"h{i}"])
        for i in range(count)
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", n])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="onnxhub-tests",
                              producer_version="1.0")
    model.ir_version = 8
    return model


def mixed_weights_model(sizes: list[int]) -> onnx.ModelProto:
    """One float initializer of each size in bytes, each passed through an Identity to an output: runs
    of equal sizes broken by odd ones (guesses about where the next weight starts must be checked)."""
    inits = [numpy_helper.from_array(np.zeros(max(1, size // 4), np.float32), f"m{i}") for i, size in enumerate(sizes)]
    nodes = [helper.make_node("Identity", [t.name], [f"o{i}"]) for i, t in enumerate(inits)]
    outputs = [helper.make_tensor_value_info(f"o{i}", TensorProto.FLOAT, list(t.dims)) for i, t in enumerate(inits)]
    graph = helper.make_graph(nodes, "mixed", [], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="onnxhub-tests")
    model.ir_version = 8
    return model


def many_nodes_model(nodes: int) -> onnx.ModelProto:
    """A chain of ``nodes`` small nodes (Relu, Neg, Abs in turn) with one tiny initializer."""
    ops = ("Relu", "Neg", "Abs")
    chain = [helper.make_node(ops[i % 3], [f"t{i}"], [f"t{i + 1}"], name=f"n{i}") for i in range(nodes - 1)]
    chain.insert(0, helper.make_node("Add", ["x", "bias"], ["t0"], name="add"))
    chain[-1].output[0] = "y"
    graph = helper.make_graph(
        chain, "deep",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])],
        [numpy_helper.from_array(np.ones(8, np.float32), "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="deep")
    model.ir_version = 8
    return model


def ports_model() -> onnx.ModelProto:
    """Inputs and outputs of every type spelling: symbolic, unknown and fixed dims, unknown rank,
    int64, string, sequence, map and optional types; an initializer also listed as an input (old IR)."""
    unknown_dim = helper.make_tensor_value_info("u", TensorProto.UINT8, [None, 3])
    no_rank = helper.make_tensor_value_info("r", TensorProto.FLOAT16, None)
    inputs = [
        helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, "height", "width"]),
        helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 256]),
        helper.make_tensor_value_info("text", TensorProto.STRING, [1]),
        unknown_dim,
        no_rank,
        helper.make_tensor_value_info("scalar", TensorProto.DOUBLE, []),
        helper.make_value_info("seq", helper.make_sequence_type_proto(
            helper.make_tensor_type_proto(TensorProto.FLOAT, ["n"]))),
        helper.make_tensor_value_info("W", TensorProto.FLOAT, [2, 2]),  # also an initializer: not an input
    ]
    outputs = [
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 1000]),
        helper.make_value_info("labels", helper.make_map_type_proto(
            TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, []))),
        helper.make_value_info("maybe", helper.make_optional_type_proto(
            helper.make_tensor_type_proto(TensorProto.BFLOAT16, [4]))),
    ]
    nodes = [helper.make_node("Identity", ["images"], ["scores"]), helper.make_node("Identity", ["W"], ["w_out"])]
    weights = [numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")]
    graph = helper.make_graph(nodes, "ports", inputs, outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 3)],
                              producer_name="ports", producer_version="2.5")
    model.ir_version = 8
    return model


def subgraph_model() -> onnx.ModelProto:
    """An If whose branches hold an initializer and a Constant, a Constant at the top, a sparse
    initializer, and a custom-domain op: the places external data can hide."""
    def branch(tag: str) -> onnx.GraphProto:
        const = helper.make_node("Constant", [], [f"{tag}_c"], value=numpy_helper.from_array(
            np.full((64, 64), 2.0, np.float32), f"{tag}_const"))
        add = helper.make_node("Add", [f"{tag}_c", f"{tag}_w"], [f"{tag}_out"])
        out = helper.make_tensor_value_info(f"{tag}_out", TensorProto.FLOAT, [64, 64])
        return helper.make_graph([const, add], tag, [], [out],
                                 [numpy_helper.from_array(np.ones((64, 64), np.float32), f"{tag}_w")])

    top_const = helper.make_node("Constant", [], ["k"],
                                 value=numpy_helper.from_array(np.ones((32, 32), np.float32), "top_k"))
    cond = helper.make_node("Greater", ["x", "zero"], ["cond"])
    if_node = helper.make_node("If", ["cond"], ["y"], then_branch=branch("then"), else_branch=branch("else"))
    custom = helper.make_node("MyOp", ["k"], ["z"], domain="com.example")
    values = numpy_helper.from_array(np.arange(1, 5, dtype=np.float32), "sparse_w")
    indices = numpy_helper.from_array(np.array([0, 5, 10, 15], np.int64), "sparse_w_indices")
    sparse = helper.make_sparse_tensor(values, indices, [4, 4])
    graph = helper.make_graph(
        [top_const, cond, if_node, custom], "branches",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [64, 64]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [32, 32])],
        [numpy_helper.from_array(np.zeros((), np.float32), "zero"),
         numpy_helper.from_array(np.zeros((128, 128), np.float32), "big_w")],
        sparse_initializer=[sparse],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    return model


def save_with_external_data(model: onnx.ModelProto, path: Path) -> list[str]:
    """Save ``model`` with every tensor of 1 KB or more (node attributes and subgraphs included) in its own
    file beside it; returns the files' names."""
    model = onnx.ModelProto.FromString(model.SerializeToString())  # the caller's copy keeps its bytes
    onnx.external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=False, size_threshold=1024, convert_attribute=True)  # Constants too
    onnx.save_model(model, str(path))
    saved = onnx.load(str(path), load_external_data=False)
    names = []
    for tensor in onnx.external_data_helper._get_all_tensors(saved):  # noqa: SLF001 - includes subgraphs
        if onnx.external_data_helper.uses_external_data(tensor):
            names.append(next(e.value for e in tensor.external_data if e.key == "location"))
    return names
