"""Benchmark: N-1 screening, fast contingency solves vs a loop over ``pandapower.runpp``.

Both screen every in-service line and transformer of the default network
(PGLib-OPF IEEE 118) with the site at its POI, at two snapshots (peak import and
swing trough), generator reactive limits enforced. The fast path is
:func:`federates.grid.contingency.n1_solves` (lightsim2grid's KLU Newton-Raphson on
a rank-2 update of the intact admittance matrix); the reference is what the
screening did before: ``runpp(enforce_q_lims=True)`` per outage, warm-started from
the intact solution. Prints both wall times, their ratio and the largest voltage
difference, measured in one run.

    python benchmarks/bench_n1.py [--network pglib_case118] [--poi 80]
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import numpy as np
import pandapower as pp

from federates.grid.contingency import n1_solves
from federates.grid.network import load_network

SNAPSHOTS = (("peak import", 300.0, 60.9), ("swing trough", 105.0, 21.3))


def runpp_loop(net: pp.pandapowerNet, bus: int) -> dict[tuple[str, str], np.ndarray]:
    """Bus voltages of every (snapshot, outage) by ``pandapower.runpp``."""
    work = copy.deepcopy(net)
    site = pp.create_load(work, bus=bus, p_mw=0.0, q_mvar=0.0)
    outages = [(t, int(i)) for t in ("line", "trafo") for i in work[t].index[work[t].in_service]]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, p_mw, q_mvar in SNAPSHOTS:
            work.load.loc[site, ["p_mw", "q_mvar"]] = (p_mw, q_mvar)
            pp.runpp(work, numba=False, enforce_q_lims=True)
            vm0, va0 = work.res_bus.vm_pu.to_numpy(), work.res_bus.va_degree.to_numpy()
            for table, idx in outages:
                work[table].at[idx, "in_service"] = False
                try:
                    pp.runpp(
                        work,
                        numba=False,
                        enforce_q_lims=True,
                        init_vm_pu=np.nan_to_num(vm0, nan=1.0),
                        init_va_degree=np.nan_to_num(va0),
                    )
                    out[(name, f"{table}.{idx}")] = work.res_bus.vm_pu.to_numpy()
                except pp.LoadflowNotConverged:
                    out[(name, f"{table}.{idx}")] = np.full(len(work.bus), np.nan)
                finally:
                    work[table].at[idx, "in_service"] = True
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="pglib_case118")
    ap.add_argument("--poi", type=int, default=80)
    args = ap.parse_args(argv)
    net = load_network(args.network)
    list(n1_solves(net, args.poi, SNAPSHOTS[:1], max_outages=3))  # imports, first build
    t0 = time.perf_counter()
    fast = [s for s in n1_solves(net, args.poi, SNAPSHOTS) if s.outage != "none"]
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = runpp_loop(net, args.poi)
    t_ref = time.perf_counter() - t0
    dv = max(
        float(np.nanmax(np.abs(s.solution.vm_pu - ref[(s.snapshot, s.outage)])))
        for s in fast
        if s.solution.converged and np.isfinite(ref[(s.snapshot, s.outage)]).any()
    )
    rebuilt = sum(s.method == "rebuilt" for s in fast)
    print(f"network {args.network}, POI bus {args.poi}: {len(fast)} outage solves")
    print(f"  fast contingency solves: {t_fast:7.2f} s ({1e3 * t_fast / len(fast):.2f} ms each,")
    print(f"                           {rebuilt} solved on a rebuilt model)")
    print(f"  runpp per outage:        {t_ref:7.2f} s ({1e3 * t_ref / len(fast):.2f} ms each)")
    print(f"  ratio: {t_ref / t_fast:.1f}x; largest |dV| {dv:.1e} pu")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
