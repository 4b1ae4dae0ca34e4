"""The cache screen with a FIFO under a model's cache name (issue 10 item 5): it is listed "special",
the verify of everything ends (a FIFO was opened and waited on for ever), and `q` then quits."""

from __future__ import annotations

import os
import time

import pytest

from tests.tui.test_tui_cache import CacheApp, fill_cache, rows_text, settle

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")]


async def test_a_fifo_is_listed_special_and_verify_ends(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache")
    fifo = filled.files["mnist8"]
    fifo.unlink()
    os.mkfifo(fifo)
    app = CacheApp(filled.hub)
    try:
        async with tui(app, size=(120, 40)) as pilot:
            screen = app.screen
            await settle(pilot, screen)
            states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
            assert states["mnist-8.onnx"] == "special"
            started = time.monotonic()
            await pilot.press("a", "v")
            await settle(pilot, screen, timeout=8)
            assert time.monotonic() - started < 8
            states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
            assert states["mnist-8.onnx"] == "special" and states["resnet50-9.onnx"] == "verified"
            await pilot.press("q")
    finally:
        # a blocked open (the bug) returns once a writer comes: let the worker thread end either way
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
