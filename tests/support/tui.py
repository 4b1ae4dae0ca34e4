"""Helpers for driving HubApp with Textual's Pilot: build it, wait for conditions, read what it shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.manifest import ModelInfo
from onnxhub_tui.tui.app import HubApp
from onnxhub_tui.tui.messages import DownloadRequested
from onnxhub_tui.tui.screens.downloads import DownloadsScreen
from onnxhub_tui.tui.screens.models import ModelsScreen
from onnxhub_tui.tui.widgets.model_table import ModelTable

REPO = "acme/models:main"


def make_app(cache_dir: Path, repo: str = REPO, *, offline: bool | None = None, **kwargs: object) -> HubApp:
    kwargs.setdefault("trust", True)
    return HubApp(Hub(repo, cache_dir, offline), **kwargs)  # type: ignore[arg-type]


def screen_of(app: App, kind: type[Screen]) -> Screen | None:
    """The app's screen of ``kind`` in any mode, current or not (tests only: the app keeps no such list)."""
    for stack in app._screen_stacks.values():  # noqa: SLF001 - Textual has no public list of every mode's screens
        for screen in stack:
            if isinstance(screen, kind):
                return screen
    return None


def models_screen(app: App) -> ModelsScreen:
    screen = screen_of(app, ModelsScreen)
    assert isinstance(screen, ModelsScreen), "no models screen"
    return screen


def downloads_screen(app: App) -> DownloadsScreen | None:
    screen = screen_of(app, DownloadsScreen)
    return screen if isinstance(screen, DownloadsScreen) and screen.is_mounted else None


def request_download(app: App, entry: ModelInfo, with_data: bool = False) -> None:
    """What ``d`` on the models screen asks the app (answered once the app handles the message)."""
    app.post_message(DownloadRequested(entry, with_data))


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    """Let the app run until ``condition()`` holds (poll, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def loaded(pilot: Pilot) -> HubApp:
    app = pilot.app
    assert isinstance(app, HubApp)
    await until(pilot, lambda: app.session.manifest_state is not None, what="the manifest")
    await pilot.pause()
    return app


def table(app: HubApp) -> ModelTable:
    return models_screen(app).query_one("#models", ModelTable)


def names(app: HubApp) -> list[tuple[str, int]]:
    return [(e.model, e.opset) for e in table(app).rows]


def table_lines(app: HubApp) -> list[str]:
    """The table's painted lines, header first, as plain text."""
    t = table(app)
    return [t.render_line(y).text for y in range(t.scrollable_content_region.height)]


def static_text(widget: Static, width: int = 100) -> str:
    """The widget's text as a user reads it. The details panel builds what it shows once the cursor
    settles (``DetailsPanel.SETTLE``): a read of its body first lets it settle."""
    from onnxhub_tui.tui.widgets.details import DetailsPanel

    if isinstance(widget.parent, DetailsPanel):
        widget.parent.flush()
    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        content = widget.content
        console.print(content.plain if hasattr(content, "plain") and not hasattr(content, "__rich_console__")
                      else content)
    return capture.get()


async def type_text(pilot: Pilot, text: str) -> None:
    for ch in text:
        await pilot.press({" ": "space"}.get(ch, ch))


def screen_text(app: App) -> list[str]:
    """The current screen as painted, one string per terminal line (what a user reads)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]  # noqa: SLF001 - no public one


def fixed_folder(request: object) -> Path:
    """An empty folder at a path that is the same on every run, for snapshots: the TUI shows absolute
    paths, and a tmp path would differ each time. One per test (``request.node.name``), so -n 2 is safe."""
    import re
    import shutil

    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)  # type: ignore[attr-defined]
    folder = Path("/tmp/onnxhub-tui-snapshots") / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder

