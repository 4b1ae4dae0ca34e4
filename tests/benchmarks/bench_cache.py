"""Part 5: a cache of 10,000 files. ``onnxhub-tui cache ls`` and ``core.cache.scan`` against ``find`` and
``du``, and the TUI cache screen's first paint (key 3) when the TUI is there."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path

from . import fixtures
from .bench_download import CLI, cli_has
from .common import BEFORE, PYTHON, WORK, Check, Section, fmt_mb, fmt_range, fmt_s, measure, median

FILES = 10_000

_SCAN_ONLY = """
import sys, time, json
from pathlib import Path
from onnxhub_tui.core import cache
from onnxhub_tui.core.manifest import parse_manifest
entries = parse_manifest(Path(sys.argv[2]).read_bytes(), sys.argv[2]).entries
t = time.perf_counter()
report = cache.scan(Path(sys.argv[1]), entries)
print(json.dumps({"seconds": time.perf_counter() - t, "files": len(report.files)}))
"""


def repo_folder(manifest: Path, count: int) -> Path:
    """A local-folder repo whose manifest names every cached file (so `cache ls` needs no network)."""
    folder = WORK / f"repo-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "ONNX_HUB_MANIFEST.json"
    if not target.exists():
        shutil.copyfile(manifest, target)
    return folder


def _scan_in_process(cache_dir: Path, manifest: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    import subprocess

    out = subprocess.run([PYTHON, "-c", _SCAN_ONLY, str(cache_dir), str(manifest)], capture_output=True, text=True,
                         check=True, env={**os.environ, **(env or {})})
    data = json.loads(out.stdout)
    return data["seconds"], data["files"]


async def _cache_screen_paint(repo: Path, cache_dir: Path) -> tuple[float, int, float]:
    """Seconds from pressing 3 to the cache screen painted with its scan; and the rows it shows."""
    from onnxhub_tui.core.client import Hub
    from onnxhub_tui.tui.app import HubApp

    hub = Hub(str(repo), cache_dir)
    app = HubApp(hub, jobs=3, trust=True, mouse=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: bool(app.session.entries))
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("3")
        await _until(pilot, lambda: getattr(app.screen, "report", None) is not None)
        await pilot.pause()  # the repaint that shows the rows
        elapsed = time.perf_counter() - start
        files = len(app.screen.report.files)
        scan = getattr(app.screen, "last_scan_seconds", None) or 0.0
    hub.close()
    return elapsed, files, scan


async def _until(pilot, condition, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not reached in the TUI")
        await asyncio.sleep(0.002)


def run(quick: bool = False) -> Section:
    runs = 3 if quick else 5
    cache_dir, manifest = fixtures.cache_tree(FILES)
    repo = repo_folder(manifest, FILES)
    count = sum(len(f) for _, _, f in os.walk(cache_dir))
    section = Section(
        f"5. Cache scan: {count:,} cached files",
        ["command", "runs", "median", "min–max", "peak RSS"],
    )
    cases = []
    if cli_has("cache"):
        cases.append(("`onnxhub-tui cache ls --repo FOLDER` (10,000-entry manifest)",
                      [str(CLI), "cache", "ls", "--repo", str(repo), "--cache-dir", str(cache_dir)]))
        cases.append(("`onnxhub-tui cache ls --offline` (no manifest)",
                      [str(CLI), "cache", "ls", "--offline", "--cache-dir", str(cache_dir)]))
    cases.append(("`find DIR -type f -printf '%s %p\\n'`",
                  ["find", str(cache_dir), "-type", "f", "-printf", "%s %p\n"]))
    cases.append(("`du -sb DIR`", ["du", "-sb", str(cache_dir)]))
    samples: dict[str, list] = {name: [] for name, _ in cases}
    scan_only: list[float] = []
    scan_before: list[float] = []
    for _ in range(runs):
        for name, cmd in cases:
            samples[name].append(measure(cmd, env={"ONNXHUB_OFFLINE": "1"} if "--offline" in cmd else None))
        seconds, seen = _scan_in_process(cache_dir, manifest)
        scan_only.append(seconds)
        if BEFORE:
            scan_before.append(_scan_in_process(cache_dir, manifest, {"PYTHONPATH": BEFORE["path"]})[0])
    for name, _ in cases:
        times = [s.seconds for s in samples[name]]
        section.rows.append([name, str(len(times)), fmt_s(median(times)), fmt_range(times),
                             fmt_mb(max(s.rss_kb for s in samples[name]))])
    section.rows.append(["`core.cache.scan` alone, in process (manifest already parsed)", str(runs),
                         fmt_s(median(scan_only)), fmt_range(scan_only), "—"])
    if scan_before:
        section.rows.append([f"`core.cache.scan` at {BEFORE['ref']} (before)", str(runs), fmt_s(median(scan_before)),
                             fmt_range(scan_before), "—"])
    if cases and "cache ls" in cases[0][0]:
        ls = median([s.seconds for s in samples[cases[0][0]]])
        section.checks.append(Check("`cache ls` ≤ 1 s", fmt_s(ls), ls <= 1.0))
    else:
        section.checks.append(Check("`cache ls` ≤ 1 s", f"no CLI yet; scan alone {fmt_s(median(scan_only))}",
                                    median(scan_only) <= 1.0))
    try:
        paints, scans = [], []
        shown = 0
        for _ in range(runs):
            seconds, shown, scan = asyncio.run(_cache_screen_paint(repo, cache_dir))
            paints.append(seconds)
            scans.append(scan)
        section.rows.append([f"TUI: key 3 to the cache screen painted ({shown:,} files, run_test 120x40; its "
                             f"scan thread: {fmt_s(median(scans))})", str(runs), fmt_s(median(paints)),
                             fmt_range(paints), "—"])
        section.checks.append(Check("cache screen first paint ≤ 1 s", fmt_s(median(paints)), median(paints) <= 1.0))
    except ImportError as exc:
        section.checks.append(Check("cache screen first paint ≤ 1 s", f"TUI not there ({exc})", None))
    section.notes.append(
        "The cache: tiny files laid out as onnx.hub does (`<dirs of model_path>/<sha>_<file>`), one per entry of "
        "a synthetic 10,000-entry manifest made from the real 184 (every 500th a `.part`). Page cache warm."
    )
    return section
