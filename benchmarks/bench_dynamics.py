"""Benchmark: the RMS dynamic grid stepped at the exchange interval, no broker.

For each bundled dynamic case and exchange interval, the adapter-level call
``DynamicGrid.step`` is made once per exchange step with a 0.5 Hz +/-50 MW
training swing at the POI; prints simulated seconds per wall second and, with
``--profile``, where the time goes (the engine's state derivatives, the network
solve, the rest). Also prints the modes and the time-domain checks of the Kundur
case (the figures quoted in docs/dynamics.md).

    python benchmarks/bench_dynamics.py [--seconds 20] [--dt-s 0.01 0.02] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np

from federates.dynamics.cases import load_case
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import electromechanical, modes

CASES = {"kundur": ("B7", 200.0), "ieee39": ("16", 300.0)}


def run(case: str, exchange_s: float, dt_s: float, seconds: float) -> float:
    """Simulated seconds per wall second of one run."""
    bus, p0 = CASES[case]
    grid = DynamicGrid(load_case(case), bus, p_site0_mw=p0, q_site0_mvar=20.0, dt_s=dt_s)
    n = int(round(seconds / exchange_s))
    t0 = time.perf_counter()
    for k in range(n):
        t_s = k * exchange_s
        grid.step(t_s, exchange_s, p0 + 50.0 * np.sign(np.sin(np.pi * t_s + 1e-9)), 20.0)
    return seconds / (time.perf_counter() - t0)


def profile(case: str, exchange_s: float, dt_s: float, seconds: float) -> None:
    """Share of wall time in the engine, the network solve and the rest."""
    prof = cProfile.Profile()
    prof.enable()
    run(case, exchange_s, dt_s, seconds)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    parts = {"engine state derivatives": 0.0, "network solve": 0.0}
    for (path, _, func), (_, _, _, cum, _) in stats.stats.items():
        if func == "state_derivatives" and path.endswith("tops/dynamic.py"):
            parts["engine state derivatives"] += cum
        if func == "solve_network":
            parts["network solve"] += cum
    rest = total - sum(parts.values())
    shares = ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in parts.items())
    print(f"    time: {shares}, rest {100 * rest / total:.0f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--dt-s", type=float, nargs="+", default=[0.01, 0.02])
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    for case in CASES:
        bus, p0 = CASES[case]
        t0 = time.perf_counter()
        found = modes(DynamicGrid(load_case(case), bus, p_site0_mw=p0, q_site0_mvar=20.0))
        print(f"{case}: modes in {time.perf_counter() - t0:.2f} s")
        for m in electromechanical(found):
            print(f"    {m.freq_hz:6.3f} Hz {100 * m.damping_ratio:5.1f} % {m.kind}")
        for dt_s in args.dt_s:
            for exchange_s in (0.02, 0.05):
                rate = run(case, exchange_s, dt_s, args.seconds)
                print(
                    f"  integration {dt_s * 1e3:.0f} ms, exchange {exchange_s * 1e3:.0f} ms:"
                    f" {rate:.1f} simulated s per wall s"
                )
                if args.profile and exchange_s == 0.02:
                    profile(case, exchange_s, dt_s, min(args.seconds, 5.0))


if __name__ == "__main__":
    main()
