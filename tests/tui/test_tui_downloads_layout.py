"""The downloads screen at real sizes: a failed job's whole cause readable at 80x24 (issue 10 item 17),
paths whole (item 16), a bar that grows with the width and a speed column never cut (item 22)."""

from __future__ import annotations

import re

import pytest

from onnxhub_tui.tui import jobs as J
from tests.support.hubserver import Fault
from tests.support.tui import downloads_screen, loaded, make_app, request_download, screen_text, until

pytestmark = pytest.mark.anyio


def squeezed(text: str) -> str:
    """Without whitespace: a wrapped line reads as the unwrapped one."""
    return re.sub(r"\s+", "", text)


async def test_a_failed_download_shows_its_whole_cause_at_80x24(server, cache_dir, tui):
    server.add_fault("resnet50-9.onnx", Fault("status", status=404, times=-1))
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        entry = next(e for e in app.session.entries if e.model == "ResNet50")
        request_download(app, entry)
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].finished, what="the job")
        job = app.session.queue.jobs[0]
        assert job.state == J.FAILED and len(job.error) > 100, job.error
        app.clear_notifications()  # the toast is gone: the panel alone must say it
        await pilot.press("2")
        await pilot.pause()
        screen = downloads_screen(app)
        assert app.screen is screen
        painted = "\n".join(screen_text(app))
        # the cause is on the screen whole, in order (wrapped, not cut)
        assert squeezed(job.error) in squeezed(painted), painted
        assert "q Quit" in painted.splitlines()[-1]


def test_the_speed_column_holds_every_speed_whole_and_the_bar_grows_with_the_width():
    from onnxhub_tui.tui.fmt import human_rate
    from onnxhub_tui.tui.screens.downloads import column_widths, fit

    for width in (78, 118, 158, 300):
        widths = column_widths(width)
        assert sum(widths.values()) <= width
        for rate in (999.9, 999_949.0, 999_949_000.0, 12_345_678.0):
            text = human_rate(rate)
            assert fit(text, widths["speed"], right=True).plain.strip() == text
    assert column_widths(78)["bar"] <= 16 and "error" not in column_widths(78)  # 80 columns: the panel has it
    assert column_widths(118)["bar"] >= 25 and column_widths(158)["bar"] >= 35
    assert column_widths(158)["error"] >= 30


async def test_the_bar_grows_at_120x40_and_the_speed_is_whole_at_160(server, cache_dir, tui):
    server.add_fault("resnet50-9.onnx", Fault("trickle", chunk=2048, seconds=0.05, times=-1))
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        entry = next(e for e in app.session.entries if e.model == "ResNet50")
        request_download(app, entry)
        await until(pilot, lambda: app.session.queue.jobs, what="the job")
        job = app.session.queue.jobs[0]
        await until(pilot, lambda: job.done > 8000 and job.speed(), what="bytes and a speed")
        await pilot.press("2")
        await pilot.pause()
        row = next(line for line in screen_text(app) if "ResNet50" in line)
        bar = re.search(r"[█░]+", row)
        assert bar and len(bar.group()) >= 20, row
        await pilot.resize_terminal(160, 40)
        await pilot.pause(0.3)
        await pilot.pause()
        row = next(line for line in screen_text(app) if "ResNet50" in line)
        assert re.search(r"\d+(\.\d)? [KMG]?B/s ", row), row  # the unit whole, not "12.3 KB…"
        assert "…" not in row.split("%")[1].split("downloading")[0], row
        job.cancel.cancel()
        await until(pilot, lambda: job.finished, what="the cancel")


async def test_a_done_job_shows_its_absolute_path_whole_and_y_copies_it(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        entry = next(e for e in app.session.entries if e.model == "ResNet50")
        request_download(app, entry)
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].state == J.DONE,
                    what="the download")
        await pilot.press("2")
        await pilot.pause()
        job = app.session.queue.jobs[0]
        assert job.path.startswith("/") and len(job.path) > 80
        assert squeezed(job.path) in squeezed("\n".join(screen_text(app)))
        await pilot.press("y")
        assert app.clipboard == job.path
