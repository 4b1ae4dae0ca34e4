"""Fixtures shared by the core's tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from onnxhub_tui.core.http import make_client


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The project's own client (retries, timeouts, redirect rules), online even if the environment says not."""
    with make_client(offline=False) as c:
        yield c
