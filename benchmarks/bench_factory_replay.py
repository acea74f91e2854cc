"""Benchmark: the factory adapter's ``step_block`` replayed on a finished run, and checked.

Builds the factory adapter from a run's ``configs/factory.json``, feeds it the
recorded POI voltage and frequency in sync blocks (as the shared loop does), and
reports the CPU time per grid step (``time.thread_time``, best of ``--reps``).
The replay must give the run's own ``factory.parquet`` and ``factory_hr.parquet``
(a run without iterations): any difference is printed and fails the script.

    python -m cosim.cli run ieee118_factory --no-report -q \\
        --set horizon.duration_s=3600 -o /tmp/fac_run
    python benchmarks/bench_factory_replay.py /tmp/fac_run [--reps 5] [--block 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from federates.common.block import record_columns
from federates.common.loop import load_adapter_factory


def replay(
    run_dir: Path, block: int
) -> tuple[float, int, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One replay: CPU time [s], grid steps, the recorded and the high-rate columns."""
    cfg = json.loads((run_dir / "configs" / "factory.json").read_text())
    rows = pd.read_parquet(run_dir / "timeseries" / "factory.parquet")
    make = load_adapter_factory(cfg["cosim"]["adapter"])
    with tempfile.TemporaryDirectory() as tmp:
        adapter, times, duration = make(cfg, Path(tmp))
    ends = np.append(times[1:], duration)
    keys = [s["key"] for s in cfg.get("subscriptions", [])]
    series = {"vm_pu": rows["vm_pu"].to_numpy(), "f_hz": rows["f_hz"].to_numpy()}
    rec: dict[str, list[np.ndarray]] = {}
    hr: dict[str, list[np.ndarray]] = {}
    n = len(times)
    c0 = time.thread_time()
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        inputs = {k: series["vm_pu"][i0:i1] for k in keys if k.endswith("vm_pu")}
        inputs.update({k: series["f_hz"][i0:i1] for k in keys if k.endswith("/f_hz")})
        out = adapter.step_block(times[i0:i1], ends[i0:i1], inputs, 0)
        for c, v in record_columns(out.record, times[i0:i1], None).items():
            rec.setdefault(c, []).append(v)
        for c, v in (out.block or {}).items():
            hr.setdefault(c, []).append(v)
    cpu = time.thread_time() - c0
    return (
        cpu,
        n,
        {c: np.concatenate(v) for c, v in rec.items()},
        {c: np.concatenate(v) for c, v in hr.items()},
    )


def max_difference(
    got: dict[str, np.ndarray], expect: pd.DataFrame, label: str
) -> tuple[float, list[str]]:
    """Largest absolute difference over all columns, and the columns not bit-identical."""
    worst, differ = 0.0, []
    for c in expect.columns:
        e = expect[c].to_numpy(dtype=float)
        g = got[c]
        if not np.array_equal(g, e, equal_nan=True):
            differ.append(f"{label}.{c}")
            finite = np.isfinite(e) & np.isfinite(g)
            worst = max(worst, float(np.max(np.abs(g[finite] - e[finite]), initial=np.inf)))
    return worst, differ


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--block", type=int, default=60, help="grid steps per sync block")
    args = ap.parse_args(argv)
    best = np.inf
    for _ in range(args.reps):
        cpu, n, rec, hr = replay(args.run_dir, args.block)
        best = min(best, cpu)
    ts = args.run_dir / "timeseries"
    d1, c1 = max_difference(rec, pd.read_parquet(ts / "factory.parquet"), "factory")
    d2, c2 = max_difference(hr, pd.read_parquet(ts / "factory_hr.parquet"), "factory_hr")
    print(f"factory step_block: {n} grid steps, best CPU {best / n * 1e6:.1f} us per grid step")
    if c1 or c2:
        print(f"DIFFERS from the run in {c1 + c2}: max abs difference {max(d1, d2):.3g}")
        return 1
    print("replay equals the run's factory.parquet and factory_hr.parquet bit for bit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
