"""Part 4: search at scale. Synthetic manifests of 184, 5,000 and 50,000 entries (the real ones repeated
with new names): first paint and keystroke-to-repaint latency of the live search, beside the obvious
plain-DataTable app, and json.load alone on the same file (the floor for a first paint)."""

from __future__ import annotations

from . import fixtures
from .bench_cache import repo_folder
from .bench_tui import probe
from .common import MB, WORK, Check, Section, drop_tree, fmt_ms, median, percentile
from .tui_probe import SEARCH_KEYS

SIZES = (184, 5_000, 50_000)


def run(quick: bool = False) -> Section:
    runs = 1 if quick else 2
    section = Section(
        "4. Search at scale (headless `run_test`, 120x40; keys typed: "
        f"`resnet50`, ⌫×8, `bert`, ⌫×4, `mobilenet`, ⌫×9 = {len(SEARCH_KEYS)} keys a run)",
        ["entries (JSON size)", "app", "first paint", "vs json.load", "key p50", "key p95", "keys"],
    )
    cache_dir = WORK / "search-cache"
    results: dict[tuple[int, str], tuple[float, float, float]] = {}
    for n in SIZES:
        manifest = fixtures.synthetic_manifest_file(n)
        repo = repo_folder(manifest, n)
        size = f"{n:,} ({manifest.stat().st_size / MB:.0f} MB)" if n >= 5000 else f"{n:,} (real)"
        loads = [probe("json-load", path=str(manifest))["seconds"] for _ in range(3)]
        floor = median(loads)
        section.rows.append([size, "`json.load` alone", fmt_ms(floor), "1.00x", "—", "—", "—"])
        paused = median([probe("json-load", path=str(manifest), gc_paused=True)["seconds"] for _ in range(3)])
        section.rows.append([size, "`json.load` with the cyclic GC off", fmt_ms(paused), f"{paused / floor:.2f}x",
                             "—", "—", "—"])
        for app in ("ours", "plain"):
            paints: list[float] = []
            lat: list[float] = []
            # The plain DataTable refills every row per key: at 50,000 a handful of keys already takes minutes.
            keys = SEARCH_KEYS if app == "ours" or n < 50_000 else list("resn")
            for _ in range(runs):
                if app == "ours":
                    drop_tree(cache_dir)
                    r = probe("ours-startup", repo=str(repo), cache_dir=str(cache_dir), keys=keys)
                else:
                    r = probe("plain-search", manifest_path=str(repo / "ONNX_HUB_MANIFEST.json"), keys=keys)
                paints.append(r["first_paint"])
                lat += r["latencies"]
            fp = median(paints)
            p50, p95 = percentile(lat, 50), percentile(lat, 95)
            results[(n, app)] = (fp, p95, floor)
            label = "HubApp (ModelTable, Line API)" if app == "ours" else "plain DataTable + Input (baseline)"
            section.rows.append([size, label, fmt_ms(fp), f"{fp / floor:.2f}x", fmt_ms(p50), fmt_ms(p95),
                                 str(len(lat))])
    drop_tree(cache_dir)
    p95_small = results[(184, "ours")][1]
    p95_big = results[(50_000, "ours")][1]
    fp_big, _, floor_big = results[(50_000, "ours")]
    section.checks.append(Check("search key p95 ≤ 16 ms at 184 entries", fmt_ms(p95_small), p95_small <= 0.016))
    section.checks.append(Check("search key p95 ≤ 50 ms at 50,000 entries", fmt_ms(p95_big), p95_big <= 0.050))
    section.checks.append(Check("first paint at 50,000 ≤ 1.5x json.load", f"{fp_big / floor_big:.2f}x",
                                fp_big / floor_big <= 1.5))
    section.notes.append(
        "Ours loads the manifest from a local-folder repo (read, parse, validate into ModelInfo) in its worker; "
        "the first paint is the first one showing rows. The baseline at 50,000 types only `resn` (each key "
        "refills the DataTable). Each run is a fresh process."
    )
    return section
