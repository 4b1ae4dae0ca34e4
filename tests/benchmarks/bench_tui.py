"""Part 3: TUI start-up with a warm manifest cache (the real 184 entries, revalidated with a 304 from
nginx), against a minimal Textual app showing an empty DataTable; key-press latency while 4 downloads run."""

from __future__ import annotations

import json
import subprocess

from . import fixtures
from .common import PYTHON, REPO, WORK, Check, Section, drop_tree, fmt_ms, fmt_range, median, percentile
from .servers import static_server


def probe(mode: str, **args: object) -> dict:
    out = subprocess.run([PYTHON, "-m", "tests.benchmarks.tui_probe", mode, json.dumps(args)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"tui_probe {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> Section:
    runs = 3 if quick else 5
    busy_runs = 1 if quick else 2
    rel, queue = fixtures.tui_repo()
    section = Section(
        "3. TUI start-up and responsiveness (headless `run_test`, 120x40)",
        ["case", "runs", "median", "min–max / p95", "note"],
    )
    cache_dir = WORK / "tui-cache"
    drop_tree(cache_dir)
    with static_server(fixtures.HUB_ROOT, rate="4m", probe=rel + "ONNX_HUB_MANIFEST.json") as server:
        repo = server.url(rel)
        from onnxhub_tui.core.client import Hub

        with Hub(repo, cache_dir) as hub:  # warm the manifest cache once
            assert len(hub.manifest().entries) == 184 + len(queue)
        ours, base, imports, ours_cpu, base_cpu = [], [], [], [], []
        for _ in range(runs):
            r = probe("ours-startup", repo=repo, cache_dir=str(cache_dir))
            ours.append(r["first_paint"])
            ours_cpu.append(r["cpu"])
            imports.append(r["imports"])
            b = probe("empty-datatable")
            base.append(b["first_paint"])
            base_cpu.append(b["cpu"])
        latencies: list[float] = []
        idle: list[float] = []
        running_at_end = []
        for i in range(busy_runs):  # the same keys with no download running: what the machine gives
            busy_cache = WORK / f"tui-busy-{i}"
            for names, into in (([m.name for m in queue[:4]], latencies), ([], idle)):
                drop_tree(busy_cache)
                r = probe("ours-busy", repo=server.url(rel, slow=True), cache_dir=str(busy_cache), names=names)
                into += r["latencies"]
                if names:
                    running_at_end.append(r["running_at_end"])
            drop_tree(busy_cache)
    drop_tree(cache_dir)
    m_ours, m_base = median(ours), median(base)
    section.rows.append(["HubApp: launch to first paint with rows (warm manifest cache, 304)", str(runs),
                         fmt_ms(m_ours), fmt_range(ours, fmt_ms), f"{len(queue) + 184} entries; CPU "
                         f"{fmt_ms(median(ours_cpu))}; imports before the clock ({fmt_ms(median(imports))} more)"])
    section.rows.append(["minimal App with an empty DataTable: launch to first paint", str(runs), fmt_ms(m_base),
                         fmt_range(base, fmt_ms), f"baseline; CPU {fmt_ms(median(base_cpu))}"])
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    section.rows.append(["key to repaint while 4 downloads run (↓/↑ in the table, typing a search)",
                         f"{len(latencies)} keys", fmt_ms(p50) + " (p50)", fmt_ms(p95) + " (p95)",
                         f"max {fmt_ms(max(latencies))}; downloads still running at the end: {running_at_end}"])
    section.rows.append(["the same keys with no download running", f"{len(idle)} keys",
                         fmt_ms(percentile(idle, 50)) + " (p50)", fmt_ms(percentile(idle, 95)) + " (p95)",
                         f"max {fmt_ms(max(idle))}"])
    section.checks.append(Check("start-up ≤ 1.5x the empty-DataTable app",
                                f"{m_ours / m_base:.2f}x wall, {median(ours_cpu) / median(base_cpu):.2f}x CPU",
                                m_ours / m_base <= 1.5))
    section.checks.append(Check("key-to-repaint p95 ≤ 50 ms with 4 downloads running", fmt_ms(p95), p95 <= 0.050))
    section.notes.append(
        f"Server: {server.kind}, `/slow/` at 4 MB/s per connection so the 4 downloads (64 MB each) outlast the "
        "typing. A paint = the screen's compositor refresh plus encoding the update to terminal bytes."
    )
    return section
