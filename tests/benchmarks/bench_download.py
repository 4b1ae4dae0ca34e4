"""Part 1: download + verify throughput of a 512 MB model from nginx on loopback, side by side with
curl, a careful shell pipeline, and onnx 1.20's own onnx.hub.load (installed in its own venv)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from . import fixtures
from .common import (
    MB,
    PYTHON,
    BEFORE,
    WORK,
    Check,
    Section,
    drop_tree,
    fmt_mb,
    fmt_range,
    fmt_s,
    measure,
    median,
    tool_version,
)
from .servers import static_server

ONNX120_VENV = Path(os.environ.get("ONNXHUB_BENCH_ONNX120", "/tmp/onnx120-venv"))
CLI = Path(PYTHON).parent / "onnxhub-tui"

# onnx.hub hard-codes GitHub; the wrapper points its base URL at our server and its cache at a folder.
_ONNX_HUB_WRAPPER = """
import sys
import onnx.hub as hub
base, cache_dir, name = sys.argv[1:4]
hub._get_base_url = lambda repo, lfs=False: base
hub.set_dir(cache_dir)
assert hub.load(name, repo="acme/models:main", silent=True) is not None
"""

_OUR_DOWNLOAD = """
import sys
from onnxhub_tui.core.client import Hub
with Hub(sys.argv[1], sys.argv[2]) as h:
    h.download(h.manifest().find(sys.argv[3]))
"""

_IN_PROCESS = """
import os, sys, time, json
from onnxhub_tui.core.client import Hub
with Hub(sys.argv[1], sys.argv[2]) as h:
    entry = h.manifest().find(sys.argv[3])
    cpu, t = time.process_time(), time.perf_counter()
    h.download(entry)
    print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu}))
"""

_OUR_LOAD = """
import sys
from onnxhub_tui import hub
hub.set_dir(sys.argv[2])
assert hub.load(sys.argv[3], repo=sys.argv[1], silent=True) is not None
"""


def cli_has(subcommand: str, *flags: str) -> bool:
    """Whether the installed CLI has this subcommand (and these flags) yet."""
    if not CLI.exists():
        return False
    out = subprocess.run([str(CLI), subcommand, "--help"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    return out.returncode == 0 and f"{subcommand}" in text.split("usage:", 1)[-1].split("\n")[0] and all(
        f in text for f in flags
    )


def ensure_onnx120() -> str | None:
    """The onnx 1.20 venv's python, creating it when missing (pip by package name only)."""
    py = ONNX120_VENV / "bin" / "python"
    if not py.exists():
        try:
            subprocess.run(["python3", "-m", "venv", str(ONNX120_VENV)], check=True, capture_output=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "onnx==1.20.0"], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return None
    ok = subprocess.run([str(py), "-c", "import onnx, onnx.hub; assert onnx.__version__.startswith('1.20')"],
                        capture_output=True)
    return str(py) if ok.returncode == 0 else None


def run(quick: bool = False) -> Section:
    runs = 3 if quick else 7  # the noisiest part: whole processes moving 512 MB through a shared disk
    root, models = fixtures.hub_tree()
    big = models[0]
    size_mb = big.size / MB
    section = Section(
        f"1. Download + verify of a {size_mb:.0f} MB model over loopback",
        ["command", "runs", "median", "min–max", "throughput", "vs curl -o", "peak RSS"],
    )
    onnx120 = ensure_onnx120()
    wrapper = WORK / "onnx120_load.py"
    wrapper.write_text(_ONNX_HUB_WRAPPER)
    scratch = WORK / "runs"
    with static_server(root, probe=fixtures.REPO_PATH + "ONNX_HUB_MANIFEST.json") as server:
        repo_url = server.url(fixtures.REPO_PATH)
        file_url = server.url(fixtures.REPO_PATH + big.rel)
        use_cli = cli_has("download", "--cache-dir", "--yes")

        def d(run_dir: Path) -> str:
            return str(run_dir)

        cases: list[tuple[str, object]] = []
        if use_cli:
            cases.append(("`onnxhub-tui download`", lambda r: [str(CLI), "download", big.name, "--repo", repo_url,
                                                               "--cache-dir", d(r), "--yes"]))
        else:
            cases.append(("`Hub.download` (python -c; CLI not there)",
                          lambda r: [PYTHON, "-c", _OUR_DOWNLOAD, repo_url, d(r), big.name]))
        cases.append(("`onnxhub_tui.hub.load` (download + parse)",
                      lambda r: [PYTHON, "-c", _OUR_LOAD, repo_url, d(r), big.name]))
        if BEFORE:
            before_env = {"PYTHONPATH": BEFORE["path"]}
            cases.append((f"`Hub.download` at {BEFORE['ref']} (before)",
                          (lambda r: [PYTHON, "-c", _OUR_DOWNLOAD, repo_url, d(r), big.name], before_env)))
            cases.append((f"`onnxhub_tui.hub.load` at {BEFORE['ref']} (before)",
                          (lambda r: [PYTHON, "-c", _OUR_LOAD, repo_url, d(r), big.name], before_env)))
        cases.append(("`curl -s -o FILE URL`", lambda r: ["curl", "-s", "-f", "-o", f"{r}/f", file_url]))
        cases.append(("`curl -s -o FILE URL && sync FILE`",
                      lambda r: f"curl -s -f -o {r}/f {file_url} && sync {r}/f"))
        cases.append(("`curl -s URL \\| tee FILE \\| sha256sum`",
                      lambda r: f"curl -s -f {file_url} | tee {r}/f | sha256sum"))
        if onnx120:
            cases.append(("onnx 1.20 `onnx.hub.load`", lambda r: [onnx120, str(wrapper), repo_url, d(r), big.name]))

        in_process: dict[str, list[tuple[float, float]]] = {"after": [], "before": []}
        if BEFORE:  # the core alone, without interpreter start-up and imports, before and after
            cases.append(("in process: after", ("in-process", {})))
            cases.append(("in process: before", ("in-process", {"PYTHONPATH": BEFORE["path"]})))
        # Warm the server's page cache so the first measured command does not pay for the disk.
        subprocess.run(["curl", "-s", "-f", "-o", "/dev/null", file_url], check=True)
        samples: dict[str, list] = {name: [] for name, _ in cases if not name.startswith("in process")}
        for i in range(runs):  # round-robin, so a noisy moment hits every command alike
            for name, make in cases:
                run_dir = scratch / f"r{i}"
                drop_tree(run_dir)
                run_dir.mkdir(parents=True)
                make, env = make if isinstance(make, tuple) else (make, {})
                os.sync()  # earlier runs' dirty pages must not be written back during this one
                if make == "in-process":
                    out = subprocess.run([PYTHON, "-c", _IN_PROCESS, repo_url, str(run_dir), big.name],
                                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
                    data = json.loads(out.stdout.strip().splitlines()[-1])
                    in_process[name.rsplit(" ", 1)[-1]].append((data["seconds"], data["cpu"]))
                else:
                    cmd = make(run_dir)
                    samples[name].append(measure(cmd, shell=isinstance(cmd, str), env=env))
                drop_tree(run_dir)
        server_kind = server.kind
    drop_tree(scratch)

    cases = [(name, make) for name, make in cases if samples.get(name)]
    curl_name = "`curl -s -o FILE URL`"
    curl_t = median([s.seconds for s in samples[curl_name]])
    stats = {}
    for name, _ in cases:
        times = [s.seconds for s in samples[name]]
        med = median(times)
        rss = max(s.rss_kb for s in samples[name])
        stats[name] = (med, rss)
        section.rows.append([
            name, str(len(times)), fmt_s(med), fmt_range(times), f"{size_mb / med:.0f} MB/s",
            f"{curl_t / med:.2f}x", fmt_mb(rss),
        ])

    dl_name = cases[0][0]
    dl_t, dl_rss = stats[dl_name]
    pipe_t, _ = stats["`curl -s URL \\| tee FILE \\| sha256sum`"]
    load_t, load_rss = stats["`onnxhub_tui.hub.load` (download + parse)"]
    section.checks.append(Check("download ≥ 0.75x curl -o throughput", f"{curl_t / dl_t:.2f}x",
                                curl_t / dl_t >= 0.75))
    section.checks.append(Check("download faster than curl \\| tee \\| sha256sum", f"{pipe_t / dl_t:.2f}x as fast",
                                dl_t < pipe_t))
    section.checks.append(Check("download peak RSS ≤ 150 MB", fmt_mb(dl_rss), dl_rss <= 150 * 1024))
    if onnx120:
        o_t, o_rss = stats["onnx 1.20 `onnx.hub.load`"]
        section.checks.append(Check("hub.load ≥ 1.3x faster than onnx.hub.load", f"{o_t / load_t:.2f}x",
                                    o_t / load_t >= 1.3))
        section.notes.append(f"onnx.hub.load peak RSS is {o_rss * 1024 / big.size:.2f}x the file size.")
    else:
        section.checks.append(Check("hub.load ≥ 1.3x faster than onnx.hub.load", "onnx 1.20 venv missing", None))
    section.checks.append(Check("hub.load peak RSS ≤ 1.3x file size", f"{load_rss * 1024 / big.size:.2f}x",
                                load_rss * 1024 <= 1.3 * big.size))
    section.notes.append(
        f"Server: {server_kind}; file {big.size:,} bytes, a real ONNX model ({big.size // fixtures.TENSOR} float "
        f"initializers of 4 MiB). Each run writes into a fresh folder on the same disk; `sync` runs before "
        f"(not during) each timing. Times are whole processes (interpreter start and imports included). "
        f"{tool_version(['curl', '--version'])}."
    )
    if in_process["after"] and in_process["before"]:
        a, b = in_process["after"], in_process["before"]
        section.notes.append(
            f"`Hub.download` inside one process (no start-up, no imports), {len(a)} runs each: "
            f"{fmt_s(median([x[0] for x in a]))} (CPU {fmt_s(median([x[1] for x in a]))}) now, "
            f"{fmt_s(median([x[0] for x in b]))} (CPU {fmt_s(median([x[1] for x in b]))}) at {BEFORE['ref']}."
        )
    sync_t, _ = stats["`curl -s -o FILE URL && sync FILE`"]
    section.notes.append(
        "Our downloads fsync the file before publishing it (a crash never leaves a torn model); curl -o does not, "
        f"so `curl -o && sync` is shown as the floor for a durable write: download runs at {sync_t / dl_t:.2f}x "
        "its throughput."
    )
    return section
