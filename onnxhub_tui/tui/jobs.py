"""The download queue's bookkeeping: job states, speed and ETA, progress coalescing.

No Textual here, so it is unit-tested on its own; the app runs the jobs on worker threads and only
asks this module what to start next and when a progress update is worth a repaint.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.download import CancelToken
from ..core.manifest import ModelInfo
from ..core.throttle import Throttle

QUEUED, DOWNLOADING, VERIFYING, DONE, FAILED, CANCELLED = (
    "queued", "downloading", "verifying", "done", "failed", "cancelled")
FINISHED = frozenset({DONE, FAILED, CANCELLED})
ACTIVE = frozenset({DOWNLOADING, VERIFYING})


class RateMeter:
    """Bytes per second over a sliding window, so a stall shows up within seconds."""

    def __init__(self, window: float = 3.0) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def add(self, now: float, done: int) -> None:
        if self._samples and done < self._samples[-1][1]:
            self._samples.clear()  # the download restarted (server ignored Range): start over
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window:
            self._samples.popleft()

    def speed(self, now: float | None = None) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        end = max(t1, now) if now is not None else t1
        if end - t0 <= 0:
            return None
        return (b1 - b0) / (end - t0)

    def eta(self, done: int, total: int | None, now: float | None = None) -> float | None:
        speed = self.speed(now)
        if total is None or not speed or speed <= 0:
            return None
        return max(0.0, (total - done) / speed)


@dataclass(eq=False)
class Job:
    id: int
    entry: ModelInfo
    with_data: bool = False
    state: str = QUEUED
    done: int = 0
    total: int | None = None
    error: str | None = None
    path: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    meter: RateMeter = field(default_factory=RateMeter)
    throttle: Throttle = field(default_factory=Throttle)

    @property
    def key(self) -> tuple[str, bool]:
        return (self.entry.key, self.with_data)

    @property
    def label(self) -> str:
        return f"{self.entry.model} / {self.entry.opset}" + (" +data" if self.with_data else "")

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def fraction(self) -> float | None:
        if self.state == DONE:
            return 1.0
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    def speed(self, now: float | None = None) -> float | None:
        return self.meter.speed(now) if self.state == DOWNLOADING else None

    def eta(self, now: float | None = None) -> float | None:
        return self.meter.eta(self.done, self.total, now) if self.state == DOWNLOADING else None


class JobQueue:
    """Jobs in the order they were queued. Thread-safe: workers report progress from their threads."""

    def __init__(self, max_running: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_running = max(1, max_running)
        self.clock = clock
        self.jobs: list[Job] = []
        self._next_id = 1
        self._lock = threading.Lock()

    # -- queueing
    def find_pending(self, entry: ModelInfo, with_data: bool) -> Job | None:
        """A queued or running job for the same file, if any."""
        key = (entry.key, with_data)
        return next((j for j in self.jobs if j.key == key and not j.finished), None)

    def add(self, entry: ModelInfo, with_data: bool = False) -> Job:
        with self._lock:
            job = Job(self._next_id, entry, with_data, total=_expected_size(entry, with_data))
            self._next_id += 1
            self.jobs.append(job)
            return job

    def get(self, job_id: int) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    @property
    def running(self) -> list[Job]:
        return [j for j in self.jobs if j.state in ACTIVE]

    @property
    def pending(self) -> list[Job]:
        """Queued or running: what quitting would interrupt."""
        return [j for j in self.jobs if not j.finished]

    def start_next(self) -> list[Job]:
        """Mark as many queued jobs as there are free slots as started, and return them."""
        with self._lock:
            free = self.max_running - len(self.running)
            started = []
            for job in self.jobs:
                if free <= 0:
                    break
                if job.state == QUEUED:
                    job.state = DOWNLOADING
                    job.started_at = self.clock()
                    job.meter.reset()
                    started.append(job)
                    free -= 1
            return started

    # -- progress from worker threads
    def progress(self, job: Job, done: int, total: int | None) -> bool:
        """Record progress; True when the UI should repaint this job now (coalesced to ~10/s)."""
        now = self.clock()
        with self._lock:
            if job.finished:
                return False
            job.done = done
            if total:
                job.total = total
            job.meter.add(now, done)
            force = False
            if job.total and done >= job.total and job.state == DOWNLOADING:
                job.state = VERIFYING  # every byte is here; the hash check and publish remain
                force = True
            return job.throttle.due(now, force)

    def finish(self, job: Job, state: str, error: str | None = None, path: str | None = None) -> None:
        with self._lock:
            job.state = state
            job.error = error
            job.path = path
            job.finished_at = self.clock()
            if state == DONE and job.total:
                job.done = job.total

    # -- user actions
    def cancel(self, job: Job) -> bool:
        """Cancel a queued job at once, or ask a running one to stop at its next chunk."""
        with self._lock:
            if job.state == QUEUED:
                job.state = CANCELLED
                job.finished_at = self.clock()
                return True
            if job.state in ACTIVE:
                job.cancel.cancel()
                return True
            return False

    def retry(self, job: Job) -> bool:
        """Put a failed or cancelled job back in the queue (its .part resumes)."""
        with self._lock:
            if job.state not in (FAILED, CANCELLED):
                return False
            job.state = QUEUED
            job.error = None
            job.cancel = CancelToken()
            job.meter.reset()
            job.finished_at = None
            return True

    def clear_finished(self) -> int:
        with self._lock:
            before = len(self.jobs)
            self.jobs = [j for j in self.jobs if not j.finished]
            return before - len(self.jobs)

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in self.jobs:
            counts[job.state] = counts.get(job.state, 0) + 1
        return counts


def _expected_size(entry: ModelInfo, with_data: bool) -> int | None:
    return entry.model_with_data_bytes if with_data else entry.model_bytes
