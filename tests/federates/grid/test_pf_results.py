"""A solve's results (pf_results) and its warm start (pf_predict), compiled, against numpy."""

from __future__ import annotations

import copy

import numpy as np

from federates.grid.network import attach_factory, load_network
from federates.grid.pf_predict import MAX_STEP, _secant_step, warm_start
from federates.grid.pf_results import s_injected, solution_of
from federates.grid.powerflow import PowerFlow


def _solved() -> PowerFlow:
    """PGLib 118 with a 300 MW site at bus 80, solved twice (a last solution to start from)."""
    net = load_network("pglib_case118")
    site = attach_factory(net, 80, 0.0, 0.0)
    pf = PowerFlow(copy.deepcopy(net))
    pos = net.load.index.get_loc(site.load)
    for p_mw in (250.0, 300.0):
        p = pf.load_p_mw.copy()
        p[pos] = p_mw
        pf.set_loads(p, pf.load_q_mvar)
        assert pf.solve().converged
    return pf


def test_bus_results_are_the_numpy_formulas() -> None:
    pf = _solved()
    v = pf._v_last
    sol = solution_of(pf, v, 2)
    v_pp = np.full(len(pf._pp2i), np.nan + 0j)  # the formulas the compiled pass replaced
    v_pp[pf._pp_ok] = v[pf._pp_rows]
    np.testing.assert_array_equal(sol.vm_pu, np.abs(v_pp))
    np.testing.assert_allclose(sol.va_degree, np.degrees(np.angle(v_pp)), rtol=0, atol=1e-12)
    assert np.isnan(sol.vm_pu).sum() == (~pf._pp_ok).sum()
    s_inj = s_injected(pf, v)
    base = pf._base
    s_ref = s_inj[pf._ref].sum() - pf._sbus_used[pf._ref].sum()
    s_slack = (s_ref + pf._ref_gen_s.sum()) * base
    assert abs(sol.p_loss_mw - float(np.sum(s_inj.real)) * base) < 1e-9
    assert abs(sol.slack_p_mw - s_slack.real) < 1e-9
    assert abs(sol.slack_q_mvar - s_slack.imag) < 1e-9
    assert sol.p_loss_mw > 0.0 and sol.slack_p_mw > 0.0  # a loaded network, fed by its slack


def test_warm_start_is_the_last_solution_plus_the_step_at_set_points() -> None:
    pf = _solved()
    rng = np.random.default_rng(3)
    pf._pred = 1e-3 * (rng.normal(size=pf._n) + 1j * rng.normal(size=pf._n))
    v = warm_start(pf)
    ref = pf._v_last + pf._pred  # the formulas the compiled pass replaced
    fixed = np.concatenate([pf._ref, pf._pv])
    ref[fixed] = pf._vset[fixed] * np.exp(1j * np.angle(ref[fixed]))
    ref[pf._ref] = pf._vset[pf._ref] * np.exp(1j * pf._va0[pf._ref])
    np.testing.assert_allclose(v, ref, rtol=0, atol=1e-15)
    free = np.setdiff1d(np.arange(pf._n), fixed)
    assert np.abs(v[free] - pf._v_last[free]).max() > 1e-4  # the step was taken
    pf._pred = None
    v0 = warm_start(pf)
    np.testing.assert_allclose(v0[free], pf._v_last[free], rtol=0, atol=0)
    assert v0 is not pf._v_last  # a copy: the last solution stays as it was


def test_secant_step_is_clipped_and_zero_gives_none() -> None:
    x_last, dx = np.array([1.0, 2.0]), np.array([0.5, 0.0])
    dv = np.array([0.01 + 0.02j, -0.03j])
    a, step = _secant_step(np.array([2.0, 2.0]), x_last, dx, dv, MAX_STEP)
    assert a == 2.0
    np.testing.assert_allclose(step, 2.0 * dv)
    a, step = _secant_step(np.array([101.0, 2.0]), x_last, dx, dv, MAX_STEP)
    assert a == 200.0
    np.testing.assert_allclose(step, MAX_STEP * dv)  # a wild guess is clipped
    a, step = _secant_step(x_last, x_last, dx, dv, MAX_STEP)
    assert a == 0.0 and len(step) == 0
