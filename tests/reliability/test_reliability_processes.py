"""Real processes: ``kill -9`` mid-download then a rerun that resumes with Range; two processes on one
model (with and without the lock); the disk filling up while writing."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import DiskSpaceError, DownloadError
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault
from tests.support.reliability import MB, add_blob, cache_files, cli_has, download_command, part_files, sha256

REPO = "acme/models:main"
SIZE = 4 * MB
BLOB = "blobs/blob/blob.onnx"


@pytest.fixture
def blob(hub_tree):
    return add_blob(hub_tree, "Blob", SIZE, seed=3)


def final_path(cache_dir: Path, blob: dict) -> Path:
    return cache.cached_path(cache_dir, blob["model_path"], blob["metadata"]["model_sha"])


def wait_for(condition, timeout: float = 20.0, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")


def start(server, cache_dir: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(download_command(REPO, cache_dir, "Blob"), env=subprocess_env(server, cache_dir, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {out}\nstderr: {err}"
    return out


def part_with_at_least(cache_dir: Path, n: int):
    def check():
        for p in part_files(cache_dir):
            try:
                if p.stat().st_size >= n:
                    return p
            except OSError:
                pass
        return None
    return check


def signalled_mid_download(server, cache_dir: Path, sig: int) -> tuple[subprocess.Popen, str, str]:
    """A CLI download of the blob, trickled, sent ``sig`` once a MB of it is in its part file."""
    server.add_fault(BLOB, Fault("trickle", chunk=16 * 1024, seconds=0.004))
    proc = start(server, cache_dir)
    try:
        wait_for(part_with_at_least(cache_dir, MB))
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    return proc, out, err


def test_kill_9_mid_download_then_rerun_resumes_from_the_part(server, blob, cache_dir, hub_tree):
    data = hub_tree.files[blob["model_path"]]
    proc, _out, _err = signalled_mid_download(server, cache_dir, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    target = final_path(cache_dir, blob)
    assert not target.exists(), "a killed download must never leave a final file"
    [part] = part_files(cache_dir)
    kept = part.stat().st_size
    assert MB <= kept < SIZE
    assert part.read_bytes() == data[:kept], "the part is not a prefix of the file"

    out = finish(start(server, cache_dir))
    assert str(target) in out
    starts = server.range_starts(BLOB)
    assert starts == [None, kept], starts  # the rerun asked for exactly the bytes it did not have
    assert server.hits_for(BLOB)[-1].bytes_sent == SIZE - kept
    assert sha256(target) == blob["metadata"]["model_sha"]
    assert part_files(cache_dir) == []


def gets(server) -> list:
    return [h for h in server.hits_for(BLOB) if h.method == "GET"]


def test_two_processes_one_model_share_one_download(server, blob, cache_dir):
    gate = threading.Event()
    server.add_fault(BLOB, Fault("hold", gate=gate))  # the first download waits at the server ...
    first = start(server, cache_dir)
    wait_for(lambda: gets(server))
    second = start(server, cache_dir)  # ... while the second starts, reads the manifest, and reaches the lock
    wait_for(lambda: len(server.hits_for("ONNX_HUB_MANIFEST.json")) >= 2)
    time.sleep(0.3)
    gate.set()
    out1, out2 = finish(first), finish(second)
    target = final_path(cache_dir, blob)
    assert str(target) in out1 and str(target) in out2
    assert sha256(target) == blob["metadata"]["model_sha"]
    assert len(gets(server)) == 1
    assert server.bytes_for(BLOB) == SIZE  # one copy on the wire
    assert cache_files(cache_dir) == [target]


class _Watcher(threading.Thread):
    """Hashes the published file whenever it changes, to catch a corrupt file at any moment."""

    def __init__(self, path: Path, sha: str) -> None:
        super().__init__(daemon=True)
        self.path, self.sha = path, sha
        self.bad: list[str] = []
        self.checks = 0
        self.stop = threading.Event()

    def run(self) -> None:
        last = None
        while not self.stop.is_set():
            try:
                st = os.stat(self.path)
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
                if key != last:
                    digest = sha256(self.path)
                    self.checks += 1
                    if digest != self.sha:
                        self.bad.append(f"{st.st_size} bytes, sha {digest}")
                    last = key
            except FileNotFoundError:
                pass
            time.sleep(0.002)


def test_without_the_lock_a_published_file_is_never_corrupt(server, blob, cache_dir):
    target = final_path(cache_dir, blob)
    watcher = _Watcher(target, blob["metadata"]["model_sha"])
    watcher.start()
    # Both downloads are held at the server until both have asked, so they really overlap; the first
    # answer is wrong bytes (its process retries), the other trickles.
    gate = threading.Event()
    server.add_fault(BLOB, Fault("hold", gate=gate, then=Fault("wrong_bytes")))
    server.add_fault(BLOB, Fault("hold", gate=gate, then=Fault("trickle", chunk=64 * 1024, seconds=0.002)))
    try:
        first = start(server, cache_dir, ONNXHUB_LOCKS="off")
        second = start(server, cache_dir, ONNXHUB_LOCKS="off")
        wait_for(lambda: len(gets(server)) >= 2)
        gate.set()
        out1, out2 = finish(first), finish(second)
    finally:
        gate.set()
        watcher.stop.set()
        watcher.join()
    assert str(target) in out1 and str(target) in out2
    assert watcher.bad == [], f"a corrupt file was published: {watcher.bad}"
    assert watcher.checks >= 1
    assert sha256(target) == blob["metadata"]["model_sha"]
    assert len(gets(server)) >= 3  # really two downloads, one of them retried
    assert cache_files(cache_dir) == [target]


# -- disk full --------------------------------------------------------------------------------------


def _small_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, timeout=10)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB filesystem for the cache: a real tmpfs when we may mount, else ENOSPC injected at the write."""
    where = tmp_path / "small"
    if _small_tmpfs(where, "2m"):
        yield where, True
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)
    else:
        where.mkdir()
        yield where, False


class _FullFile:
    """A file object whose writes fail with ENOSPC once 2 MiB have been written (the fallback)."""

    limit = 2 * MB

    def __init__(self, f) -> None:
        self._f = f

    def write(self, data: bytes) -> int:
        if self._f.tell() + len(data) > self.limit:
            raise OSError(28, "No space left on device")
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _inject_enospc(monkeypatch) -> None:
    from onnxhub_tui.core import download

    monkeypatch.setattr(download, "open", lambda *a, **k: _FullFile(open(*a, **k)), raising=False)


def test_disk_full_while_writing_is_a_clear_error_and_frees_the_part(server, hub_tree, small_disk, monkeypatch):
    where, real = small_disk
    entry = add_blob(hub_tree, "Unsized", 3 * MB, with_size=False)  # no size: the free-space check cannot help
    if not real:
        _inject_enospc(monkeypatch)
    cache_dir = where / "cache"
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("Unsized")
        with pytest.raises(DiskSpaceError, match="disk filled up") as exc:
            hub.download(info)
        target = hub.local_path(info)
    assert "partial file was removed" in str(exc.value)
    assert not target.exists()
    assert part_files(cache_dir) == []
    if real:
        assert shutil.disk_usage(where).free > MB  # the space really was given back
    assert entry["metadata"].get("model_bytes") is None


def test_not_enough_space_is_refused_before_writing(server, hub_tree, small_disk):
    where, real = small_disk
    if not real:
        pytest.skip("needs a small real filesystem (root and mount); the write-time case covers the fallback")
    add_blob(hub_tree, "Sized", 3 * MB)
    cache_dir = where / "cache"
    with Hub(REPO, cache_dir) as hub:
        info = hub.manifest().find("Sized")
        with pytest.raises(DiskSpaceError, match="Not enough disk space"):
            hub.download(info)
    assert cache_files(cache_dir) == []
    assert server.bytes_for(BLOB.replace("blob", "sized")) < 3 * MB


@pytest.mark.skipif(not cli_has("download"), reason="the CLI has no `download` subcommand yet")
def test_ctrl_c_parks_the_part_and_the_rerun_resumes(server, blob, cache_dir, hub_tree):
    data = hub_tree.files[blob["model_path"]]
    proc, _out, err = signalled_mid_download(server, cache_dir, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    [part] = part_files(cache_dir)
    assert part.name.endswith(cache.PART), "an interrupted download leaves the resumable <file>.part"
    kept = part.stat().st_size
    assert part.read_bytes() == data[:kept]
    finish(start(server, cache_dir))
    assert server.range_starts(BLOB) == [None, kept]
    assert sha256(final_path(cache_dir, blob)) == blob["metadata"]["model_sha"]


def test_a_killed_lock_holder_never_blocks_the_next_run(server, blob, cache_dir):
    gate = threading.Event()
    server.add_fault(BLOB, Fault("hold", gate=gate))  # the first process holds the lock, waiting on the server
    first = start(server, cache_dir)
    try:
        wait_for(lambda: gets(server))
        first.send_signal(signal.SIGKILL)
        first.communicate()
    finally:
        gate.set()
    started = time.monotonic()
    finish(start(server, cache_dir))  # the kernel dropped the dead process's lock: no wait, no stale-lock file
    assert time.monotonic() - started < 15
    assert sha256(final_path(cache_dir, blob)) == blob["metadata"]["model_sha"]
    assert part_files(cache_dir) == []


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_kill_9_of_the_tui_mid_download_then_the_cli_resumes(server, blob, cache_dir, hub_tree, tmp_path):
    """The same as the CLI case, through the TUI's download queue in a real terminal."""
    import shlex
    import uuid

    from tests.support.reliability import cli_command

    data = hub_tree.files[blob["model_path"]]
    # Every request for the file trickles (~2.5 s for the 4 MiB): with one, the TUI's header read could take
    # it, the download then ran at full speed, and the kill landed after its last byte.
    server.add_fault(BLOB, Fault("trickle", times=-1, chunk=16 * 1024, seconds=0.01))
    env = subprocess_env(server, cache_dir, TERM="xterm-256color")
    exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k != "TMUX")
    program = " ".join(shlex.quote(a) for a in cli_command())
    session = f"onnxhub-kill-{uuid.uuid4().hex[:8]}"
    command = f"exec env -i {exported} {program} --repo {REPO} --cache-dir {shlex.quote(str(cache_dir))} --trust"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    try:
        pid = int(_tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])
        screen = ""

        def listed():
            nonlocal screen
            screen = _tmux("capture-pane", "-t", session, "-p")
            return "Blob" in screen and "MNIST" in screen
        wait_for(listed, timeout=30)
        time.sleep(0.5)  # let the first paint settle before typing
        _tmux("send-keys", "-t", session, "/")
        _tmux("send-keys", "-t", session, "-l", "name:blob")
        _tmux("send-keys", "-t", session, "Enter")
        time.sleep(0.3)
        _tmux("send-keys", "-t", session, "d")
        wait_for(part_with_at_least(cache_dir, MB), timeout=30)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z")
    finally:
        _tmux("kill-session", "-t", session)
    [part] = part_files(cache_dir)
    kept = part.stat().st_size
    assert part.read_bytes() == data[:kept]
    # The killed TUI may linger as a zombie (here its parent, tmux, is gone and PID 1 does not reap, as in
    # many containers): a zombie writes nothing, so its part must count as abandoned.
    server.clear_faults()
    finish(start(server, cache_dir))
    # the TUI read the entry's header first (it has no io_ports): bounded Range reads, not the download's
    downloads = [h.range_start for h in server.hits_for(BLOB)
                 if h.method == "GET" and not re.match(r"bytes=\d+-\d+$", h.headers.get("range", ""))]
    assert downloads == [None, kept]
    assert sha256(final_path(cache_dir, blob)) == blob["metadata"]["model_sha"]


def test_a_read_only_cache_is_a_clear_error(server, tmp_path):
    where = tmp_path / "ro"
    if not _small_tmpfs(where, "1m"):
        pytest.skip("needs root and mount for a read-only filesystem (root ignores file permissions)")
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True, timeout=10)
    try:
        with Hub(REPO, where) as hub:
            info = hub.manifest().find("MNIST", 8)  # the manifest still loads (its copy is best-effort)
            with pytest.raises(DownloadError, match=r"Cannot write .*Read-only file system.*set_dir\(\)") as exc:
                hub.download(info)
        assert isinstance(exc.value, AssertionError)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)
