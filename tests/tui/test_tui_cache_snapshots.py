"""SVG snapshots of the cache screen at 80x24 and 120x40 (pytest-textual-snapshot).

The content is deterministic: models downloaded from the loopback hub (their bytes and SHA-256 are fixed),
hand-made leftovers with fixed names, and the cache in a folder of a fixed path
(``/tmp/onnxhub-tui-snapshots/<test>``: the TUI shows paths absolute) instead of a tmp path. Regenerate with ``--snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

import pytest

from tests.support.tui import fixed_folder
from tests.tui.test_tui_cache import CacheApp, fill_cache, settle


@pytest.fixture
def cache_app(server, request, monkeypatch):
    tmp_path = fixed_folder(request)
    monkeypatch.chdir(tmp_path)
    filled = fill_cache(tmp_path / "cache", outside=tmp_path / "elsewhere")
    data = bytearray(filled.files["mnist8"].read_bytes())
    data[20] ^= 0xFF  # so verify has a mismatch to show
    filled.files["mnist8"].write_bytes(bytes(data))
    return CacheApp(filled.hub)


def test_cache_screen_80x24_prunable_selected(cache_app, snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app.screen)
        await pilot.press("p", "down", "down")

    assert snap_compare(cache_app, terminal_size=(80, 24), run_before=run_before)


def test_cache_screen_120x40_verified(cache_app, snap_compare):
    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await settle(pilot, screen)
        await pilot.press("a", "v")
        await settle(pilot, screen)
        await pilot.press("a")  # clear the selection again; the verify marks stay
        await pilot.press(*["down"] * 7)  # onto mnist-8.onnx: the details line says what mismatched
        await pilot.pause()

    assert snap_compare(cache_app, terminal_size=(120, 40), run_before=run_before)


def test_cache_screen_80x24_delete_confirmation(cache_app, snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app.screen)
        await pilot.press("p", "x")
        await pilot.pause()

    assert snap_compare(cache_app, terminal_size=(80, 24), run_before=run_before)
