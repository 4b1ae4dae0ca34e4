"""The cache stays live (issue 10 item 20): a finished download is an event the cache screen shows
without ``r``; another process's delete is noticed by a cheap stat of the cache's folders, on the cache
screen and in the models table's ✓."""

from __future__ import annotations

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.tui import jobs as J
from onnxhub_tui.tui.app import HubApp
from onnxhub_tui.tui.screens.cache import CacheScreen
from tests.support.tui import REPO, loaded, request_download, screen_of, table_lines, until

pytestmark = pytest.mark.anyio


def cache_names(screen: CacheScreen) -> set[str]:
    return {screen.cache_list.name_of(f) for f in screen.report.files} if screen.report else set()


async def test_a_finished_download_shows_on_the_cache_screen_without_r(server, cache_dir, tui):
    app = HubApp(Hub(REPO, cache_dir), trust=True)
    app.watch_seconds = 3600  # the event alone, not the periodic look
    async with tui(app, size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        screen = screen_of(app, CacheScreen)
        screen.watch_seconds = 3600
        await until(pilot, lambda: screen.report is not None, what="the first scan")
        assert "mnist-8.onnx" not in cache_names(screen)
        entry = next(e for e in app.session.entries if e.model == "MNIST" and e.opset == 8)
        request_download(app, entry)
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].state == J.DONE,
                    what="the download")
        await until(pilot, lambda: "mnist-8.onnx" in cache_names(screen), what="the cache screen to show it")


async def test_another_process_deleting_a_file_is_noticed(server, cache_dir, tui):
    with Hub(REPO, cache_dir) as other:  # "another process": the files appear and go behind the app's back
        entry = next(e for e in other.manifest().entries if e.model == "MNIST" and e.opset == 8)
        path = other.download(entry)
    app = HubApp(Hub(REPO, cache_dir), trust=True)
    app.watch_seconds = 0.3
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        row = next(i for i, e in enumerate(app.session.entries) if e.model_path == entry.model_path)
        assert app.session.cached_state(entry) == "complete"
        await pilot.press("3")
        screen = screen_of(app, CacheScreen)
        await until(pilot, lambda: "mnist-8.onnx" in cache_names(screen), what="the first scan")
        path.unlink()  # onnxhub-tui cache rm, from another shell
        await until(pilot, lambda: "mnist-8.onnx" not in cache_names(screen), timeout=10,
                    what="the cache screen to drop it")
        await until(pilot, lambda: app.session.cached_state(entry) is None, timeout=10, what="the ✓ to go")
        await pilot.press("1")
        await pilot.pause()
        assert app.session.cached_count == 0
        assert not any("✓" in line for line in table_lines(app)), row


async def test_the_models_table_drops_its_tick_when_another_process_deletes_the_model(server, cache_dir, tui):
    with Hub(REPO, cache_dir) as other:
        entry = next(e for e in other.manifest().entries if e.model == "ResNet50")
        path = other.download(entry)
    app = HubApp(Hub(REPO, cache_dir), trust=True)
    app.watch_seconds = 0.3
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.session.cached_count == 1 and any("✓" in line for line in table_lines(app))
        path.unlink()  # never visiting the cache screen
        await until(pilot, lambda: app.session.cached_count == 0, timeout=10, what="the ✓ to go")
        await pilot.pause()
        assert not any("✓" in line for line in table_lines(app))
        with Hub(REPO, cache_dir) as other:  # and back: another process fetched it again
            other.download(entry)
        await until(pilot, lambda: app.session.cached_count == 1, timeout=10, what="the ✓ to come back")
