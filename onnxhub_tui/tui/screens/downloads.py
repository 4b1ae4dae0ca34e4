"""The downloads screen (key 2): the job queue with progress, speed, ETA, state and errors."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import RowDoesNotExist

from ...core.text import fit_cells
from .. import jobs as J
from ..fmt import clean, human_duration, human_rate, human_size, show_path
from ..messages import JobsChanged, ModelRequested, QueueEdited
from ..session import Session
from ..widgets.jobs_table import JobsTable
from .base import SessionScreen

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
    return Text(fit_cells(text, width - 1, right=right) + " ", style=style)


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


class DownloadsScreen(SessionScreen):
    CSS_PATH = "downloads.tcss"
    BINDINGS = [
        Binding("x", "cancel", "Cancel", id="downloads.cancel"),
        Binding("r", "retry", "Retry", id="downloads.retry"),
        Binding("c", "clear", "Clear done", id="downloads.clear"),
        Binding("m", "show_model", "Show model", show=False, id="downloads.model"),  # enter too
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session, id="downloads-screen")
        self._stale: set[int] = set()  # jobs that changed while another screen was showing
        self._shown: set[int] = set()  # job ids with a row

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
        self._sync_rows()
        self.update_status()
        self.set_interval(1.0, self.tick)  # speed and ETA move even when no bytes arrive

    def on_screen_resume(self) -> None:
        self.query_one("#jobs", DataTable).focus()
        stale, self._stale = self._stale, set()
        for job_id in sorted(stale):
            job = self.session.queue.get(job_id)
            if job is not None:
                self.update_job(job)
        self.update_status()

    # -- rows -------------------------------------------------------------------------------------
    def on_jobs_changed(self, message: JobsChanged) -> None:
        job = self.session.queue.get(message.job_id) if message.job_id is not None else None
        if job is not None and job.id in self._shown:
            self.update_job(job)
        else:
            self._sync_rows()

    def _sync_rows(self) -> None:
        """Rows for the queue's jobs: new jobs added at the end, cleared ones removed."""
        jobs = self.session.queue.jobs
        ids = {j.id for j in jobs}
        table = self.query_one("#jobs", DataTable)
        gone = self._shown - ids
        for job_id in sorted(gone):
            try:
                table.remove_row(str(job_id))
            except RowDoesNotExist:
                pass
        self._shown -= gone
        for job in jobs:
            if job.id not in self._shown:
                self.add_job(job)
            else:
                self.update_job(job)
        self.update_status()
        if gone:
            self.show_job_detail(self.highlighted_job())

    def add_job(self, job: J.Job) -> None:
        table = self.query_one("#jobs", DataTable)
        cells = job_cells(job)
        table.add_row(*(cells[key] for key, *_ in COLUMNS), key=str(job.id))
        self._shown.add(job.id)
        self.update_status()

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

    def tick(self) -> None:
        if not self.is_current:
            return
        for job in self.session.queue.running:
            self.update_job(job)

    def highlighted_job(self) -> J.Job | None:
        table = self.query_one("#jobs", DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - no rows
            return None
        return self.session.queue.get(int(key.value)) if key.value else None

    @on(DataTable.RowHighlighted, "#jobs")
    def _row_highlighted(self) -> None:
        self.show_job_detail(self.highlighted_job())

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

    def update_status(self) -> None:
        queue = self.session.queue
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
        if self.session.queue.cancel(job):
            self.post_message(QueueEdited())
            self.notify(f"Cancelling {clean(job.label)}; its .part file stays for a resume.", timeout=3)
        else:
            self.notify(f"{clean(job.label)} is already {job.state}.", severity="warning", timeout=3)

    def action_retry(self) -> None:
        job = self.highlighted_job()
        if job is None:
            return
        if not self.session.queue.retry(job):
            self.notify(f"Only failed or cancelled downloads can be retried ({clean(job.label)} is {job.state}).",
                        severity="warning", timeout=3)
            return
        self.post_message(QueueEdited())

    def action_show_model(self) -> None:
        """The highlighted job's model on the models screen (enter on a row does the same)."""
        job = self.highlighted_job()
        if job is not None:
            self.post_message(ModelRequested(job.entry))

    @on(DataTable.RowSelected, "#jobs")
    def _row_selected(self) -> None:
        self.action_show_model()

    def action_clear(self) -> None:
        removed = self.session.queue.clear_finished()
        if removed:
            self.post_message(QueueEdited())
        self.notify(f"Cleared {removed} finished download(s)." if removed else "Nothing finished to clear.",
                    timeout=2)
