"""``turnkey_stats.yaml``: what the zoo's 2024 additions (exported by onnx/turnkeyml) say about a model
without its bytes: task, author (the source library), parameters, input names and shapes, opset, IR
version, operator counts and the script that built it.

What the file does not say is left unknown, never guessed: input element types, outputs, and the
inputs' order in the graph (turnkey writes them as a YAML mapping, in its own order).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InspectError

STATS_NAME = "turnkey_stats.yaml"
# What a model's metadata says the index cannot know until the file is downloaded and read.
UNKNOWN_WITH_STATS = ("input types", "input order", "outputs")
# The long per-machine blocks (a pip freeze, build timings) are a third of the parse time and say
# nothing about the model: they are cut out before parsing (only top-level keys are matched).
_DROP = re.compile(r"^(system_info|builds):[^\n]*\n(?:[ \t-][^\n]*\n|\n)*", re.M)


@dataclass(frozen=True)
class TurnkeyStats:
    author: str | None
    task: str | None
    model_name: str | None
    class_name: str | None
    parameters: int | None
    inputs: tuple[tuple[str, tuple[int | str, ...] | None], ...]  # (name, shape or None)
    opset: int | None
    ir_version: int | None
    ops: dict[str, int] = field(default_factory=dict)  # most used first
    script: str | None = None

    def top_ops(self, count: int = 5) -> list[tuple[str, int]]:
        return list(self.ops.items())[:count]

    def metadata(self) -> dict[str, Any]:
        """The facts as an entry's ``metadata["turnkey"]`` (JSON-ready; absent facts left out)."""
        facts: dict[str, Any] = {
            "author": self.author, "task": self.task, "model_name": self.model_name, "class": self.class_name,
            "parameters": self.parameters, "ir_version": self.ir_version, "ops": dict(self.ops),
            "script": self.script,
        }
        return {k: v for k, v in facts.items() if v not in (None, {})}

    def io_ports(self) -> dict[str, Any]:
        """Inputs with names and shapes; ``type`` is null (unknown) and outputs are null (unknown)."""
        return {
            "inputs": [{"name": n, "shape": list(s) if s is not None else None, "type": None} for n, s in self.inputs],
            "outputs": None,
        }


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _dim(value: Any) -> int | str:
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def parse_stats(text: str, where: str = STATS_NAME) -> TurnkeyStats:
    """Parse the text of a ``turnkey_stats.yaml``; raises InspectError when it is not a mapping."""
    import yaml

    try:
        data = yaml.load(_DROP.sub("", text), Loader=_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InspectError(f"{where} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InspectError(f"{where} is not a YAML mapping")
    info = data.get("onnx_model_information")
    info = info if isinstance(info, dict) else {}
    dims = data.get("onnx_input_dimensions")
    inputs: list[tuple[str, tuple[int | str, ...] | None]] = []
    if isinstance(dims, dict):
        for name, shape in dims.items():
            inputs.append((str(name), tuple(_dim(d) for d in shape) if isinstance(shape, list) else None))
    counter = data.get("onnx_ops_counter")
    ops = {str(k): v for k, v in counter.items() if _int(v) is not None} if isinstance(counter, dict) else {}
    return TurnkeyStats(
        author=_str(data.get("author")),
        task=_str(data.get("task")),
        model_name=_str(data.get("model_name")),
        class_name=_str(data.get("class")),
        parameters=_int(data.get("parameters")),
        inputs=tuple(inputs),
        opset=_int(info.get("opset")),
        ir_version=_int(info.get("ir_version")),
        ops=dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        script=_str(data.get("builtin_model_script")),
    )


def read_stats(path: str | os.PathLike[str]) -> TurnkeyStats:
    """Read and parse one stats file (the caller checked it is a regular file); raises InspectError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InspectError(f"Cannot read {path.name}: {exc.strerror or exc}") from None
    return parse_stats(text, str(path.name))


def stem(model_rel: str) -> str:
    """The file name without ``.onnx`` or ``.tar.gz`` (``squeezenet1.0-12``: inner dots stay)."""
    name = model_rel.rsplit("/", 1)[-1]
    for suffix in (".onnx", ".tar.gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def folder_name(model_rel: str) -> str | None:
    """A turnkey model's name: its folder, which the zoo names ``<model>_Opset<N>_<author>``
    (``adv_inception_v3_Opset16_timm``), so the same export from two libraries gets two names.
    None when the folder does not start with the file's stem (then the stem is the name)."""
    parts = model_rel.split("/")
    if len(parts) < 2:
        return None
    file_stem = stem(model_rel)
    folder = parts[-2]
    return folder if folder.startswith(file_stem) and folder != file_stem else None
