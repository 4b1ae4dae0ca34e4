"""Paths that are not UTF-8, and a stdout that is not UTF-8 (issue 10 item 7): no UnicodeEncodeError
anywhere (the lock path raised one), and a result path is written as the file system's bytes, so the
name printed is the name that opens, never ``caf?`` with exit 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.sources import parse_repo_spec
from tests.conftest import REPO, subprocess_env

BIN = Path(sys.executable).with_name("onnxhub-tui")
LATIN1 = b"caf\xe9"  # "café" in Latin-1: not UTF-8

pytestmark = pytest.mark.skipif(sys.platform == "darwin" or os.name != "posix",
                                reason="needs a file system that takes any bytes in a name")


def run(args: list[bytes | str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([os.fsencode(BIN), *[os.fsencode(a) for a in args]], env=env, capture_output=True,
                          timeout=60, stdin=subprocess.DEVNULL, cwd=cwd)


def test_a_cache_dir_that_is_not_utf8_downloads_and_prints_its_bytes(server, cache_dir, tmp_path):
    env = subprocess_env(server, cache_dir)
    done = run(["download", "mnist", "--opset", "8", "--repo", REPO, "-y", "--cache-dir", LATIN1], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert b"UnicodeEncodeError" not in done.stderr and b"Traceback" not in done.stderr
    printed = done.stdout.rstrip(b"\n")
    assert printed.startswith(LATIN1 + b"/") and b"\n" not in printed  # relative, as --cache-dir was
    assert os.path.isfile(os.fsencode(tmp_path) + b"/" + printed)  # the bytes printed are the name that opens
    listed = run(["cache", "ls", "--cache-dir", LATIN1, "--repo", REPO], env, tmp_path)
    assert listed.returncode == 0 and b"mnist-8.onnx" in listed.stdout, listed.stderr
    again = run(["cache", "verify", "--cache-dir", LATIN1, "--repo", REPO], env, tmp_path)
    assert again.returncode == 0 and b"1 file(s) verified, 0 bad" in again.stderr, again.stderr


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_is_not_utf8_gets_the_paths_bytes_not_a_mangled_name(server, cache_dir, tmp_path, encoding):
    env = subprocess_env(server, cache_dir, PYTHONIOENCODING=encoding)
    folder = tmp_path / "café-€"  # no ascii or latin-1 spelling for €
    done = run(["download", "mnist", "--opset", "8", "--repo", REPO, "-y", "--cache-dir", str(folder)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.rstrip(b"\n")
    assert printed.startswith(os.fsencode(folder) + b"/") and os.path.isfile(printed)
    shown = run(["cache", "dir", "--cache-dir", str(folder)], env, tmp_path)
    assert shown.returncode == 0 and shown.stdout == os.fsencode(folder) + b"\n"


def test_a_local_hub_in_a_folder_that_is_not_utf8(hub_tree, cache_dir, tmp_path):
    hub_dir = tmp_path / os.fsdecode(b"hub-" + LATIN1)
    shutil.copytree(hub_tree.repo_dir, hub_dir)
    source = parse_repo_spec(str(hub_dir))
    assert source.kind == "local" and source.spec == str(hub_dir)
    with Hub(source, tmp_path / os.fsdecode(LATIN1)) as hub:  # surrogate-escaped str paths, in process
        info = hub.manifest().find("MNIST", 8)
        path = hub.download(info)
        assert path.is_file() and cache.lock_path(hub.cache_dir, path).parent.is_dir()
    env = subprocess_env(None, cache_dir)
    done = run(["download", "mnist", "--opset", "8", "-y", "--repo", os.fsencode(hub_dir),
                "--cache-dir", os.fsencode(tmp_path / "c2")], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert os.path.isfile(done.stdout.rstrip(b"\n"))
    listed = run(["list", "--repo", os.fsencode(hub_dir)], env, tmp_path)
    assert listed.returncode == 0 and b"models in " + os.fsencode(tmp_path) + b"/hub-caf\\xe9" in listed.stderr
