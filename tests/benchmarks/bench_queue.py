"""Part 2: the parallel queue. Eight 64 MB models from nginx throttled per connection (``limit_rate``),
``--jobs 1`` against ``--jobs 4``; curl one file at a time and ``curl --parallel`` are the baseline."""

from __future__ import annotations

import os

from . import fixtures
from .bench_download import CLI, cli_has
from .common import MB, PYTHON, WORK, Check, Section, drop_tree, fmt_mb, fmt_range, fmt_s, measure, median
from .servers import static_server

RATE_MB = 32  # per connection

_OUR_QUEUE = """
import sys
from concurrent.futures import ThreadPoolExecutor
from onnxhub_tui.core.client import Hub
repo, cache, jobs, *names = sys.argv[1:]
with Hub(repo, cache) as h:
    m = h.manifest()
    with ThreadPoolExecutor(int(jobs)) as pool:
        list(pool.map(lambda n: h.download(m.find(n)), names))
"""


def run(quick: bool = False) -> Section:
    runs = 1 if quick else 3
    root, models = fixtures.hub_tree()
    queue = [m for m in models if m.name.startswith("Queue-")]
    total = sum(m.size for m in queue)
    section = Section(
        f"2. Parallel queue: {len(queue)} files of {queue[0].size / MB:.0f} MB, server limited to "
        f"{RATE_MB} MB/s per connection",
        ["command", "runs", "median", "min–max", "aggregate", "vs jobs 1", "peak RSS"],
    )
    scratch = WORK / "runs-queue"
    use_cli = cli_has("download", "--jobs", "--cache-dir", "--yes")
    with static_server(root, rate=f"{RATE_MB}m", probe=fixtures.REPO_PATH + "ONNX_HUB_MANIFEST.json") as server:
        repo = server.url(fixtures.REPO_PATH, slow=True)
        names = [m.name for m in queue]
        urls = [server.url(fixtures.REPO_PATH + m.rel, slow=True) for m in queue]

        def ours(jobs: int):
            if use_cli:
                return lambda d: [str(CLI), "download", *names, "--repo", repo, "--cache-dir", d, "--yes",
                                  "--jobs", str(jobs)]
            return lambda d: [PYTHON, "-c", _OUR_QUEUE, repo, d, str(jobs), *names]

        label = "`onnxhub-tui download` ×8" if use_cli else "`Hub.download` ×8 in a thread pool (no CLI yet)"
        curl_seq = " ; ".join(f"curl -s -f -o {{d}}/f{i} {u}" for i, u in enumerate(urls))
        curl_par = "curl -s -f --parallel --parallel-max 4 " + " ".join(
            f"-o {{d}}/f{i} {u}" for i, u in enumerate(urls)
        )
        cases = [
            (f"{label} `--jobs 1`", ours(1)),
            (f"{label} `--jobs 4`", ours(4)),
            ("curl, one file after another", lambda d: curl_seq.format(d=d)),
            ("`curl --parallel --parallel-max 4`", lambda d: curl_par.format(d=d)),
        ]
        samples: dict[str, list] = {name: [] for name, _ in cases}
        for i in range(runs):
            for name, make in cases:
                run_dir = scratch / f"r{i}"
                drop_tree(run_dir)
                run_dir.mkdir(parents=True)
                cmd = make(str(run_dir))
                os.sync()
                samples[name].append(measure(cmd, shell=isinstance(cmd, str)))
                drop_tree(run_dir)
        kind, throttled = server.kind, server.throttled
    drop_tree(scratch)

    base = median([s.seconds for s in samples[cases[0][0]]])
    med = {}
    for name, _ in cases:
        times = [s.seconds for s in samples[name]]
        med[name] = median(times)
        section.rows.append([
            name, str(len(times)), fmt_s(med[name]), fmt_range(times), f"{total / MB / med[name]:.0f} MB/s",
            f"{base / med[name]:.2f}x", fmt_mb(max(s.rss_kb for s in samples[name])),
        ])
    ours4 = base / med[cases[1][0]]
    curl4 = med[cases[2][0]] / med[cases[3][0]]
    section.checks.append(Check("aggregate throughput scales with --jobs 4 (ideal 4x; curl --parallel shows "
                                "what the server and machine allow)", f"{ours4:.2f}x (curl: {curl4:.2f}x)",
                                ours4 >= 0.8 * min(4.0, curl4)))
    section.notes.append(f"Server: {kind}" + ("" if throttled else " — NOT throttled (nginx absent)") +
                         f"; `limit_rate {RATE_MB}m` per connection. Whole processes, fsync included for ours.")
    return section
