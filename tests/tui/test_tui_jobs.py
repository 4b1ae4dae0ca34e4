"""The queue's bookkeeping without Textual: states, slots, speed/ETA, coalescing, retries."""

from __future__ import annotations

from onnxhub_tui.core.manifest import ModelInfo
from onnxhub_tui.tui import jobs as J
from onnxhub_tui.tui.fmt import human_duration, human_rate, one_line


def entry(name: str, size: int = 1000) -> ModelInfo:
    return ModelInfo({"model": name, "model_path": f"m/{name}.onnx", "opset_version": 12,
                      "metadata": {"model_bytes": size, "model_with_data_bytes": size * 2}})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slots_limit_running_jobs_and_finishing_frees_one():
    queue = J.JobQueue(max_running=2, clock=Clock())
    a, b, c = (queue.add(entry(n)) for n in "abc")
    assert queue.start_next() == [a, b] and c.state == J.QUEUED
    assert queue.start_next() == []
    queue.finish(a, J.DONE, path="/x")
    assert queue.start_next() == [c]
    assert a.done == a.total == 1000 and a.fraction == 1.0
    assert queue.summary() == {J.DONE: 1, J.DOWNLOADING: 2}
    assert queue.pending == [b, c]


def test_find_pending_tells_model_and_model_with_data_apart():
    queue = J.JobQueue()
    job = queue.add(entry("a"))
    assert queue.find_pending(job.entry, False) is job
    assert queue.find_pending(job.entry, True) is None
    data = queue.add(job.entry, with_data=True)
    assert data.total == 2000 and data.label.endswith("+data")
    queue.start_next()
    queue.finish(job, J.FAILED, "boom")
    assert queue.find_pending(job.entry, False) is None  # a failed job does not block a new one


def test_progress_is_coalesced_to_ten_per_second_but_state_changes_always_emit():
    clock = Clock()
    queue = J.JobQueue(clock=clock)
    job = queue.add(entry("a", size=10_000))
    queue.start_next()
    emitted = 0
    for i in range(1, 100):  # 99 updates within one second
        clock.now += 0.0101
        emitted += queue.progress(job, i * 100, 10_000)
    assert 9 <= emitted <= 11
    assert job.state == J.DOWNLOADING
    clock.now += 0.001
    assert queue.progress(job, 10_000, 10_000) is True  # every byte: verifying, shown at once
    assert job.state == J.VERIFYING
    queue.finish(job, J.DONE)
    assert queue.progress(job, 10_000, 10_000) is False


def test_speed_and_eta_follow_a_sliding_window():
    clock = Clock()
    queue = J.JobQueue(clock=clock)
    job = queue.add(entry("a", size=10_000_000))
    queue.start_next()
    for second in range(6):
        clock.now = 100.0 + second
        queue.progress(job, second * 1_000_000, None)  # 1 MB/s
    assert abs(job.speed() - 1_000_000) < 1
    assert abs(job.eta() - 5.0) < 0.01
    for second in range(6, 10):
        clock.now = 100.0 + second
        queue.progress(job, 5_000_000 + (second - 5) * 250_000, None)  # slows to 250 kB/s
    assert job.speed() < 400_000  # the window forgot the fast start
    assert human_rate(job.speed()).endswith("/s") and human_duration(job.eta()).endswith("s")
    meter = J.RateMeter()
    meter.add(0, 500)
    meter.add(1, 900)
    meter.add(2, 100)  # the server ignored Range and the download restarted
    assert meter.speed() is None


def test_cancel_retry_and_clear():
    queue = J.JobQueue(max_running=1, clock=Clock())
    a, b = queue.add(entry("a")), queue.add(entry("b"))
    queue.start_next()
    assert queue.cancel(b) and b.state == J.CANCELLED  # queued: at once
    assert queue.cancel(a) and a.state == J.DOWNLOADING and a.cancel.cancelled  # running: asked to stop
    queue.finish(a, J.CANCELLED)
    assert not queue.cancel(a)
    token = a.cancel
    assert queue.retry(a) and a.state == J.QUEUED and a.cancel is not token and not a.cancel.cancelled
    assert not queue.retry(a)
    assert queue.clear_finished() == 1 and queue.jobs == [a]


def test_formatting_helpers():
    assert human_duration(None) == "" and human_duration(42) == "42s" and human_duration(185) == "3m05s"
    assert human_duration(3 * 3600 + 120) == "3h02m"
    assert one_line("Could not download x; tried 1:\n  http://h/x: HTTP 404\x1b[31m") == \
        "Could not download x; tried 1: http://h/x: HTTP 404"


def test_narrowing_queries_are_recognised_and_widening_ones_are_not():
    from onnxhub_tui.core.query import narrows

    assert narrows("", "r") and narrows("res", "resnet") and narrows("resnet", "resnet tag:vis")
    assert narrows("tag:vis", "tag:vision") and narrows("a b", "a bc")
    assert not narrows(None, "a")
    assert not narrows("resnet", "resne")  # shorter
    assert not narrows("tag", "tag:vision")  # a word became a field
    assert not narrows("a", "a -b") and not narrows("-b", "-bc")  # negation widens as it grows
    assert not narrows("size:<5", "size:<50") and not narrows("opset:>=1", "opset:>=12")
    assert not narrows('"a b', '"a bc') and not narrows("a b", "a c b")
