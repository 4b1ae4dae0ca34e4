"""SVG snapshots of each screen at 80x24 and 120x40 (pytest-textual-snapshot).

Deterministic content: the loopback hub's models are seeded, the cache is in a folder of a fixed path
(``/tmp/onnxhub-tui-snapshots/<test>``: paths are shown absolute), notifications are cleared, and
nothing shows a speed.
Update with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

import threading

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.tui import jobs as J
from onnxhub_tui.tui.app import HubApp
from tests.support.hubserver import Fault
from tests.support.tui import REPO, fixed_folder, loaded, make_app, models_screen, until

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def here(request, monkeypatch):
    folder = fixed_folder(request)
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def cache_dir(here):
    return here / "cache"


async def settle(pilot) -> None:  # noqa: ANN001
    """Let every worker but the downloads finish (a held download must stay held), drop the toasts."""
    others = [w for w in pilot.app.workers if w.group != "downloads"]
    if others:  # an empty list would mean "every worker"
        await pilot.app.workers.wait_for_complete(others)
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


async def show(pilot, name: str, opset: int | None = None) -> None:  # noqa: ANN001
    app = pilot.app
    entry = next(e for e in app.session.entries if e.model == name and (opset is None or e.opset == opset))
    models_screen(app).show_entry(entry)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_models_screen(snap_compare, server, cache_dir, here, size):
    async def run_before(pilot) -> None:  # noqa: ANN001
        app = await loaded(pilot)
        await show(pilot, "MNIST", 8)
        await pilot.press("d")
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].state == J.DONE)
        await show(pilot, "ResNet50")
        await pilot.press("slash")
        for key in "tag:vision":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(cache_dir), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_details_of_a_cached_model(snap_compare, server, cache_dir, here, size):
    async def run_before(pilot) -> None:  # noqa: ANN001
        app = await loaded(pilot)
        await show(pilot, "MNIST", 12)
        await pilot.press("d")
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].state == J.DONE)
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)

    assert snap_compare(make_app(cache_dir), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_downloads_screen(snap_compare, server, cache_dir, here, size):
    gate = threading.Event()
    server.add_fault("resnet50-9.onnx", Fault("hold", gate=gate))

    async def run_before(pilot) -> None:  # noqa: ANN001
        app = await loaded(pilot)
        await show(pilot, "MNIST", 8)
        await pilot.press("d")
        await until(pilot, lambda: app.session.queue.jobs[-1].state == J.DONE)
        for name in ("ResNet50", "SqueezeNet", "TinyNet"):
            await show(pilot, name)
            await pilot.press("d")
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("end")  # TinyNet, queued behind the held ResNet50: cancel it
        await pilot.press("x")
        await pilot.press("home")
        await settle(pilot)

    class HeldApp(HubApp):
        def exit(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().exit(*args, **kwargs)
            gate.set()  # the app waits for its worker threads: let the held one go

    try:
        assert snap_compare(HeldApp(Hub(REPO, cache_dir), jobs=1, trust=True), terminal_size=size,
                            run_before=run_before)
    finally:
        gate.set()


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, server, cache_dir, here, size):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(cache_dir), terminal_size=size, run_before=run_before)


def test_no_manifest_screen(snap_compare, server, cache_dir, here):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await loaded(pilot)
        await settle(pilot)

    assert snap_compare(make_app(cache_dir, offline=True), terminal_size=(80, 24), run_before=run_before)


def test_trust_modal(snap_compare, server, cache_dir, here):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await loaded(pilot)
        await show(pilot, "TinyNet")
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(make_app(cache_dir, trust=False), terminal_size=(80, 24), run_before=run_before)
