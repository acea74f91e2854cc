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
rescue) carry their own results. A one-step block (every-step exchange) is not
deferred: the step computes its own loadings, as :meth:`GridModel.step` does
(the deferral's bookkeeping cost about 20 us a step, 9 %, and saved nothing).

The per-step path (:meth:`GridModel.step`) uses the same formulas (one column),
so the two agree to round-off (``tests/federates/test_block_stepping.py``); the compiled
loadings agree with their numpy reference to round-off
(``tests/federates/grid/test_branch_loadings.py``).
"""

from __future__ import annotations

from typing import Any

import numba
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
    ``max(|S_from|, |S_to|) / sn_mva``. Computed in one compiled call
    (:func:`_loadings`; :func:`branch_loadings_numpy` is the same in numpy, its reference).
    """
    pos = _positions(pf)
    k = v.shape[1]
    yft = pf._yft
    line = np.zeros((k, len(pf._line_live)))
    trafo = np.zeros((k, len(pf._tr_live)))
    t3 = np.zeros((k, pf._t3_rows.shape[1]))
    imp = np.zeros((k, len(pf._imp_rows)))
    _loadings(
        yft.indptr.astype(np.int64, copy=False),
        yft.indices.astype(np.int64, copy=False),
        yft.data.astype(np.complex128, copy=False),
        np.ascontiguousarray(v, dtype=np.complex128),
        pf._k_f,
        pf._k_t,
        pos[0],
        pf._line_idx,
        pf._line_scale,
        pos[1],
        pf._tr_idx,
        pf._tr_scale_hv,
        pf._tr_scale_lv,
        pos[2],
        pf._t3_rows,
        pf._t3_scale,
        pos[3],
        pf._imp_rows,
        pf._fbus,
        pf._tbus,
        float(pf._base),
        pf._imp_sn,
        line,
        trafo,
        t3,
        imp,
    )
    return line, trafo, t3, imp


def _positions(pf: PowerFlow) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Output columns of the live lines, transformers, three-winding transformers and
    impedances (kept while the model's arrays are the same objects)."""
    key = (pf._line_live, pf._tr_live, pf._t3_rows, pf._imp_rows)
    kept = getattr(pf, "_branch_positions", None)
    if kept is not None and all(a is b for a, b in zip(kept[0], key, strict=True)):
        return kept[1]
    pos = (
        np.flatnonzero(pf._line_live).astype(np.int64),
        np.flatnonzero(pf._tr_live).astype(np.int64),
        np.flatnonzero((pf._t3_rows >= 0).all(axis=0)).astype(np.int64),
        np.flatnonzero(pf._imp_rows >= 0).astype(np.int64),
    )
    pf._branch_positions = (key, pos)
    return pos


@numba.njit(cache=True)
def _max2(a, b):  # noqa: ANN001, ANN202
    """``numpy.maximum`` of two floats (NaN if either is NaN)."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@numba.njit(cache=True, error_model="numpy")  # a zero rating divides as numpy does: inf
def _loadings(  # noqa: ANN201, PLR0913
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    data,  # noqa: ANN001
    v,  # noqa: ANN001
    k_f,  # noqa: ANN001
    k_t,  # noqa: ANN001
    line_pos,  # noqa: ANN001
    line_idx,  # noqa: ANN001
    line_scale,  # noqa: ANN001
    tr_pos,  # noqa: ANN001
    tr_idx,  # noqa: ANN001
    tr_hv,  # noqa: ANN001
    tr_lv,  # noqa: ANN001
    t3_pos,  # noqa: ANN001
    t3_rows,  # noqa: ANN001
    t3_scale,  # noqa: ANN001
    imp_pos,  # noqa: ANN001
    imp_rows,  # noqa: ANN001
    fbus,  # noqa: ANN001
    tbus,  # noqa: ANN001
    base,  # noqa: ANN001
    imp_sn,  # noqa: ANN001
    line,  # noqa: ANN001
    trafo,  # noqa: ANN001
    t3,  # noqa: ANN001
    imp,  # noqa: ANN001
):
    """:func:`branch_loadings_numpy`'s arithmetic, column by column, into the outputs."""
    nbr = len(k_f)
    k = v.shape[1]
    i_ft = np.empty(2 * nbr)
    for c in range(k):
        for r in range(2 * nbr):  # |Y_ft V|, CSR rows in order (as scipy's matvec)
            acc = 0j
            for e in range(indptr[r], indptr[r + 1]):
                acc += data[e] * v[indices[e], c]
            i_ft[r] = abs(acc)
        for j in range(len(line_pos)):
            b = line_idx[j]
            line[c, line_pos[j]] = _max2(i_ft[b] * k_f[b], i_ft[nbr + b] * k_t[b]) * line_scale[j]
        for j in range(len(tr_pos)):
            b = tr_idx[j]
            trafo[c, tr_pos[j]] = max(
                i_ft[b] * k_f[b] * tr_hv[j], i_ft[nbr + b] * k_t[b] * tr_lv[j]
            )
        for w in t3_pos:
            r0, r1, r2 = t3_rows[0, w], t3_rows[1, w], t3_rows[2, w]
            a = i_ft[r0] * k_f[r0] * t3_scale[0, w]
            b1 = i_ft[nbr + r1] * k_t[r1] * t3_scale[1, w]
            b2 = i_ft[nbr + r2] * k_t[r2] * t3_scale[2, w]
            t3[c, w] = _max2(_max2(a, b1), b2)
        for w in imp_pos:
            rr = imp_rows[w]
            s_f = abs(v[fbus[rr], c]) * i_ft[rr]
            s_t = abs(v[tbus[rr], c]) * i_ft[nbr + rr]
            imp[c, w] = _max2(s_f, s_t) * base / imp_sn[w] * 100.0


def branch_loadings_numpy(
    pf: PowerFlow, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`branch_loadings` in numpy (the reference its compiled version is tested against).

    Parameters
    ----------
    pf : PowerFlow
        The solver (branch admittances and ratings).
    v : numpy.ndarray
        Complex internal bus voltages [pu], shape ``(n_bus, k)``.

    Returns
    -------
    ``(line, trafo, trafo3w, impedance)`` loadings [%], as :func:`branch_loadings`.
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
    # the loadings of a held ("hold") step are the last good solution's: not deferred; nor
    # is a one-step block (nothing to batch)
    defer = (
        n > 1
        and pf.engine == "fast"
        and model._rec_branches
        and model.options.on_nonconvergence != "hold"
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
