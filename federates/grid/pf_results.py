"""Results of a fast power-flow solve, as ``pandapower.results`` computes them (pure, no helics)."""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
import pandapower as pp

from federates.grid.batch import branch_loadings
from federates.grid.pf_support import Solution
from federates.grid.qlimits import QLimitSwitch


def failed_solution(net: pp.pandapowerNet, iters: int) -> Solution:
    """A not-converged solution: every result NaN.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network (sets the result array sizes).
    iters : int
        Newton-Raphson iterations spent.

    Returns
    -------
    Solution
        ``converged = False`` and NaN results.
    """
    nb, nl, nt = len(net.bus), len(net.line), len(net.trafo)
    nan = np.full
    return Solution(
        False,
        nan(nb, np.nan),
        nan(nb, np.nan),
        nan(nl, np.nan),
        nan(nt, np.nan),
        math.nan,
        math.nan,
        math.nan,
        iters,
        nan(len(net.trafo3w), np.nan),
        nan(len(net.impedance), np.nan),
    )


def solution_of(
    pf: Any, v: np.ndarray, iters: int, q_limited: tuple[QLimitSwitch, ...] = ()
) -> Solution:
    """The converged solution ``v`` of :class:`~federates.grid.powerflow.PowerFlow` ``pf`` as
    pandapower's results: bus voltages, branch loadings, losses, slack injection.

    Parameters
    ----------
    pf : PowerFlow
        The solver that produced ``v``.
    v : numpy.ndarray
        Complex bus voltages of the internal buses [pu].
    iters : int
        Newton-Raphson iterations.
    q_limited : tuple of QLimitSwitch, default ()
        Generators held at a reactive limit in this solve.

    Returns
    -------
    Solution
        Voltages [pu, degree], loadings [%], losses [MW] and slack injection [MW, Mvar].
    """
    if pf.defer_branches:  # a sync block completes them in one product (batch.py)
        line, trafo, t3, imp = pf._nan_branches
    else:
        line, trafo, t3, imp = (x[0] for x in branch_loadings(pf, v[:, None]))
    s_inj = s_injected(pf, v)
    v_pp, va, p_loss, slack_p, slack_q = _bus_results(
        v, pf._pp_ok, pf._pp_rows, s_inj, pf._ref, pf._sbus_used, pf._ref_gen_s, pf._base
    )
    vm = np.abs(v_pp)  # numpy's, bit for bit (numba's complex abs differs in the last bit)
    pf._v_pp = v_pp
    pf._v_last, pf._v_last_pp = v, v_pp
    return Solution(True, vm, va, line, trafo, p_loss, slack_p, slack_q, iters, t3, imp, q_limited)


@numba.njit(cache=True)
def _bus_results(  # noqa: ANN202, PLR0913
    v: np.ndarray,
    pp_ok: np.ndarray,
    pp_rows: np.ndarray,
    s_inj: np.ndarray,
    ref: np.ndarray,
    sbus_used: np.ndarray,
    ref_gen_s: np.ndarray,
    base: float,
):
    """The bus results of :func:`solution_of` in one compiled pass (a step's fixed cost).

    ``v_pp``: ``v`` per pandapower bus (NaN where not energized), its angle [degree]; the
    losses ``sum(Re s_inj)`` [MW]; the slack injection ``s_inj - sbus`` at the ref buses
    plus the ref generators' own set points [MW, Mvar]. The magnitudes are numpy's
    (:func:`solution_of`).
    """
    n = len(pp_ok)
    v_pp = np.empty(n, dtype=np.complex128)
    va = np.empty(n)
    j = 0
    for i in range(n):
        if pp_ok[i]:
            z = v[pp_rows[j]]
            j += 1
            v_pp[i] = z
            va[i] = math.degrees(math.atan2(z.imag, z.real))
        else:
            v_pp[i] = complex(math.nan, 0.0)
            va[i] = math.nan
    p_loss = 0.0
    for k in range(len(s_inj)):
        p_loss += s_inj[k].real
    s = 0j
    for k in ref:
        s += s_inj[k] - sbus_used[k]
    for k in range(len(ref_gen_s)):  # the ref gens' own set points are part of sbus
        s += ref_gen_s[k]
    return v_pp, va, p_loss * base, s.real * base, s.imag * base


def s_injected(pf: Any, v: np.ndarray) -> np.ndarray:
    """Complex power injected at every bus, ``V conj(Ybus V)`` [pu], of voltages ``v``.

    The last result is kept on ``pf``: a solve's reactive-limit check and its results
    ask for the same ``v`` object.

    Parameters
    ----------
    pf : PowerFlow
        The solver (its admittance matrix and compiled Newton-Raphson).
    v : numpy.ndarray
        Complex internal bus voltages [pu].

    Returns
    -------
    numpy.ndarray
        Complex injection per internal bus [pu].
    """
    if pf._s_inj is not None and pf._s_inj[0] is v and pf._s_inj[1] is pf._ybus:
        return pf._s_inj[2]
    static = pf._nr if pf._nr is not None and pf._nr.ybus is pf._ybus else None
    ibus = static.injections(v) if static is not None else pf._ybus @ v
    s = v * np.conj(ibus)
    pf._s_inj = (v, pf._ybus, s)
    return s
