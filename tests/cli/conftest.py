"""The CLI's tests run the installed ``onnxhub-tui`` in subprocesses against the loopback hub."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

BIN = Path(sys.executable).with_name("onnxhub-tui")
REPO = "acme/models:main"


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def env(server, cache_dir):
    return subprocess_env(server, cache_dir, COLUMNS="80")


@pytest.fixture
def root(env) -> Path:
    """The cache the subprocesses use by default (onnx.hub's rule: $ONNX_HOME/hub)."""
    return Path(env["ONNX_HOME"]) / "hub"
