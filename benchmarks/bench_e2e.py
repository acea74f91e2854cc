"""Benchmark: the default case end to end through the real broker vs pandapower's run_timeseries.

1. Runs ``ieee118_factory`` (IEEE 118, 300 MW factory at 138 kV bus 59, 100 MW /
   100 MWh BESS) for ``--hours`` at its 1 s grid step as a real HELICS federation
   (broker + one process per federate) and times the federation (start to last
   process exit, build and summary excluded).
2. Runs ``pandapower.timeseries.run_timeseries`` on the same network with the
   factory load at the same bus following the P, Q the federation's factory
   published (a ``ConstControl`` on a ``DFData`` profile, bus voltages and line
   loadings logged), for ``--pp-steps`` steps (0 = all), and extrapolates its
   rate to the whole horizon when it ran fewer steps (said so in the output).

Issue 4 target: >= 6x faster than run_timeseries and >= 1,500 grid steps/s.

    python benchmarks/bench_e2e.py [--hours 24] [--pp-steps 2000] [--core tcp] [--sync-interval 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def run_federation(
    hours: float, out: Path, core: str | None, sync_s: float | None, high_rate: bool
) -> tuple[float, int]:
    from cosim.case import load_case
    from cosim.engine.build import build
    from cosim.engine.results import finalize_timeseries
    from cosim.engine.runner import prepare_out_dir
    from cosim.engine.supervisor import supervise

    over = {
        "horizon.duration_s": hours * 3600.0,
        "outputs.report": False,
        "outputs.high_rate": high_rate,
    }
    if core:
        over["run.core_type"] = core
    if sync_s:
        over["horizon.sync_interval_s"] = sync_s
    case = load_case("ieee118_factory", over)
    prepare_out_dir(out)
    b = build(case, out)
    t0 = time.perf_counter()
    outcome = supervise(b, case.horizon.duration_s)
    wall = time.perf_counter() - t0
    finalize_timeseries(out)
    if outcome.status != "ok":
        raise SystemExit(
            f"federation failed: {outcome.failed}: {outcome.reason}\n{outcome.log_tail}"
        )
    return wall, len(case.time_grid())


def run_pandapower(p_mw: np.ndarray, q_mvar: np.ndarray, n: int) -> float:
    import pandapower as pp
    from pandapower.control import ConstControl
    from pandapower.timeseries import DFData, OutputWriter, run_timeseries

    from cosim.case import load_case
    from federates.grid.network import attach_factory, load_network

    case = load_case("ieee118_factory")
    net = load_network(case.grid.network, case.base_dir)
    site = attach_factory(net, case.factory.poi_bus, float(p_mw[0]), float(q_mvar[0]))
    ds = DFData(pd.DataFrame({"p": p_mw[:n], "q": q_mvar[:n]}))
    ConstControl(net, "load", "p_mw", element_index=[site.load], data_source=ds, profile_name=["p"])
    ConstControl(
        net, "load", "q_mvar", element_index=[site.load], data_source=ds, profile_name=["q"]
    )
    with tempfile.TemporaryDirectory() as d:
        ow = OutputWriter(net, time_steps=range(n), output_path=d, output_file_type=".csv")
        ow.log_variable("res_bus", "vm_pu")
        ow.log_variable("res_line", "loading_percent")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_timeseries(net, time_steps=range(n), verbose=False)
        return time.perf_counter() - t0
    del pp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument(
        "--pp-steps", type=int, default=2000, help="run_timeseries steps to time (0 = all)"
    )
    ap.add_argument("--core", default=None, help="HELICS core type (default: the case's)")
    ap.add_argument("--sync-interval", type=float, default=None, help="horizon.sync_interval_s [s]")
    ap.add_argument(
        "--no-high-rate",
        action="store_true",
        help="do not record the factory's internal-step series",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_e2e_"))
    wall, steps = run_federation(
        args.hours, out, args.core, args.sync_interval, not args.no_high_rate
    )
    fac = pd.read_parquet(out / "timeseries" / "factory.parquet")
    n = steps if args.pp_steps <= 0 else min(args.pp_steps, steps)
    pp_wall = run_pandapower(fac["p_mw"].to_numpy(float), fac["q_mvar"].to_numpy(float), n)
    fed_rate, pp_rate = steps / wall, n / pp_wall
    print(
        f"federation (real broker, {args.core or 'case'} core, "
        f"sync {args.sync_interval or 'every step'}): "
        f"{steps} steps in {wall:.1f} s = {fed_rate:,.0f} steps/s   [{out}]"
    )
    extra = (
        ""
        if n == steps
        else f" (measured on {n} steps, extrapolated: {steps / pp_rate:,.0f} s for {steps})"
    )
    print(
        f"pandapower run_timeseries: {n} steps in {pp_wall:.1f} s = {pp_rate:,.1f} steps/s{extra}"
    )
    print(f"ratio: {fed_rate / pp_rate:.1f}x (targets: >= 6x and >= 1,500 steps/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
