"""An exclusive lock between processes (and threads) on one lock file: ``flock`` on POSIX, ``msvcrt.locking``
on Windows.

The filelock package did this before; its 4.x releases take 15-18 ms to import (secrets, decimal, inspect,
platform), paid at the start of every ``download``, for the one lock this module takes. The kernel drops
the lock of a process that dies, so a killed download never leaves a lock to clean up.
"""

from __future__ import annotations

import errno
import os
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

_BUSY = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)})
# No O_TRUNC, and never through a symlink: a lock file swapped for a link must not truncate or create the file it
# points at (outside the cache). O_NONBLOCK: a FIFO in its place opens at once instead of waiting for a writer.
_FLAGS = (os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOINHERIT", 0))


class LockTimeout(Exception):
    """Another process (or thread) held the lock for the whole timeout."""


class FileLock:
    """``acquire`` then ``release``; one holder at a time, whether the other is this process or another."""

    POLL = 0.05  # seconds between tries while another holder has it

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = None

    def acquire(self, timeout: float) -> None:
        """Hold the lock, waiting at most ``timeout`` seconds; LockTimeout when another still has it, OSError
        when the lock file cannot be opened or the filesystem cannot lock."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is locked already")
        fd = os.open(self.path, _FLAGS, 0o644)
        deadline = time.monotonic() + timeout
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockTimeout(self.path)
                time.sleep(self.POLL)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)  # closing alone releases it too; unlocking first says so on every platform


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in _BUSY:
            return False
        raise
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
