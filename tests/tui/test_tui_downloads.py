"""The download queue through Pilot against the fault-injecting loopback hub: real bytes, real files."""

from __future__ import annotations

import pytest

import hashlib
import threading
from pathlib import Path

from onnxhub_tui.core import cache
from onnxhub_tui.tui import jobs as J
from onnxhub_tui.tui.widgets.details import DetailsPanel
from onnxhub_tui.tui.screens.modals import ConfirmScreen
from tests.support.hubserver import Fault
from tests.support.tui import (
    downloads_screen, loaded, make_app, models_screen, static_text, table, table_lines, until,
)

pytestmark = pytest.mark.anyio


def notes(app) -> list[str]:  # noqa: ANN001
    return [str(n.message) for n in app._notifications]  # noqa: SLF001 - what the user was told


async def highlight(pilot, app, name: str, opset: int | None = None) -> None:  # noqa: ANN001
    entry = next(e for e in app.session.entries if e.model == name and (opset is None or e.opset == opset))
    models_screen(app).show_entry(entry)
    await pilot.pause()
    assert table(app).highlighted is entry


async def test_download_completes_verified_and_marks_the_row_cached(server, hub_tree, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, app, "MNIST", 8)
        row = table(app).cursor + 1
        assert "✓" not in table_lines(app)[row]
        await pilot.press("d")
        job = app.session.queue.jobs[0]
        await until(pilot, lambda: job.state == J.DONE, what="the download")
        entry = hub_tree.entry("MNIST", 8)
        path = cache.cached_path(cache_dir, entry["model_path"], entry["metadata"]["model_sha"])
        assert path.is_file() and str(path) == job.path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["metadata"]["model_sha"]
        assert not cache.part_files(path)
        await pilot.pause()
        assert table_lines(app)[row].rstrip().endswith("✓")
        assert "1 cached" in static_text(models_screen(app).query_one("#status"))
        details = models_screen(app).query_one(DetailsPanel).query_one("#details-body")
        await until(pilot, lambda: "onnxhub-tests" in static_text(details, 200), what="the file summary")
        text = static_text(details, 200)
        assert "✓ cached" in text and "MatMul 1" in text and "IR version" in text
        assert any("Downloaded MNIST / 8" in n for n in notes(app))
        await pilot.press("escape", "s", "s", "s", "s")  # model -> opset -> size -> tags -> cached
        assert table(app).sort_column == "cached" and table(app).rows[0].model_path == entry["model_path"]
        # the downloads screen shows the finished row
        await pilot.press("2")
        screen = downloads_screen(app)
        assert screen is not None and app.screen is screen
        assert "1 done" in static_text(screen.query_one("#downloads-status"))


async def test_duplicates_are_notifications_not_jobs(server, cache_dir, tui):
    gate = threading.Event()
    server.add_fault("resnet50-9.onnx", Fault("hold", gate=gate))

    try:
        app = make_app(cache_dir)
        async with tui(app, size=(120, 40)) as pilot:
            await loaded(pilot)
            await highlight(pilot, app, "ResNet50")
            await pilot.press("d")
            await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].state == J.DOWNLOADING)
            row = table_lines(app)[table(app).cursor + 1]
            assert row.rstrip().endswith("↓"), row  # in the queue
            details = models_screen(app).query_one(DetailsPanel).query_one("#details-body")
            assert "in the download queue" in static_text(details, 200)
            await pilot.press("d")
            assert len(app.session.queue.jobs) == 1
            assert any("already in the queue" in n for n in notes(app))
            gate.set()
            await until(pilot, lambda: app.session.queue.jobs[0].state == J.DONE, what="the download")
            await pilot.press("d")
            assert len(app.session.queue.jobs) == 1
            assert any("already cached" in n for n in notes(app))
    finally:
        gate.set()


async def test_at_most_jobs_run_at_once_and_the_model_with_data_extracts(server, cache_dir, tui):
    gate = threading.Event()
    for name in ("resnet50-9.onnx", "squeezenet-9.onnx", "densenet121-9.onnx"):
        server.add_fault(name, Fault("hold", gate=gate))

    try:
        app = make_app(cache_dir, jobs=2)
        async with tui(app, size=(120, 40)) as pilot:
            await loaded(pilot)
            for name in ("ResNet50", "SqueezeNet", "DenseNet-121"):
                await highlight(pilot, app, name)
                await pilot.press("d")
            await highlight(pilot, app, "MNIST", 12)
            await pilot.press("D")  # the model with its test data: an archive, extracted
            states = [j.state for j in app.session.queue.jobs]
            assert states == [J.DOWNLOADING, J.DOWNLOADING, J.QUEUED, J.QUEUED]
            gate.set()
            await until(pilot, lambda: all(j.state == J.DONE for j in app.session.queue.jobs), timeout=10, what="all jobs")
            data = app.session.queue.jobs[3]
            folder = Path(data.path)
            assert data.with_data and folder.is_dir() and folder.is_relative_to(cache_dir)
            assert [p.name for p in folder.rglob("model.onnx")] == ["model.onnx"]
    finally:
        gate.set()


async def test_cancel_keeps_a_resumable_part_and_retry_resumes_it(server, hub_tree, cache_dir, tui):
    server.add_fault("resnet50-9.onnx", Fault("trickle", chunk=1024, seconds=0.05))  # ~4 s in all
    entry = hub_tree.entry("ResNet50")
    size = entry["metadata"]["model_bytes"]
    target = cache.cached_path(cache_dir, entry["model_path"], entry["metadata"]["model_sha"])

    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, app, "ResNet50")
        await pilot.press("d")
        job = app.session.queue.jobs[0]
        await until(pilot, lambda: job.done > 4096, what="some bytes")
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("x")
        await until(pilot, lambda: job.state == J.CANCELLED, what="the cancel")
        part = target.with_name(target.name + cache.PART)
        assert part.is_file() and 0 < part.stat().st_size < size
        assert not target.exists()
        assert app.session.cached_state(job.entry) == "partial"
        assert "cancelled" in static_text(downloads_screen(app).query_one("#job-detail"))
        await pilot.press("r")
        await until(pilot, lambda: job.state == J.DONE, timeout=10, what="the resumed download")
        assert target.is_file() and not part.exists()
        ranges = [h.range_start for h in server.hits_for("resnet50-9.onnx")]
        assert ranges[0] in (None, 0) and ranges[-1] and ranges[-1] > 0, ranges
        await pilot.press("enter")  # a job's row leads to its model
        assert app.screen is models_screen(app) and table(app).highlighted is job.entry
        await pilot.press("2", "c")
        assert not app.session.queue.jobs


async def test_failures_show_their_error_in_the_row_and_a_notification(server, cache_dir, tui):
    server.add_fault("squeezenet-9.onnx", Fault("status", status=404, times=-1))
    server.add_fault("densenet121-9.onnx", Fault("wrong_bytes", times=-1))

    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, app, "SqueezeNet")
        await pilot.press("d")
        await highlight(pilot, app, "DenseNet-121")
        await pilot.press("d")
        await until(pilot, lambda: all(j.finished for j in app.session.queue.jobs), timeout=10, what="both jobs")
        missing, corrupt = app.session.queue.jobs
        assert missing.state == J.FAILED and "404" in missing.error and "\n" not in missing.error
        assert corrupt.state == J.FAILED and corrupt.error.startswith("hash mismatch")
        assert any("404" in n for n in notes(app))
        await pilot.press("2")
        await pilot.pause()
        screen = downloads_screen(app)
        assert "404" in static_text(screen.query_one("#job-detail"), 300)
        assert "2 failed" in static_text(screen.query_one("#downloads-status"))
        assert app.session.cached_state(corrupt.entry) is None  # nothing corrupt was published


async def test_trust_is_asked_once_per_session(server, cache_dir, tui):
    app = make_app(cache_dir, trust=False)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, app, "TinyNet")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "acme/models:main" in static_text(app.screen.query_one("#confirm-body"), 200)
        await pilot.press("n")
        assert not app.session.queue.jobs and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("d")
        await pilot.press("y")
        assert len(app.session.queue.jobs) == 1
        await highlight(pilot, app, "Texty")
        await pilot.press("d")
        assert not isinstance(app.screen, ConfirmScreen) and len(app.session.queue.jobs) == 2
        await until(pilot, lambda: all(j.state == J.DONE for j in app.session.queue.jobs), what="downloads")


async def test_quitting_with_downloads_running_asks_first_and_keeps_the_part(server, hub_tree, cache_dir, tui):
    server.add_fault("resnet50-9.onnx", Fault("trickle", chunk=1024, seconds=0.05))  # ~4 s in all
    entry = hub_tree.entry("ResNet50")
    target = cache.cached_path(cache_dir, entry["model_path"], entry["metadata"]["model_sha"])

    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, app, "ResNet50")
        await pilot.press("d")
        await until(pilot, lambda: app.session.queue.jobs[0].done > 2048, what="some bytes")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("n")
        assert app.is_running and app.session.queue.jobs[0].state == J.DOWNLOADING
        await pilot.press("q")
        await pilot.press("y")
        assert app.session.queue.jobs[0].cancel.cancelled
        await until(pilot, lambda: not app.is_running, what="the exit")
    part = target.with_name(target.name + cache.PART)
    assert part.is_file() and 0 < part.stat().st_size < entry["metadata"]["model_bytes"]
    assert not target.exists()
