"""Regenerate screenshots/*.svg: each screen of the TUI against a small hub served on loopback.

    .venv/bin/python scripts/screenshots.py [--out screenshots]

No network: the hub is built from tiny models and onnx's shipped test models (tests/support/hubtree.py)
and served by the test server, with slow ("trickle") responses so the queue is caught mid-download.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from onnxhub_tui.core.client import Hub  # noqa: E402
from onnxhub_tui.tui import jobs as J  # noqa: E402
from onnxhub_tui.tui.app import HubApp  # noqa: E402
from tests.support.hubserver import Fault, start_server  # noqa: E402
from tests.support.hubtree import build_hub_tree  # noqa: E402
from tests.support.tui import models_screen  # noqa: E402

REPO = "acme/models:main"


async def _until(pilot, condition, timeout: float = 20.0) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.05)


async def _show(pilot, name: str, opset: int | None = None) -> None:  # noqa: ANN001
    app = pilot.app
    entry = next(e for e in app.session.entries if e.model == name and (opset is None or e.opset == opset))
    models_screen(app).show_entry(entry)
    await pilot.pause()


async def _quiet(pilot) -> None:  # noqa: ANN001
    await pilot.pause(0.3)
    pilot.app.clear_notifications()
    await pilot.pause()


async def shoot(cache: Path, out: Path, gate: threading.Event) -> list[Path]:
    written: list[Path] = []

    def save(app: HubApp, name: str) -> None:
        path = out / name
        app.save_screenshot(str(path))
        written.append(path)

    # models and details, wide and at 80x24
    for size, suffix in (((120, 40), ""), ((80, 24), "-80x24")):
        app = HubApp(Hub(REPO, cache), trust=True)
        async with app.run_test(size=size) as pilot:
            await _until(pilot, lambda: app.session.manifest_state is not None)
            await _show(pilot, "MNIST", 12)
            await pilot.press("d")
            await _until(pilot, lambda: app.session.cached_count >= 1)
            await pilot.press("slash", *"tag:vision", "enter")
            await _show(pilot, "ResNet50")
            await _quiet(pilot)
            save(app, f"models{suffix}.svg")
            await pilot.press("slash", *["backspace"] * len("tag:vision"), "enter")
            await _show(pilot, "MNIST", 12)
            await pilot.press("i")
            entry = models_screen(app).table.highlighted
            await _until(pilot, lambda: entry is not None and entry.key in models_screen(app)._summaries)  # noqa: SLF001
            await pilot.pause()  # the file summary is read on a worker thread
            await _quiet(pilot)
            save(app, f"details{suffix}.svg")
            await pilot.press("question_mark")
            await _quiet(pilot)
            save(app, f"help{suffix}.svg")

    # the queue mid-download: two trickling, one queued, one failed, one done
    app = HubApp(Hub(REPO, cache), jobs=2, trust=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.session.manifest_state is not None)
        for name in ("TinyNet", "Texty", "DenseNet-121", "ResNet50", "SqueezeNet"):
            await _show(pilot, name)
            await pilot.press("d")
            if name == "TinyNet":
                await _until(pilot, lambda: app.session.queue.jobs[0].state == J.DONE)
        await pilot.press("2", "down")  # the failed job: its error shows in full below the table
        await _until(pilot, lambda: all(j.done > 30_000 for j in app.session.queue.jobs[2:4]))
        await _quiet(pilot)
        save(app, "downloads.svg")
        await pilot.press("3")
        await pilot.pause(1.0)
        await _quiet(pilot)
        save(app, "cache.svg")
        gate.set()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onnxhub-shots-") as tmp:
        work = Path(tmp)
        tree = build_hub_tree(work / "hub")
        server = start_server(tree.root)
        gate = threading.Event()
        server.add_fault("densenet121-9.onnx", Fault("trickle", chunk=2048, seconds=0.08, times=-1))
        server.add_fault("resnet50-9.onnx", Fault("trickle", chunk=1024, seconds=0.1, times=-1))
        server.add_fault("squeezenet-9.onnx", Fault("hold", gate=gate, times=-1))
        server.add_fault("texty-13.onnx", Fault("status", status=404, times=-1))
        for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            os.environ.pop(key, None)
        os.environ.update(ONNXHUB_GITHUB_RAW_URL=server.url + "/raw", ONNXHUB_GITHUB_LFS_URL=server.url + "/lfs",
                          HF_ENDPOINT=server.url, NO_PROXY="127.0.0.1,localhost", ONNXHUB_BACKOFF="0.01",
                          ONNXHUB_MAX_WAIT="0.2")
        os.chdir(work)  # cache paths show as cache/...
        try:
            written = asyncio.run(shoot(work / "cache", out, gate))
        finally:
            gate.set()
            server.stop()
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
