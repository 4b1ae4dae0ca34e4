"""The whole zoo's tiers and facts in the table and details (issue 11 item 3), a remote header read for an
entry without ports (issue 13 item 3), and a Hugging Face entry's files, through Pilot on the loopback hub."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input

from onnxhub_tui.core.manifest import parse_manifest
from onnxhub_tui.tui.widgets.details import DetailsPanel, details_renderable
from onnxhub_tui.tui.screens.models_remote import RemoteLooks
from tests.support.tui import loaded, make_app, models_screen, names, static_text, table, table_lines, until

pytestmark = pytest.mark.anyio

TEXTY = "validated/text/machine_comprehension/texty/model/texty-13.onnx"


def details_text(app, width: int = 200) -> str:
    return static_text(models_screen(app).query_one(DetailsPanel).query_one("#details-body"), width=width)


def tier_the_hub(hub_tree) -> None:
    """Mark the loopback hub's entries as the whole zoo's: MNIST 7 a timm export, MNIST 8 skipped."""
    for entry in hub_tree.manifest:
        entry["metadata"]["tier"] = "validated"
    mnist7 = hub_tree.entry("MNIST", 7)["metadata"]
    mnist7.update(tier="exports", turnkey={"author": "timm", "task": "Computer_Vision", "parameters": 3_500_000,
                                          "ops": {"Conv": 20, "Relu": 19}, "script": "timm/mnist.py"},
                  unknown_until_download=["input types", "outputs"])
    hub_tree.entry("MNIST", 8)["metadata"]["tier"] = "skipped"
    hub_tree.write_manifest(hub_tree.manifest)


async def test_tiers_show_in_a_column_at_80x24_and_search(server, hub_tree, cache_dir, tui):
    tier_the_hub(hub_tree)
    app = make_app(cache_dir)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        lines = table_lines(app)
        assert "tier" in lines[0] and "cached" in lines[0]  # the column fits 80 columns with the others
        assert any("MNIST" in line and "export" in line for line in lines[1:])
        assert all(len(line) <= 80 for line in lines)
        search = models_screen(app).query_one("#search", Input)
        search.value = "tier:exp"
        await until(pilot, lambda: names(app) == [("MNIST", 7)], what="tier:exp")
        search.value = "author:timm params:>1M"
        await until(pilot, lambda: names(app) == [("MNIST", 7)], what="author: and params:")
        search.value = "tier:skipped"
        await until(pilot, lambda: names(app) == [("MNIST", 8)], what="tier:skipped")
        search.value = "tier:validated"
        await until(pilot, lambda: len(names(app)) == 8, what="tier:validated")


async def test_the_details_say_the_tier_its_meaning_and_the_zoo_facts(server, hub_tree, cache_dir, tui):
    tier_the_hub(hub_tree)
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        entry = next(e for e in table(app).rows if e.model == "MNIST" and e.opset == 7)
        table(app).select_entry(entry)
        await until(pilot, lambda: "timm" in details_text(app), what="the facts")
        text = details_text(app)
        for words in ("exports: a 2024 export", "not validated", "author", "3.5M", "Conv 20",
                      "timm/mnist.py", "unknown", "input types"):
            assert words in text, words


async def test_an_entry_without_ports_gets_them_from_its_header_once_the_cursor_settles(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        texty = next(e for e in table(app).rows if e.model == "Texty")
        table(app).select_entry(texty)
        await until(pilot, lambda: "read from the header" in details_text(app), timeout=10, what="the header")
        text = details_text(app)
        assert "inputs" in text and "outputs" in text and "tensor(float)" in text
        assert "requests" in text
        assert not (cache_dir / TEXTY).exists()  # nothing lands under the model's name
        assert app.session.cached_state(texty) is None


async def test_moving_on_cancels_the_look_and_typing_is_not_delayed(server, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        texty = next(e for e in table(app).rows if e.model == "Texty")
        start = table(app).rows.index(texty)
        table(app).move_cursor(start)
        await pilot.pause()
        table(app).move_cursor(start + 1 if start + 1 < len(table(app).rows) else start - 1)  # before it settles
        await pilot.pause(RemoteLooks.SETTLE + 0.3)
        assert server.hits_for("texty-13") == []  # the cursor moved on: no request was made
        table(app).select_entry(texty)
        await until(pilot, lambda: "reading header" in details_text(app) or "read from the header" in details_text(app),
                    timeout=5, what="the look starts")
        models_screen(app).query_one("#search", Input).focus()
        began = time.monotonic()
        for ch in "mnist":
            await pilot.press(ch)
        assert time.monotonic() - began < 2.0
        assert {n for n, _ in names(app)} == {"MNIST", "MNIST-12"}


def test_a_hugging_face_entry_lists_its_files():
    raw = [{"model": "tiny-hf", "model_path": "onnx/model.onnx", "onnx_version": "1", "opset_version": 17,
            "metadata": {"model_sha": "0" * 64, "model_bytes": 10, "tags": ["hf"],
                         "hf": {"repo": "acme/tiny", "data_candidates": ["onnx/model.onnx_data", "onnx/weights.bin"]}}}]
    import json

    entry = parse_manifest(json.dumps(raw).encode(), "hf").entries[0]
    from rich.console import Console

    console = Console(width=120, record=True, color_system=None)
    console.print(details_renderable(entry))
    text = console.export_text()
    assert "files" in text and "onnx/model.onnx_data" in text and "onnx/weights.bin" in text
