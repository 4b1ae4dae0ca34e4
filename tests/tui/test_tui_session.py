"""The session: what the screens read, without Textual (so it is tested, and could be driven, on its own)."""

from __future__ import annotations

import subprocess
import sys

from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.manifest import ModelInfo
from onnxhub_tui.tui.session import Session


def entry(name: str, path: str) -> ModelInfo:
    return ModelInfo({"model": name, "model_path": path, "opset_version": 13, "metadata": {}})


def test_importing_the_session_and_the_queue_loads_no_textual_and_no_rich():
    code = ("import sys, onnxhub_tui.tui.session, onnxhub_tui.tui.jobs; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cached_state_counts_and_queued_marks(tmp_path):
    a, b = entry("A", "m/a.onnx"), entry("B", "m/b.onnx")
    with Hub(str(tmp_path / "hub"), tmp_path / "cache") as hub:
        session = Session(hub, entries=[a, b], states={"m/a.onnx": "complete", "m/b.onnx": "partial"})
        assert (session.cached_state(a), session.cached_state(b), session.cached_count) == ("complete", "partial", 1)
        assert session.update_pending() is False  # nothing queued: nothing changed
        session.queue.add(b)
        session.queue.add(a)
        assert session.update_pending() is True and session.update_pending() is False
        assert session.cached_state(b) == "queued"  # a partial being fetched again reads ↓
        assert session.cached_state(a) == "complete"  # a complete copy stays ✓ whatever is queued
        session.set_state(b, None)
        assert "m/b.onnx" not in session.states and session.cached_state(b) == "queued"


def test_publish_reaches_every_subscriber_until_it_leaves(tmp_path):
    with Hub(str(tmp_path / "hub"), tmp_path / "cache") as hub:
        session = Session(hub)
        seen: list[tuple[str, object]] = []

        def first(event: object) -> None:
            seen.append(("first", event))

        def second(event: object) -> None:
            seen.append(("second", event))

        session.subscribe(first)
        session.subscribe(second)
        session.subscribe(first)  # once only
        session.publish("one")
        session.unsubscribe(first)
        session.publish("two")
        assert seen == [("first", "one"), ("second", "one"), ("second", "two")]
