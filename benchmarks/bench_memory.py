"""Benchmark: peak memory of the supervising process over a whole ``cosim run`` (summary included).

Runs the default case (``ieee118_factory``) for ``--hours`` through the real
broker, as ``cosim run ... --no-report`` does, in this process, and prints this
process's peak resident set size (``ru_maxrss``) and the largest federate's
(``RUSAGE_CHILDREN`` of the run), plus the size of the run directory.

Targets (speed issue, 24 h run): supervisor under 500 MB, run directory at most
100 MB, the whole run in 60 s; printed beside the figures.

    python benchmarks/bench_memory.py [--hours 24] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from cosim.engine.runner import run_case

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_memory_")) / "run"
    t0 = time.perf_counter()
    r = run_case(
        "ieee118_factory",
        out,
        {"horizon.duration_s": args.hours * 3600.0, "outputs.report": False},
        report=False,
    )
    wall = time.perf_counter() - t0
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run_mb = dir_mb(out)
    print(f"default case, {args.hours:g} h: status {r.summary.get('status')}  [{out}]")
    print(f"{'figure':28s} {'measured':>10s}   target (24 h)")
    print(f"{'supervisor peak RSS':28s} {self_mb:>7,.0f} MB   < 500 MB")
    print(f"{'largest federate peak RSS':28s} {child_mb:>7,.0f} MB   (none)")
    print(f"{'run directory':28s} {run_mb:>7,.1f} MB   <= 100 MB")
    print(f"{'wall time':28s} {wall:>8,.1f} s   <= 60 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
