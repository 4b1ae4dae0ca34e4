"""The zoo's final tree (../shared/data/onnx-models-b1eeaa1-tree.tar.gz) and hand-made pointer trees."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest

from onnxhub_tui.core.lfs import pointer_bytes

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ZOO_TARBALL = SHARED_DATA / "onnx-models-b1eeaa1-tree.tar.gz"
ZOO_FOLDER = "onnx-models-b1eeaa1"

STATS = """author: {author}
builds:
  x86_ort:
    all_build_stages:
    - export_pytorch
    onnx_file: /home/someone/.cache/turnkey/x.onnx
builtin_model_script: https://github.com/onnx/turnkeyml/blob/main/models/{author}/{name}.py
class: {cls}
hash: 0123abcd
model_name: {name}
onnx_input_dimensions:
  x:
  - 1
  - 3
  - 224
  - 224
onnx_model_information:
  ir_version: 8
  opset: {opset}
  size on disk (KiB): 12.5
onnx_ops_counter:
  Conv: 3
  Relu: 7
  Add: 1
parameters: {params}
system_info:
  OS Version: Linux
  Python Packages:
  - pyyaml==6.0.1
task: {task}
"""


def need_tarball() -> Path:
    if not ZOO_TARBALL.is_file():
        pytest.skip(f"the zoo's tree tarball is not at {ZOO_TARBALL} (../shared is absent)")
    return ZOO_TARBALL


def extract_zoo(target: Path) -> Path:
    """Extract the tarball under ``target``; returns the tree's root folder."""
    with tarfile.open(need_tarball()) as tar:
        tar.extractall(target, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(target)  # noqa: S202
    return target / ZOO_FOLDER


def write_pointer(path: Path, data: bytes) -> str:
    """A Git LFS pointer at ``path`` for ``data``; returns the SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pointer_bytes(sha, len(data)))
    return sha


def write_stats(folder: Path, *, name: str, opset: int, author: str = "timm", task: str = "Computer_Vision",
                cls: str = "Net", params: int = 1234567) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "turnkey_stats.yaml"
    path.write_text(STATS.format(author=author, name=name, cls=cls, opset=opset, params=params, task=task))
    return path
