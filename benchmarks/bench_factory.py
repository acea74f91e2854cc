"""Benchmark: 24 h of the factory model alone at a 20 ms internal step.

``FactorySite.advance`` is called once per 1 s grid step, as the HELICS adapter
does (no HELICS here). Target (issue 3): <= 10 s on the project's 2-core machine.

    python benchmarks/bench_factory.py [--hours 24] [--dt 0.02] [--no-bess]
"""

from __future__ import annotations

import argparse
import time

from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.factory.site import FactorySite


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--dt", type=float, default=0.02, help="internal step [s]")
    ap.add_argument("--grid-dt", type=float, default=1.0, help="grid step [s]")
    ap.add_argument("--no-bess", action="store_true")
    args = ap.parse_args(argv)
    site = FactorySite(
        FactoryConfig(),
        BessConfig(enabled=not args.no_bess),
        ControlsConfig(),
        seed=0,
        dt_s=args.dt,
    )
    n = int(round(args.hours * 3600 / args.grid_dt))
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(n):
        site.advance(k * args.grid_dt, (k + 1) * args.grid_dt, 1.0, 60.0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = site.summary()
    steps = int(round(n * args.grid_dt / args.dt))
    print(
        f"factory model: {args.hours:g} h at {args.dt * 1000:g} ms ({steps:,} internal steps, "
        f"{n:,} advance calls)"
    )
    print(
        f"wall time: {wall:.2f} s ({wall / n * 1e6:.1f} us per grid step), CPU time {cpu:.2f} s; "
        "target <= 10 s for 24 h at 20 ms"
    )
    print(
        f"bess: efc {s['bess.efc']:.2f}, soc {s['bess.soc_min']:.3f}-{s['bess.soc_max']:.3f}, "
        f"energy balance error {s['bess.energy_balance_error_mwh']:.2e} MWh"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
