"""Remote inspect: a model's header from Range requests, against reading the whole file.

    .venv/bin/python -m tests.benchmarks.bench_remote_inspect [--quick]

Models are made on the fly in a temporary folder (zero weights) and served by the tests' loopback server
(tests/support/hubserver.py, in this process), once as is and once with 20 ms added to every request (a
real link's round trip). Bytes are what the server sent. "whole file" is one GET of the whole body over
the same link, then onnx.load of the file from disk: what every other tool needs before it can answer.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import httpx
import onnx

from onnxhub_tui.core import byteranges
from onnxhub_tui.core.http import make_client
from onnxhub_tui.core.manifest import FileRef
from onnxhub_tui.core.remote_inspect import inspect_remote
from onnxhub_tui.core.sources import http_source
from tests.support import onnxmodels
from tests.support.hubserver import start_server

from .common import MB, Check, Section, fmt_s, median

LATENCY = 0.02
CASES = [  # (label, file name, builder)
    ("64 MB, 16 initializers", "w16.onnx", lambda: onnxmodels.weights_model(16, 4 * MB)),
    ("100 initializers of 256 KB", "w100.onnx", lambda: onnxmodels.weights_model(100, 256 * 1024)),
    ("512 MB, 128 initializers", "w128.onnx", lambda: onnxmodels.weights_model(128, 4 * MB)),
    ("5,000 nodes", "deep.onnx", lambda: onnxmodels.many_nodes_model(5000)),
]


def _whole_get(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    with client.stream("GET", url) as response:
        for _ in response.iter_raw():
            pass
    return time.perf_counter() - started


def run(quick: bool = False) -> Section:
    runs = 1 if quick else 3
    default_ahead = byteranges.AHEAD
    section = Section(
        "Remote inspect: header from Range requests vs the whole file",
        ["model", "file", "link", "requests", "bytes read", "share", "header time", "whole file GET", "onnx.load"],
    )
    with tempfile.TemporaryDirectory(prefix="onnxhub-bench-inspect-") as tmp:
        root = Path(tmp)
        (root / "m").mkdir()
        server = start_server(root)
        try:
            with make_client(offline=False) as client:
                for label, name, build in CASES:
                    path = root / "m" / name
                    path.write_bytes(build().SerializeToString())
                    size = path.stat().st_size
                    file = FileRef("model", name, hashlib.sha256(path.read_bytes()).hexdigest(), size)
                    started = time.perf_counter()
                    onnx.load(str(path))
                    load_s = time.perf_counter() - started
                    for latency, ahead in ((0.0, True), (LATENCY, True), (LATENCY, False)):
                        server.server.latency = latency
                        times, last = [], None
                        for _ in range(runs):
                            hits = len(server.hits)
                            byteranges.AHEAD = default_ahead if ahead else 0  # 0: one header at a time
                            started = time.perf_counter()
                            try:
                                got = inspect_remote(client=client, source=http_source(server.url + "/m/"),
                                                     file=file, cache_dir=root / "cache", refresh=True)
                            finally:
                                byteranges.AHEAD = default_ahead
                            times.append(time.perf_counter() - started)
                            time.sleep(0.05)  # the server thread counts a piece just after the client has it
                            ours = server.hits[hits:]  # by request: not the whole-file GET of the row before
                            last = (len(ours), sum(h.bytes_sent for h in ours), got)
                        assert last is not None
                        requests, sent, got = last
                        whole = _whole_get(client, f"{server.url}/m/{name}")
                        link = "loopback" if not latency else f"+{latency * 1000:.0f} ms/request"
                        link += "" if ahead else ", no read-ahead"
                        section.rows.append([
                            label, f"{size / MB:,.1f} MB", link, str(requests), f"{sent / 1024:,.0f} KB",
                            f"{sent / size:.2%}", fmt_s(median(times)), fmt_s(whole), fmt_s(load_s),
                        ])
                        if name == "w16.onnx" and not latency:
                            section.checks.append(Check("64 MB / 16 initializers: server sends < 2 % of the file",
                                                        f"{sent / size:.2%}", sent < 0.02 * size))
                        if name == "w100.onnx" and latency and ahead:
                            section.checks.append(Check("100 initializers at 20 ms/request: header in < 3 s",
                                                        fmt_s(median(times)), median(times) < 3.0))
                        assert got.initializer_count >= 1 and got.inputs
                    path.unlink()
        finally:
            server.stop()
    section.notes += [
        f"Median of {runs} run(s) per row; every run reads the model again (refresh=True: no kept result).",
        "The server is the tests' Python loopback server, in the benchmark's own process.",
        "Requests grow with the weights a header must skip (one per initializer bigger than a read window), "
        "not with the file's size; with 20 ms per request the round trips are the time, unless a run of "
        f"same-sized weights lets the next {default_ahead} headers be read ahead in parallel "
        "(\"no read-ahead\": one header at a time).",
        "Loopback has no bandwidth limit, so the whole-file GET is a lower bound: at 100 Mbit/s, 512 MB takes ~43 s.",
    ]
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_remote_inspect",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run per case (noisier)")
    args = parser.parse_args(argv)
    section = run(quick=args.quick)
    print(section.render())
    return 0 if all(c.met for c in section.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
