"""N-1 contingency solves on the fast power flow (pure, no helics).

Each single outage of a line or a two-winding transformer is solved by
lightsim2grid's KLU Newton-Raphson on the intact network's admittance matrix
changed by the outaged branch's own terms (a rank-2 update of ``Y_bus``:
``Y_bus[f, :] -= Y_f[k, :]`` and ``Y_bus[t, :] -= Y_t[k, :]``), warm-started
from the intact solution, with generator reactive limits enforced exactly as
in every other power flow of the project (PV-to-PQ switching,
:func:`federates.grid.pf_qlimited.solve_q_limited`). No pandapower model is
rebuilt for such an outage.

lightsim2grid's own ``ContingencyAnalysis`` is not used: it does not enforce
generator reactive limits, which every verdict here requires (an N-1 voltage
that holds only because a generator exceeds its Q capability is no pass).

An outage that splits the network (a radial line, a generator step-up
transformer), or whose fast solve does not converge, is solved the slow way:
the element is taken out of service and the model rebuilt by pandapower's own
conversion (``_pd2ppc``: isolated buses de-energised, as ``runpp`` does), then
solved by the same Newton-Raphson and, failing that, by ``pandapower.runpp``.
Loads are constant power at every voltage here (no low-voltage conversion to
constant impedance), as in ``runpp``: the test against ``runpp`` on every
outage of IEEE 118 agrees to 1e-6 pu and 1e-4 % loading.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandapower as pp
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from federates.grid.pf_qlimited import solve_q_limited
from federates.grid.pf_results import solution_of
from federates.grid.pf_support import Solution
from federates.grid.powerflow import LOW_ROOT_PU, PowerFlow

#: element tables an N-1 outage may take out, with their ppci branch lookup in PowerFlow
OUTAGE_TABLES = {"line": "_line_br", "trafo": "_trafo_br"}


@dataclass(frozen=True)
class OutageSolve:
    """One solve of an N-1 screening.

    snapshot : the snapshot's name
    outage : ``"none"`` (intact) or ``"<table>.<index>"``
    solution : the power flow (``converged`` False when it failed)
    method : ``"fast"`` (rank-2 update of the intact model) or ``"rebuilt"``
    """

    snapshot: str
    outage: str
    solution: Solution
    method: str


def _state(pf: PowerFlow) -> tuple:
    return (pf._v_last, pf._v_pp, pf._v_last_pp, pf._v_pp_free, pf._q_prev, pf._s_other)


def _restore(pf: PowerFlow, state: tuple) -> None:
    (pf._v_last, pf._v_pp, pf._v_last_pp, pf._v_pp_free, pf._q_prev, pf._s_other) = state


class OutageSolver:
    """Single-branch outages of one network at one set of injections.

    Parameters
    ----------
    pf : PowerFlow
        The fast power flow of the network (loads already set); solved here once intact.
    """

    def __init__(self, pf: PowerFlow) -> None:
        self.pf = pf
        self.intact = pf.solve()
        self._intact_state = _state(pf)
        self._intact_model = dict(vars(pf))  # a rebuild replaces these attributes, never edits
        self.rebuilt = 0

    def _fast_ok(self) -> bool:
        return self.pf.engine == "fast" and not self.pf._dirty and self.intact.converged

    def _cut_off(self, k: int) -> np.ndarray | None:
        """Internal buses that lose every path to a slack when ppci branch ``k`` is out
        (empty when none); None when a slack itself is cut off (solved by a rebuild)."""
        pf = self.pf
        keep = np.ones(len(pf._fbus), dtype=bool)
        keep[k] = False
        n = pf._n
        graph = sp.coo_matrix(
            (np.ones(int(keep.sum())), (pf._fbus[keep], pf._tbus[keep])), shape=(n, n)
        )
        count, labels = connected_components(graph, directed=False)
        if count == 1:
            return np.zeros(0, dtype=np.int64)
        fed = np.unique(labels[pf._ref])
        if len(fed) != 1:
            return None
        return np.flatnonzero(labels != fed[0])

    def _solve_fast(self, k: int) -> Solution | None:
        """The outage of ppci branch ``k`` on the intact model; None when it needs a rebuild.

        Buses the outage cuts off from the slack are de-energised as ``runpp`` does: out of
        the Newton-Raphson, zero voltage for the branch results, NaN in the solution.
        """
        pf = self.pf
        cut_off = None if k < 0 else self._cut_off(k)
        if cut_off is None:
            return None
        nbr = len(pf._fbus)
        f, t = int(pf._fbus[k]), int(pf._tbus[k])
        model = {a: getattr(pf, a) for a in ("_ybus", "_yft", "_pv", "_pq", "_pv32", "_pq32")}
        y = pf._ybus.copy()
        yft = pf._yft
        for row, ft_row in ((f, k), (t, nbr + k)):  # Y_bus[row, :] -= Y_ft[ft_row, :]
            lo, hi = yft.indptr[ft_row], yft.indptr[ft_row + 1]
            for col, val in zip(yft.indices[lo:hi], yft.data[lo:hi], strict=True):
                a, b = y.indptr[col], y.indptr[col + 1]
                at = a + int(np.searchsorted(y.indices[a:b], row))
                y.data[at] -= val
        cut = yft.copy()
        for r in (k, nbr + k):
            cut.data[cut.indptr[r] : cut.indptr[r + 1]] = 0.0
        _restore(pf, self._intact_state)
        pf._ybus, pf._yft = y, cut
        if len(cut_off):
            pf._pv = pf._pv[~np.isin(pf._pv, cut_off)]
            pf._pq = pf._pq[~np.isin(pf._pq, cut_off)]
            pf._pv32, pf._pq32 = pf._pv.astype(np.int32), pf._pq.astype(np.int32)
        try:
            sol = solve_q_limited(pf, {}, warm=False)
            if sol is not None and not sol.converged:  # retry from a flat start
                pf._v_last = pf._v_pp = None
                sol = solve_q_limited(pf, {}, warm=False)
            if sol is not None and sol.converged and len(cut_off):
                v = pf._v_last.copy()
                v[cut_off] = 0.0
                sol = solution_of(pf, v, sol.iterations, sol.q_limited)
                dead = pf._pp_ok.copy()
                dead[pf._pp_ok] = np.isin(pf._pp_rows, cut_off)
                sol.vm_pu[dead] = np.nan
                sol.va_degree[dead] = np.nan
        finally:
            for name, value in model.items():
                setattr(pf, name, value)
            _restore(pf, self._intact_state)
        low = sol is not None and np.fmin.reduce(sol.vm_pu, initial=1.0) < LOW_ROOT_PU
        return sol if sol is not None and sol.converged and not low else None

    def _solve_rebuilt(self, table: str, idx: int) -> Solution:
        pf = self.pf
        df = pf.net[table]
        df.at[idx, "in_service"] = False
        pf.invalidate()
        try:
            _restore(pf, self._intact_state)
            sol = pf.solve()
        finally:
            df.at[idx, "in_service"] = True
            vars(pf).update(self._intact_model)  # the intact model again, without a rebuild
            _restore(pf, self._intact_state)
        self.rebuilt += 1
        return sol

    def solve(self, table: str, idx: int) -> tuple[Solution, str]:
        """The network with ``net.<table>`` row ``idx`` out of service.

        Parameters
        ----------
        table : str
            ``"line"`` or ``"trafo"``.
        idx : int
            Index of the element in ``net.<table>``.

        Returns
        -------
        tuple of (Solution, str)
            The solution and how it was solved (``"fast"`` or ``"rebuilt"``).
        """
        if self._fast_ok():
            pos = self.pf.net[table].index.get_loc(idx)
            sol = self._solve_fast(int(getattr(self.pf, OUTAGE_TABLES[table])[pos]))
            if sol is not None:
                return sol, "fast"
        return self._solve_rebuilt(table, idx), "rebuilt"


def n1_solves(
    net: pp.pandapowerNet,
    site_bus: int,
    snapshots: Sequence[tuple[str, float, float]],
    elements: Iterable[str] = ("line", "trafo"),
    max_outages: int | None = None,
) -> Iterator[OutageSolve]:
    """The intact network and every single outage, at each snapshot of the site's power.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network without the site (not modified: a copy is solved).
    site_bus : int
        Bus (pandapower index) the site is connected to as a load.
    snapshots : sequence of (str, float, float)
        ``(name, p_mw, q_mvar)`` of the site [MW, Mvar], load convention.
    elements : iterable of str, default ("line", "trafo")
        Element tables whose in-service rows are taken out one at a time.
    max_outages : int, optional
        Screen only the first ``max_outages`` outages (by table, then index).

    Yields
    ------
    OutageSolve
        Per snapshot: the intact case (``outage == "none"``), then each outage.
    """
    work = copy.deepcopy(net)
    site = pp.create_load(work, bus=site_bus, p_mw=0.0, q_mvar=0.0, name="cosim N-1 site")
    outages = [
        (table, int(i))
        for table in elements
        if table in OUTAGE_TABLES
        for i in work[table].index[work[table].in_service.to_numpy(bool)]
    ]
    if max_outages is not None:
        outages = outages[:max_outages]
    pf = PowerFlow(work, lv_threshold_pu=0.0)
    pos = work.load.index.get_loc(site)
    for name, p_mw, q_mvar in snapshots:
        pf.set_load(pos, p_mw, q_mvar)
        with contextlib.suppress(AttributeError):
            pf._q_prev = None  # a new snapshot starts from every generator PV
            pf._q_memory.reset()
        solver = OutageSolver(pf)
        yield OutageSolve(name, "none", solver.intact, "fast" if pf.engine == "fast" else "runpp")
        for table, idx in outages:
            sol, how = solver.solve(table, idx)
            yield OutageSolve(name, f"{table}.{idx}", sol, how)
