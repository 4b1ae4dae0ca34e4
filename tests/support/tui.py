"""Helpers for driving HubApp with Textual's Pilot: build it, wait for conditions, read what it shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from onnxhub_tui.core.client import Hub
from onnxhub_tui.tui.app import HubApp
from onnxhub_tui.tui.model_table import ModelTable

REPO = "acme/models:main"


def make_app(cache_dir: Path, repo: str = REPO, *, offline: bool | None = None, **kwargs: object) -> HubApp:
    kwargs.setdefault("trust", True)
    return HubApp(Hub(repo, cache_dir, offline), **kwargs)  # type: ignore[arg-type]


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
    await until(pilot, lambda: app.manifest_state is not None, what="the manifest")
    await pilot.pause()
    return app


def table(app: HubApp) -> ModelTable:
    return app.models_screen.query_one("#models", ModelTable)


def names(app: HubApp) -> list[tuple[str, int]]:
    return [(e.model, e.opset) for e in table(app).rows]


def table_lines(app: HubApp) -> list[str]:
    """The table's painted lines, header first, as plain text."""
    t = table(app)
    return [t.render_line(y).text for y in range(t.scrollable_content_region.height)]


def static_text(widget: Static, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        content = widget.content
        console.print(content.plain if hasattr(content, "plain") and not hasattr(content, "__rich_console__")
                      else content)
    return capture.get()


async def type_text(pilot: Pilot, text: str) -> None:
    for ch in text:
        await pilot.press({" ": "space"}.get(ch, ch))
