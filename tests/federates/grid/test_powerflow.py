"""The fast power-flow path against pandapower.runpp on every bundled network (STYLE: cross-check
engines)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower as pp
import pytest

from federates.grid.config import PoiTransformerConfig
from federates.grid.loading import impedance_loading_percent
from federates.grid.network import NETWORKS, attach_factory, load_network
from federates.grid.powerflow import PowerFlow

TOL_PU = 1e-6


def _runpp(net: pp.pandapowerNet, enforce_q_lims: bool = True) -> pp.pandapowerNet:
    ref = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(ref, enforce_q_lims=enforce_q_lims)
    return ref


def _agree(pf: PowerFlow, ref: pp.pandapowerNet) -> None:
    sol = pf.solve()
    assert sol.converged
    assert pf.engine == "fast"
    np.testing.assert_allclose(sol.vm_pu, ref.res_bus.vm_pu.to_numpy(), atol=TOL_PU)
    np.testing.assert_allclose(sol.va_degree, ref.res_bus.va_degree.to_numpy(), atol=1e-4)
    if len(ref.line):
        np.testing.assert_allclose(
            sol.line_loading_percent, ref.res_line.loading_percent.to_numpy(), atol=1e-4
        )
    if len(ref.trafo):
        np.testing.assert_allclose(
            sol.trafo_loading_percent, ref.res_trafo.loading_percent.to_numpy(), atol=1e-4
        )
    if len(ref.trafo3w):
        np.testing.assert_allclose(
            sol.trafo3w_loading_percent, ref.res_trafo3w.loading_percent.to_numpy(), atol=1e-4
        )
    if len(ref.impedance):
        np.testing.assert_allclose(
            sol.impedance_loading_percent, impedance_loading_percent(ref), atol=1e-4
        )
    assert sol.slack_p_mw == pytest.approx(float(ref.res_ext_grid.p_mw.sum()), abs=1e-4)
    assert sol.slack_q_mvar == pytest.approx(float(ref.res_ext_grid.q_mvar.sum()), abs=1e-4)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_fast_path_agrees_with_runpp_on_every_bundled_network(name: str) -> None:
    net = load_network(name)
    _agree(PowerFlow(net), _runpp(net))


def test_fast_path_agrees_with_runpp_on_a_simbench_grid() -> None:
    """SimBench codes load through the simbench package (an MV grid with switches and
    transformers)."""
    net = load_network("1-MV-rural--0-sw")
    assert len(net.bus) > 50 and len(net.trafo) >= 1
    _agree(PowerFlow(net), _runpp(net))


def test_case33bw_reproduces_baran_wu_losses() -> None:
    # Baran & Wu (1989): ~202.7 kW losses, minimum ~0.913 pu at bus 18 (index 17)
    sol = PowerFlow(load_network("case33bw")).solve()
    assert sol.p_loss_mw == pytest.approx(0.2027, abs=5e-4)
    assert sol.vm_pu.min() == pytest.approx(0.913, abs=2e-3)
    assert int(np.argmin(sol.vm_pu)) == 17


def test_changed_loads_taps_and_outages_still_agree() -> None:
    net = load_network("case118")
    site = attach_factory(net, 59, 0.0, 0.0, PoiTransformerConfig())
    pf = PowerFlow(net)
    pos = net.load.index.get_loc(site.load)
    for p in (300.0, 105.0, 260.0):  # warm-started steps
        pf.set_load(pos, p, 0.2 * p)
        pf.solve()
    net.trafo.at[site.trafo, "tap_pos"] = -3
    net.line.at[10, "in_service"] = False
    pf.invalidate()
    ref = copy.deepcopy(net)
    ref.load["p_mw"], ref.load["q_mvar"] = pf.load_p_mw, pf.load_q_mvar
    _agree(pf, _runpp(ref))


def test_sag_holds_the_bus_voltage_and_recovers() -> None:
    net = load_network("case118")
    site = attach_factory(net, 59, 250.0, 50.0)
    pf = PowerFlow(net)
    before = pf.solve()
    sag = pf.solve({site.poi_bus: 0.3})
    assert sag.converged and sag.vm_pu[59] == pytest.approx(0.3)
    assert np.nanmin(sag.vm_pu) >= 0.3 - 1e-9  # the held bus is the deepest
    after = pf.solve()
    np.testing.assert_allclose(after.vm_pu, before.vm_pu, atol=1e-8)  # not the low-voltage root


def test_voltage_dependent_loads_fall_back_to_pandapower_with_a_reason() -> None:
    net = load_network("case9")
    col = "const_z_p_percent" if "const_z_p_percent" in net.load else "const_z_percent"
    net.load[col] = 50.0
    pf = PowerFlow(net)
    assert pf.engine == "pandapower" and "voltage-dependent" in (pf.fallback_reason or "")
    assert pf.solve().converged


def test_divergence_is_reported_not_hidden() -> None:
    net = load_network("case9")
    pp.create_load(net, 4, p_mw=20000.0, q_mvar=5000.0)
    sol = PowerFlow(net).solve()
    assert not sol.converged
    assert np.isnan(sol.vm_pu).all()


def test_three_winding_transformers_and_impedances_are_monitored() -> None:
    """pandapower's multi-voltage example has a trafo3w and an impedance branch."""
    import pandapower.networks as pn

    net = pn.example_multivoltage()
    pf = PowerFlow(net)
    sol = pf.solve()
    assert len(sol.trafo3w_loading_percent) == 1 and len(sol.impedance_loading_percent) == 1
    assert sol.trafo3w_loading_percent[0] > 0 and sol.impedance_loading_percent[0] > 0
    _agree(pf, _runpp(net))


def _pglib_with_site(bus: int, p_mw: float) -> tuple[pp.pandapowerNet, PowerFlow, int]:
    net = load_network("pglib_case118")
    site = attach_factory(net, bus, 0.0, 0.0)
    pf = PowerFlow(net)
    pos = net.load.index.get_loc(site.load)
    pf.set_load(pos, p_mw, 0.2 * p_mw)
    return net, pf, pos


@pytest.mark.parametrize(("bus", "p_mw"), [(80, 300.0), (59, 300.0), (59, 700.0)])
def test_reactive_limits_agree_with_runpp_on_pglib118(bus: int, p_mw: float) -> None:
    """Fast path with PV-to-PQ switching against runpp(enforce_q_lims=True), same gens switched."""
    net, pf, _ = _pglib_with_site(bus, p_mw)
    ref = copy.deepcopy(net)
    ref.load["p_mw"], ref.load["q_mvar"] = pf.load_p_mw, pf.load_q_mvar
    ref = _runpp(ref)
    sol = pf.solve()
    _agree(pf, ref)
    q_ref = ref.res_gen.q_mvar
    at_limit = {
        int(i)
        for i in net.gen.index
        if min(abs(q_ref[i] - net.gen.max_q_mvar[i]), abs(q_ref[i] - net.gen.min_q_mvar[i])) < 1e-6
    }
    assert {s.gen for s in sol.q_limited} == at_limit
    for s in sol.q_limited:
        assert q_ref[s.gen] == pytest.approx(s.q_mvar, abs=1e-6)


def test_pglib118_at_bus59_switches_generators_at_700_mw() -> None:
    _, pf, _ = _pglib_with_site(59, 700.0)
    sol = pf.solve()
    assert sol.converged and sol.q_limited
    assert all(s.side in ("max", "min") for s in sol.q_limited)


def _max_converging_mw(bus: int, enforce_q_lims: bool, hi_mw: float = 4000.0) -> float:
    """Largest site [MW] (pf 0.98) whose power flow converges, to 25 MW, by bisection."""
    net = load_network("pglib_case118")
    site = attach_factory(net, bus, 0.0, 0.0)
    pos = net.load.index.get_loc(site.load)
    lo, hi = 0.0, hi_mw
    while hi - lo > 25.0:
        mid = 0.5 * (lo + hi)
        pf = PowerFlow(copy.deepcopy(net), enforce_q_lims=enforce_q_lims)
        pf.set_load(pos, mid, mid * np.tan(np.arccos(0.98)))
        lo, hi = (mid, hi) if pf.solve().converged else (lo, mid)
    return lo


def test_reactive_limits_lower_the_largest_site_that_converges() -> None:
    with_limits = _max_converging_mw(59, True)
    without = _max_converging_mw(59, False)
    assert 300.0 < with_limits < without


def test_a_site_swinging_across_a_reactive_limit_keeps_runpp_state_in_one_solve_per_step() -> None:
    """A site swinging across the power at which PGLib 118's generator 27 reaches its Q limit
    (about 275 MW at bus 80): every step holds the generators runpp holds, and the warm
    start recalled from the nearest recent injections (QLimitMemory) needs no second solve
    once both sets are known (the last step's set would be wrong every step)."""
    net, pf, pos = _pglib_with_site(80, 0.0)
    ref = copy.deepcopy(net)
    held_per_step = []
    for k in range(24):
        p_mw = (250.0 if k % 2 else 300.0) + 0.5 * k
        pf.set_load(pos, p_mw, 0.1 * p_mw)
        if k == 4:
            nr_before = pf.nr_solves
        sol = pf.solve()
        ref.load["p_mw"], ref.load["q_mvar"] = pf.load_p_mw, pf.load_q_mvar
        out = _runpp(ref)
        np.testing.assert_allclose(sol.vm_pu, out.res_bus.vm_pu.to_numpy(), atol=TOL_PU)
        q_ref, gen = out.res_gen.q_mvar, net.gen
        at_limit = {
            int(i)
            for i in gen.index
            if min(abs(q_ref[i] - gen.max_q_mvar[i]), abs(q_ref[i] - gen.min_q_mvar[i])) < 1e-6
        }
        assert {s.gen for s in sol.q_limited} == at_limit, f"step {k}"
        held_per_step.append(27 in at_limit)
    assert held_per_step[::2] == [True] * 12 and not any(held_per_step[1::2])
    assert pf.nr_solves - nr_before <= 21  # 20 steps, one Newton-Raphson each (+1 slack)
