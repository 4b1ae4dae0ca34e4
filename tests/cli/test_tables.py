"""CLI tables: measured in terminal cells, fitted to a width only when there is one (issue 10 items 24, 25)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onnxhub_tui.core.text import cell_width
from tests.conftest import subprocess_env

BIN = Path(sys.executable).with_name("onnxhub-tui")
LONG = "an-unusually-long-model-name-for-a-pipe-test"
TAGS = {
    "模型网络": "视觉, 分类",                      # CJK: two cells per character
    "ｆｕｌｌｗｉｄｔｈ": "ｔａｇ",                # fullwidth Latin
    "cafe\u0301 combining": "acce\u0301nt",      # a combining mark takes no cell
    "rocket \U0001F680": "emoji, \U0001F680",      # emoji
    "plain": "vision, classification",
    "Huge": "big",
    LONG: "alpha, beta, gamma, delta, epsilon, zeta, eta, theta, iota, kappa",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    hub = tmp_path / "hub"
    hub.mkdir()
    entries = [{
        "model": name, "model_path": f"m/{i}.onnx", "onnx_version": "1.14", "opset_version": 13,
        "metadata": {"model_sha": f"{i:064x}", "model_bytes": 10**30 if name == "Huge" else 1234,
                     "tags": [t.strip() for t in tags.split(",")]},
    } for i, (name, tags) in enumerate(TAGS.items())]
    (hub / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(entries), encoding="utf-8")
    return hub


def run_list(folder: Path, tmp_path: Path, **extra: str) -> list[str]:
    env = subprocess_env(None, tmp_path / "cache", PYTHONIOENCODING="utf-8", **extra)
    if "COLUMNS" not in extra:
        env.pop("COLUMNS", None)
    env.pop("LINES", None)
    result = subprocess.run([str(BIN), "list", "--repo", str(folder)], env=env, capture_output=True,
                            text=True, encoding="utf-8", timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_columns_line_up_in_terminal_cells_for_wide_combining_and_emoji_names(folder, tmp_path):
    lines = run_list(folder, tmp_path, COLUMNS="80")
    header, rows = lines[0], lines[1:]
    tags_at = cell_width(header[: header.index("TAGS")])
    assert len(rows) == len(TAGS)
    for row in rows:
        name = next(n for n in TAGS if row.startswith(n[:4]))
        first_tag = TAGS[name].split(",")[0][:4]
        assert cell_width(row[: row.index(first_tag, 4)]) == tags_at, row  # the tags column starts in one place
        assert cell_width(row) <= 80, row


def test_a_huge_size_widens_its_column_instead_of_shifting_the_row(folder, tmp_path):
    lines = run_list(folder, tmp_path, COLUMNS="80")
    huge = next(line for line in lines if line.startswith("Huge"))
    assert "TB" in huge
    assert cell_width(huge[: huge.index("big")]) == cell_width(lines[0][: lines[0].index("TAGS")])


def test_into_a_pipe_cells_are_printed_whole(folder, tmp_path):
    assert "COLUMNS" not in os.environ or True  # the subprocess gets no COLUMNS either way
    lines = run_list(folder, tmp_path)
    row = next(line for line in lines if line.startswith(LONG))
    assert row.startswith(LONG + "  ") and row.endswith(TAGS[LONG])  # neither name nor tags cut
    cut = next(line for line in run_list(folder, tmp_path, COLUMNS="80") if line.startswith(LONG[:20]))
    assert "…" in cut and cell_width(cut) <= 80  # a width asked for is still honoured
