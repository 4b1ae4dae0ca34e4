"""The TUI room's fixtures: one async app fixture for every Pilot test (run by anyio's plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from textual.app import App
from textual.pilot import Pilot


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio only


@pytest.fixture
def tui() -> Callable[..., AbstractAsyncContextManager[Pilot]]:
    """``async with tui(app, size=(80, 24)) as pilot:``: the app running headless for the test."""

    @asynccontextmanager
    async def run(app: App, *, size: tuple[int, int] = (120, 40), **options: object) -> AsyncIterator[Pilot]:
        async with app.run_test(size=size, **options) as pilot:  # type: ignore[arg-type]
            yield pilot

    return run
