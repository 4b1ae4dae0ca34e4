"""Part 1 (issue 14): download and ``hub.load`` against their yardsticks, as paired whole-process runs.

For each model (issue 14's 256 MB network of 64 random 4 MiB tensors, the README's 512 MB one of 128, a
one-tensor 256 MB embedding table) and each round, every pair runs back to back (the order alternates
between rounds), so a noisy moment on a shared machine hits both sides of a pair alike:

- ``onnxhub-tui download`` against ``curl -o F && sync F`` on loopback (the durable-write floor);
- the same download through a 100 MB/s link (nginx ``limit_rate 100m``) against ``curl -o F``;
- ``onnxhub_tui.hub.load`` against onnx 1.20's ``onnx.hub.load`` (its own venv);
- hub.load's peak RSS against the file's size (onnx.hub's beside it).

Each download row is split in two with nginx's access log: the transfer (the body's time on the server's
side, from the request to its last byte sent) and the rest of the process (start-up before the request, and
the end after the last byte: fsync, rename, exit). Shown, not judged: the whole process is what is judged.

A 4 KB model's download and ``hub.load`` (against ``curl -o F`` and onnx.hub) show the fixed costs a
process pays whatever the size: shown, not judged. A ratio is the yardstick's time over ours, per pair
(above 1: we are faster); the report gives each row's min, median and max over the rounds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import fixtures
from .common import BEFORE, PYTHON, WORK, Check, Section, drop_tree, fmt_range, fmt_s, measure, median, tool_version
from .servers import Server, static_server

ONNX120_VENV = Path(os.environ.get("ONNXHUB_BENCH_ONNX120", "/tmp/onnx120-venv"))
CLI = Path(PYTHON).parent / "onnxhub-tui"
LINK_RATE = "100m"  # nginx limit_rate: 100 MiB/s per connection

# onnx.hub hard-codes GitHub; the wrapper points its base URL at our server and its cache at a folder.
_ONNX_HUB_WRAPPER = """
import sys
import onnx.hub as hub
base, cache_dir, name = sys.argv[1:4]
hub._get_base_url = lambda repo, lfs=False: base
hub.set_dir(cache_dir)
assert hub.load(name, repo="acme/models:main", silent=True) is not None
"""

# ``python -c`` puts the working folder first on sys.path: run from the repository, that is the working tree's
# package, and a --before row (PYTHONPATH) measured it instead of the commit's. Dropped, so PYTHONPATH wins.
_OUR_LOAD = """
import sys
del sys.path[0]
from onnxhub_tui import hub
hub.set_dir(sys.argv[2])
assert hub.load(sys.argv[3], repo=sys.argv[1], silent=True) is not None
"""

Command = Callable[[Path], "list[str] | str"]


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


@dataclass
class Pair:
    """One row of issue 14's table: our command against its yardstick."""

    row: str
    ours: Command
    yardstick_name: str
    yardstick: Command
    target: float | None  # the speed ratio (yardstick time / ours) to reach; None: shown, not judged
    seed_manifest: str | None = None  # repo URL whose cached manifest each run of ours starts with
    ours_env: dict[str, str] = field(default_factory=dict)
    times: list[tuple[float, float]] = field(default_factory=list)  # (ours, yardstick) per round
    rss: list[tuple[int, int]] = field(default_factory=list)  # peak RSS in kB, (ours, yardstick)
    transfers: list[tuple[float, float]] = field(default_factory=list)  # the body's server-side seconds

    def ratios(self) -> list[float]:
        return [y / o for o, y in self.times]


def _stats(values: list[float], fmt: Callable[[float], str]) -> str:
    return f"{fmt(median(values))} ({fmt_range(values, fmt)})" if values else "n/a"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _seed(cache_dir: Path, primed: Path) -> None:
    """Give a run the cache a user has after their first run: the manifest, not the model."""
    src = primed / ".onnxhub-tui" / "manifests"
    if src.is_dir():
        shutil.copytree(src, cache_dir / ".onnxhub-tui" / "manifests")


def _prime(repo_url: str, name: str, folder: Path, env: dict[str, str]) -> None:
    """One untimed run that caches the manifest (and warms the server's page cache for this file)."""
    drop_tree(folder)
    folder.mkdir(parents=True)
    subprocess.run([str(CLI), "download", name, "--repo", repo_url, "--cache-dir", str(folder), "--yes"],
                   check=True, capture_output=True, env={**os.environ, **env})
    for path in folder.rglob("*.onnx"):
        path.unlink()


def _pairs(server, model: fixtures.ModelFile, onnx120: str | None, wrapper: Path, startup: bool = False) -> list[Pair]:
    """Issue 14's rows for ``model``; ``startup``: the 4 KB model's, whose times are the fixed costs (not judged)."""
    fast_repo = server.url(fixtures.REPO_PATH)
    slow_repo = server.url(fixtures.REPO_PATH, slow=True)
    fast_file = server.url(fixtures.REPO_PATH + model.rel)
    slow_file = server.url(fixtures.REPO_PATH + model.rel, slow=True)

    def download(repo: str) -> Command:
        return lambda r: [str(CLI), "download", model.name, "--repo", repo, "--cache-dir", str(r), "--yes"]

    if startup:
        pairs = [Pair("download, loopback", download(fast_repo), "`curl -o F`",
                      lambda r: ["curl", "-s", "-f", "-o", f"{r}/f", fast_file], None, fast_repo)]
    else:
        pairs = [
            Pair("download, loopback", download(fast_repo), "`curl -o F && sync F`",
                 lambda r: f"curl -s -f -o {r}/f {fast_file} && sync {r}/f", 1.0, fast_repo),
            Pair(f"download, {LINK_RATE[:-1]} MB/s link", download(slow_repo), "`curl -o F`",
                 lambda r: ["curl", "-s", "-f", "-o", f"{r}/f", slow_file], 0.95, slow_repo),
        ]
    if onnx120:
        pairs.append(Pair("`hub.load`", lambda r: [PYTHON, "-c", _OUR_LOAD, fast_repo, str(r), model.name],
                          "onnx 1.20 `onnx.hub.load`", lambda r: [onnx120, str(wrapper), fast_repo, str(r), model.name],
                          None if startup else 1.3, fast_repo))
    if BEFORE:  # the same pairs with that commit's package on PYTHONPATH, for a before/after in one run
        before = [Pair(f"{p.row} at {BEFORE['ref']}", p.ours, p.yardstick_name, p.yardstick, p.target,
                       p.seed_manifest, {"PYTHONPATH": BEFORE["path"]}) for p in pairs]
        pairs += before
    return pairs


def _body_seconds(server: Server, log_offset: int) -> float | None:
    """The server-side time of the largest response sent since ``log_offset``: the model's body."""
    served = server.requests_since(log_offset)
    return max(served, key=lambda r: r.sent).seconds if served else None


def _run_pair(pair: Pair, round_no: int, scratch: Path, primed: dict[tuple[str, str], Path], server: Server) -> None:
    results: dict[str, tuple[float, int]] = {}
    transfer: dict[str, float | None] = {}
    sides = [("ours", pair.ours), ("yardstick", pair.yardstick)]
    if round_no % 2:
        sides.reverse()
    for side, make in sides:
        run_dir = scratch / side
        drop_tree(run_dir)
        run_dir.mkdir(parents=True)
        env = pair.ours_env if side == "ours" else {}
        if side == "ours" and pair.seed_manifest:
            _seed(run_dir, primed[(pair.seed_manifest, env.get("PYTHONPATH", ""))])
        os.sync()  # earlier runs' dirty pages must not be written back during this one
        cmd = make(run_dir)
        log_offset = server.log_size()
        sample = measure(cmd, shell=isinstance(cmd, str), env=env)
        results[side] = (sample.seconds, sample.rss_kb)
        transfer[side] = _body_seconds(server, log_offset)
        drop_tree(run_dir)
    pair.times.append((results["ours"][0], results["yardstick"][0]))
    pair.rss.append((results["ours"][1], results["yardstick"][1]))
    if transfer["ours"] is not None and transfer["yardstick"] is not None:
        pair.transfers.append((transfer["ours"], transfer["yardstick"]))


def _section(shape: fixtures.Shape, pairs: list[Pair], number: int) -> Section:
    model = shape.model
    section = Section(
        f"1.{number} {shape.label} ({model.size:,} bytes)",
        ["row", "runs", "ours: median (min–max)", "yardstick", "yardstick: median (min–max)",
         "ratio: median (min–max)", "target"],
    )
    fmt = _ms if all(p.target is None for p in pairs) else fmt_s  # start-up times: in ms
    for p in pairs:
        ours_t, yard_t = [o for o, _ in p.times], [y for _, y in p.times]
        section.rows.append([p.row, str(len(p.times)), _stats(ours_t, fmt), p.yardstick_name,
                             _stats(yard_t, fmt), _stats(p.ratios(), _x),
                             "" if p.target is None else f"≥ {p.target:.2f}x"])
        if p.transfers and p.row.startswith("download") and p.target is not None:  # not the 4 KB model
            section.rows += _split_rows(p, fmt)
        if p.ours_env or p.target is None:  # a --before row, a start-up row: shown, not judged
            continue
        med = median(p.ratios())
        section.checks.append(Check(f"{p.row} ≥ {p.target:.2f}x {p.yardstick_name}", f"{med:.3f}x", med >= p.target))
    load = next((p for p in pairs if p.row == "`hub.load`"), None)
    if load is not None and load.target is not None:
        ours_rss = [o * 1024 / model.size for o, _ in load.rss]
        yard_rss = [y * 1024 / model.size for _, y in load.rss]
        section.rows.append(["`hub.load` peak RSS / file", str(len(ours_rss)), _stats(ours_rss, _x),
                             "onnx.hub peak RSS / file", _stats(yard_rss, _x), "", "≤ 1.30x"])
        worst = max(ours_rss)
        section.checks.append(Check("`hub.load` peak RSS ≤ 1.3x the file (worst run)", _x(worst), worst <= 1.3))
    return section


def _split_rows(p: Pair, fmt: Callable[[float], str]) -> list[list[str]]:
    """A download row's two parts: the transfer as nginx timed it, and the rest of each process."""
    ours_x, yard_x = [o for o, _ in p.transfers], [y for _, y in p.transfers]
    ours_rest = [wall - x for (wall, _), (x, _) in zip(p.times, p.transfers)]
    yard_rest = [wall - x for (_, wall), (_, x) in zip(p.times, p.transfers)]
    return [
        ["… its transfer (nginx)", str(len(ours_x)), _stats(ours_x, fmt), "its transfer", _stats(yard_x, fmt),
         _stats([y / o for o, y in p.transfers], _x), ""],
        ["… the rest of the process", str(len(ours_rest)), _stats(ours_rest, _ms), "the rest",
         _stats(yard_rest, _ms), "", ""],
    ]


def _compile(folder: Path) -> None:
    """Byte-compile the package once, as an installed one is: with PYTHONDONTWRITEBYTECODE set (these
    agent machines set it) every run would otherwise compile our modules again (~30 ms)."""
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(folder)], check=False, capture_output=True)


def run(quick: bool = False) -> list[Section]:
    rounds = 3 if quick else 5
    _compile(fixtures.REPO_ROOT / "onnxhub_tui")
    if BEFORE:
        _compile(Path(BEFORE["path"]) / "onnxhub_tui")
    root, _ = fixtures.hub_tree(with_queue=False, with_downloads=True)
    shapes = [*fixtures.download_models(), fixtures.startup_model()]
    if not cli_has("download", "--cache-dir", "--yes"):
        raise RuntimeError("this part needs the `onnxhub-tui download` command")
    onnx120 = ensure_onnx120()
    wrapper = WORK / "onnx120_load.py"
    wrapper.write_text(_ONNX_HUB_WRAPPER)
    scratch = WORK / "runs"
    with static_server(root, rate=LINK_RATE, probe=fixtures.REPO_PATH + "ONNX_HUB_MANIFEST.json") as server:
        by_shape = [(shape, _pairs(server, shape.model, onnx120, wrapper, startup=shape is shapes[-1]))
                    for shape in shapes]
        primed: dict[tuple[str, str], Path] = {}
        for shape, pairs in by_shape:
            for p in pairs:
                key = (p.seed_manifest or "", p.ours_env.get("PYTHONPATH", ""))
                if p.seed_manifest and key not in primed:
                    primed[key] = WORK / "primed" / str(len(primed))
                    _prime(p.seed_manifest, shape.model.name, primed[key], p.ours_env)
        for i in range(rounds):  # round-robin over every pair of every model
            for _shape, pairs in by_shape:
                for p in pairs:
                    _run_pair(p, i, scratch, primed, server)
        server_kind, throttled = server.kind, server.throttled
    drop_tree(scratch)
    drop_tree(WORK / "primed")

    sections = [_section(shape, pairs, n) for n, (shape, pairs) in enumerate(by_shape, 1)]
    notes = sections[-1].notes
    if not onnx120:
        notes.append("onnx 1.20 venv missing: the hub.load rows were not measured.")
    if not throttled:
        notes.append("nginx is absent: the 'link' rows ran unthrottled (apt-get install nginx-light).")
    notes.append(
        f"Server: {server_kind} on loopback, link rows through `limit_rate {LINK_RATE}`. {rounds} rounds; each "
        "round runs every pair back to back, alternating which side goes first; a ratio is the yardstick's time "
        "over ours in that pair. Times are whole processes (interpreter start and imports included); each run "
        "writes into a fresh folder that holds the cached manifest (as after a user's first run) and no model; "
        f"`sync` runs before (not during) each timing. Peak RSS is GNU time's %M. {tool_version(['curl', '--version'])}."
    )
    return sections
