"""The real 184-entry manifest and a 10,000-entry one, from local folders (no server): counts, io_ports,
extra_ports, and a virtual table that stays correct (and quick) at scale. Also: the cache screen's
CacheChanged message refreshes the cached column."""

from __future__ import annotations

import pytest

import json
import shutil
import time

from textual.widgets import Input

from onnxhub_tui.tui.widgets.details import DetailsPanel
from onnxhub_tui.tui.messages import CacheChanged
from tests.support.tui import (
    loaded, make_app, models_screen, names, request_download, static_text, table, table_lines, until,
)

pytestmark = pytest.mark.anyio


async def test_the_real_manifest_io_ports_and_extra_ports(real_manifest, tmp_path, tui):
    folder = tmp_path / "zoo"
    folder.mkdir()
    shutil.copy(real_manifest, folder / "ONNX_HUB_MANIFEST.json")

    app = make_app(tmp_path / "cache", repo=str(folder))
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.session.manifest_state == "local" and len(names(app)) == 184
        details = models_screen(app).query_one(DetailsPanel).query_one("#details-body")
        without = [e for e in app.session.entries if e.io_ports is None]
        assert len(without) == 22
        models_screen(app).show_entry(without[0])
        await pilot.pause()
        assert "No io_ports in the manifest" in static_text(details, 200)
        extra = next(e for e in app.session.entries if e.extra_ports)
        models_screen(app).show_entry(extra)
        await pilot.pause()
        group = next(iter(extra.extra_ports))
        assert f"extra_ports: {group}" in static_text(details, 200)
        models_screen(app).query_one("#search", Input).value = "mnist opset:<=8"
        await pilot.pause()
        assert sorted(names(app)) == [("MNIST", 1), ("MNIST", 7), ("MNIST", 8)]


async def test_ten_thousand_entries_filter_sort_and_scroll(hub_tree, tmp_path, tui):
    base = hub_tree.manifest
    entries = []
    for i in range(1000):
        for e in base:
            copy = json.loads(json.dumps(e))
            copy["model"] = f"{e['model']}-{i:04d}"
            copy["model_path"] = f"r{i:04d}/{e['model_path']}"
            entries.append(copy)
    hub_tree.write_manifest(entries)

    app = make_app(tmp_path / "cache", repo=str(hub_tree.repo_dir))
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        t = table(app)
        assert t.row_count == 10_000
        assert len(t.children) == 0  # no widget per row: the Line API paints what is visible
        await pilot.press("end")
        assert t.highlighted.model == "TinyNet-0999" and "TinyNet-0999" in "\n".join(table_lines(app))
        await pilot.press("pageup")
        assert t.cursor < 10_000 - 30
        search = models_screen(app).query_one("#search", Input)
        started = time.perf_counter()
        search.value = "resnet"
        await pilot.pause()
        search.value = "resnet50-09"
        await pilot.pause()
        elapsed = time.perf_counter() - started
        assert sorted(n for n, _ in names(app)) == [f"ResNet50-{i:04d}" for i in range(900, 1000)]
        assert elapsed < 2.0, f"two searches over 10,000 entries took {elapsed:.2f}s"
        await pilot.press("s", "s")  # opset, then size (largest first), within the filter
        assert t.sort_column == "size" and t.rows[0].model.startswith("ResNet50")


async def test_cache_changed_refreshes_the_cached_column(server, hub_tree, cache_dir, tui):
    app = make_app(cache_dir)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        entry = next(e for e in app.session.entries if e.model == "TinyNet")
        request_download(app, entry)
        await until(pilot, lambda: app.session.cached_state(entry) == "complete", what="the download")
        app.hub.local_path(entry).unlink()  # as the cache screen would, through core.cache
        app.post_message(CacheChanged())
        await until(pilot, lambda: app.session.cached_state(entry) is None, what="the rescan")
        assert app.session.cached_count == 0
        assert "0 cached" in static_text(models_screen(app).query_one("#status"))
