"""The cache screen against a real cache: files downloaded from the loopback hub plus hand-made leftovers."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.app import App

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.manifest import ModelInfo
from onnxhub_tui.core.text import human_size
from onnxhub_tui.tui.screens.cache import CacheScreen
from onnxhub_tui.tui.widgets.cache_list import CacheList
from onnxhub_tui.tui.messages import CacheChanged
from onnxhub_tui.tui.screens.modals import ConfirmScreen
from onnxhub_tui.tui.session import Session

pytestmark = pytest.mark.anyio
REPO = "acme/models:main"
MNIST_DIR = "validated/vision/classification/mnist/model"


class CacheApp(App):
    """The smallest host for the screen: a session (with the hub's manifest, or none), and a record of
    CacheChanged."""

    def __init__(self, hub: Hub, *, manifest: bool = True) -> None:
        super().__init__()
        self.session = Session(hub)
        if manifest:
            self.session.set_manifest(hub.manifest(), {})
        self.cache_changed = 0

    def on_mount(self) -> None:
        self.push_screen(CacheScreen(self.session))

    def on_cache_changed(self, message: CacheChanged) -> None:
        self.cache_changed += 1


@dataclass
class Cache:
    hub: Hub
    entries: list[ModelInfo]
    root: Path
    files: dict[str, Path]  # label -> path in the cache


def fill_cache(cache_dir: Path, outside: Path | None = None, running_part: bool = False) -> Cache:
    """Real downloads through Hub.download (the `server` fixture must be up), then leftovers by hand."""
    hub = Hub(REPO, cache_dir=cache_dir)
    entries = hub.manifest().entries
    by = {(e.model, e.opset): e for e in entries}
    files = {
        "mnist8": hub.download(by["MNIST", 8]),
        "mnist12-data": hub.download(by["MNIST", 12], with_data=True),
        "resnet": hub.download(by["ResNet50", 9]),
    }
    files["mnist12-archive"] = hub.local_path(by["MNIST", 12], with_data=True)
    tinynet = hub.local_path(by["TinyNet", 13])
    tinynet.parent.mkdir(parents=True, exist_ok=True)
    files["partial"] = tinynet.with_name(tinynet.name + cache.PART)
    files["partial"].write_bytes(b"\x08" * 100)
    files["orphan"] = cache_dir / MNIST_DIR / ("0" * 64 + "_mnist-old.onnx")
    files["orphan"].write_bytes(b"old" * 500)
    files["stray"] = cache_dir / "notes.txt"
    files["stray"].write_text("left here by hand\n")
    if running_part:
        files["running"] = cache.private_part(hub.local_path(by["SqueezeNet", 9]))
        files["running"].parent.mkdir(parents=True, exist_ok=True)
        files["running"].write_bytes(b"\x00" * 50)
    if outside is not None:
        outside.mkdir(parents=True, exist_ok=True)
        target = outside / "precious.onnx"
        target.write_bytes(b"keep me" * 10)
        files["link"] = cache_dir / "links" / "precious.onnx"
        files["link"].parent.mkdir(parents=True)
        # relative, so its size (the length of the target path) is the same on every machine
        files["link"].symlink_to(os.path.relpath(target, files["link"].parent))
    return Cache(hub, entries, cache_dir, files)


async def settle(pilot, screen: CacheScreen, timeout: float = 10.0) -> None:
    """Wait until the screen has a scan and no worker of its own runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        running = [w for w in pilot.app.workers if w.node is screen and not w.is_finished]
        if screen.report is not None and not screen.busy and not running:
            await pilot.pause()
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the cache screen did not settle")


def rows_text(lst: CacheList) -> list[tuple[str, str | None, str | None]]:
    """(group, display name, state label) per row, the way the list shows them."""
    from onnxhub_tui.tui.widgets.cache_list import state_label

    out = []
    for row in lst.rows:
        group = lst.groups[row.group]
        if row.file is None:
            out.append((group.name, None, None))
        else:
            f = group.files[row.file]
            out.append((group.name, lst.name_of(f), state_label(f, lst.results.get(f.rel))[0]))
    return out


def move_to(lst: CacheList, name: str) -> None:
    for i, (_g, shown, _s) in enumerate(rows_text(lst)):
        if shown == name:
            lst.move_cursor(i)  # tests jump straight to a row
            return
    raise AssertionError(f"{name} is not listed: {rows_text(lst)}")


def move_to_group(lst: CacheList, group: str) -> None:
    for i, (g, shown, _s) in enumerate(rows_text(lst)):
        if g == group and shown is None:
            lst.move_cursor(i)
            return
    raise AssertionError(f"group {group} is not listed")


def all_files(root: Path) -> set[str]:
    """Every file and link under root (our own tool folder aside), relative."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != cache.TOOL_DIR]
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


# -- tests ---------------------------------------------------------------------------------------------


async def test_lists_files_grouped_with_states(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache", running_part=True)
    app = CacheApp(filled.hub)
    async with tui(app, size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, CacheScreen)
        await settle(pilot, screen)
        rows = rows_text(screen.cache_list)
        groups = [g for g, shown, _ in rows if shown is None]
        assert groups == sorted(groups) and "" in groups and MNIST_DIR in groups
        states = {shown: state for _g, shown, state in rows if shown is not None}
        assert states["mnist-8.onnx"] == "complete"
        assert states["mnist-12.tar.gz"] == "complete"
        assert states["mnist-12/"] == "extracted"
        assert states["mnist-old.onnx"] == "orphan"
        assert states["notes.txt"] == "unknown"  # outside this hub's folders: not its orphan to judge
        assert states["tinynet-13.onnx.part"] == "partial"
        running = filled.files["running"].name
        display = next(s for s in states if s.startswith("squeezenet-9.onnx.part."))
        assert running.endswith(display) and states[display] == "downloading"
        # the manifest entry a file belongs to, and totals per group and overall
        lst = screen.cache_list
        mnist = next(g for g in lst.groups if g.name == MNIST_DIR)
        owners = {lst.name_of(f): (f.entry.model, f.entry.opset) if f.entry else None for f in mnist.files}
        assert owners["mnist-8.onnx"] == ("MNIST", 8) and owners["mnist-12/"] == ("MNIST", 12)
        assert owners["mnist-old.onnx"] is None
        header = str(screen.query_one("#cache-header").render())
        assert f"{len(screen.report.files)} files" in header
        assert f"manifest: {len(filled.entries)} entries" in header


async def test_selection_shows_what_it_frees(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache", running_part=True)
    app = CacheApp(filled.hub)
    async with tui(app, size=(120, 40)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        lst = screen.cache_list
        move_to(lst, "mnist-8.onnx")
        await pilot.press("space")
        size8 = filled.files["mnist8"].stat().st_size
        status = str(screen.query_one("#cache-status").render())
        assert f"Selected 1 of {len(screen.report.files)}" in status
        assert f"frees {human_size(size8)}" in status
        # a whole group, then the running download's part is counted as kept
        squeeze = filled.files["running"].parent.relative_to(filled.root).as_posix()
        move_to_group(lst, squeeze)
        await pilot.press("space")
        status = str(screen.query_one("#cache-status").render())
        assert "Selected 2" in status and "1 kept: download running" in status
        assert f"frees {human_size(size8)}" in status  # the running part frees nothing
        await pilot.press("escape")
        assert not lst.selected


def screen_lines(lst: CacheList) -> list[str]:
    return [lst.render_line(y).text for y in range(lst.scrollable_content_region.height)]


async def test_delete_removes_exactly_the_selected_files(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache", running_part=True)
    before = all_files(filled.root)
    app = CacheApp(filled.hub)
    async with tui(app, size=(100, 30)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        lst = screen.cache_list
        for name in ("mnist-8.onnx", "mnist-old.onnx", "tinynet-13.onnx.part", "mnist-12/"):
            move_to(lst, name)
            await pilot.press("space")
        squeeze = filled.files["running"].parent.relative_to(filled.root).as_posix()
        move_to_group(lst, squeeze)
        await pilot.press("space")  # the running download's part: listed as kept, never deleted
        await pilot.press("x")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        body = str(confirm.query_one("#confirm-body").render())
        assert "mnist/model/mnist-8.onnx" in body and "mnist-old.onnx" in body and "tinynet-13.onnx.part" in body
        assert "Kept (1)" in body and "a running download owns it" in body
        assert confirm.query_one("#confirm-title").render().plain.startswith("Delete 4 files")
        await pilot.press("y")
        await settle(pilot, screen)
        assert app.cache_changed == 1
        gone = before - all_files(filled.root)
        rel = lambda key: os.path.relpath(filled.files[key], filled.root)  # noqa: E731
        extracted = {p for p in before if p.startswith(rel("mnist12-data") + os.sep)}
        assert extracted, "the extracted folder holds files"
        assert gone == {rel("mnist8"), rel("orphan"), rel("partial")} | extracted
        assert filled.files["running"].exists() and filled.files["mnist12-archive"].exists()
        assert "mnist-8.onnx" not in [shown for _g, shown, _s in rows_text(lst)]
        assert not lst.selected - {f.rel for f in screen.report.files}


async def test_delete_can_be_refused(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache")
    before = all_files(filled.root)
    app = CacheApp(filled.hub)
    async with tui(app, size=(80, 24)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        move_to(screen.cache_list, "resnet50-9.onnx")  # nothing selected: the highlighted file
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "resnet50-9.onnx" in str(app.screen.query_one("#confirm-body").render())
        await pilot.press("n")
        await settle(pilot, screen)
        assert all_files(filled.root) == before and app.cache_changed == 0


async def test_a_link_out_of_the_cache_is_removed_as_a_link(server, tmp_path, tui):
    outside = tmp_path / "elsewhere"
    filled = fill_cache(tmp_path / "cache", outside=outside)
    app = CacheApp(filled.hub)
    async with tui(app, size=(80, 24)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        move_to(screen.cache_list, "precious.onnx")
        await pilot.pause()
        assert "link only" in str(screen.query_one("#cache-detail").render())
        await pilot.press("space", "x")
        await pilot.pause()
        assert "(the link only)" in str(app.screen.query_one("#confirm-body").render())
        await pilot.press("y")
        await settle(pilot, screen)
        assert not os.path.lexists(filled.files["link"])
        assert (outside / "precious.onnx").read_bytes() == b"keep me" * 10


async def test_verify_marks_a_tampered_file(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache")
    data = bytearray(filled.files["mnist8"].read_bytes())
    data[20] ^= 0xFF
    filled.files["mnist8"].write_bytes(bytes(data))
    app = CacheApp(filled.hub)
    async with tui(app, size=(120, 40)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        await pilot.press("a", "v")
        await settle(pilot, screen)
        states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
        assert states["mnist-8.onnx"] == "MISMATCH"
        assert states["mnist-old.onnx"] == "MISMATCH"  # named for sha 000…, holds other bytes
        assert states["resnet50-9.onnx"] == "verified" and states["mnist-12.tar.gz"] == "verified"
        assert states["mnist-12/"] == "extracted" and states["tinynet-13.onnx.part"] == "partial"
        move_to(screen.cache_list, "mnist-8.onnx")
        await pilot.pause()
        assert "MISMATCH: SHA-256" in str(screen.query_one("#cache-detail").render())
        notes = [str(n.message) for n in app._notifications]  # noqa: SLF001
        assert any("2 mismatched" in n for n in notes), notes
        await pilot.press("r")  # a rescan keeps what verify found
        await settle(pilot, screen)
        states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
        assert states["mnist-8.onnx"] == "MISMATCH"


async def test_works_with_no_manifest(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache")
    offline = Hub(REPO, cache_dir=filled.root, offline=True)
    app = CacheApp(offline, manifest=False)
    async with tui(app, size=(80, 24)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
        assert states["mnist-8.onnx"] == "complete"  # <sha>_name: onnx.hub's layout, checkable
        assert states["notes.txt"] == "unknown" and states["mnist-12/"] == "extracted"
        assert states["tinynet-13.onnx.part"] == "partial"
        assert "no manifest" in str(screen.query_one("#cache-header").render())
        assert not screen.cache_list.show_entries  # no empty model column
        await pilot.press("a", "v")
        await settle(pilot, screen)
        states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
        assert states["mnist-8.onnx"] == "verified"  # against the sha in its name


async def test_file_and_manifest_names_are_shown_literally(tmp_path, tui):
    root = tmp_path / "cache"
    (root / "evil").mkdir(parents=True)
    (root / "evil" / "[red]boom\x1b[31m\x07.onnx").write_bytes(b"1234")
    (root / "evil" / "plain.onnx").write_bytes(b"5678")
    hostile = {"model": "[b]Evil\x1b]0;pwned\x07[/b]", "model_path": "evil/plain.onnx", "opset_version": 13,
               "metadata": {}}
    local = tmp_path / "hub"  # a local hub whose manifest names the file with hostile text
    local.mkdir()
    (local / "ONNX_HUB_MANIFEST.json").write_text(json.dumps([hostile]))
    app = CacheApp(Hub(str(local), cache_dir=root, offline=True))
    async with tui(app, size=(80, 24)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        text = "\n".join(screen_lines(screen.cache_list))
        assert "[red]boom.onnx" in text and "\x1b" not in text and "\x07" not in text
        assert "[b]Evil[/b] · opse" in text, text  # markup shown as typed, the OSC title sequence gone
        move_to(screen.cache_list, "[red]boom.onnx")
        await pilot.pause()
        assert "evil/[red]boom.onnx" in str(screen.query_one("#cache-detail").render())
        await pilot.press("x")
        await pilot.pause()
        assert "evil/[red]boom.onnx" in str(app.screen.query_one("#confirm-body").render())


async def test_ten_thousand_files_paint_fast(tmp_path, tui):
    """The list's share of the budget: a report of 10,000 files (built in memory, so the test does not
    spend seconds creating files; the bench in the report measures the scan on disk) paints in < 1 s."""
    root = tmp_path / "cache"
    root.mkdir()
    files = []
    for g in range(100):
        for i in range(100):
            rel = f"validated/vision/g{g:03d}/model/{g * 100 + i:064x}_m{i}.onnx"
            files.append(cache.CachedFile(root / rel, rel, 1000 + i, "complete" if i % 7 else "orphan"))
    report = cache.CacheReport(root, files)
    app = CacheApp(Hub(REPO, cache_dir=root, offline=True), manifest=False)
    async with tui(app, size=(120, 40)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        started = time.perf_counter()
        screen.report = report
        screen.cache_list.set_report(report)
        await pilot.pause()
        lines = screen_lines(screen.cache_list)
        elapsed = time.perf_counter() - started
        assert "validated/vision/g000/model" in lines[1] and "m0.onnx" in lines[2]
        assert elapsed < 1.0, f"10,000 files took {elapsed:.2f} s to paint"
        await pilot.press("end")
        assert "m99.onnx" in screen_lines(screen.cache_list)[-1]
        started = time.perf_counter()
        await pilot.press("a")
        assert "Selected 10000 of 10000" in str(screen.query_one("#cache-status").render())
        assert time.perf_counter() - started < 1.0


async def test_through_hub_app_key_3_and_back(server, tmp_path, tui):
    from tests.support.tui import loaded, make_app, until

    filled = fill_cache(tmp_path / "cache")
    app = make_app(filled.root)
    async with tui(app, size=(80, 24)) as pilot:
        await loaded(pilot)
        mnist8 = next(e for e in app.session.entries if (e.model, e.opset) == ("MNIST", 8))
        assert app.session.cached_state(mnist8) == "complete"
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, CacheScreen)
        await settle(pilot, screen)
        states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
        assert states["mnist-8.onnx"] == "complete" and states["mnist-old.onnx"] == "orphan"
        assert "MNIST · opset 8" in "\n".join(screen_lines(screen.cache_list))
        move_to(screen.cache_list, "mnist-8.onnx")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await settle(pilot, screen)
        assert not filled.files["mnist8"].exists()
        await until(pilot, lambda: app.session.cached_state(mnist8) is None, what="the models table to learn of it")
        await pilot.press("1")
        await pilot.press("3")  # back again: a fresh scan, the deleted file stays gone
        await settle(pilot, app.screen)
        assert "mnist-8.onnx" not in [shown for _g, shown, _s in rows_text(app.screen.cache_list)]


async def test_fold_click_and_no_rescan_after_a_modal(server, tmp_path, tui):
    filled = fill_cache(tmp_path / "cache")
    app = CacheApp(filled.hub)
    async with tui(app, size=(80, 24)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        lst = screen.cache_list
        move_to_group(lst, MNIST_DIR)
        await pilot.press("enter")
        shown = [name for g, name, _s in rows_text(lst) if g == MNIST_DIR]
        assert shown == [None]  # folded: the group row (with its totals) alone
        assert "4 files" in "\n".join(screen_lines(lst))
        await pilot.press("space")  # a folded group is selected whole
        assert len(lst.selected) == 4
        await pilot.press("up", "right")  # space moved on to the next row
        assert len([1 for g, _n, _s in rows_text(lst) if g == MNIST_DIR]) == 5
        lst.set_selection(set())
        await pilot.pause()
        row = [name for _g, name, _s in rows_text(lst)].index("notes.txt")
        await pilot.click(CacheList, offset=(2, row + 1 - int(lst.scroll_offset.y)))  # the [ ] box
        assert [f.path.name for f in lst.selected_files()] == ["notes.txt"]
        scans = screen._generation  # noqa: SLF001
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot, screen)
        assert screen._generation == scans  # noqa: SLF001 - closing the modal did not rescan


async def test_verify_shows_progress_and_escape_stops_it(tmp_path, tui):
    root = tmp_path / "cache"
    big = root / "validated/big/model" / ("a" * 64 + "_big.onnx")
    big.parent.mkdir(parents=True)
    with open(big, "wb") as f:
        f.truncate(8 * 1024**3)  # sparse: 8 GB to hash, no disk used
    app = CacheApp(Hub(REPO, cache_dir=root, offline=True), manifest=False)
    async with tui(app, size=(80, 24)) as pilot:
        screen = app.screen
        await settle(pilot, screen)
        move_to(screen.cache_list, "big.onnx")
        await pilot.press("v")
        deadline = time.monotonic() + 10
        while "Verifying 1/1 big.onnx" not in str(screen.query_one("#cache-status").render()):
            assert time.monotonic() < deadline, "no progress shown"
            await pilot.pause(0.02)
        assert screen.query_one("#cache-progress").has_class("busy")
        started = time.monotonic()
        await pilot.press("escape")
        await settle(pilot, screen)
        assert time.monotonic() - started < 3.0, "escape did not stop the hashing promptly"
        notes = [str(n.message) for n in app._notifications]  # noqa: SLF001
        assert any("(stopped)" in n for n in notes), notes
        assert not screen.query_one("#cache-progress").has_class("busy")
        states = {shown: state for _g, shown, state in rows_text(screen.cache_list) if shown}
        assert states["big.onnx"] == "complete"  # not judged: it was not hashed to the end
