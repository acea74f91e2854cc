"""The fast power flow's common step in one compiled call (pure, no helics).

Most steps of a quasi-static time series are alike: no held (sag) voltage, the
generators held at a reactive limit are the warm start's set and stay so, no
load bus below the low-voltage threshold, and the kept-symbolic Newton-Raphson
(:mod:`federates.grid.nr_static`) converges. :func:`steady_solve` does such a
step in one numba call: the bus injections from the loads, Newton-Raphson, each
free generator's reactive output against its limits (:class:`~federates.grid.qlimits.GenQPlan`'s
formulas), the warm start's consistency (:func:`~federates.grid.pf_qlimited.solve_q_limited`'s
rule) and the low-voltage check. Where any of these does not hold it returns
None and the general path (:func:`~federates.grid.pf_qlimited.solve_q_limited`)
solves the step from the same start, so the lane never decides a result: it
only skips the Python between the same operations.

``tests/federates/grid/test_pf_steady.py`` checks a time series solved with and
without the lane: the same Q-limit states, voltages within 1e-12 pu.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from federates.grid.nr_static import PIVOT_REL_TOL, _injections, _newton
from federates.grid.pf_predict import warm_start
from federates.grid.pf_qlimited import WARM_MARGIN_PU, q_limit_switches, qlimit_memo
from federates.grid.pf_support import Solution
from federates.grid.qlimits import EPS

#: largest number of cached lanes (warm sets) per network model
MAX_LANES = 64


class _Lane:
    """What one warm set needs, kept per model: PV / PQ arrays, their pattern, the generators'
    reactive-output plan and the warm generators' consistency test."""

    def __init__(
        self, pf: Any, memo: dict, key: tuple[bytes, bytes], warm: np.ndarray | None
    ) -> None:
        n_gen = len(pf._gen_bus)
        self.limited = np.zeros(n_gen, dtype=bool)
        self.q_fix = np.zeros(n_gen)
        if warm is None:
            self.s_fixed = np.zeros(pf._n, dtype=complex)
            pv, pq, in_pv = pf._pv, pf._pq, memo["in_pv"]
        else:
            self.s_fixed, pv, pq, in_pv, _ = memo["warm"][key]
            self.limited[:] = warm
            self.q_fix[warm] = pf._q_prev[1][warm]
        self.pattern = pf._nr._pattern(pv, pq)
        gb = pf._gen_bus[self.limited]
        self.warm_bus = gb.astype(np.int64)
        self.warm_vset = pf._vset[gb].copy()
        self.warm_at_max = self.q_fix[self.limited] == pf._gen_qmax[self.limited]
        active = memo["eligible"] & ~self.limited & in_pv
        check = pf.enforce_q_lims and bool(memo["eligible"].any())
        if not check:
            active = np.zeros(n_gen, dtype=bool)
        plan = pf._q_plan(active)
        self.plan = (
            plan.bus.astype(np.int64),
            plan.own_b,
            plan.count_b.astype(np.float64),
            plan.lo_b,
            plan.hi_b,
            plan.q_min_a,
            plan.q_max_a,
            plan.single_or_flat,
        )
        self.switches = q_limit_switches(pf, memo, self.limited, self.q_fix)


def steady_solve(pf: Any, warm: bool) -> Solution | None:
    """One step of :class:`~federates.grid.powerflow.PowerFlow` ``pf`` without held voltages,
    in one compiled call; None where the general path must solve it (see the module docstring).

    Parameters
    ----------
    pf : PowerFlow
        The solver (its cached model, injections and last solution; updated on success).
    warm : bool
        Start from the generators the last solve held at a reactive limit.

    Returns
    -------
    Solution or None
        The converged solution, or None (nothing on ``pf`` changed but the lane cache).
    """
    nr = pf._nr
    if nr is None or nr.ybus is not pf._ybus:
        return None
    memo = qlimit_memo(pf, pf._pv)
    warm_set = None
    key: tuple[bytes, bytes] = (b"", b"")
    if warm and pf.enforce_q_lims and pf._q_prev is not None:
        prev_limited, prev_fix = pf._q_prev
        warm_set = prev_limited & memo["eligible"]
        if warm_set.any():
            key = (warm_set.tobytes(), prev_fix[warm_set].tobytes())  # solve_q_limited's
            if key not in memo["warm"]:
                return None  # the general path builds this warm start first
        else:
            warm_set = None
    lanes = memo.setdefault("lanes", {})
    lane = lanes.get(key)
    if lane is None:
        if len(lanes) >= MAX_LANES:
            lanes.clear()
        lane = lanes[key] = _Lane(pf, memo, key, warm_set)
    pat = lane.pattern
    if pat is None:
        return None
    if pf._s_other is None:
        pf._s_other = (
            pf._sbus_static
            + (pf._cs @ (pf.sgen_p_mw + 1j * pf.sgen_q_mvar) + pf._cg @ pf.gen_p_mw) / pf._base
        )
    v = warm_start(pf)
    sbus = np.empty(pf._n, dtype=np.complex128)
    s_inj = np.empty(pf._n, dtype=np.complex128)
    pf.nr_solves += 1
    status, iters = _steady(
        nr._indptr,
        nr._indices,
        nr._ydata,
        v,
        pf._s_other,
        lane.s_fixed,
        pf.load_p_mw,
        pf.load_q_mvar,
        pf._load_live,
        pf._load_live_rows,
        1.0 / pf._base,
        pat.pvpq,
        pat.pq,
        pat.j_slot,
        pat.j_indptr,
        pat.j_indices,
        pat.perm_r,
        pat.perm_c,
        pat.lu_indptr,
        pat.lu_rows,
        pat.lu_diag,
        int(pf.max_iterations),
        pf.tolerance_mva / pf._base,
        PIVOT_REL_TOL,
        float(pf.lv_threshold_pu),
        *lane.plan,
        lane.warm_bus,
        lane.warm_vset,
        lane.warm_at_max,
        WARM_MARGIN_PU,
        sbus,
        s_inj,
        pat.lu,
        pat.lu_state,
        nr.chord,
    )
    if status != 1:
        pf.nr_solves -= 1  # the general path counts its own
        return None
    if pf.enforce_q_lims:
        pf._q_prev = (lane.limited, lane.q_fix)  # never changed in place
    pf._sbus_used = sbus
    pf._s_inj = (v, pf._ybus, s_inj)
    return pf._results(v, int(iters), lane.switches)


@numba.njit(cache=True)
def _steady(  # noqa: ANN201, PLR0913
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    ydata,  # noqa: ANN001
    v,  # noqa: ANN001
    s_other,  # noqa: ANN001
    s_fixed,  # noqa: ANN001
    load_p,  # noqa: ANN001
    load_q,  # noqa: ANN001
    live_idx,  # noqa: ANN001
    live_rows,  # noqa: ANN001
    inv_base,  # noqa: ANN001
    pvpq,  # noqa: ANN001
    pq,  # noqa: ANN001
    j_slot,  # noqa: ANN001
    j_indptr,  # noqa: ANN001
    j_indices,  # noqa: ANN001
    perm_r,  # noqa: ANN001
    perm_c,  # noqa: ANN001
    lu_indptr,  # noqa: ANN001
    lu_rows,  # noqa: ANN001
    lu_diag,  # noqa: ANN001
    max_iter,  # noqa: ANN001
    tol,  # noqa: ANN001
    piv_tol,  # noqa: ANN001
    lv_threshold,  # noqa: ANN001
    g_bus,  # noqa: ANN001
    own_b,  # noqa: ANN001
    count_b,  # noqa: ANN001
    lo_b,  # noqa: ANN001
    hi_b,  # noqa: ANN001
    q_min_a,  # noqa: ANN001
    q_max_a,  # noqa: ANN001
    single_or_flat,  # noqa: ANN001
    warm_bus,  # noqa: ANN001
    warm_vset,  # noqa: ANN001
    warm_at_max,  # noqa: ANN001
    margin,  # noqa: ANN001
    sbus,  # noqa: ANN001
    s_inj,  # noqa: ANN001
    lu,  # noqa: ANN001
    lu_state,  # noqa: ANN001
    chord,  # noqa: ANN001
):
    """The lane's step (1 done; 0 the general path must solve it; iterations)."""
    n = len(v)
    # Sbus = s_other + s_fixed - (loads summed per bus, as numpy.bincount) / base
    acc_p = np.zeros(n)
    acc_q = np.zeros(n)
    for a in range(len(live_idx)):
        acc_p[live_rows[a]] += load_p[live_idx[a]]
        acc_q[live_rows[a]] += load_q[live_idx[a]]
    for i in range(n):
        so = s_other[i] + s_fixed[i]
        # complex / real in numpy is Smith's division: each part times 1 / base
        sbus[i] = complex(so.real - acc_p[i] * inv_base, so.imag - acc_q[i] * inv_base)
    ok, iters = _newton(
        indptr,
        indices,
        ydata,
        v,
        sbus,
        pvpq,
        pq,
        j_slot,
        j_indptr,
        j_indices,
        perm_r,
        perm_c,
        lu_indptr,
        lu_rows,
        lu_diag,
        max_iter,
        tol,
        piv_tol,
        lu,
        lu_state,
        chord,
    )
    if ok != 1:
        return 0, iters
    if lv_threshold > 0.0:
        for a in range(len(live_rows)):
            if abs(v[live_rows[a]]) < lv_threshold:
                return 0, iters
    ibus = np.empty(n, dtype=np.complex128)
    _injections(indptr, indices, ydata, v, ibus)
    for i in range(n):
        s_inj[i] = v[i] * np.conj(ibus[i])
    for g in range(len(g_bus)):
        b = g_bus[g]
        total = s_inj[b].imag - (sbus[b].imag - own_b[g])
        if single_or_flat[g]:
            q = total / count_b[g]
        else:
            share = (total - lo_b[g]) / (hi_b[g] - lo_b[g] + EPS)
            q = q_min_a[g] + share * (q_max_a[g] - q_min_a[g])
        if q > q_max_a[g] or q < q_min_a[g]:
            return 0, iters
    for w in range(len(warm_bus)):
        vm = abs(v[warm_bus[w]])
        if warm_at_max[w]:
            if vm > warm_vset[w] - margin:
                return 0, iters
        elif vm < warm_vset[w] + margin:
            return 0, iters
    return 1, iters
