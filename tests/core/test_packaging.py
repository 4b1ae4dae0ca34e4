"""Packaging (issue 10 item 29): ``project.license`` as an SPDX string (the table form is deprecated by
setuptools, an error from 2027-02-18), with a setuptools that reads it (>=77, PEP 639)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL_WHEELS = Path("/opt/pypi/files")  # this machine's offline package store


def test_the_license_is_an_spdx_string_and_setuptools_reads_it():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the check is the same on any
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "Apache-2.0"
    minimum = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    assert len(minimum) == 1
    match = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", minimum[0].replace(" ", ""))
    assert match and int(match[1]) >= 77, minimum


@pytest.mark.slow
@pytest.mark.skipif(not any(LOCAL_WHEELS.glob("setuptools-*.whl")), reason="no offline setuptools wheel here")
def test_the_wheel_builds_offline_without_a_license_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links",
                            str(LOCAL_WHEELS), "-v", "-w", str(tmp_path), str(ROOT)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert "project.license" not in built.stdout + built.stderr  # setuptools' deprecation names the key
    wheel = next(tmp_path.glob("onnxhub_tui-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
