"""The fallback engine of :class:`federates.grid.powerflow.PowerFlow`: ``pandapower.runpp`` per step
(pure, no helics), with generator reactive limits enforced as on the fast path."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandapower as pp

from federates.grid.loading import impedance_loading_percent
from federates.grid.pf_support import Solution
from federates.grid.qlimits import QLimitSwitch


def solve_with_runpp(pf: Any, clamps: dict[int, float]) -> Solution:
    """One step by ``pandapower.runpp`` (the fallback engine, and the fast path's last resort).

    Held (sag) voltages become generator set points with unlimited reactive power;
    the solution warm-starts the next step (``pf._v_pp``).

    Parameters
    ----------
    pf : PowerFlow
        The solver (network and current injections).
    clamps : dict of int to float
        Held voltage magnitude [pu] per pandapower bus.

    Returns
    -------
    Solution
        The step's solution.
    """
    net = pf.net
    pf._write_values()
    undo: list[tuple[str, int, str, object]] = []
    added: list[int] = []
    for b, vm in clamps.items():
        hit = False
        for table in ("ext_grid", "gen"):
            df = net[table]
            for i in df.index[(df.bus == b) & df.in_service]:
                undo.append((table, i, "vm_pu", df.at[i, "vm_pu"]))
                df.at[i, "vm_pu"] = vm
                hit = True
                if table == "gen":  # a held voltage takes any reactive power
                    for col, q in (("min_q_mvar", -1e9), ("max_q_mvar", 1e9)):
                        undo.append((table, i, col, df.at[i, col] if col in df else np.nan))
                        df.at[i, col] = q
        if not hit:
            added.append(
                pp.create_gen(
                    net,
                    b,
                    p_mw=0.0,
                    vm_pu=vm,
                    min_q_mvar=-1e9,
                    max_q_mvar=1e9,
                    name="sag_clamp",
                )
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(
                net,
                init="results" if pf._v_pp is not None else "auto",
                tolerance_mva=pf.tolerance_mva,
                max_iteration=pf.max_iterations,
                numba=True,
                enforce_q_lims=pf.enforce_q_lims,
            )
        ok = bool(net.converged)
    except pp.LoadflowNotConverged:
        ok = False
    finally:
        for table, i, col, val in undo:
            net[table].at[i, col] = val
        if added:
            net.gen.drop(index=added, inplace=True)
    if not ok:
        return pf._failed(0)
    res = net.res_bus
    pf._v_pp = res.vm_pu.to_numpy(float) * np.exp(1j * np.radians(res.va_degree.to_numpy(float)))
    p_loss = -float(np.nansum(res.p_mw.to_numpy(float)))
    if len(net.shunt):
        p_loss += float(np.nansum(net.res_shunt.p_mw.to_numpy(float)))
    return Solution(
        True,
        res.vm_pu.to_numpy(float),
        res.va_degree.to_numpy(float),
        net.res_line.loading_percent.to_numpy(float) if len(net.line) else np.zeros(0),
        net.res_trafo.loading_percent.to_numpy(float) if len(net.trafo) else np.zeros(0),
        p_loss,
        float(net.res_ext_grid.p_mw.sum()),
        float(net.res_ext_grid.q_mvar.sum()),
        0,
        net.res_trafo3w.loading_percent.to_numpy(float) if len(net.trafo3w) else np.zeros(0),
        impedance_loading_percent(net),
        limited_after_runpp(net) if pf.enforce_q_lims else (),
    )


def limited_after_runpp(net: pp.pandapowerNet) -> tuple[QLimitSwitch, ...]:
    """Generators ``pandapower.runpp(enforce_q_lims=True)`` left at a reactive limit.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        A network solved by ``pandapower.runpp``.

    Returns
    -------
    tuple of QLimitSwitch
        Generators at a limit, with the side and the limit [Mvar].
    """
    gen, res = net.gen, net.res_gen
    if not len(gen) or "max_q_mvar" not in gen:
        return ()
    out = []
    for i in gen.index[gen.in_service.to_numpy(bool)]:
        q = float(res.at[i, "q_mvar"]) if i in res.index else math.nan
        for side, col in (("max", "max_q_mvar"), ("min", "min_q_mvar")):
            lim = float(gen.at[i, col])
            if math.isfinite(q) and math.isfinite(lim) and abs(q - lim) < 1e-6:
                out.append(QLimitSwitch(int(i), side, lim))
    return tuple(out)
