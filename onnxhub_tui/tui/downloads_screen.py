"""The downloads screen (key 2): the job queue with progress, speed, ETA, state and errors."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import RowDoesNotExist

from . import jobs as J
from .fmt import clean, human_duration, human_rate, human_size, show_path, while_mounted

if TYPE_CHECKING:
    from .app import HubApp

BAR = 9
STATE_STYLE = {J.QUEUED: "dim", J.DOWNLOADING: "cyan", J.VERIFYING: "cyan", J.DONE: "green",
               J.FAILED: "bold red", J.CANCELLED: "yellow"}
# key, label, width (each includes one trailing space: the table has no cell padding), right-aligned.
# The fixed columns (74 cells) fit 78 (80 minus the scrollbar); the error column gets what is left.
COLUMNS = (("model", "model / opset", 17, False), ("bytes", "bytes", 15, True), ("bar", "progress", 14, False),
           ("speed", "speed", 10, True), ("eta", "ETA", 6, True), ("state", "state", 12, False),
           ("error", "error", None, False))


def fit(text: str, width: int | None, right: bool = False, style: str = "") -> Text:
    """``text`` in ``width`` cells with one trailing space; truncated with an ellipsis."""
    if width is None:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")
    room = width - 1
    if cell_len(text) > room:
        text = set_cell_size(text, room - 1) + "…"
    pad = " " * (room - cell_len(text))
    return Text((pad + text if right else text + pad) + " ", style=style)


def progress_bar(fraction: float | None, width: int = BAR) -> Text:
    if fraction is None:
        return Text("·" * width + "     ", style="dim")
    filled = int(fraction * width + 1e-9)
    text = Text("█" * filled, style="cyan")
    text.append("░" * (width - filled), style="dim")
    text.append(f"{int(fraction * 100):>3}% ")
    return text


def job_cells(job: J.Job, now: float | None = None) -> dict[str, Text]:
    return {
        "model": fit(clean(job.label), 17),
        "bytes": fit(_bytes_text(None if job.state == J.QUEUED else job.done, job.total), 15, right=True),
        "bar": progress_bar(job.fraction),
        "speed": fit(human_rate(job.speed(now)), 10, right=True),
        "eta": fit(human_duration(job.eta(now)), 6, right=True),
        "state": fit(job.state, 12, style=STATE_STYLE.get(job.state, "")),
        "error": fit(clean(job.error or "")[:200], None, style="red"),
    }


def _bytes_text(done: int | None, total: int | None) -> str:
    """'12.3/45.6 MB' when both share a unit (it fits the 80-column layout), else '235 B/79.8 KB'."""
    total_text = human_size(total) if total is not None else "?"
    if done is None:
        return f"-/{total_text}"
    done_text = human_size(done)
    if done_text.rpartition(" ")[2] == total_text.rpartition(" ")[2] and " " in total_text:
        return f"{done_text.rpartition(' ')[0]}/{total_text}"
    return f"{done_text}/{total_text}"


class JobsTable(DataTable):
    """The queue's rows; home and end move the cursor (DataTable's own only scroll)."""

    BINDINGS = [
        Binding("home", "first", "First job", show=False, id="downloads.first"),
        Binding("end", "last", "Last job", show=False, id="downloads.last"),
    ]

    def action_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)


class DownloadsScreen(Screen):
    BINDINGS = [
        Binding("x", "cancel", "Cancel", id="downloads.cancel"),
        Binding("r", "retry", "Retry", id="downloads.retry"),
        Binding("c", "clear", "Clear done", id="downloads.clear"),
        Binding("m", "show_model", "Show model", show=False, id="downloads.model"),  # enter too
    ]

    def __init__(self) -> None:
        super().__init__(id="downloads-screen")
        self._stale: set[int] = set()  # jobs that changed while another screen was showing

    @property
    def hub_app(self) -> HubApp:
        return cast("HubApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="downloads-status", markup=False)
        table = JobsTable(id="jobs", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield table
        yield Static(id="job-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#jobs", DataTable)
        for key, label, width, right in COLUMNS:
            table.add_column(fit(label, width, right), key=key, width=width)
        for job in self.hub_app.queue.jobs:
            self.add_job(job)
        self.update_status()
        self.set_interval(1.0, self.tick)  # speed and ETA move even when no bytes arrive

    def on_screen_resume(self) -> None:
        self.query_one("#jobs", DataTable).focus()
        stale, self._stale = self._stale, set()
        for job_id in sorted(stale):
            job = self.hub_app.queue.get(job_id)
            if job is not None:
                self.update_job(job)
        self.update_status()

    # -- rows -------------------------------------------------------------------------------------
    @while_mounted
    def add_job(self, job: J.Job) -> None:
        table = self.query_one("#jobs", DataTable)
        cells = job_cells(job)
        table.add_row(*(cells[key] for key, *_ in COLUMNS), key=str(job.id))
        self.update_status()

    @while_mounted
    def update_job(self, job: J.Job) -> None:
        if not self.is_current:
            # Hidden: remember it and bring the row up to date when the screen shows again. Progress
            # of 4 downloads re-rendering rows nobody sees cost the models screen its key latency.
            self._stale.add(job.id)
            return
        table = self.query_one("#jobs", DataTable)
        now = time.monotonic()
        try:
            for key, value in job_cells(job, now).items():
                table.update_cell(str(job.id), key, value, update_width=key == "error")
        except RowDoesNotExist:
            self.add_job(job)
            return
        self.update_status()
        if self.highlighted_job() is job:
            self.show_job_detail(job)

    @while_mounted
    def tick(self) -> None:
        if not self.is_current:
            return
        for job in self.hub_app.queue.running:
            self.update_job(job)

    @while_mounted
    def remove_jobs(self, ids: list[int]) -> None:
        table = self.query_one("#jobs", DataTable)
        for job_id in ids:
            try:
                table.remove_row(str(job_id))
            except RowDoesNotExist:
                pass
        self.update_status()
        self.show_job_detail(self.highlighted_job())

    def highlighted_job(self) -> J.Job | None:
        table = self.query_one("#jobs", DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - no rows
            return None
        return self.hub_app.queue.get(int(key.value)) if key.value else None

    @on(DataTable.RowHighlighted, "#jobs")
    def _row_highlighted(self) -> None:
        self.show_job_detail(self.highlighted_job())

    @while_mounted
    def show_job_detail(self, job: J.Job | None) -> None:
        detail = self.query_one("#job-detail", Static)
        if job is None:
            detail.update(Text("No downloads yet. On the models screen (1), d queues the highlighted model, "
                               "D the model with its test data.", style="dim"))
            return
        text = Text(clean(job.label), style="bold")
        text.append(f"  {job.state}", style=STATE_STYLE.get(job.state, ""))
        if job.error:
            text.append("\n" + clean(job.error), style="red")
        elif job.path:
            text.append("\n" + clean(show_path(job.path)))
        else:
            text.append("\n" + clean(job.entry.model_with_data_path if job.with_data else job.entry.model_path),
                        style="dim")
        detail.update(text)

    @while_mounted
    def update_status(self) -> None:
        queue = self.hub_app.queue
        counts = queue.summary()
        speed = sum(j.speed() or 0 for j in queue.running)
        text = Text("Downloads", style="bold")
        parts = [f"{counts[s]} {s}" for s in (J.DOWNLOADING, J.VERIFYING, J.QUEUED, J.DONE, J.FAILED, J.CANCELLED)
                 if counts.get(s)]
        text.append("  " + (", ".join(parts) if parts else "queue empty"))
        if speed:
            text.append(f"  {human_rate(speed)}", style="cyan")
        text.append(f"  (at most {queue.max_running} at once)", style="dim")
        self.query_one("#downloads-status", Static).update(text, layout=False)  # one line, fixed height
        if not queue.jobs:
            self.show_job_detail(None)

    # -- actions ----------------------------------------------------------------------------------
    def action_cancel(self) -> None:
        job = self.highlighted_job()
        if job is None:
            return
        if self.hub_app.cancel_job(job):
            self.notify(f"Cancelling {clean(job.label)}; its .part file stays for a resume.", timeout=3)
        else:
            self.notify(f"{clean(job.label)} is already {job.state}.", severity="warning", timeout=3)

    def action_retry(self) -> None:
        job = self.highlighted_job()
        if job is None:
            return
        if not self.hub_app.retry_job(job):
            self.notify(f"Only failed or cancelled downloads can be retried ({clean(job.label)} is {job.state}).",
                        severity="warning", timeout=3)

    def action_show_model(self) -> None:
        """The highlighted job's model on the models screen (enter on a row does the same)."""
        job = self.highlighted_job()
        if job is not None:
            self.hub_app.show_model(job.entry)

    @on(DataTable.RowSelected, "#jobs")
    def _row_selected(self) -> None:
        self.action_show_model()

    def action_clear(self) -> None:
        removed = self.hub_app.clear_finished()
        self.notify(f"Cleared {removed} finished download(s)." if removed else "Nothing finished to clear.",
                    timeout=2)
