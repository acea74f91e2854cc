"""Pieces of the fast power flow shared with its callers: the solution record, what the fast
path cannot model, pandapower's build options (pure, no helics)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import scipy.sparse as sp

from federates.grid.qlimits import QLimitSwitch

SQRT3 = math.sqrt(3.0)


class PowerFlowError(RuntimeError):
    """The fast path cannot model this network (the reason is the message)."""


@dataclass
class Solution:
    """Results of one solve, in pandapower element order (NaN where not energized).

    vm_pu, va_degree : per ``net.bus`` row
    line_loading_percent, trafo_loading_percent : per ``net.line`` / ``net.trafo`` row [%]
    p_loss_mw : total active losses (generation - load) [MW]
    slack_p_mw, slack_q_mvar : injection of the slack element(s) (sum) [MW, Mvar], positive = into
    the network
    iterations : Newton-Raphson iterations of the solve
    trafo3w_loading_percent : per ``net.trafo3w`` row, largest winding loading [%]
    impedance_loading_percent : per ``net.impedance`` row, ``max(|S_from|, |S_to|) / sn_mva`` [%]
    q_limited : generators held at a reactive limit in this solve (PV-to-PQ switches)
    """

    converged: bool
    vm_pu: np.ndarray
    va_degree: np.ndarray
    line_loading_percent: np.ndarray
    trafo_loading_percent: np.ndarray
    p_loss_mw: float
    slack_p_mw: float
    slack_q_mvar: float
    iterations: int = 0
    trafo3w_loading_percent: np.ndarray = field(default_factory=lambda: np.zeros(0))
    impedance_loading_percent: np.ndarray = field(default_factory=lambda: np.zeros(0))
    q_limited: tuple[QLimitSwitch, ...] = ()


def unsupported_reason(net: pp.pandapowerNet) -> str | None:
    """Why the fast path cannot solve ``net`` (None when it can).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network.

    Returns
    -------
    str or None
        Reason, or ``None`` when the fast path can solve ``net``.
    """
    load = net.load[net.load.in_service]
    for col in (
        "const_z_percent",
        "const_i_percent",
        "const_z_p_percent",
        "const_i_p_percent",
        "const_z_q_percent",
        "const_i_q_percent",
    ):
        if col in load and np.any(np.nan_to_num(load[col].to_numpy(float)) != 0.0):
            return f"voltage-dependent loads (net.load.{col} != 0)"
    for table in (
        "svc",
        "tcsc",
        "ssc",
        "vsc",
        "bus_dc",
        "line_dc",
        "motor",
        "asymmetric_load",
        "asymmetric_sgen",
    ):
        if (
            table in net
            and len(net[table])
            and ("in_service" not in net[table] or net[table].in_service.any())
        ):
            return f"element table net.{table} is not supported by the fast path"
    if "controller" in net and len(net.controller) and net.controller.in_service.any():
        return "pandapower controllers in net.controller are not run by the fast path"
    return None


def _pp_options(
    net: pp.pandapowerNet, tolerance_mva: float, max_iteration: int, enforce_q_lims: bool = True
) -> None:
    from pandapower.auxiliary import _init_runpp_options

    _init_runpp_options(
        net,
        algorithm="nr",
        calculate_voltage_angles=True,
        init="auto",
        max_iteration=max_iteration,
        tolerance_mva=tolerance_mva,
        trafo_model="t",
        trafo_loading="current",
        enforce_p_lims=False,
        numba=False,
        enforce_q_lims=enforce_q_lims,
        check_connectivity=True,
        voltage_depend_loads=False,
        passed_parameters=None,
    )


def _incidence(rows: np.ndarray, n_bus: int) -> sp.csr_matrix:
    """(n_bus x n_elements) matrix with a 1 at (bus, element) for rows >= 0."""
    n = len(rows)
    ok = rows >= 0
    return sp.csr_matrix((np.ones(int(ok.sum())), (rows[ok], np.arange(n)[ok])), shape=(n_bus, n))


def build_gen_arrays(
    pf: Any, net: pp.pandapowerNet, ppci: dict, gen: np.ndarray, ref_gens: np.ndarray
) -> None:
    """Set ``pf``'s generator arrays of the ppci (bus, status, Q spec and limits [pu]) for
    reactive limits, and each row's pandapower gen index (-1: ext_grid).

    Parameters
    ----------
    pf : PowerFlow
        The solver whose arrays are set.
    net : pandapower.pandapowerNet
        The network.
    ppci : dict
        pandapower's internal case.
    gen : numpy.ndarray
        ppci generator table (MW, Mvar columns; divided by the base MVA to [pu]).
    ref_gens : numpy.ndarray
        Rows of the reference (slack) generators.
    """
    from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, QG, QMAX, QMIN

    base = pf._base
    ng = gen.shape[0]
    pf._gen_bus = gen[:, GEN_BUS].real.astype(np.int64)
    pf._gen_on = gen[:, GEN_STATUS].real > 0
    pf._gen_q0 = gen[:, QG].real / base
    pf._gen_qmin = gen[:, QMIN].real / base
    pf._gen_qmax = gen[:, QMAX].real / base
    pf._gen_is_ref = np.zeros(ng, dtype=bool)
    pf._gen_is_ref[np.asarray(ref_gens, dtype=np.int64)] = True
    pf._gen_pp = np.full(ng, -1, dtype=np.int64)
    lookup = net._pd2ppc_lookups.get("gen")
    gen_is = np.asarray(ppci["internal"]["gen_is"], dtype=bool)
    if isinstance(lookup, np.ndarray) and len(lookup) and len(gen_is):
        ppc2i = np.cumsum(gen_is) - 1
        ppc2i[~gen_is] = -1
        for idx in net.gen.index:
            if idx < len(lookup) and 0 <= lookup[idx] < len(ppc2i) and ppc2i[lookup[idx]] >= 0:
                pf._gen_pp[ppc2i[lookup[idx]]] = int(idx)


def build_branch_maps(pf: Any, net: pp.pandapowerNet, lk: dict, ppc2i: np.ndarray) -> None:
    """Set ``pf``'s result maps of three-winding transformers and impedances (ppci rows,
    ratings).

    Parameters
    ----------
    pf : PowerFlow
        The solver whose maps are set.
    net : pandapower.pandapowerNet
        The network.
    lk : dict
        pandapower's branch lookups: element table to ``(start, end)`` ppc rows.
    ppc2i : numpy.ndarray
        ppc branch row to ppci row (-1: not in ppci).
    """
    t3 = net.trafo3w
    rows = ppc2i[lk["trafo3w"][0] : lk["trafo3w"][1]] if "trafo3w" in lk else np.zeros(0, int)
    n3 = len(t3) if len(rows) == 3 * len(t3) else 0
    pf._t3_rows = rows.reshape(3, n3) if n3 else np.zeros((3, 0), np.int64)
    pf._t3_scale = (
        np.vstack(
            [
                t3[f"vn_{w}_kv"].to_numpy(float) * SQRT3 / t3[f"sn_{w}_mva"].to_numpy(float)
                for w in ("hv", "mv", "lv")
            ]
        )
        * 100.0
        if n3
        else np.zeros((3, 0))
    )
    im = net.impedance
    pf._imp_rows = (
        ppc2i[lk["impedance"][0] : lk["impedance"][1]]
        if "impedance" in lk and len(im)
        else np.full(len(im), -1, dtype=np.int64)
    )
    pf._imp_sn = im.sn_mva.to_numpy(float) if len(im) else np.zeros(0)
