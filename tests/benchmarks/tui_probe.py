"""Headless TUI measurements, one per fresh process so every run starts cold:

    python -m tests.benchmarks.tui_probe MODE JSON-ARGS   -> prints one JSON object

A paint is one ``Screen._compositor_refresh`` of the top screen: the widgets' render_line calls plus
the encoding of the update into terminal bytes (headless mode skips that last part, so we do it here,
as a terminal would be sent it). Latency of a key = from sending the key event to the end of the first
paint that starts after the key's effect is in the widgets (the query applied, the cursor moved)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input

SIZE = (120, 40)


class PaintClock:
    """Records (start, end, ready) for every paint of the top screen; ``ready`` is a predicate's value
    at the paint's start (e.g. "the table has rows")."""

    def __init__(self) -> None:
        self.paints: list[tuple[float, float, bool]] = []
        self.parts: list[tuple[float, float, float]] = []
        self.ready: Callable[[], bool] = lambda: False
        original = Screen._compositor_refresh

        def timed(screen: Screen) -> None:
            app = screen.app
            if screen is not app.screen:
                original(screen)
                return
            start = time.perf_counter()
            ready = bool(self.ready())
            original(screen)
            self.paints.append((start, time.perf_counter(), ready))

        Screen._compositor_refresh = timed  # type: ignore[method-assign]

    @staticmethod
    def encode_updates(app: App) -> None:
        """Make headless _display encode the update as a real terminal driver would."""
        from textual._compositor import CompositorUpdate

        original = app._display

        def display(screen: Screen, renderable) -> None:  # noqa: ANN001
            original(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)

        app._display = display  # type: ignore[method-assign]

    def first_ready_after(self, t: float) -> float | None:
        for start, end, ready in self.paints:
            if start >= t and ready:
                return end
        return None

    def first_after(self, t: float) -> float | None:
        for start, end, _ready in self.paints:
            if start >= t:
                return end
        return None


async def until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the TUI did not get there in time")
        await asyncio.sleep(0.001)


async def type_keys(pilot, clock: PaintClock, keys: list[str], applied: list[float]) -> list[float]:  # noqa: ANN001
    """Press each key; its latency ends with the first paint after ``applied`` grew past the press.
    ``clock.parts`` gets (key to applied, applied to painted, paint duration) for each key."""
    latencies = []
    for key in keys:
        await asyncio.sleep(0.03)  # a person types slower than this; paints from the last key are done
        before = len(applied)
        t0 = time.perf_counter()
        await pilot.press(key)
        await until(lambda: len(applied) > before)
        mark = applied[-1]
        await until(lambda: clock.first_after(mark) is not None)
        end = clock.first_after(mark)
        latencies.append(end - t0)  # type: ignore[operator]
        start = next(s for s, e, _r in clock.paints if e == end)
        clock.parts.append((mark - t0, end - mark, end - start))  # type: ignore[operator]
    return latencies


SEARCH_KEYS = list("resnet50") + ["backspace"] * 8 + list("bert") + ["backspace"] * 4 + list("mobilenet") + [
    "backspace"] * 9


# -- our app ------------------------------------------------------------------------------------------------


def _import_ours() -> float:
    """Import the TUI before the clock starts (the baseline's textual is imported already); returns seconds."""
    t0 = time.perf_counter()
    import onnxhub_tui.core.client  # noqa: F401
    import onnxhub_tui.tui.app  # noqa: F401  (pyflakes: imported for its cost)

    return time.perf_counter() - t0


def models_screen(app):  # noqa: ANN001, ANN201 - imported late: the import of our app is measured
    from tests.support.tui import models_screen as find

    return find(app)


def request_download(app, entry) -> None:  # noqa: ANN001
    from tests.support.tui import request_download as request

    request(app, entry)


def _hub_app(repo: str, cache_dir: str, jobs: int = 3, offline: bool = False):  # noqa: ANN202
    from onnxhub_tui.core.client import Hub
    from onnxhub_tui.tui.app import HubApp

    hub = Hub(repo, cache_dir, offline=offline)
    return HubApp(hub, jobs=jobs, trust=True, mouse=False), hub


async def ours_startup(repo: str, cache_dir: str, keys: list[str] | None = None) -> dict:
    """Launch to the first paint with rows in the table; then, optionally, type ``keys`` in the search."""
    out: dict = {"imports": _import_ours()}
    clock = PaintClock()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    app, hub = _hub_app(repo, cache_dir)
    PaintClock.encode_updates(app)

    def has_rows() -> bool:  # set before run_test: the first paints happen while it starts the app
        from onnxhub_tui.tui.screens.models import ModelsScreen
        from tests.support.tui import screen_of

        models = screen_of(app, ModelsScreen)
        return models is not None and models.is_mounted and models.table.row_count > 0

    clock.ready = has_rows
    async with app.run_test(size=SIZE) as pilot:
        screen = models_screen(app)
        await until(lambda: clock.first_ready_after(t0) is not None)
        out["first_paint"] = clock.first_ready_after(t0) - t0  # type: ignore[operator]
        out["cpu"] = time.process_time() - cpu0  # all threads; less sensitive to a busy machine than wall time
        out["rows"] = screen.table.row_count
        if keys:
            applied: list[float] = []
            original = screen.apply_query

            def apply_query(text: str) -> None:
                original(text)
                applied.append(time.perf_counter())

            screen.apply_query = apply_query  # type: ignore[method-assign]
            await asyncio.sleep(0.5)  # as a person would, after the first paint
            await pilot.press("slash")
            out["latencies"] = await type_keys(pilot, clock, keys, applied)
            out["parts"] = clock.parts
    hub.close()
    return out


async def ours_busy(repo: str, cache_dir: str, names: list[str]) -> dict:
    """Key-press latency in the models table and the search while four downloads run."""
    _import_ours()
    clock = PaintClock()
    app, hub = _hub_app(repo, cache_dir, jobs=4)
    PaintClock.encode_updates(app)
    out: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        screen = models_screen(app)
        await until(lambda: screen.is_mounted and screen.table.row_count > 0)
        manifest = hub.manifest()
        for name in names:
            request_download(app, manifest.find(name))
        await until(lambda: len(app.session.queue.running) == len(names))
        await asyncio.sleep(0.3 if names else 0.0)
        applied: list[float] = []
        table = screen.table
        original_cursor = table.move_cursor

        def set_cursor(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            result = original_cursor(*args, **kwargs)
            applied.append(time.perf_counter())
            return result

        table.move_cursor = set_cursor  # type: ignore[method-assign]
        original_query = screen.apply_query

        def apply_query(text: str) -> None:
            original_query(text)
            applied.append(time.perf_counter())

        screen.apply_query = apply_query  # type: ignore[method-assign]
        table.focus()
        await pilot.pause()
        lat = await type_keys(pilot, clock, ["down"] * 12 + ["up"] * 12, applied)
        await pilot.press("slash")
        lat += await type_keys(pilot, clock, SEARCH_KEYS[:16], applied)
        out["latencies"] = lat
        out["parts"] = clock.parts
        out["running_at_end"] = len(app.session.queue.running)
        for job in list(app.session.queue.running) + list(app.session.queue.pending):
            app.session.queue.cancel(job)
        await until(lambda: not app.session.queue.running, timeout=30)
    hub.close()
    return out


# -- baselines -------------------------------------------------------------------------------------------------


class EmptyTableApp(App):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def empty_datatable() -> dict:
    clock = PaintClock()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    app = EmptyTableApp()
    PaintClock.encode_updates(app)
    async with app.run_test(size=SIZE):
        await until(lambda: clock.first_after(t0) is not None)
        return {"first_paint": clock.first_after(t0) - t0, "cpu": time.process_time() - cpu0}  # type: ignore[operator]


class PlainSearchApp(App):
    """The obvious way: json.load, every row into a DataTable, filter by substring on each keystroke."""

    CSS = "Input { height: 1; border: none; }"

    def __init__(self, manifest_path: str) -> None:
        super().__init__()
        self.manifest_path = manifest_path
        self.entries: list[dict] = []
        self.applied: list[float] = []

    def compose(self) -> ComposeResult:
        yield Input(id="search")
        yield DataTable(id="table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("model", "opset", "size", "tags", "path")
        with open(self.manifest_path, encoding="utf-8") as f:
            self.entries = json.load(f)
        self._fill(self.entries)
        table.focus()

    def _fill(self, entries: list[dict]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows(
            (e["model"], str(e.get("opset_version", "")), str(e.get("metadata", {}).get("model_bytes", "")),
             ", ".join(e.get("metadata", {}).get("tags", [])), e["model_path"])
            for e in entries
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        text = event.value.lower()
        self._fill([e for e in self.entries if text in e["model"].lower()])
        self.applied.append(time.perf_counter())


async def plain_search(manifest_path: str, keys: list[str] | None = None) -> dict:
    clock = PaintClock()
    t0 = time.perf_counter()
    app = PlainSearchApp(manifest_path)
    PaintClock.encode_updates(app)
    clock.ready = lambda: app.is_mounted and app.query_one(DataTable).row_count > 0
    out: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: clock.first_ready_after(t0) is not None)
        out["first_paint"] = clock.first_ready_after(t0) - t0  # type: ignore[operator]
        out["rows"] = app.query_one(DataTable).row_count
        if keys:
            await asyncio.sleep(0.5)
            app.query_one(Input).focus()
            await pilot.pause()
            out["latencies"] = await type_keys(pilot, clock, keys, app.applied)
            out["parts"] = clock.parts
    return out


def json_load(path: str, gc_paused: bool = False) -> dict:
    import gc

    if gc_paused:
        gc.disable()
    t0 = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {"seconds": time.perf_counter() - t0, "entries": len(data)}


MODES = {
    "ours-startup": ours_startup,
    "ours-busy": ours_busy,
    "empty-datatable": empty_datatable,
    "plain-search": plain_search,
}


def main() -> None:
    mode, args = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    if mode == "json-load":
        result = json_load(**args)
    else:
        result = asyncio.run(MODES[mode](**args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
