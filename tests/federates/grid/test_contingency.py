"""N-1 on the fast power flow against ``pandapower.runpp`` on the same outages.

Reference: pandapower's own Newton-Raphson with ``enforce_q_lims=True`` on a copy of
the network with the element out of service (what the screening did before, and
what a utility engineer would run by hand).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower as pp
import pytest

from federates.grid.contingency import OutageSolver, n1_solves
from federates.grid.network import load_network
from federates.grid.powerflow import PowerFlow


@pytest.fixture(scope="module")
def ieee118() -> pp.pandapowerNet:
    """The default case's network: PGLib-OPF IEEE 118 with its OPF dispatch."""
    return load_network("pglib_case118")


def _runpp(net: pp.pandapowerNet) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pp.runpp(net, numba=False, enforce_q_lims=True)
        except pp.LoadflowNotConverged:
            return False
    return True


def test_every_outage_of_ieee118_agrees_with_runpp(ieee118: pp.pandapowerNet) -> None:
    site_bus, p_mw, q_mvar = 80, 300.0, 60.0  # 300 MW at the default POI (IEEE bus 81)
    solves = list(n1_solves(ieee118, site_bus, [("peak", p_mw, q_mvar)]))
    assert solves[0].outage == "none" and len(solves) == 1 + int(
        ieee118.line.in_service.sum() + ieee118.trafo.in_service.sum()
    )
    ref = copy.deepcopy(ieee118)
    pp.create_load(ref, bus=site_bus, p_mw=p_mw, q_mvar=q_mvar)
    methods = {"fast": 0, "rebuilt": 0}
    worst_v, worst_l, cut_off = 0.0, 0.0, 0
    for s in solves[1:]:
        table, idx = s.outage.split(".")
        ref[table].at[int(idx), "in_service"] = False
        ok = _runpp(ref)
        ref[table].at[int(idx), "in_service"] = True
        assert ok == s.solution.converged, s.outage
        methods[s.method] += 1
        if not ok:
            continue
        vm = ref.res_bus.vm_pu.to_numpy()
        cut_off += int(np.isnan(vm).any())
        both = np.isfinite(vm) & np.isfinite(s.solution.vm_pu)
        assert np.array_equal(np.isfinite(vm), np.isfinite(s.solution.vm_pu)), s.outage
        worst_v = max(worst_v, float(np.max(np.abs(vm[both] - s.solution.vm_pu[both]))))
        for kind, mine in (
            ("line", s.solution.line_loading_percent),
            ("trafo", s.solution.trafo_loading_percent),
        ):
            theirs = ref[f"res_{kind}"].loading_percent.to_numpy()
            live = ref[kind].in_service.to_numpy(bool) & np.isfinite(theirs)
            if kind == table:  # the outaged branch carries nothing
                live[ref[kind].index.get_loc(int(idx))] = False
            worst_l = max(worst_l, float(np.max(np.abs(theirs[live] - mine[live]))))
    print(
        f"IEEE 118 N-1: {methods}, {cut_off} cut buses off, max |dV| {worst_v:.2e} pu, "
        f"max |d loading| {worst_l:.2e} %"
    )
    assert worst_v < 1e-6
    assert worst_l < 1e-4
    assert methods["fast"] > 0.8 * len(solves)  # the rank-2 update does the work
    assert cut_off > 0  # radial outages (generator step-up transformers) de-energise buses


def test_rebuilt_model_agrees_with_the_rank2_update(ieee118: pp.pandapowerNet) -> None:
    """The fallback (element out of service, model rebuilt by pandapower) gives the same."""
    solver = OutageSolver(PowerFlow(copy.deepcopy(ieee118), lv_threshold_pu=0.0))
    for table in ("line", "trafo"):
        for idx in solver.pf.net[table].index[:6]:
            fast, how = solver.solve(table, int(idx))
            slow = solver._solve_rebuilt(table, int(idx))
            assert how == "fast" and slow.converged
            assert np.array_equal(np.isnan(fast.vm_pu), np.isnan(slow.vm_pu))
            ok = np.isfinite(fast.vm_pu)
            assert np.max(np.abs(fast.vm_pu[ok] - slow.vm_pu[ok])) < 1e-8
            assert np.allclose(fast.line_loading_percent, slow.line_loading_percent, atol=1e-6)
    assert solver.rebuilt == 12


def test_q_limits_hold_in_an_outage(ieee118: pp.pandapowerNet) -> None:
    """Every generator of every fast outage solve stays within its reactive limits."""
    work = copy.deepcopy(ieee118)
    pf = PowerFlow(work, lv_threshold_pu=0.0)
    solver = OutageSolver(pf)
    switched = 0
    for idx in work.line.index[:40]:
        sol, how = solver.solve("line", int(idx))
        if how != "fast":
            continue
        switched += len(sol.q_limited)
        for sw in sol.q_limited:
            row = work.gen.loc[sw.gen]
            limit = row.max_q_mvar if sw.side == "max" else row.min_q_mvar
            assert sw.q_mvar == pytest.approx(limit)
    assert switched > 0  # some outage does push a generator to a limit
