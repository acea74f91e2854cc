"""Benchmark: the default case as shipped vs every-step exchange, with ratios from one run.

1. ``cosim run ieee118_factory --no-report`` over ``--hours`` as shipped (the default
   exchange: 60 s sync blocks chosen at build, block stepping): the whole command's
   wall time (build, federation, summary) and the federation's grid steps/s (from the
   transmission federate's ``info.json``: its loop wall time).
2. The same with every-step exchange forced (``horizon.sync_interval_s = 1``), with
   each process pinned to its core (``run.cpu_affinity = "auto"``, the default for a
   lone run) and left to the OS (``"off"``); and with every federate as a thread of one
   process on one core (``run.one_process = true``), as shipped and every step.
3. ``pandapower.timeseries.run_timeseries`` on the same network and factory P, Q
   (:func:`bench_e2e.run_pandapower`) for ``--pp-steps`` steps: its rate per step.

Issue 16 targets: as shipped >= 3,000 steps/s, whole run <= 60 s for 24 h, >= 15x
run_timeseries; every step >= 1,500 steps/s.

    python benchmarks/bench_exchange.py [--hours 24] [--pp-steps 1000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_e2e import run_pandapower  # noqa: E402


def cosim_run(hours: float, out: Path, extra: list[str]) -> tuple[float, float, int]:
    """Whole ``cosim run`` wall time [s], federation loop wall time [s] and steps."""
    cmd = [sys.executable, "-m", "cosim.cli", "run", "ieee118_factory", "--no-report", "-q"]
    cmd += ["--set", f"horizon.duration_s={hours * 3600.0}", *extra, "-o", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    info = json.loads((out / "timeseries" / "transmission.info.json").read_text())
    return wall, float(info["wall_s"]), int(info["steps"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--pp-steps", type=int, default=1000, help="run_timeseries steps to time")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_exchange_"))
    shipped = cosim_run(args.hours, out / "shipped", [])
    every = cosim_run(args.hours, out / "every", ["--set", "horizon.sync_interval_s=1"])
    unpinned = cosim_run(
        args.hours,
        out / "every_unpinned",
        ["--set", "horizon.sync_interval_s=1", "--set", "run.cpu_affinity=off"],
    )
    one = ["--set", "run.one_process=true"]
    one_shipped = cosim_run(args.hours, out / "one_process", one)
    one_every = cosim_run(
        args.hours, out / "one_process_every", [*one, "--set", "horizon.sync_interval_s=1"]
    )
    fac = pd.read_parquet(out / "shipped" / "timeseries" / "factory.parquet")
    n = min(args.pp_steps, len(fac))
    pp_rate = n / run_pandapower(fac["p_mw"].to_numpy(float), fac["q_mvar"].to_numpy(float), n)
    sync = json.loads((out / "shipped" / "exchange.json").read_text())
    print(f"{args.hours:g} h of ieee118_factory, {shipped[2]} grid steps   [{out}]")
    print(f"exchange as shipped: {sync['sync_interval_s']:g} s ({sync['reason']})")
    runs = (
        ("as shipped", shipped),
        ("every step", every),
        ("  unpinned", unpinned),
        ("one process, as shipped", one_shipped),
        ("one process, every step", one_every),
    )
    for label, (wall, fed, steps) in runs:
        print(
            f"{label:23s}: whole run {wall:7.1f} s, federation {fed:7.1f} s = "
            f"{steps / fed:7,.0f} steps/s = {steps / fed / pp_rate:5.1f}x run_timeseries"
        )
    print(f"run_timeseries: {pp_rate:,.1f} steps/s ({n} steps)")
    print(
        f"shipped / every step: {every[1] / shipped[1]:.2f}x federation, "
        f"{every[0] / shipped[0]:.2f}x whole run"
    )
    print(f"every step, pinned / unpinned: {unpinned[1] / every[1]:.2f}x federation")
    print(
        f"every step, one process / a process each: {every[1] / one_every[1]:.2f}x federation; "
        f"as shipped: {shipped[1] / one_shipped[1]:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
