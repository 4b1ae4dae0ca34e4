"""Shared pieces of the benchmark runner: timing subprocesses with their peak RSS, statistics, the
machine description, and the result sections that ``run.py`` renders as markdown."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
REAL_MANIFEST = REPO.parent / "shared" / "data" / "onnx-models-main.ONNX_HUB_MANIFEST.json"
# Big fixtures are slow to build, so they live outside the repo and are reused between invocations.
WORK = Path(os.environ.get("ONNXHUB_BENCH_DIR", Path(tempfile.gettempdir()) / "onnxhub-bench"))
MB = 1024 * 1024


# Set by ``run.py --before REF``: that commit's onnxhub_tui, exported here, is benchmarked beside the
# working tree's (through PYTHONPATH), to show a core change's before/after in one invocation.
BEFORE: dict[str, str] = {}


def export_before(ref: str) -> dict[str, str]:
    """Export ``ref``'s package to a temp folder; returns {"ref": ..., "path": ...}."""
    dest = WORK / "before" / ref.replace("/", "_")
    drop_tree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "onnxhub_tui"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    short = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], capture_output=True, text=True)
    BEFORE.update(ref=short.stdout.strip() or ref, path=str(dest))
    return BEFORE


@dataclass
class Sample:
    seconds: float
    rss_kb: int  # peak resident set size of the largest process the command ran


def measure(cmd: list[str] | str, env: dict[str, str] | None = None, shell: bool = False) -> Sample:
    """Run ``cmd`` once; wall time around the whole process, peak RSS from GNU time (or getrusage)."""
    full_env = {**os.environ, **(env or {})}
    if shell:
        cmd = ["/bin/bash", "-o", "pipefail", "-c", cmd]  # type: ignore[list-item]
    assert isinstance(cmd, list)
    if GNU_TIME:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
            start = time.perf_counter()
            proc = subprocess.run(
                [GNU_TIME, "-f", "%M", "-o", out.name, *cmd],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            seconds = time.perf_counter() - start
            lines = [ln for ln in Path(out.name).read_text().splitlines() if ln.strip().isdigit()]
            rss = int(lines[-1]) if lines else 0
    else:
        # Each run is a fresh child of a fresh helper, so RUSAGE_CHILDREN's maximum is this run's.
        code = (
            "import resource,subprocess,sys,time;s=time.perf_counter();"
            "r=subprocess.run(sys.argv[1:],stdin=subprocess.DEVNULL,stdout=subprocess.DEVNULL,stderr=subprocess.PIPE);"
            "sys.stderr.buffer.write(r.stderr);"
            "print(time.perf_counter()-s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
            "sys.exit(r.returncode)"
        )
        proc = subprocess.run([PYTHON, "-c", code, *cmd], env=full_env, capture_output=True, text=True)
        parts = proc.stdout.split()
        seconds, rss = (float(parts[0]), int(parts[1])) if len(parts) == 2 else (0.0, 0)
    if proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
        raise RuntimeError(f"benchmark command failed ({proc.returncode}): {cmd}\n{err[-2000:]}")
    return Sample(seconds, rss)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); honest for the small samples used here."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f} ms"


def fmt_range(values: list[float], fmt=fmt_s) -> str:
    return f"{fmt(min(values))}–{fmt(max(values))}" if values else "n/a"


def fmt_mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {load}"
    )


def tool_version(cmd: list[str]) -> str:
    exe = shutil.which(cmd[0])
    if not exe:
        return "absent"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


@dataclass
class Check:
    target: str
    measured: str
    met: bool | None  # None: could not be measured


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = [f"### {self.title}", ""]
        out.append("| " + " | ".join(self.headers) + " |")
        out.append("|" + "|".join("---" for _ in self.headers) + "|")
        out += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.checks:
            out += ["", "| target | measured | met |", "|---|---|---|"]
            for c in self.checks:
                mark = "n/a" if c.met is None else ("yes" if c.met else "**no**")
                out.append(f"| {c.target} | {c.measured} | {mark} |")
        if self.notes:
            out.append("")
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


def self_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def drop_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
