"""The downloads screen (key 2): the job queue with progress, speed, ETA, state and errors."""

from __future__ import annotations

import time

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowDoesNotExist

from ...core.text import fit_cells
from .. import jobs as J
from ..clipboard import copy_binding, copy_path
from ..fmt import clean, human_duration, human_rate, human_size, show_path
from ..pathtext import PathText
from ..messages import JobsChanged, ModelRequested, QueueEdited
from ..session import Session
from ..widgets.fit_footer import FitFooter
from ..widgets.jobs_table import JobsTable
from .base import SessionScreen, focus_now

STATE_STYLE = {J.QUEUED: "dim", J.DOWNLOADING: "cyan", J.VERIFYING: "cyan", J.DONE: "green",
               J.FAILED: "bold red", J.CANCELLED: "yellow"}
# key, label, width at 80 columns (each includes one trailing space: the table has no cell padding),
# right-aligned. The fixed columns (76 cells) fit 78 (80 minus the scrollbar); wider, the model name and
# the bar grow and the error column takes the rest (at 80 it has too little room: the panel shows it).
# The speed column holds "999.9 MB/s" whole at any width.
COLUMNS = (("model", "model / opset", 17, False), ("bytes", "bytes", 15, True), ("bar", "progress", 15, False),
           ("speed", "speed", 11, True), ("eta", "ETA", 6, True), ("state", "state", 12, False),
           ("error", "error", None, False))
PERCENT = 6  # "  42% " after the bar
MIN_ERROR = 10  # narrower than this, the error column is left out


def column_widths(width: int) -> dict[str, int]:
    """Column widths for a table ``width`` cells wide (scrollbar excluded); no "error" when it has no room."""
    widths = {key: w for key, _label, w, _right in COLUMNS if w is not None}
    spare = max(0, width - sum(widths.values()))
    widths["model"] += min(spare // 4, 23)  # names up to 40 cells
    widths["bar"] += min(spare // 3, 41)  # a bar up to 50 cells
    rest = width - sum(widths.values())
    if rest >= MIN_ERROR:
        widths["error"] = rest
    return widths


def fit(text: str, width: int | None, right: bool = False, style: str = "") -> Text:
    """``text`` in ``width`` cells with one trailing space; truncated with an ellipsis."""
    if width is None:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")
    return Text(fit_cells(text, width - 1, right=right) + " ", style=style)


def progress_bar(fraction: float | None, width: int = 9) -> Text:
    if fraction is None:
        return Text("·" * width + " " * PERCENT, style="dim")
    filled = int(fraction * width + 1e-9)
    text = Text("█" * filled, style="cyan")
    text.append("░" * (width - filled), style="dim")
    text.append(f" {int(fraction * 100):>3}% ")
    return text


def job_cells(job: J.Job, now: float | None = None, widths: dict[str, int] | None = None) -> dict[str, Text]:
    w = widths or column_widths(78)
    cells = {
        "model": fit(clean(job.label), w["model"]),
        "bytes": fit(_bytes_text(None if job.state == J.QUEUED else job.done, job.total), w["bytes"], right=True),
        "bar": progress_bar(job.fraction, w["bar"] - PERCENT),
        "speed": fit(human_rate(job.speed(now)), w["speed"], right=True),
        "eta": fit(human_duration(job.eta(now)), w["eta"], right=True),
        "state": fit(job.state, w["state"], style=STATE_STYLE.get(job.state, "")),
    }
    if "error" in w:
        cells["error"] = fit(clean(job.error or ""), w["error"], style="red")
    return cells


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
        Binding("escape", "back", "Back to models", show=False, id="downloads.back"),
        copy_binding("downloads"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session, id="downloads-screen")
        self._stale: set[int] = set()  # jobs that changed while another screen was showing
        self._shown: set[int] = set()  # job ids with a row
        self._widths: dict[str, int] = column_widths(78)

    def compose(self) -> ComposeResult:
        yield Static(id="downloads-status", markup=False)
        table = JobsTable(id="jobs", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield table
        # The whole of a failed job's cause, however long: the panel takes the room the rows leave and
        # scrolls (tab focuses it) when even that is not enough.
        with VerticalScroll(id="job-detail"):
            yield Static(id="job-detail-text", markup=False)
        yield FitFooter(current="app.downloads")

    def on_mount(self) -> None:
        self._set_columns(column_widths(self._table_width()))
        self.update_status()
        self.set_interval(1.0, self.tick)  # speed and ETA move even when no bytes arrive

    def _table_width(self) -> int:
        return max(20, self.size.width - 2)  # the vertical scrollbar's room, shown or not

    def on_resize(self) -> None:
        widths = column_widths(self._table_width())
        if widths != self._widths:
            self._set_columns(widths)

    def _set_columns(self, widths: dict[str, int]) -> None:
        """(Re)build the columns for ``widths``, then the rows (a queue is tens of rows: cheap)."""
        table = self.query_one("#jobs", DataTable)
        cursor = table.cursor_row
        self._widths = widths
        table.clear(columns=True)
        self._shown.clear()
        for key, label, _width, right in COLUMNS:
            if key in widths:
                table.add_column(fit(label, widths[key], right), key=key, width=widths[key])
        self._sync_rows()
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def on_screen_resume(self) -> None:
        focus_now(self.query_one("#jobs", DataTable))
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
        cells = job_cells(job, widths=self._widths)
        table.add_row(*(cells[key] for key, *_ in COLUMNS if key in cells), key=str(job.id))
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
            for key, value in job_cells(job, now, self._widths).items():
                table.update_cell(str(job.id), key, value)
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
        detail = self.query_one("#job-detail-text", Static)
        if job is None:
            detail.update(Text("No downloads yet. On the models screen (1), d queues the highlighted model, "
                               "D the model with its test data.", style="dim"))
            return
        head = Text(clean(job.label), style="bold")
        head.append(f"  {job.state}", style=STATE_STYLE.get(job.state, ""))
        parts: list[object] = [head]
        if job.error:
            parts.append(Text(clean(job.error), style="red"))
        # the file, absolute and whole (wrapped after a "/"); y copies it
        target = job.path or self._target(job)
        if target is not None:
            parts.append(PathText(show_path(target), style="" if job.path else "dim", suffix="  (y copies)"))
        detail.update(Group(*parts))

    def _target(self, job: J.Job) -> str | None:
        """Where the job's file lands: the cache path the core answers (None: no archive, an unsafe path)."""
        try:
            return str(self.session.hub.local_path(job.entry, job.with_data))
        except Exception:  # noqa: BLE001 - its job fails (or failed) saying why
            return None

    def action_copy_path(self) -> None:
        job = self.highlighted_job()
        copy_path(self.app, None if job is None else (job.path or self._target(job)), what="download path")

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

    def action_back(self) -> None:
        self.app.switch_mode("models")

    @on(DataTable.RowSelected, "#jobs")
    def _row_selected(self) -> None:
        self.action_show_model()

    def action_clear(self) -> None:
        removed = self.session.queue.clear_finished()
        if removed:
            self.post_message(QueueEdited())
        self.notify(f"Cleared {removed} finished download(s)." if removed else "Nothing finished to clear.",
                    timeout=2)
