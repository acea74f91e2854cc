"""Benchmark: a sweep of N runs in a local pool of W workers vs one after another.

Each run is a full federation (broker + one process per federate) of the
default case; the runs differ only by seed (``--grid seed=1,...,N``), so they
cost the same. Both modes use the sweep machinery (``cosim.studies.sweep.RunPool`` and
``run_specs``) into fresh directories (no run is reused); "sequential" is a
pool of one worker. The modes alternate in rounds of W runs (W one after
another, then the same W at once), so that a change in the machine's other load
during the benchmark affects both alike. Target (issue 7): 16 one-hour runs,
2 workers, >= 1.7x faster than sequential on the project's 2-core machine.

    python benchmarks/bench_sweep.py [--runs 16] [--duration 3600] [--workers 2] [--case CASE] [-o
    DIR]

The machine's load average is printed: other work on the machine slows both
modes, and the parallel one more (it needs every core).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from cosim.studies.sweep import RunPool, expand, run_specs

TARGET_RATIO = 1.7


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument(
        "--duration", type=float, default=3600.0, help="simulated horizon of each run [s]"
    )
    ap.add_argument("--workers", type=int, default=2, help="pool size of the parallel mode")
    ap.add_argument("--case", default="ieee118_factory", help="case file or bundled case name")
    ap.add_argument(
        "-o",
        "--output",
        default=None,
        help="work directory (default: a temporary one, removed unless a run failed)",
    )
    args = ap.parse_args(argv)
    work = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    specs = expand(
        [args.case],
        {"seed": list(range(1, args.runs + 1))},
        {"horizon.duration_s": args.duration, "outputs.report": False},
    )
    dirs = {"sequential": work / "sequential", "pool": work / "pool"}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
    print(
        f"sweep benchmark: {args.runs} runs of {args.case}, {args.duration:g} s simulated each, "
        f"rounds of {args.workers}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    wall = {"sequential": 0.0, "pool": 0.0}
    rows: dict[str, dict] = {}
    with RunPool(1) as seq_pool, RunPool(args.workers) as par_pool:
        for start in range(0, len(specs), args.workers):
            chunk = specs[start : start + args.workers]
            for mode, pool in (("sequential", seq_pool), ("pool", par_pool)):
                t0 = time.perf_counter()
                run_specs(chunk, dirs[mode], pool, rows.setdefault(mode, {}), progress=False)
                wall[mode] += time.perf_counter() - t0
            print(
                f"  runs {start + 1}-{start + len(chunk)}: sequential {wall['sequential']:7.1f} s, "
                f"pool {wall['pool']:7.1f} s so far (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    failed = [
        f"{mode} {rid}: {(r['error'] or 'failed').splitlines()[0]}"
        for mode, rs in rows.items()
        for rid, r in rs.items()
        if r["status"] != "ok"
    ]
    if failed:
        print(f"failed runs (work directory kept: {work}):\n  " + "\n  ".join(failed))
        return 1
    if not args.output:
        shutil.rmtree(work, ignore_errors=True)
    ratio = wall["sequential"] / wall["pool"]
    print(
        f"sequential {wall['sequential']:.1f} s ({wall['sequential'] / args.runs:.1f} s per run), "
        f"pool of {args.workers} {wall['pool']:.1f} s ({wall['pool'] / args.runs:.1f} s per run)"
    )
    print(
        f"speed-up {ratio:.2f}x with {args.workers} workers (target >= {TARGET_RATIO}x): "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
