"""Special files (a FIFO, a socket) under model-like names in the cache (issue 10 item 5): listed as
"special", never opened, so nothing blocks: not the scan, not ``cache verify``, not the TUI's verify."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.diskio import NOT_REGULAR, open_regular
from onnxhub_tui.core.hashing import sha256_file
from tests.cli.conftest import run
from tests.conftest import REPO, subprocess_env

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo and AF_UNIX")


@contextlib.contextmanager
def _bound_socket(path: Path) -> Iterator[None]:
    """A real AF_UNIX socket at ``path`` (via a short folder: sun_path holds ~107 bytes)."""
    short = Path(f"/tmp/onnxhub-sock-{os.getpid()}-{os.urandom(3).hex()}")
    short.mkdir()
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(short / "s"))
        os.rename(short / "s", path)  # a socket node moves like any other name
        yield
    finally:
        sock.close()
        with contextlib.suppress(OSError):
            path.unlink()
        short.rmdir()


def _in_thread(fn, *unblock: Path, timeout: float = 5.0):
    """Run ``fn`` with a deadline: a blocked open must fail the test, not hang it."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        for fifo in unblock:  # let a blocked FIFO open return, so the thread ends
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"blocked for more than {timeout} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


@pytest.fixture
def specials(server, cache_dir) -> Iterator[tuple[Hub, dict[str, Path]]]:
    """A FIFO under MNIST-8's own cache name, a FIFO and a socket under other model-like names."""
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("MNIST", 8)
        own = hub.local_path(info)
        own.parent.mkdir(parents=True)
        os.mkfifo(own)
        stray = own.with_name("a" * 64 + "_stray.onnx")
        os.mkfifo(stray)
        sock = own.with_name("b" * 64 + "_sock.onnx")
        with _bound_socket(sock):
            yield hub, {"own": own, "stray": stray, "sock": sock}


def test_the_scan_lists_special_files_as_special_never_complete(specials):
    hub, paths = specials
    for report in (hub.cache_report(), cache.scan(hub.cache_dir, None)):
        states = {f.path: f.state for f in report.files}
        assert {states[p] for p in paths.values()} == {"special"}, states
        assert not set(paths.values()) & {f.path for f in cache.prunable(report)}
    info = hub.manifest().find("MNIST", 8)
    assert cache.cached_states(cache.scan(hub.cache_dir, None), [info]) == {info.key: "damaged"}


def test_verify_never_opens_a_special_file(specials):
    hub, paths = specials
    report = _in_thread(hub.cache_report, *paths.values())
    results = {r.file.path: r for r in _in_thread(lambda: [cache.verify(f) for f in report.files], *paths.values())}
    assert results[paths["own"]].ok is False and results[paths["own"]].message == NOT_REGULAR
    assert {results[p].ok for p in paths.values()} == {False}  # each names a SHA-256 it cannot match


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_every_reader_refuses_a_special_file_at_once(tmp_path, kind):
    """``open_regular`` is what hashing, download, extract, inspect and the manifest readers open with."""
    path = tmp_path / "x.onnx"
    with _bound_socket(path) if kind == "socket" else contextlib.nullcontext():
        if kind == "fifo":
            os.mkfifo(path)
        with pytest.raises(OSError, match="not a regular file"):
            _in_thread(lambda: sha256_file(path), path)
        with pytest.raises(OSError, match="not a regular file"):
            _in_thread(lambda: open_regular(path), path)


def test_cache_ls_and_verify_in_the_cli_do_not_block(server, cache_dir):
    env = subprocess_env(server, cache_dir)
    assert run(["download", "mnist", "--opset", "8", "--repo", REPO, "-y"], env).returncode == 0
    root = Path(env["ONNX_HOME"]) / "hub"
    fifo = next(root.rglob("*_mnist-8.onnx"))
    fifo.unlink()
    os.mkfifo(fifo)
    started = time.monotonic()
    listed = run(["cache", "ls", "--json", "--repo", REPO], env, timeout=30)
    assert listed.returncode == 0, listed.stderr
    files = {f["path"]: f["state"] for f in json.loads(listed.stdout)["files"]}
    assert files[str(fifo)] == "special"
    verified = run(["cache", "verify", "--repo", REPO], env, timeout=30)
    assert time.monotonic() - started < 25
    assert verified.returncode == 1 and "not a regular file" in verified.stdout
    assert "Traceback" not in verified.stderr


def test_a_fifo_or_a_link_named_as_the_part_is_never_resumed_into(server, cache_dir, tmp_path):
    """A FIFO at ``<file>.part`` was adopted and written to (blocking once its buffer filled); a link there
    was followed (writing outside the cache). Neither is resumed: they are dropped, the download is whole."""
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"keep")
    with Hub(REPO, cache_dir) as hub:
        for opset, make in ((8, os.mkfifo), (7, lambda p: os.symlink(outside, p))):
            info = hub.manifest().find("MNIST", opset)
            target = hub.local_path(info)
            target.parent.mkdir(parents=True, exist_ok=True)
            make(target.with_name(target.name + cache.PART))
            path = _in_thread(lambda info=info: hub.download(info), target.with_name(target.name + cache.PART),
                              timeout=20)
            assert path == target and hub.local_copy(info).state == "complete"
            assert not os.path.lexists(target.with_name(target.name + cache.PART))
    assert outside.read_bytes() == b"keep"
