"""Run the benchmarks and print one markdown report; it is also written to tests/benchmarks/results/latest.md.

    .venv/bin/python -m tests.benchmarks.run [--quick] [--only download,queue,cache,tui,search,inspect,zoo]
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import time
import traceback
from pathlib import Path

from .common import Section, export_before, machine

# name -> module; the order is the report's order
PARTS = {
    "download": "bench_download",
    "queue": "bench_queue",
    "cache": "bench_cache",
    "tui": "bench_tui",
    "search": "bench_search",
    "inspect": "bench_remote_inspect",
    "zoo": "bench_zoo",
}
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs per case (noisier)")
    parser.add_argument("--only", default="", help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md", help="where to write the report")
    parser.add_argument("--before", metavar="REF", help="also run that commit's core beside this one (download)")
    args = parser.parse_args(argv)
    wanted = [p.strip() for p in args.only.split(",") if p.strip()] or list(PARTS)
    unknown = [p for p in wanted if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")

    if args.before:
        export_before(args.before)
    started = datetime.datetime.now(datetime.timezone.utc)
    header = [
        f"Ran {started:%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        f"Command: `.venv/bin/python -m tests.benchmarks.run{' --quick' if args.quick else ''}"
        f"{' --only ' + ','.join(wanted) if args.only else ''}"
        f"{' --before ' + args.before if args.before else ''}`",
        "",
    ]
    print("\n".join(header), flush=True)
    sections: list[str] = []
    failed = 0
    for name in wanted:
        t0 = time.perf_counter()
        print(f"<!-- running {name} -->", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f".{PARTS[name]}", __package__)
            result = module.run(quick=args.quick)
            parts = result if isinstance(result, list) else [result]
            text = "\n".join(s.render() for s in parts if isinstance(s, Section))
        except Exception as exc:  # one broken part must not hide the others' numbers
            failed += 1
            text = f"### {name}\n\nnot measured: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
            traceback.print_exc(file=sys.stderr)
        text += f"\n_{name}: {time.perf_counter() - t0:.0f} s_\n"
        print(text, flush=True)
        sections.append(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(header) + "\n" + "\n".join(sections))
    print(f"<!-- written to {args.out} -->", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
