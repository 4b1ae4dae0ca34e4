"""The models screen through Pilot against a loopback hub: live search, tokens, sort, focus, palette."""

from __future__ import annotations

import pytest

from textual.widgets import Input

from onnxhub_tui.tui.widgets.details import DetailsPanel
from onnxhub_tui.tui.widgets.model_table import ModelTable
from tests.support.tui import loaded, make_app, models_screen, names, static_text, table, table_lines, type_text, until

pytestmark = pytest.mark.anyio


async def test_search_filters_live_and_tokens_combine(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert len(names(app)) == 10
        await pilot.press("slash")
        assert isinstance(app.focused, Input) and app.focused.id == "search"
        await type_text(pilot, "mnist")
        assert sorted(names(app)) == [("MNIST", 7), ("MNIST", 8), ("MNIST", 12), ("MNIST-12", 12)]
        await type_text(pilot, " opset:>=12")
        assert sorted(names(app)) == [("MNIST", 12), ("MNIST-12", 12)]
        await type_text(pilot, " -int8")  # a path word, negated
        assert names(app) == [("MNIST", 12)]
        models_screen(app).query_one("#search", Input).value = "tag:TEXT"
        await pilot.pause()
        assert names(app) == [("Texty", 13)]
        models_screen(app).query_one("#search", Input).value = "size:<1KB vision"
        await pilot.pause()
        assert {n for n, _ in names(app)} == {"MNIST", "MNIST-12", "Tiny-preproc", "TinyNet"}
        status = static_text(models_screen(app).query_one("#status"))
        assert "acme/models:main" in status and "fresh" in status and "6 shown / 10 total / 0 cached" in status


async def test_bad_query_shows_inline_and_keeps_rows(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await type_text(pilot, "resnet")
        error = models_screen(app).query_one("#query-error")
        assert not error.display
        search = models_screen(app).query_one("#search", Input)
        search.value = "resnet opset:>=x"
        await pilot.pause()
        assert error.display
        assert "opset:>=x needs a number" in static_text(error)
        assert names(app) == [("ResNet50", 9)]  # the rows of the last valid query stay
        search.value = "resnet opset:>=9"
        await pilot.pause()
        assert not error.display and names(app) == [("ResNet50", 9)]


async def test_focus_moves_and_q_types_in_search(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        search = models_screen(app).query_one("#search", Input)
        for leave in ("enter", "down", "escape"):
            await pilot.press("slash")
            assert app.focused is search
            await type_text(pilot, "q")  # typed, not quitting
            assert app.is_running and search.value.endswith("q")
            await pilot.press(leave)
            assert isinstance(app.focused, ModelTable), leave
            assert search.value.endswith("q")  # the query is kept
        search.value = ""
        await pilot.pause()
        await pilot.press("i")
        assert isinstance(app.focused, DetailsPanel)
        await pilot.press("escape")
        assert isinstance(app.focused, ModelTable)
        await pilot.press("enter")
        assert isinstance(app.focused, DetailsPanel)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="q to quit")


async def test_sort_cycles_and_header_click_sorts(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        t = table(app)
        assert [n for n, _ in names(app)][:2] == ["DenseNet-121", "MNIST"]
        await pilot.press("s")  # opset, highest first
        assert t.sort_column == "opset" and [o for _, o in names(app)] == sorted((o for _, o in names(app)), reverse=True)
        await pilot.press("s")  # size, largest first
        sizes = [e.model_bytes for e in t.rows]
        assert t.sort_column == "size" and sizes == sorted(sizes, reverse=True)
        assert table_lines(app)[0].split()[2:4] == ["size", "▼"]
        # a click on the "model" header sorts by name; a second click reverses
        await pilot.click(ModelTable, offset=(1, 0))
        assert t.sort_column == "model" and names(app)[0][0] == "DenseNet-121"
        await pilot.click(ModelTable, offset=(1, 0))
        assert t.sort_reverse and names(app)[0][0] == "TinyNet"
        # sorting keeps the filter
        await pilot.press("slash")
        await type_text(pilot, "mnist")
        assert [n for n, _ in names(app)] == ["MNIST-12", "MNIST", "MNIST", "MNIST"]


async def test_keyboard_and_mouse_move_the_cursor_and_details_follow(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        t = table(app)
        details = models_screen(app).query_one(DetailsPanel).query_one("#details-body")
        await pilot.press("down", "down")
        assert t.cursor == 2 and t.highlighted.model == "MNIST" and t.highlighted.opset == 8
        await pilot.press("end")
        assert t.highlighted.model == "TinyNet"
        assert "TinyNet" in static_text(details)
        await pilot.press("home")
        assert t.cursor == 0
        await pilot.click(ModelTable, offset=(2, 6))  # header is line 0: line 6 is row 5
        assert t.cursor == 5 and t.highlighted.model == "ResNet50"
        text = static_text(details, width=200)
        for expected in ("ResNet50", "validated/vision/classification/resnet50/model/resnet50-9.onnx",
                         "inputs", "outputs", "tensor(float32)", "not cached", "resnet50-9.tar.gz"):
            assert expected in text, expected
        models_screen(app).show_entry(next(e for e in app.session.entries if e.model == "Texty"))
        await pilot.pause()
        assert "No io_ports in the manifest" in static_text(details)


async def test_narrow_terminal_puts_details_below(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        t, d = table(app), models_screen(app).query_one(DetailsPanel)
        assert models_screen(app).has_class("narrow")
        assert d.region.y > t.region.y and d.region.x == t.region.x
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        t, d = table(app), models_screen(app).query_one(DetailsPanel)
        assert d.region.x > t.region.x and d.region.y == t.region.y


async def test_command_palette_finds_models_and_screens(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "squeeze")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: table(app).highlighted is not None
                    and table(app).highlighted.model == "SqueezeNet", what="palette model jump")
        await pilot.press("ctrl+p")
        await type_text(pilot, "downloads")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.current_mode == "downloads", what="palette screen switch")


async def test_help_lists_every_binding_with_its_id(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        text = static_text(app.screen.query_one("#help-body"), width=110)
        for binding_id in ("app.models", "app.downloads", "app.cache", "app.quit", "models.search",
                           "models.sort", "models.download", "models.download_data", "table.page_down",
                           "downloads.cancel", "downloads.retry", "downloads.clear", "search.leave"):
            assert binding_id in text, binding_id
        await pilot.press("escape")
        assert app.screen is models_screen(app)


async def test_keys_are_remapped_by_binding_id(server, cache_dir, monkeypatch, tui):
    from onnxhub_tui.tui.app import parse_keymap

    assert parse_keymap("models.download=w; app.quit=ctrl+x,x;bad;=z") == {
        "models.download": "w", "app.quit": "ctrl+x,x"}
    monkeypatch.setenv("ONNXHUB_TUI_KEYS", "models.sort=o")

    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        assert table(app).sort_column == "model"
        await pilot.press("o")
        assert table(app).sort_column == "opset"


async def test_a_burst_of_keys_filters_once_for_the_last_text(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        screen = models_screen(app)
        applied: list[str] = []
        original = screen.apply_query

        def counting(text: str) -> None:
            applied.append(text)
            original(text)

        screen.apply_query = counting  # type: ignore[method-assign]
        search = screen.query_one("#search", Input)
        for text in ("s", "sq", "squ", "sque", "squee", "squeez", "squeeze"):  # like a paste, no pause
            search.value = text
        await pilot.pause()
        assert applied == ["squeeze"] and names(app) == [("SqueezeNet", 9)]
