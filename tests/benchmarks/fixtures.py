"""Benchmark fixtures, built once under WORK and reused: a hub tree with three real ONNX models for the
download part (256 MB of 64 random 4 MiB initializers, 512 MB of 128, and a one-tensor 256 MB embedding
table) and eight 64 MB ones for the queue, a 10,000-file cache, and synthetic manifests of any size made from the real one."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .common import MB, REAL_MANIFEST, REPO as REPO_ROOT, WORK

HUB_ROOT = WORK / "hub"  # the static server's root
REPO_PATH = "acme/models/main/"  # the manifest and files live under this prefix
TENSOR = 4 * MB  # bytes per initializer
_VERSION = "1"  # bump when the fixture's shape changes


@dataclass(frozen=True)
class ModelFile:
    name: str
    rel: str  # model_path in the manifest
    sha: str
    size: int


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MB):
            h.update(chunk)
    return h.hexdigest()


def _weights_model(total: int, seed: int, name: str) -> onnx.ModelProto:
    """A real model: ``total`` bytes of float initializers, each summed into the output."""
    rng = np.random.default_rng(seed)
    count = max(1, total // TENSOR)
    side = int((TENSOR // 4) ** 0.5)
    inits = [
        numpy_helper.from_array(rng.random((side, side), dtype=np.float32), f"w{i}") for i in range(count)
    ]
    nodes = [helper.make_node("Sum", ["x"] + [t.name for t in inits], ["y"])]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [side, side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [side, side])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnxhub-bench")
    model.ir_version = 7
    return model


def _embedding_model(total: int, seed: int, name: str) -> onnx.ModelProto:
    """One float initializer of ``total`` bytes (a vocabulary x 1024 embedding table) behind a Gather."""
    rng = np.random.default_rng(seed)
    dim = 1024
    rows = max(1, total // (4 * dim))
    table = numpy_helper.from_array(rng.random((rows, dim), dtype=np.float32), "embedding")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["embedding", "ids"], ["y"])],
        name,
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", dim])],
        [table],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnxhub-bench")
    model.ir_version = 7
    return model


def _ensure_model(rel: str, total: int, seed: int, name: str, build=_weights_model) -> ModelFile:
    path = HUB_ROOT / REPO_PATH / rel
    meta = path.with_name(path.name + ".meta.json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        if info.get("version") == _VERSION and info.get("size") == path.stat().st_size:
            return ModelFile(name, rel, info["sha"], info["size"])
    path.parent.mkdir(parents=True, exist_ok=True)
    model = build(total, seed, name)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(model.SerializeToString())
    del model
    os.replace(tmp, path)
    info = {"version": _VERSION, "sha": _sha_file(path), "size": path.stat().st_size}
    meta.write_text(json.dumps(info))
    return ModelFile(name, rel, info["sha"], info["size"])


def _entry(m: ModelFile) -> dict:
    return {
        "model": m.name,
        "model_path": m.rel,
        "onnx_version": "1.8",
        "opset_version": 13,
        "metadata": {
            "model_sha": m.sha,
            "model_bytes": m.size,
            "tags": ["benchmark"],
            "io_ports": {
                "inputs": [{"name": "x", "shape": [1024, 1024], "type": "tensor(float)"}],
                "outputs": [{"name": "y", "shape": [1024, 1024], "type": "tensor(float)"}],
            },
        },
    }


def big_model() -> ModelFile:
    return _ensure_model("big/model/big-512.onnx", 512 * MB, 512, "Big-512")


@dataclass(frozen=True)
class Shape:
    """One model of the download part and how to describe it in the report."""

    label: str
    model: ModelFile


def download_models() -> list[Shape]:
    """The download part's models: issue 14's 256 MB network first, then the README's 512 MB one and a
    one-tensor table, so no change is tuned to one shape."""
    return [
        Shape("256 MB, 64 tensors of 4 MiB", _ensure_model("net/model/net-256.onnx", 256 * MB, 256, "Net-256")),
        Shape("512 MB, 128 tensors of 4 MiB", big_model()),
        Shape("256 MB, one tensor (embedding table)",
              _ensure_model("emb/model/emb-256.onnx", 256 * MB, 257, "Emb-256", build=_embedding_model)),
    ]


def startup_model() -> Shape:
    """A 4 KB model: its download is all fixed cost (interpreter, imports, the manifest's revalidation)."""
    return Shape("start-up: a 4 KB model", _ensure_model("tiny/model/tiny-4k.onnx", 4096, 4, "Tiny-4K",
                                                         build=_embedding_model))


def queue_models() -> list[ModelFile]:
    return [_ensure_model(f"queue/model/queue{i}-64.onnx", 64 * MB, 1000 + i, f"Queue-{i}") for i in range(8)]


def hub_tree(with_queue: bool = True, with_downloads: bool = False) -> tuple[Path, list[ModelFile]]:
    """The server root and the models it serves, with their manifest written at REPO_PATH."""
    head = [s.model for s in [*download_models(), startup_model()]] if with_downloads else [big_model()]
    models = head + (queue_models() if with_queue else [])
    manifest = HUB_ROOT / REPO_PATH / "ONNX_HUB_MANIFEST.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps([_entry(m) for m in models], indent=1))
    return HUB_ROOT, models


# -- manifests and caches made from the real manifest -------------------------------------------------


def real_entries() -> list[dict]:
    return json.loads(REAL_MANIFEST.read_text())


def synthetic_manifest(count: int) -> list[dict]:
    """``count`` entries: the real ones first, then copies with new names, paths and SHAs."""
    real = real_entries()
    out: list[dict] = []
    i = 0
    while len(out) < count:
        base = real[i % len(real)]
        rnd = i // len(real)
        if rnd == 0:
            out.append(base)
        else:
            e = copy.deepcopy(base)
            e["model"] = f"{base['model']}-v{rnd}"
            head, _, tail = base["model_path"].rpartition("/")
            e["model_path"] = f"{head}/r{rnd}/{tail}"
            md = e.get("metadata", {})
            if md.get("model_sha"):
                md["model_sha"] = hashlib.sha256(f"{md['model_sha']}{rnd}".encode()).hexdigest()
            if md.get("model_with_data_path"):
                h2, _, t2 = md["model_with_data_path"].rpartition("/")
                md["model_with_data_path"] = f"{h2}/r{rnd}/{t2}"
            out.append(e)
        i += 1
    return out


def synthetic_manifest_file(count: int) -> Path:
    path = WORK / "manifests" / f"manifest-{count}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(synthetic_manifest(count), indent=1))
        os.replace(tmp, path)
    return path


def cache_tree(files: int = 10_000) -> tuple[Path, Path]:
    """A cache of ``files`` tiny files laid out as onnx.hub does (``<dirs>/<sha>_<name>``), every one named
    by a manifest entry, plus a few parts and orphans. Returns (cache dir, manifest path)."""
    root = WORK / f"cache-{files}"
    manifest_path = synthetic_manifest_file(files)
    marker = WORK / f"cache-{files}.complete"
    if marker.exists():
        return root, manifest_path
    entries = json.loads(manifest_path.read_text())
    for n, e in enumerate(entries[:files]):
        md = e.get("metadata", {})
        head, _, tail = e["model_path"].rpartition("/")
        sha = md.get("model_sha")
        name = f"{sha}_{tail}" if sha else tail
        if n % 500 == 7:
            name += ".part"  # an interrupted download now and then
        path = root / head / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * (64 + n % 512))
    marker.write_text("")
    return root, manifest_path


def tui_repo() -> tuple[str, list[ModelFile]]:
    """A repo path on the server (relative to HUB_ROOT) whose manifest is the real 184 entries plus the
    eight 64 MB queue models (their files shared with REPO_PATH through a link)."""
    queue = queue_models()
    rel = "acme/tui/main/"
    folder = HUB_ROOT / rel
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "queue"
    if not link.exists():
        link.symlink_to(HUB_ROOT / REPO_PATH / "queue")
    (folder / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(real_entries() + [_entry(m) for m in queue], indent=1))
    return rel, queue
