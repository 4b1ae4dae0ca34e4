"""Build a small real hub on disk: ONNX files made with onnx.helper or shipped inside the onnx package,
model-with-data archives, and an ONNX_HUB_MANIFEST.json, laid out like onnx/models."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNX_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"


def tiny_model(opset: int = 13, width: int = 4, name: str = "tiny", seed: int = 0) -> onnx.ModelProto:
    """x[1,width] -> Relu(x @ W + b): a real, checkable model of a few hundred bytes."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((width, width)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal((width,)).astype(np.float32), "B")
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "B"], ["xwb"]),
        helper.make_node("Relu", ["xwb"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnxhub-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def preprocessing_model(opset: int = 13, width: int = 4) -> onnx.ModelProto:
    """raw[1,width] -> raw * 0.5: stands in for the zoo's ResNet-preproc."""
    scale = numpy_helper.from_array(np.full((width,), 0.5, dtype=np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["raw", "scale"], ["pre_out"])],
        "preproc",
        [helper.make_tensor_value_info("raw", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info("pre_out", TensorProto.FLOAT, [1, width])],
        [scale],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ports(model: onnx.ModelProto) -> dict:
    def port(vi: onnx.ValueInfoProto) -> dict:
        t = vi.type.tensor_type
        shape = [d.dim_param or d.dim_value for d in t.shape.dim]
        return {"name": vi.name, "shape": shape, "type": f"tensor({helper.tensor_dtype_to_np_dtype(t.elem_type).name})"}

    inits = {i.name for i in model.graph.initializer}
    return {
        "inputs": [port(v) for v in model.graph.input if v.name not in inits],
        "outputs": [port(v) for v in model.graph.output],
    }


def _archive(model_bytes: bytes, folder: str) -> bytes:
    """A model-with-data tarball: <folder>/model.onnx and <folder>/test_data_set_0/input_0.pb."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("model.onnx", model_bytes)
        tensor = numpy_helper.from_array(np.ones((1, 4), dtype=np.float32), "x")
        add("test_data_set_0/input_0.pb", tensor.SerializeToString())
    return buf.getvalue()


@dataclass
class HubTree:
    root: Path  # folder served as <owner>/<repo>/<ref>/...
    repo_dir: Path  # the repo checkout: manifest + model files
    manifest: list[dict]
    files: dict[str, bytes]  # model_path -> bytes

    def entry(self, name: str, opset: int | None = None) -> dict:
        matches = [e for e in self.manifest if e["model"].lower() == name.lower()]
        if opset is None:
            return max(matches, key=lambda e: e["opset_version"])
        return next(e for e in matches if e["opset_version"] == opset)

    def write_manifest(self, manifest: list[dict] | bytes) -> None:
        data = manifest if isinstance(manifest, bytes) else json.dumps(manifest, indent=1).encode()
        (self.repo_dir / "ONNX_HUB_MANIFEST.json").write_bytes(data)


def _add(tree: HubTree, name: str, opset: int, path: str, data: bytes, tags: list[str],
         model: onnx.ModelProto | None, with_data: bool = True) -> None:
    (tree.repo_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (tree.repo_dir / path).write_bytes(data)
    tree.files[path] = data
    metadata: dict = {"model_sha": _sha(data), "model_bytes": len(data), "tags": tags}
    if model is not None:
        metadata["io_ports"] = _ports(model)
    if with_data:
        tar_path = path[: -len(".onnx")] + ".tar.gz"
        archive = _archive(data, Path(path).stem)
        (tree.repo_dir / tar_path).write_bytes(archive)
        tree.files[tar_path] = archive
        metadata.update(model_with_data_path=tar_path, model_with_data_sha=_sha(archive),
                        model_with_data_bytes=len(archive))
    tree.manifest.append({"model": name, "model_path": path, "onnx_version": onnx.__version__,
                          "opset_version": opset, "metadata": metadata})


def build_hub_tree(root: Path, owner: str = "acme", repo: str = "models", ref: str = "main") -> HubTree:
    repo_dir = root / owner / repo / ref
    repo_dir.mkdir(parents=True, exist_ok=True)
    tree = HubTree(root, repo_dir, [], {})
    for opset in (7, 8, 12):
        model = tiny_model(opset, name=f"mnist{opset}", seed=opset)
        _add(tree, "MNIST", opset, f"validated/vision/classification/mnist/model/mnist-{opset}.onnx",
             model.SerializeToString(), ["vision", "classification", "mnist"], model)
    model = tiny_model(12, width=8, name="mnist12", seed=99)
    _add(tree, "MNIST-12", 12, "validated/vision/classification/mnist/model/mnist-12-int8.onnx",
         model.SerializeToString(), ["vision", "classification", "mnist"], model)
    for stem, name, tags in (
        ("resnet50", "ResNet50", ["vision", "classification", "resnet"]),
        ("squeezenet", "SqueezeNet", ["vision", "classification", "squeezenet"]),
        ("densenet121", "DenseNet-121", ["vision", "classification", "densenet-121"]),
    ):
        data = (ONNX_DATA / "light" / f"light_{stem}.onnx").read_bytes()
        model = onnx.load_from_string(data)
        _add(tree, name, 9, f"validated/vision/classification/{stem}/model/{stem}-9.onnx", data, tags, model)
    pre = preprocessing_model()
    _add(tree, "Tiny-preproc", 13, "validated/vision/classification/preproc/tiny-preproc.onnx",
         pre.SerializeToString(), ["vision", "preprocessing"], pre, with_data=False)
    net = tiny_model(13, name="tinynet", seed=5)
    _add(tree, "TinyNet", 13, "validated/vision/classification/tinynet/model/tinynet-13.onnx",
         net.SerializeToString(), ["vision", "classification"], net)
    text = tiny_model(13, name="texty", seed=7)
    _add(tree, "Texty", 13, "validated/text/machine_comprehension/texty/model/texty-13.onnx",
         text.SerializeToString(), ["text", "machine comprehension"], None)  # no io_ports, like 22 zoo entries
    tree.write_manifest(tree.manifest)
    return tree
