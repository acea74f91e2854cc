"""Branch loadings of a solved pandapower net, every branch kind (pure, no helics).

``loading_percent`` for lines, two- and three-winding transformers as
pandapower computes it (current-based), and for ``impedance`` elements, which
pandapower leaves without one: ``max(|S_from|, |S_to|) / sn_mva * 100``
(their ``sn_mva`` is the rating when the network comes from a MATPOWER file,
see :mod:`federates.grid.ratings`).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower as pp


def impedance_loading_percent(net: pp.pandapowerNet) -> np.ndarray:
    """Loading of each ``net.impedance`` row after a power flow [% of sn_mva] (NaN when off).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        A solved network.

    Returns
    -------
    numpy.ndarray
        Loading per ``net.impedance`` row [%].
    """
    im, res = net.impedance, net.res_impedance
    if not len(im):
        return np.zeros(0)
    s_f = np.hypot(res.p_from_mw.to_numpy(float), res.q_from_mvar.to_numpy(float))
    s_t = np.hypot(res.p_to_mw.to_numpy(float), res.q_to_mvar.to_numpy(float))
    return np.maximum(s_f, s_t) / im.sn_mva.to_numpy(float) * 100.0


def branch_loadings_percent(net: pp.pandapowerNet) -> dict[str, float]:
    """``{"line.3": 41.2, "trafo.0": ..., "trafo3w.1": ..., "impedance.0": ...}`` [%] of a solved
    net.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        A solved network.

    Returns
    -------
    dict of str to float
        Loading per branch name [%].
    """
    out: dict[str, float] = {}
    for kind in ("line", "trafo", "trafo3w"):
        res = net.get(f"res_{kind}")
        if res is not None and len(res) and "loading_percent" in res:
            out.update({f"{kind}.{i}": float(v) for i, v in res.loading_percent.items()})
    if len(net.impedance) and len(net.res_impedance):
        vals = impedance_loading_percent(net)
        out.update(
            {f"impedance.{i}": float(v) for i, v in zip(net.impedance.index, vals, strict=True)}
        )
    return out


def preconnection_loadings(net: pp.pandapowerNet) -> dict[str, float]:
    """Branch loadings [%] of ``net`` as it is (e.g. without the site): one ``pandapower.runpp``
    with generator reactive limits enforced, on a copy.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network (not modified).

    Returns
    -------
    dict of str to float
        Loading per branch name [%].
    """
    work = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(work, enforce_q_lims=True, numba=False)
    return branch_loadings_percent(work)
