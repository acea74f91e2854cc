"""The kept-symbolic Newton-Raphson (nr_static.py) against lightsim2grid's NRSing_KLU.

Same start, same Sbus, same PV / PQ sets: the same convergence verdict, the
same iteration count and the same voltages to round-off, on networks from 9 to
1,354 buses, from perturbed starts and with generators switched to PQ (the
reactive-limit path), and in a time series of the power flow. With the chord
step (the default) a solve needs fewer iterations and lands on the same
solution to the solver's tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from lightsim2grid.algorithm import NRSing_KLU

from federates.grid.network import attach_factory, load_network
from federates.grid.nr_static import StaticNR
from federates.grid.powerflow import PowerFlow


def _solved(name: str) -> PowerFlow:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = PowerFlow(load_network(name))
        assert pf.solve().converged
    return pf


@pytest.mark.parametrize("name", ["case9", "pglib_case118", "case1354pegase"])
def test_same_iterations_and_voltages_as_lightsim2grid(name: str) -> None:
    pf = _solved(name)
    y, n = pf._ybus, pf._n
    v_sol, sbus = pf._v_last.copy(), pf._sbus_used.copy()
    nr = StaticNR(y)
    nr.chord = False  # the plain Newton-Raphson, iteration for iteration
    chord = StaticNR(y)
    rng = np.random.default_rng(1)
    pv_all, pq_all = pf._pv, pf._pq
    checked = fewer = 0
    for trial in range(30):
        pv, pq = pv_all, pq_all
        if trial % 3 == 2 and len(pv_all) > 2:  # two generators held at a limit: now PQ buses
            held = rng.choice(pv_all, 2, replace=False)
            pv = np.setdiff1d(pv_all, held)
            pq = np.union1d(pq_all, held)
        v0 = v_sol * (1 + rng.normal(0, 0.003, n)) * np.exp(1j * rng.normal(0, 0.005, n))
        fixed = np.concatenate([pf._ref, pv])
        v0[fixed] = pf._vset[fixed] * np.exp(1j * np.angle(v0[fixed]))
        v0[pf._ref] = v_sol[pf._ref]
        sb = sbus * (1 + rng.normal(0, 0.02, n))
        ls = NRSing_KLU()
        ls.solve(
            y,
            v0.copy(),
            sb,
            pf._ref32,
            np.zeros(n),
            pv.astype(np.int32),
            pq.astype(np.int32),
            30,
            1e-10,
        )
        ok, v, it = nr.solve(v0, sb, pv, pq, 30, 1e-10)
        assert ok == ls.converged()
        if ok:
            assert it == ls.get_nb_iter()
            assert np.max(np.abs(v - np.asarray(ls.get_V()))) < 1e-12
            checked += 1
            # the chord step (on the last factorisation of the same set, from another
            # perturbed point): the same solution to the tolerance, never more iterations
            ok_c, v_c, it_c = chord.solve(v0, sb, pv, pq, 30, 1e-10)
            assert ok_c
            assert np.max(np.abs(v_c - v)) < 1e-9
            assert it_c <= it
            fewer += it_c < it
    assert checked >= 20
    assert fewer >= 3  # the chord step saved an iteration in some of the solves


def test_iteration_limit_and_start_left_untouched() -> None:
    pf = _solved("pglib_case118")
    nr = StaticNR(pf._ybus)
    v0 = pf._v_last * 0.97
    v0_before = v0.copy()
    ok, _, it = nr.solve(v0, pf._sbus_used, pf._pv, pf._pq, 1, 1e-12)
    assert not ok and it == 1
    np.testing.assert_array_equal(v0, v0_before)
    ok, v, it = nr.solve(pf._v_last, pf._sbus_used, pf._pv, pf._pq, 10, 1e-6)
    assert ok and it == 0  # a converged start: no iteration, as lightsim2grid


def test_time_series_equals_the_lightsim2grid_path() -> None:
    """The grid step as the federate takes it: 300 steps of a swinging factory, both solvers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = []
        for static in (False, True):
            net = load_network("pglib_case118")
            site = attach_factory(net, 59)
            pf = PowerFlow(net)
            pf.static_nr = static
            pos = net.load.index.get_loc(site.load)
            rng = np.random.default_rng(3)
            vm, loading, switches = [], [], []
            for k in range(300):
                p = (300.0 if k % 2 else 105.0) + rng.normal(0.0, 2.0)
                pf.set_load(pos, p, 0.2 * p)
                sol = pf.solve()
                assert sol.converged
                vm.append(sol.vm_pu)
                loading.append(sol.line_loading_percent)
                switches.append(len(sol.q_limited))
            runs.append((np.array(vm), np.array(loading), switches))
            if static:
                assert pf._nr is not None and pf._nr._patterns  # the kept analysis was used
    (vm0, ld0, sw0), (vm1, ld1, sw1) = runs
    assert np.max(np.abs(vm0 - vm1)) < 1e-10
    assert np.max(np.abs(ld0 - ld1)) < 1e-7
    assert sw0 == sw1
    assert len(set(sw0)) > 1  # generators reached and left their reactive limits
