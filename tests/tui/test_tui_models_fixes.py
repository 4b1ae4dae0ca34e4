"""Issue 10 items 16, 18, 19, 21, 22, 23 on the models screen and help (Pilot, loopback hub)."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from onnxhub_tui.core.client import Hub
from onnxhub_tui.tui.app import HubApp
from onnxhub_tui.tui.commands import HubCommands
from onnxhub_tui.tui.messages import JobsChanged
from onnxhub_tui.tui.screens.help import HelpScreen
from onnxhub_tui.tui.widgets.details import DetailsPanel
from onnxhub_tui.tui.widgets.model_table import SORTABLE
from tests.support.demo_guard import demo_folder  # noqa: F401 - fixture
from tests.support.tui import (loaded, make_app, models_screen, names, request_download, static_text, table,
                               table_lines, type_text, until)

pytestmark = pytest.mark.anyio


def notes(app: HubApp) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001 - what the user was told


def details_text(app: HubApp, width: int = 200) -> str:
    return static_text(models_screen(app).query_one(DetailsPanel).query_one("#details-body"), width=width)


# -- 18: search mistakes ----------------------------------------------------------------------------------
async def test_a_bad_comparison_shows_one_error_not_also_no_models_match(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await type_text(pilot, "opset:>=abc")  # "opset" alone matched nothing on the way
        error = models_screen(app).query_one("#query-error")
        assert error.display and "needs a number" in static_text(error)
        assert not any("No models match" in line for line in table_lines(app)), table_lines(app)
        models_screen(app).query_one("#search", Input).value = "tags:vision"
        await pilot.pause()
        assert "did you mean tag:" in static_text(error, width=300)


# -- 19: sort ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_sorted_header_shows_its_arrow(server, cache_dir, tui, size):
    app = make_app(cache_dir)
    async with tui(app, size=size) as pilot:
        await loaded(pilot)
        for column in SORTABLE:
            if column == "tier":
                continue  # no tiers on this hub: no column
            for reverse in (False, True):
                table(app).sort_by(column, reverse)
                await pilot.pause()
                header = table_lines(app)[0]
                assert ("▼" if reverse else "▲") in header and "…" not in header, (column, header)


async def test_opset_ties_come_in_name_order_and_sorting_stacks_no_toasts(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        before = len(notes(app))
        for _ in range(4):
            await pilot.press("s")
        await pilot.pause()
        assert len(notes(app)) == before
        table(app).sort_by("opset", reverse=True)
        await pilot.pause()
        rows = names(app)
        assert [o for _, o in rows] == sorted((o for _, o in rows), reverse=True)
        for opset in {o for _, o in rows}:
            tied = [n for n, o in rows if o == opset]
            assert tied == sorted(tied, key=str.lower), (opset, tied)


async def test_ctrl_c_says_how_to_quit_without_markup(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        said = [n for n in notes(app) if "quit" in n.lower()]
        assert said and not any("[b]" in n for n in said), said


# -- 21: help ----------------------------------------------------------------------------------------------
async def test_help_lists_the_missing_keys_and_scrolls_with_down(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = static_text(app.screen.query_one("#help-body"), width=200)
        for words in ("cache.collapse", "cache.expand", "cache.fold",  # the fold keys
                      "Show the job's model",  # enter on a job
                      "search.submit",  # enter in the search box
                      "tier:validated", "author:timm", "task:", "params:", "opset:>=9"):  # the search language
            assert words in text, words
        assert "help quit" not in text and "help_quit" not in text
        scroll = app.screen.query_one(VerticalScroll)
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()
        assert scroll.scroll_y > 0


def test_the_help_search_examples_match_on_the_demo(demo_folder):
    from onnxhub_tui.core.manifest import parse_manifest
    from onnxhub_tui.core.query import parse_query
    from onnxhub_tui.tui.screens.help import SEARCH_EXAMPLES

    entries = parse_manifest((demo_folder / "ONNX_HUB_MANIFEST.json").read_bytes(), "demo").entries
    for example, _ in SEARCH_EXAMPLES:
        assert parse_query(example).filter(entries), example


async def test_the_palette_has_one_keys_command(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles.count("Keys") == 1
        provider = HubCommands(app.screen)
        discovered = [hit.display async for hit in provider.discover()]
        assert not any("keys" in str(d).lower() for d in discovered), discovered
        keys = next(c for c in app.get_system_commands(app.screen) if c.title == "Keys")
        app.call_next(keys.callback)
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="Keys opens our help")


async def test_leaving_a_scrolled_details_panel_resets_it(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        panel = models_screen(app).query_one(DetailsPanel)
        assert app.focused is panel
        panel.scroll_end(animate=False)
        await pilot.pause()
        assert panel.scroll_y > 0
        await pilot.press("escape")
        await pilot.pause()
        assert panel.scroll_y == 0


# -- 22: 80x24 -------------------------------------------------------------------------------------------
async def test_at_80_columns_the_queue_count_shows_with_a_long_spec(server, hub_tree, cache_dir, tui):
    app = HubApp(Hub(str(hub_tree.repo_dir), cache_dir, None), trust=True)  # a local folder: a long spec
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        screen = models_screen(app)
        app.session.queue.add(table(app).highlighted, False)  # queued, not started
        app.session.publish(JobsChanged())
        await pilot.pause()
        status = static_text(screen.query_one("#status"), width=200).rstrip()
        assert status.endswith("↓ 1 in queue") and len(status) <= 78, status


async def test_at_80x24_the_details_show_a_dozen_lines(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        assert models_screen(app).query_one(DetailsPanel).size.height >= 11


async def test_at_120x40_tags_are_whole(tui, tmp_path, demo_folder):
    app = HubApp(Hub(str(demo_folder), tmp_path / "cache", None), trust=True)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        lines = table_lines(app)
        assert any("operators, normalization" in line for line in lines)
        assert any("vision, classification" in line for line in lines)
        assert not any("…" in line for line in lines), lines


async def test_the_footer_is_not_empty_while_typing_in_the_search_box(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await type_text(pilot, "mni")
        await pilot.pause()
        shown = [k.description for k in app.screen.query(FooterKey)]
        assert any("table" in d.lower() for d in shown), shown


# -- 16 and 23: paths, copy, test data --------------------------------------------------------------------
async def test_a_relative_cache_is_shown_absolute_and_y_copies_it(server, hub_tree, tmp_path, monkeypatch, tui):
    monkeypatch.chdir(tmp_path)
    app = HubApp(Hub("acme/models:main", "cache", None), trust=True)  # relative, under the working folder
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        entry = table(app).highlighted
        request_download(app, entry)
        await until(pilot, lambda: app.session.cached_state(entry) == "complete", what="the download")
        await pilot.pause(0.2)
        text = details_text(app).replace("\n", "").replace(" ", "")
        local = str(app.hub.local_copy(entry).path)
        assert not local.startswith("/")  # the core's path is relative: the TUI makes it absolute
        assert str(tmp_path / "cache") + "/" in text
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == str(tmp_path / local)
        assert any("OSC 52" in n or "tmux" in n for n in notes(app)), notes(app)


async def test_after_D_the_cached_column_and_the_details_show_the_data_folder(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        entry = table(app).highlighted
        request_download(app, entry, with_data=True)
        await until(pilot, lambda: app.hub.local_copy(entry).data_dir is not None, what="the data download")
        await until(pilot, lambda: "+data" in table_lines(app)[1], what="the +data mark")
        data_dir = str(app.hub.local_copy(entry).data_dir)
        await until(pilot, lambda: data_dir in details_text(app, width=400).replace("\n", "").replace(" ", ""),
                    what="the data folder in the details")


def test_paths_wrap_after_a_slash():
    from onnxhub_tui.tui.pathtext import wrap_path

    path = "/home/user/.cache/onnx/hub/validated/vision/classification/" + "a" * 64 + "_mnist-12.onnx"
    lines = wrap_path(path, 30)
    assert "".join(lines) == path and all(len(line) <= 30 for line in lines)
    assert lines[0].endswith("/") and lines[1].endswith("/")  # never mid-name while a "/" fits

