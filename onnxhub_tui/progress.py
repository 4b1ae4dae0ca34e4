"""Progress bars on stderr for terminals; logging lines otherwise. Never stdout. Shared by the CLI and
``hub.py``.

rich is imported only when there are bars to draw: hub.load and a piped CLI run have none, and the
import cost them 30-50 ms of every process."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

log = logging.getLogger("onnxhub_tui")


def stderr_is_tty() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


@contextlib.contextmanager
def progress_bars() -> Iterator[Progress | None]:
    """Rich progress bars on stderr when it is a terminal, else None."""
    if not stderr_is_tty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    bars = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
        redirect_stdout=False,  # stdout carries results (paths); never capture it into the bars
    )
    with bars:
        yield bars


def bar_callback(bars: Progress | None, description: str) -> Callable[[int, int | None], None] | None:
    """A progress callback drawing one bar; redraws at most 10 times a second (the core's ``Throttle``),
    and always the end, so a finished bar shows its whole size."""
    if bars is None:
        return None
    from .core.throttle import Throttle

    task = bars.add_task(description, total=None)
    throttle = Throttle(0.1)

    def update(done: int, total: int | None) -> None:
        if throttle.due(time.monotonic(), force=total is not None and done >= total):
            bars.update(task, completed=done, total=total)

    return update
