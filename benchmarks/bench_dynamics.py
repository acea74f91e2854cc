"""Benchmark: the RMS dynamic grid stepped at the exchange interval, no broker.

For each bundled dynamic case and exchange interval, the adapter-level call
``DynamicGrid.step`` is made once per exchange step with a 0.5 Hz +/-50 MW
training swing at the POI; prints simulated seconds per wall second and, with
``--profile``, where the time goes (the machines' and controllers' state
derivatives, the network solve, the rest). ``--engine`` runs the engine's own
model functions instead of the vectorised kernel (``federates.dynamics.kernel``).
Also prints the modes and the time-domain checks of the Kundur case (the figures
quoted in docs/dynamics.md).

With ``--broker`` it runs the bundled dynamic cases ``kundur_factory`` and
``ieee39_factory`` as real HELICS federations (broker, factory and dynamic grid
processes) at 20 ms and 50 ms exchange (``--sync`` adds a run exchanging 1 s sync
blocks at 20 ms) and prints simulated seconds per wall second of the federation
(build and summary excluded) and each federate's own busy time: with the
federates forked from a warm server and pinned, as ``cosim run`` starts them,
then as new processes.

    python benchmarks/bench_dynamics.py [--seconds 20] [--dt-s 0.01 0.02] [--profile] [--engine]
    python benchmarks/bench_dynamics.py --broker [--seconds 20] [--sync]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

from federates.dynamics.cases import load_case
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import electromechanical, modes

CASES = {"kundur": ("B7", 200.0), "ieee39": ("16", 300.0)}


def run(
    case: str,
    exchange_s: float,
    dt_s: float,
    seconds: float,
    kernel: bool = True,
    prof: cProfile.Profile | None = None,
) -> float:
    """Simulated seconds per wall second of one run (``prof`` profiles the stepping only)."""
    bus, p0 = CASES[case]
    grid = DynamicGrid(
        load_case(case), bus, p_site0_mw=p0, q_site0_mvar=20.0, dt_s=dt_s, use_kernel=kernel
    )
    n = int(round(seconds / exchange_s))
    if prof is not None:
        prof.enable()
    t0 = time.perf_counter()
    for k in range(n):
        t_s = k * exchange_s
        grid.step(t_s, exchange_s, p0 + 50.0 * np.sign(np.sin(np.pi * t_s + 1e-9)), 20.0)
    wall_s = time.perf_counter() - t0
    if prof is not None:
        prof.disable()
    return seconds / wall_s


def profile(case: str, exchange_s: float, dt_s: float, seconds: float, kernel: bool) -> None:
    """Share of wall time in the state derivatives, the network solve and the rest."""
    prof = cProfile.Profile()
    run(case, exchange_s, dt_s, seconds, kernel, prof)
    stats = pstats.Stats(prof)
    total = stats.total_tt
    parts = {"state derivatives": 0.0, "network solve": 0.0}
    for (path, _, func), (_, _, _, cum, _) in stats.stats.items():
        if (func == "state_derivatives" and path.endswith("tops/dynamic.py")) or (
            func == "derivatives" and path.endswith("dynamics/kernel.py")
        ):
            parts["state derivatives"] += cum
        if func == "solve_network":
            parts["network solve"] += cum
    rest = total - sum(parts.values())
    shares = ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in parts.items())
    print(f"    time: {shares}, rest {100 * rest / total:.0f} %")


def run_broker(
    case_name: str, exchange_s: float, seconds: float, sync_s: float | None, warm: bool
) -> str:
    """One federation of a bundled dynamic case; a line with its speed.

    ``warm``: the federates are forks of a warm server and pinned to cores, as ``cosim run``
    starts them (the server's preload excluded, as the build is: in a run it overlaps the
    build); else new processes, unpinned.
    """
    from cosim.case import load_case as load_cosim_case
    from cosim.engine import cpu_affinity
    from cosim.engine.build import build
    from cosim.engine.supervisor import supervise

    over = [f"horizon.duration_s={seconds}", f"horizon.grid_dt_s={exchange_s}"]
    if sync_s:
        over.append(f"horizon.sync_interval_s={sync_s}")
    case = load_cosim_case(case_name, over)
    with tempfile.TemporaryDirectory() as tmp:
        b = build(case, Path(tmp))
        cpus = cpu_affinity.plan(case.run.cpu_affinity, list(b.configs)) if warm else None
        t0 = time.perf_counter()
        outcome = supervise(b, case.horizon.duration_s, warm=warm, cpus=cpus)
        wall_s = time.perf_counter() - t0
        busy = {}
        for name in ("factory", "transmission"):
            f = Path(tmp) / "timeseries" / f"{name}.info.json"
            if f.is_file():
                busy[name] = json.loads(f.read_text()).get("wall_s")
    sync = f", sync {sync_s:g} s" if sync_s else ""
    how = "forked warm, pinned" if warm else "new processes"
    return (
        f"  {case_name}, exchange {exchange_s * 1e3:.0f} ms{sync}, {how}: {outcome.status}, "
        f"{seconds / wall_s:.1f} simulated s per wall s ({wall_s:.1f} s wall; federate loop "
        f"wall: {', '.join(f'{k} {v} s' for k, v in busy.items())})"
    )


def warm_server_ready() -> None:
    """Start this process's warm server (as ``cosim run`` does) and wait for its preload."""
    from cosim.engine import warm_start

    warm_start.enable()
    warm_start.fork_helper(int, (), "ready").wait(120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--dt-s", type=float, nargs="+", default=[0.01, 0.02])
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--engine", action="store_true", help="the engine's own model functions")
    ap.add_argument("--broker", action="store_true", help="the bundled cases through the broker")
    ap.add_argument("--sync", action="store_true", help="with --broker: also 1 s sync blocks")
    args = ap.parse_args()
    if args.broker:
        warm_server_ready()
        for case_name in ("kundur_factory", "ieee39_factory"):
            for exchange_s in (0.02, 0.05):
                for warm in (True, False):
                    print(run_broker(case_name, exchange_s, args.seconds, None, warm), flush=True)
            if args.sync:
                print(run_broker(case_name, 0.02, args.seconds, 1.0, True), flush=True)
        return
    for case in CASES:
        bus, p0 = CASES[case]
        t0 = time.perf_counter()
        found = modes(DynamicGrid(load_case(case), bus, p_site0_mw=p0, q_site0_mvar=20.0))
        print(f"{case}: modes in {time.perf_counter() - t0:.2f} s")
        for m in electromechanical(found):
            print(f"    {m.freq_hz:6.3f} Hz {100 * m.damping_ratio:5.1f} % {m.kind}")
        for dt_s in args.dt_s:
            for exchange_s in (0.02, 0.05):
                rate = run(case, exchange_s, dt_s, args.seconds, not args.engine)
                print(
                    f"  integration {dt_s * 1e3:.0f} ms, exchange {exchange_s * 1e3:.0f} ms:"
                    f" {rate:.1f} simulated s per wall s"
                )
                if args.profile and exchange_s == 0.02:
                    profile(case, exchange_s, dt_s, min(args.seconds, 5.0), not args.engine)


if __name__ == "__main__":
    main()
