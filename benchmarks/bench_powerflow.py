"""Benchmark: one quasi-static grid step, fast path vs pandapower.runpp, measured side by side.

A step = set the factory load, solve, read bus voltages and branch loadings
(what the transmission federate does). The fast path is
:class:`federates.grid.powerflow.PowerFlow` (cached Ybus + lightsim2grid KLU
Newton-Raphson, warm-started); the reference is ``pandapower.runpp(init="results")``
on the same net with the same load sequence, generator reactive limits enforced in
both (``enforce_q_lims``, the fast path's default). Target (issue 4): >= 20x on IEEE 118.

    python benchmarks/bench_powerflow.py [--network case118] [--poi 59] [--steps 2000] [--pp-steps
    100]
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import numpy as np
import pandapower as pp

from federates.grid.network import attach_factory, load_network
from federates.grid.powerflow import PowerFlow


def load_sequence(n: int, seed: int = 0) -> np.ndarray:
    """Factory P [MW]: a 0.5 Hz training swing 105 <-> 300 MW sampled at 1 s with noise."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    return np.where(k % 2 == 0, 300.0, 105.0) + rng.normal(0.0, 2.0, n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="case118")
    ap.add_argument("--poi", type=int, default=59)
    ap.add_argument("--steps", type=int, default=2000, help="fast-path steps")
    ap.add_argument("--pp-steps", type=int, default=100, help="pandapower.runpp steps")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    net = load_network(args.network)
    site = attach_factory(net, args.poi)
    ref = copy.deepcopy(net)
    p = load_sequence(max(args.steps, args.pp_steps))

    pf = PowerFlow(net)
    pos = net.load.index.get_loc(site.load)
    pf.set_load(pos, p[0], 0.2 * p[0])
    pf.solve()  # build the cached model (not timed: once per run)
    t0 = time.perf_counter()
    for k in range(args.steps):
        pf.set_load(pos, p[k], 0.2 * p[k])
        sol = pf.solve()
        _ = (sol.vm_pu, sol.line_loading_percent, sol.trafo_loading_percent)
    fast = (time.perf_counter() - t0) / args.steps

    # the same problem: generator reactive limits enforced as the fast path does
    q_lims = pf.enforce_q_lims
    pp.runpp(ref, enforce_q_lims=q_lims)
    t0 = time.perf_counter()
    for k in range(args.pp_steps):
        ref.load.at[site.load, "p_mw"] = p[k]
        ref.load.at[site.load, "q_mvar"] = 0.2 * p[k]
        pp.runpp(ref, init="results", enforce_q_lims=q_lims)
        _ = (ref.res_bus.vm_pu.to_numpy(), ref.res_line.loading_percent.to_numpy())
    slow = (time.perf_counter() - t0) / args.pp_steps

    pf.set_load(pos, p[args.pp_steps - 1], 0.2 * p[args.pp_steps - 1])
    dv = float(np.max(np.abs(pf.solve().vm_pu - ref.res_bus.vm_pu.to_numpy())))
    print(f"network {args.network}, factory at bus {args.poi}, engine {pf.engine}")
    print(f"fast path      : {fast * 1e6:9.1f} us/step  ({args.steps} steps)")
    print(f"pandapower.runpp: {slow * 1e6:9.1f} us/step  ({args.pp_steps} steps)")
    print(
        f"speed-up       : {slow / fast:9.1f} x   (max |dV| vs runpp at the last step: {dv:.1e} pu)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
