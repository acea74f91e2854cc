"""A sync block of grid steps in one call: batched branch results on a fixed topology (pure).

:func:`step_block` solves the steps of a block one after another with the fast
power flow (lightsim2grid's KLU Newton-Raphson, each step warm-started from the
previous one, generator Q limits enforced as in :meth:`GridModel.step`) and
defers the branch results (line, transformer, three-winding and impedance
loadings) of every step solved on the same network model to one sparse product
``|Y_ft V|`` over the whole block (:func:`branch_loadings`). Where the network
changes inside a block (an event, a tap or a shunt move, a rebuilt model) the
pending steps are completed first, so every step's loadings come from its own
network. Steps solved by ``pandapower.runpp`` (the fallback engine, or a
rescue) carry their own results.

The per-step path (:meth:`GridModel.step`) uses the same formulas (one column),
so the two agree to round-off (``tests/federates/grid/test_batch.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from federates.grid.events import state_at

# ``pf`` is a federates.grid.powerflow.PowerFlow and ``model`` a federates.grid.model.GridModel
# (not imported, not even for typing: powerflow imports this module)
PowerFlow = Any
GridModel = Any


def branch_loadings(
    pf: PowerFlow, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Branch loadings of internal bus voltages ``v`` (``(n_bus, k)`` complex, pu), one column
    per solution.

    Parameters
    ----------
    pf : PowerFlow
        The solver (branch admittances and ratings).
    v : numpy.ndarray
        Complex internal bus voltages [pu], shape ``(n_bus, k)``.

    Returns
    -------
    ``(line, trafo, trafo3w, impedance)`` loadings [%], each of shape ``(k, n_element)`` in
    ``net.<table>`` row order (0 where an element is out of service), as pandapower computes
    them: line ``max(I_from, I_to) / (max_i_ka df parallel)``, transformer the larger side
    current over its rating, three-winding transformer the largest winding, impedance
    ``max(|S_from|, |S_to|) / sn_mva``.
    """
    k = v.shape[1]
    i_ft = np.abs(np.asarray(pf._yft @ v))
    nbr = len(pf._k_f)
    i_f, i_t = i_ft[:nbr] * pf._k_f[:, None], i_ft[nbr:] * pf._k_t[:, None]
    line = np.zeros((k, len(pf._line_live)))
    li = pf._line_idx
    line[:, pf._line_live] = (np.maximum(i_f[li], i_t[li]) * pf._line_scale[:, None]).T
    trafo = np.zeros((k, len(pf._tr_live)))
    ti = pf._tr_idx
    trafo[:, pf._tr_live] = np.maximum(
        i_f[ti] * pf._tr_scale_hv[:, None], i_t[ti] * pf._tr_scale_lv[:, None]
    ).T
    t3 = np.zeros((k, pf._t3_rows.shape[1]))
    if t3.shape[1]:
        r, live = pf._t3_rows, (pf._t3_rows >= 0).all(axis=0)
        i_w = np.stack([i_f[r[0, live]], i_t[r[1, live]], i_t[r[2, live]]])
        t3[:, live] = (i_w * pf._t3_scale[:, live, None]).max(axis=0).T
    imp = np.zeros((k, len(pf._imp_rows)))
    if imp.shape[1]:
        live = pf._imp_rows >= 0
        rr = pf._imp_rows[live]
        s_f = np.abs(v[pf._fbus[rr]]) * i_ft[rr]
        s_t = np.abs(v[pf._tbus[rr]]) * i_ft[nbr + rr]
        imp[:, live] = (np.maximum(s_f, s_t) * pf._base / pf._imp_sn[live, None] * 100.0).T
    return line, trafo, t3, imp


class BlockStepError(Exception):
    """Step ``k`` of a block raised ``cause``; the rows and voltages of steps ``0..k-1``."""

    def __init__(
        self,
        k: int,
        values: np.ndarray,
        poi_vm_pu: np.ndarray,
        site_vm_pu: np.ndarray,
        cause: BaseException,
    ) -> None:
        super().__init__(str(cause))
        self.k, self.values, self.cause = k, values, cause
        self.poi_vm_pu, self.site_vm_pu = poi_vm_pu, site_vm_pu


def step_block(
    model: GridModel,
    t_s: np.ndarray,
    t_next_s: np.ndarray,
    factory_p_mw: np.ndarray | None,
    factory_q_mvar: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve a block of steps of ``model`` (see the module docstring).

    Parameters
    ----------
    model : the network through time (advanced in place, as by ``len(t_s)`` calls of
        :meth:`GridModel.step`)
    t_s, t_next_s : step instants and their interval ends [s], shape ``(n,)``
    factory_p_mw, factory_q_mvar : the factory's load per step [MW, Mvar] (None: no factory)

    Returns
    -------
    ``(values, poi_vm_pu, site_vm_pu)``: recorded rows ``(n, len(model.columns))`` and the
    voltages to publish per step [pu].
    """
    n = len(t_s)
    pf = model.pf
    values = np.empty((n, len(model.columns)))
    poi, site = np.empty(n), np.empty(n)
    # the loadings of a held ("hold") step are the last good solution's: not deferred
    defer = (
        pf.engine == "fast" and model._rec_branches and model.options.on_nonconvergence != "hold"
    )
    pending: list[tuple[int, np.ndarray]] = []  # (row, internal V) solved on the current model

    def flush() -> None:
        if not pending:
            return
        rows = [k for k, _ in pending]
        parts = branch_loadings(pf, np.stack([v for _, v in pending], axis=1))
        loadings = np.concatenate(parts, axis=1)[:, model._branch_keep]
        values[np.ix_(rows, model._branch_cols)] = loadings
        pending.clear()

    pf.defer_branches = defer
    try:
        for k in range(n):
            t = float(t_s[k])
            if model.events:  # an outage starting or ending here rebuilds the model first
                st = state_at(model.events, t, model.poi_bus if model.poi_bus is not None else -1)
                if st.structure != model._applied.structure:
                    flush()
            rescues = pf.pandapower_rescues
            fpq = None if factory_p_mw is None else (factory_p_mw[k], factory_q_mvar[k])
            try:
                r = model.step(t, float(t_next_s[k]), factory_pq=fpq)
            except Exception as exc:
                flush()
                raise BlockStepError(k, values[:k], poi[:k], site[:k], exc) from exc
            values[k] = r.values
            poi[k], site[k] = r.poi_vm_pu, r.site_vm_pu
            if defer and r.converged and pf.pandapower_rescues == rescues:
                pending.append((k, pf._v_last.copy()))
            if pf._dirty:  # a tap or a bank moved: the next step solves another network
                flush()
    finally:
        flush()
        pf.defer_branches = False
    return values, poi, site
