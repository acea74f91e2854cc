"""Benchmark: a sweep of N runs in a local pool of W workers vs one after another.

Each mode is a whole ``cosim sweep`` command, as a user runs it: its start, the
networks' check, the pool's start, every run and the sweep table are in the time.
The runs are full federations (broker + one process per federate) of the default
case and differ only by seed (``--grid seed=1,...,N``), so they cost the same.
"One after another" is the same sweep with ``--workers 1``. The four sweeps go in
the order one-after-another, pool, pool, one-after-another, so that a drift of
the machine's other load over the benchmark affects both modes alike; the ratio
is of the sums. Target (issue 16): 16 one-hour runs, 2 workers, >= 1.7x faster
than one after another on the project's 2-core machine.

    python benchmarks/bench_sweep.py [--runs 16] [--duration 3600] [--workers 2] [--case CASE]
    [-o DIR]

The machine's load average is printed: other work on the machine slows both
modes, and the parallel one more (it needs every core).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.7


def sweep(case: str, runs: int, duration_s: float, workers: int, out: Path) -> float:
    """Wall time of one whole ``cosim sweep`` command [s]; exits on a failed sweep."""
    cmd = [sys.executable, "-m", "cosim.cli", "sweep", case, "-o", str(out), "-q", "--no-plots"]
    cmd += ["--grid", "seed=" + ",".join(str(s) for s in range(1, runs + 1))]
    cmd += ["--set", f"horizon.duration_s={duration_s:g}", "--set", "outputs.report=false"]
    cmd += ["--workers", str(workers)]
    out.mkdir(parents=True)
    log = out.parent / f"{out.name}.log"
    # its output to a file, as a terminal would take it: the time is the command's own, up to
    # its exit (through pipes it would also include the fork server's own exit after it, which
    # holds the pipes: about 0.5 s in the background)
    with log.open("w") as f:
        t0 = time.perf_counter()
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        print(f"sweep failed (work directory kept: {out.parent}):\n{log.read_text()}")
        raise SystemExit(1)
    return wall


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
        help="work directory (default: a temporary one, removed unless a sweep failed)",
    )
    args = ap.parse_args(argv)
    work = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    print(
        f"sweep benchmark: {args.runs} runs of {args.case}, {args.duration:g} s simulated each, "
        f"whole `cosim sweep` commands; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    wall = {1: 0.0, args.workers: 0.0}
    for k, workers in enumerate((1, args.workers, args.workers, 1)):
        out = work / f"sweep{k}_w{workers}"
        shutil.rmtree(out, ignore_errors=True)
        t = sweep(args.case, args.runs, args.duration, workers, out)
        wall[workers] += t
        shutil.rmtree(out, ignore_errors=True)
        print(
            f"  --workers {workers}: {t:6.1f} s ({t / args.runs:.2f} s per run; "
            f"load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    if not args.output:
        shutil.rmtree(work, ignore_errors=True)
    seq, pool = wall[1] / 2, wall[args.workers] / 2
    ratio = seq / pool
    print(
        f"one after another {seq:.1f} s ({seq / args.runs:.2f} s per run), "
        f"pool of {args.workers} {pool:.1f} s ({pool / args.runs:.2f} s per run), means of two"
    )
    print(
        f"speed-up {ratio:.2f}x with {args.workers} workers (target >= {TARGET_RATIO}x): "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
