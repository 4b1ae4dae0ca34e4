"""core.locking: one holder at a time, across threads and processes; a dead holder's lock is gone; a lock file
swapped for a link or a FIFO neither reaches outside the cache nor blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from onnxhub_tui.core.locking import FileLock, LockTimeout

HOLD = """
import sys, time
from onnxhub_tui.core.locking import FileLock
FileLock(sys.argv[1]).acquire(timeout=5)
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_holder_waits_until_the_first_releases(tmp_path):
    path = tmp_path / "x.lock"
    first, second = FileLock(path), FileLock(path)
    first.acquire(timeout=1)
    t0 = time.monotonic()
    with pytest.raises(LockTimeout):
        second.acquire(timeout=0.3)
    assert time.monotonic() - t0 >= 0.3
    got = threading.Event()

    def take() -> None:
        second.acquire(timeout=5)
        got.set()

    waiter = threading.Thread(target=take)
    waiter.start()
    assert not got.wait(0.2), "the second holder got the lock while the first held it"
    first.release()
    assert got.wait(2), "the second holder did not get the released lock"
    waiter.join()
    second.release()
    first.acquire(timeout=0.1)  # free again after the second released it
    first.release()


def test_another_process_holds_it_until_it_is_killed(tmp_path):
    path = tmp_path / "x.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = FileLock(path)
        with pytest.raises(LockTimeout):
            lock.acquire(timeout=0.3)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        lock.acquire(timeout=1)  # the kernel dropped the dead holder's lock: nothing stale to clean
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)


def test_a_link_in_the_lock_files_place_is_refused_and_its_target_untouched(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("the user's file")
    missing = tmp_path / "not-there"
    for target in (outside, missing):
        link = tmp_path / f"{target.name}.lock"
        link.symlink_to(target)
        with pytest.raises(OSError):
            FileLock(link).acquire(timeout=0.1)
    assert outside.read_text() == "the user's file"  # not truncated
    assert not missing.exists()  # not created


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_lock_files_place_does_not_block(tmp_path):
    fifo = tmp_path / "x.lock"
    os.mkfifo(fifo)
    done = threading.Event()

    def take() -> None:
        lock = FileLock(fifo)
        try:
            lock.acquire(timeout=0.5)
            lock.release()
        except (OSError, LockTimeout):
            pass
        done.set()

    threading.Thread(target=take, daemon=True).start()
    assert done.wait(5), "opening a FIFO as the lock file blocked"


def test_acquiring_twice_without_release_is_a_mistake_said_at_once(tmp_path):
    lock = FileLock(tmp_path / "x.lock")
    lock.acquire(timeout=0.1)
    with pytest.raises(RuntimeError):
        lock.acquire(timeout=0.1)
    lock.release()
    lock.release()  # a second release does nothing
