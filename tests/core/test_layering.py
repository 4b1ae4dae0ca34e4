"""Which way imports go: the core loads no textual and no rich; the TUI reaches the core, never the
CLI or the onnx.hub drop-in (issue 9, guards)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import onnxhub_tui
import onnxhub_tui.core

PACKAGE = Path(onnxhub_tui.__file__).parent


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(onnxhub_tui.core.__path__, "onnxhub_tui.core."))


def test_importing_every_core_module_loads_no_textual_or_rich():
    modules = _core_modules()
    assert "onnxhub_tui.core.settings" in modules and len(modules) >= 15
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    # a fresh interpreter: this test process has imported textual long ago (the TUI tests)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout) == []


def _imports(path: Path, where: Path | None = None) -> set[str]:
    """Every module ``path`` imports, relative imports resolved as if it sat at ``where`` (default: itself)."""
    package = ".".join((where or path).relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _is(module: str, target: str) -> bool:
    return module == target or module.startswith(target + ".")


def test_the_tui_imports_neither_the_cli_nor_the_hub_drop_in():
    files = sorted((PACKAGE / "tui").rglob("*.py"))
    assert files
    bad = sorted(f"{path.relative_to(PACKAGE)}: {name}"
                 for path in files for name in _imports(path)
                 if _is(name, "onnxhub_tui.cli") or _is(name, "onnxhub_tui.hub"))
    assert bad == []


def test_the_import_reader_sees_relative_and_absolute_forms(tmp_path):
    # the static check above is only as good as this: `from ..hub import x` inside tui/ must be seen
    probe = tmp_path / "probe.py"
    probe.write_text("from ..hub import load\nfrom .. import cli\nimport onnxhub_tui.hub\nfrom .widgets import x\n")
    names = _imports(probe, where=PACKAGE / "tui" / "probe.py")
    assert {"onnxhub_tui.hub", "onnxhub_tui.hub.load", "onnxhub_tui.cli", "onnxhub_tui.tui.widgets"} <= names
    assert any(_is(n, "onnxhub_tui.cli") for n in names) and not _is("onnxhub_tui.client", "onnxhub_tui.cli")
