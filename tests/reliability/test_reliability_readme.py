"""The README's Reliability table names real tests: every reference resolves to a test function."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _test_file(name: str) -> Path | None:
    """The README names test files without their room (tests/core, tests/reliability, ...): find it."""
    found = sorted((ROOT / "tests").rglob(name))
    assert len(found) <= 1, f"{name} is ambiguous: {found}"
    return found[0] if found else None


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")}


def test_every_test_the_reliability_table_names_exists():
    section = _section((ROOT / "README.md").read_text(), "Reliability")
    aliases = dict(re.findall(r"`(\w+)` (?:is )?`(test_\w+\.py)`", section))
    assert set(aliases) == {"dl", "proc", "src", "man", "host", "cache", "done"}, aliases
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) >= 30
    checked = 0
    for row in rows:
        refs = re.findall(r"`([\w.]+)(?:::([\w*]+))?`", row.rsplit("|", 2)[-2])
        assert refs, f"a row without a test: {row}"
        for file, name in refs:
            file = aliases.get(file, file)
            path = _test_file(file)
            assert path is not None and path.is_file(), f"{file} (in {row[:60]}...) does not exist"
            if name:
                assert fnmatch.filter(_tests_in(path), name), f"{file}::{name} does not exist"
            checked += 1
    assert checked >= 50
