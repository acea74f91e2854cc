"""The fast power flow's solve with generator reactive limits (pure, no helics).

PV-to-PQ switching as ``pandapower.runpp(enforce_q_lims=True)`` does
(:mod:`federates.grid.qlimits`), warm-started from the generators the last
solve held at a limit while that set stays consistent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from federates.grid.pf_predict import warm_start
from federates.grid.pf_support import Solution
from federates.grid.qlimits import QLimitSwitch, q_violations

#: a warm-started generator whose bus voltage is within this of its set point [pu] is at the
#: boundary, where runpp (from every generator PV) may find it just inside its limit: the
#: warm start is then not kept
WARM_MARGIN_PU = 1e-9


def solve_q_limited(pf: Any, clamps: dict[int, float], *, warm: bool) -> Solution | None:
    """Newton-Raphson of :class:`~federates.grid.powerflow.PowerFlow` ``pf`` with PV-to-PQ
    switching at reactive limits.

    ``warm``: start from the generators the last solve held at a limit (a
    time series rarely changes that set). The warm start is kept only when
    it is consistent: every held generator's bus voltage is on the side of
    its set point that calls for the held limit (below it at the upper
    limit, above it at the lower one); otherwise None is returned and the
    caller solves from all generators PV, as ``runpp(enforce_q_lims=True)``.

    Parameters
    ----------
    pf : PowerFlow
        The solver (its cached model, set points and last solution; updated in place).
    clamps : dict of int to float
        Bus (pandapower index) -> voltage [pu] held during a sag.
    warm : bool
        Start from the last solve's generators at a limit.

    Returns
    -------
    Solution or None
        The solution (``converged`` False when Newton-Raphson failed), or None when a
        warm start turned out inconsistent.
    """
    ref, pv, pq = pf._ref, pf._pv, pf._pq
    vset = pf._vset.copy() if clamps else pf._vset
    if clamps:
        pos = {b: i for i, b in enumerate(pf.net.bus.index)}
        cb = []
        for b, vm in clamps.items():
            i = pf._pp2i[pos[b]]
            if i >= 0:
                cb.append(i)
                vset[i] = vm
        cbus = np.asarray(cb, dtype=np.int64)
        pq = pq[~np.isin(pq, cbus)]
        pv = np.union1d(pv, cbus[~np.isin(cbus, ref)]).astype(np.int64)
    v0 = warm_start(pf)  # set points already at PV / ref buses
    if clamps:
        fixed = np.concatenate([ref, pv])
        v0[fixed] = vset[fixed] * np.exp(1j * np.angle(v0[fixed]))
    scale = np.ones(len(pf.load_p_mw))
    if clamps and pf.lv_threshold_pu > 0:
        # a deep sag: start the fixed point from every load already reduced as at the held
        # voltage
        # (constant power at 0.3 pu behind a transformer has no solution)
        scale[:] = min(1.0, (min(clamps.values()) / pf.lv_threshold_pu) ** 2)
    s_load = pf.load_p_mw + 1j * pf.load_q_mvar
    if pf._s_other is None:
        pf._s_other = (
            pf._sbus_static
            + (pf._cs @ (pf.sgen_p_mw + 1j * pf.sgen_q_mvar) + pf._cg @ pf.gen_p_mw) / pf._base
        )
    s_other = pf._s_other
    # per-model memo (no held voltages): what depends only on the PV set and on which
    # generators a warm start holds at which limit; rebuilt when the model's PV array changes
    memo = None if clamps else qlimit_memo(pf, pv)
    # generators free to switch to PQ at a reactive limit: PV ones, not at a held (sag) bus
    if memo is not None:
        eligible, in_pv = memo["eligible"], memo["in_pv"]
    else:
        in_pv = np.isin(pf._gen_bus, pv)
        eligible = pf._gen_on & ~pf._gen_is_ref & in_pv
        if clamps:
            eligible &= ~np.isin(pf._gen_bus, cbus)
    limited = np.zeros(len(pf._gen_bus), dtype=bool)
    q_fix = np.zeros(len(pf._gen_bus))
    s_fixed = np.zeros(pf._n, dtype=complex)  # Sbus change of generators held at a limit
    warm_set = np.zeros(len(pf._gen_bus), dtype=bool)
    idx32 = (pf._ref32, pf._pv32, pf._pq32) if pv is pf._pv and pq is pf._pq else None
    if warm and pf.enforce_q_lims:
        prev_limited, prev_fix = pf._q_prev
        warm_set = prev_limited & eligible
        if warm_set.any():
            limited |= warm_set
            q_fix[warm_set] = prev_fix[warm_set]
            key = (warm_set.tobytes(), q_fix[warm_set].tobytes())
            hit = memo["warm"].get(key) if memo is not None else None
            if hit is None:
                np.add.at(
                    s_fixed,
                    pf._gen_bus[warm_set],
                    1j * (q_fix[warm_set] - pf._gen_q0[warm_set]),
                )
                buses = np.unique(pf._gen_bus[warm_set])
                pv = pv[~np.isin(pv, buses)]
                pq = np.union1d(pq, buses).astype(np.int64)
                in_pv = np.isin(pf._gen_bus, pv)
                idx32 = (pf._ref32, pv.astype(np.int32), pq.astype(np.int32))
                hit = (s_fixed, pv, pq, in_pv, idx32)
                if memo is not None:
                    if len(memo["warm"]) > 64:
                        memo["warm"].clear()
                    memo["warm"][key] = hit
            s_fixed, pv, pq, in_pv, idx32 = hit
    iters = 0
    for _ in range(len(pf._gen_bus) + 1):
        converged, v, sbus, it, scale = pf._nr_with_load_scaling(
            v0, s_other + s_fixed, s_load, scale, ref, pv, pq, idx32
        )
        iters += it
        if not converged or not pf.enforce_q_lims or not eligible.any():
            break
        active = eligible & ~limited & in_pv
        q = pf._gen_q(v, sbus, active)
        over, under = q_violations(q, pf._gen_qmin, pf._gen_qmax, active)
        new = over | under
        if not new.any():
            break
        q_fix[over], q_fix[under] = pf._gen_qmax[over], pf._gen_qmin[under]
        limited |= new
        s_fixed = s_fixed.copy()  # a memoised warm start stays as it was
        np.add.at(s_fixed, pf._gen_bus[new], 1j * (q_fix[new] - pf._gen_q0[new]))
        buses = np.unique(pf._gen_bus[new])
        pv = pv[~np.isin(pv, buses)]
        pq = np.union1d(pq, buses).astype(np.int64)
        in_pv = np.isin(pf._gen_bus, pv)
        idx32 = None
        v0 = v
    if not converged:
        return None if warm_set.any() else pf._failed(iters)
    if warm_set.any():
        vm_gen = np.abs(v[pf._gen_bus[warm_set]])
        vset_gen = pf._vset[pf._gen_bus[warm_set]]
        at_max = q_fix[warm_set] == pf._gen_qmax[warm_set]
        margin = WARM_MARGIN_PU  # clearly on its side, not at the boundary
        if np.any(np.where(at_max, vm_gen > vset_gen - margin, vm_gen < vset_gen + margin)):
            return None
    if not clamps and pf.enforce_q_lims:
        pf._q_prev = (limited.copy(), q_fix.copy())
    pf._sbus_used = sbus
    switches = q_limit_switches(pf, memo, limited, q_fix)
    return pf._results(v, iters, switches)


def q_limit_switches(
    pf: Any, memo: dict[str, Any] | None, limited: np.ndarray, q_fix: np.ndarray
) -> tuple[QLimitSwitch, ...]:
    """The generators ``limited`` held at ``q_fix`` [pu] as switches (memoised per model).

    Parameters
    ----------
    pf : PowerFlow
        The solver (its generators).
    memo : dict or None
        The model's memo (:func:`qlimit_memo`); None: not memoised.
    limited : numpy.ndarray
        Generators held at a reactive limit (bool).
    q_fix : numpy.ndarray
        Their reactive output [pu].

    Returns
    -------
    tuple of QLimitSwitch
        One per held generator of the pandapower ``gen`` table.
    """
    key = (limited.tobytes(), q_fix[limited].tobytes())
    switches = memo["switches"].get(key) if memo is not None else None
    if switches is None:
        switches = tuple(
            QLimitSwitch(
                int(pf._gen_pp[g]),
                "max" if q_fix[g] == pf._gen_qmax[g] else "min",
                float(q_fix[g] * pf._base),
            )
            for g in np.flatnonzero(limited)
            if pf._gen_pp[g] >= 0
        )
        if memo is not None:
            if len(memo["switches"]) > 64:
                memo["switches"].clear()
            memo["switches"][key] = switches
    return switches


def qlimit_memo(pf: Any, pv: np.ndarray) -> dict[str, Any]:
    """The solver's memo for its current model: valid while its PV array is ``pv`` itself.

    Parameters
    ----------
    pf : PowerFlow
        The solver (the memo lives on it).
    pv : numpy.ndarray
        The model's PV bus array (its identity keys the memo).

    Returns
    -------
    dict
        ``in_pv`` and ``eligible`` generator masks, and the per-model caches: warm starts
        (``warm``), switch tuples (``switches``), compiled-lane sets (``lanes``).
    """
    memo = getattr(pf, "_qlim_memo", None)
    if memo is None or memo["pv"] is not pv:
        in_pv = np.isin(pf._gen_bus, pv)
        memo = {
            "pv": pv,
            "in_pv": in_pv,
            "eligible": pf._gen_on & ~pf._gen_is_ref & in_pv,
            "warm": {},
            "switches": {},
        }
        pf._qlim_memo = memo
    return memo
