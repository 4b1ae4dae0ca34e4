"""core/hashing.BackgroundHash: the digest of every byte given, in order, whether hashed in line (a small
body) or on its thread (past START_AFTER), and complete once close() returns."""

from __future__ import annotations

import hashlib
import os

import pytest

from onnxhub_tui.core.hashing import BackgroundHash


@pytest.mark.parametrize("total", [0, 1000, BackgroundHash.START_AFTER - 1, 3 * BackgroundHash.START_AFTER + 12345])
def test_the_digest_is_that_of_the_bytes_in_order(total):
    data = os.urandom(total)
    hasher = hashlib.sha256()
    background = BackgroundHash(hasher)
    pos, sizes = 0, [1, 70000, 1 << 20, 333]
    while pos < total:
        size = sizes[pos % len(sizes)]
        background.update(data[pos : pos + size])
        pos += size
    background.close()
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_second_close_is_harmless():
    hasher = hashlib.sha256()
    background = BackgroundHash(hasher)
    background.update(b"x" * (BackgroundHash.START_AFTER + 1))
    background.close()
    background.close()
    assert hasher.hexdigest() == hashlib.sha256(b"x" * (BackgroundHash.START_AFTER + 1)).hexdigest()
