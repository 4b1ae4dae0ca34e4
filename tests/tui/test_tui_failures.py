"""Failure never crashes: offline, stale, missing manifests, and hostile manifest text."""

from __future__ import annotations

import pytest

from onnxhub_tui.core.client import Hub
from onnxhub_tui.tui.widgets.details import DetailsPanel
from tests.support.hubserver import Fault
from tests.support.tui import (
    REPO, loaded, make_app, models_screen, names, request_download, static_text, table, table_lines, until,
)

pytestmark = pytest.mark.anyio


def prime_manifest_cache(cache_dir) -> None:  # noqa: ANN001
    with Hub(REPO, cache_dir) as hub:
        assert hub.manifest().state == "fresh"


async def test_offline_start_uses_the_cached_manifest(server, cache_dir, tui):
    prime_manifest_cache(cache_dir)
    hits = len(server.hits)

    app = make_app(cache_dir, offline=True)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.session.manifest_state == "offline" and len(names(app)) == 10
        assert "manifest offline" in static_text(models_screen(app).query_one("#status"))
        await pilot.press("d")  # nothing cached: the job fails saying why, the app goes on
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].finished, what="the job")
        assert app.session.queue.jobs[0].state == "failed" and app.session.queue.jobs[0].error.startswith("offline: ")
    assert len(server.hits) == hits  # not one request


async def test_network_failure_falls_back_to_a_stale_manifest(server, cache_dir, tui):
    prime_manifest_cache(cache_dir)
    server.add_fault("ONNX_HUB_MANIFEST", Fault("status", status=503, times=-1))

    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.session.manifest_state == "stale" and len(names(app)) == 10
        assert "manifest stale" in static_text(models_screen(app).query_one("#status"))
        assert any("cached manifest" in str(n.message) for n in app._notifications)  # noqa: SLF001


async def test_no_manifest_at_all_shows_an_empty_table_with_the_way_out(server, cache_dir, tui):
    app = make_app(cache_dir, offline=True)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.session.manifest_state == "failed" and names(app) == []
        message = " ".join(line.strip() for line in table_lines(app)[2:])
        assert "no cached manifest for acme/models:main" in message
        assert "--repo" in message and "--demo" in message
        assert "manifest failed" in static_text(models_screen(app).query_one("#status"))
        await pilot.press("d", "s", "down", "slash", "x", "enter", "2", "1")  # keys on nothing: no crash
        assert app.is_running


async def test_a_404_manifest_is_a_message_not_a_crash(server, cache_dir, tui):
    app = make_app(cache_dir, repo="acme/nothing-here:main")
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.session.manifest_state == "failed"
        message = " ".join(line.strip() for line in table_lines(app)[2:])
        assert "HTTP 404" in message and "Check the repo spec" in message
        assert "No manifest loaded" in static_text(models_screen(app).query_one(DetailsPanel).query_one("#details-body"))


async def test_hostile_manifest_text_renders_literally(server, hub_tree, cache_dir, tui):
    manifest = hub_tree.manifest
    manifest[0]["model"] = "[bold]x[/]"
    manifest[1]["model"] = "\x1b[31mRed\x1b[0m\x07Bell"
    manifest[1]["metadata"]["tags"] = ["[red]t[/]", "\x1b]0;title\x07osc"]
    manifest[2]["metadata"]["io_ports"] = {"inputs": [{"name": "[i]in[/i]", "shape": ["[b]N[/b]", 3],
                                                       "type": "tensor(float)"}], "outputs": []}
    hub_tree.write_manifest(manifest)

    app = make_app(cache_dir)
    async with tui(app, size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        text = "\n".join(table_lines(app))
        assert "[bold]x[/]" in text and "RedBell" in text and "[red]t[/], osc" in text
        assert "\x1b" not in text and "\x07" not in text and "title" not in text
        t = table(app)
        details = models_screen(app).query_one(DetailsPanel).query_one("#details-body")
        for index, entry in enumerate(t.rows):
            t.select_entry(entry)
            await pilot.pause()
            shown = static_text(details, 200)
            assert "\x1b" not in shown
            if entry.model == "[bold]x[/]":
                assert "[bold]x[/]" in shown
            if entry.inputs and entry.inputs[0].name == "[i]in[/i]":
                assert "[i]in[/i]" in shown and "[b]N[/b]" in shown
        models_screen(app).query_one("#search").value = "[bold]"
        await pilot.pause()
        assert names(app)[0][0] == "[bold]x[/]"
        # the command palette shows it literally too
        await pilot.press("ctrl+p")
        for key in "bold":
            await pilot.press(key)
        await pilot.pause(0.4)
        from textual.command import CommandList
        options = app.screen.query_one(CommandList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("[bold]x[/] (opset" in text for text in shown), shown
        await pilot.press("escape")
        # and so do notifications
        from textual.widgets._toast import Toast
        request_download(app, next(e for e in app.session.entries if e.model == "[bold]x[/]"))
        await until(pilot, lambda: list(app.screen.query(Toast)), what="a toast")
        toasts = [str(toast.render()) for toast in app.screen.query(Toast)]
        assert any("Queued [bold]x[/] /" in text for text in toasts), toasts
