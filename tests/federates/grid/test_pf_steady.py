"""The compiled common step (pf_steady) against the general path of the same solver."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import federates.grid.powerflow as powerflow
from federates.grid.network import attach_factory, load_network
from federates.grid.powerflow import PowerFlow


def _series(lane: bool, lv_threshold_pu: float = 0.7, chord: bool = False) -> tuple[list, int]:
    """48 steps on PGLib 118: a site at bus 80 swinging across generator 27's reactive limit
    (every 3 steps) and ramping; returns the solutions and the general-path solves.

    Without the chord step by default: a step the lane declines has already refactorised,
    so the general path's chord step would start from another factorisation than in a
    run without the lane (the same solution to the tolerance, not to round-off)."""
    net = load_network("pglib_case118")
    site = attach_factory(net, 80, 0.0, 0.0)
    pf = PowerFlow(copy.deepcopy(net), lv_threshold_pu=lv_threshold_pu)
    pf.steady_lane = lane
    pf.nr_chord = chord
    pos = net.load.index.get_loc(site.load)
    base_p, base_q = pf.load_p_mw.copy(), pf.load_q_mvar.copy()
    general = 0
    real = powerflow.solve_q_limited

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        nonlocal general
        general += 1
        return real(*args, **kwargs)

    powerflow.solve_q_limited = counting
    try:
        sols = []
        for k in range(48):
            p, q = base_p.copy(), base_q.copy()
            p[pos] = (240.0 if (k // 3) % 2 else 310.0) + 0.3 * k
            q[pos] = 0.1 * p[pos]
            pf.set_loads(p, q)
            sols.append(pf.solve())
    finally:
        powerflow.solve_q_limited = real
    return sols, general


def test_the_lane_gives_the_general_paths_results_in_most_steps() -> None:
    fast, general_fast = _series(lane=True)
    ref, general_ref = _series(lane=False)
    assert general_ref >= 48
    assert general_fast <= 6  # the first swing only (each set and warm start built once)
    held = set()
    for a, b in zip(fast, ref, strict=True):
        assert a.converged and b.converged
        assert [(s.gen, s.side) for s in a.q_limited] == [(s.gen, s.side) for s in b.q_limited]
        held.add(27 in {s.gen for s in a.q_limited})
        np.testing.assert_allclose(a.vm_pu, b.vm_pu, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.line_loading_percent, b.line_loading_percent, atol=1e-9)
        assert a.p_loss_mw == pytest.approx(b.p_loss_mw, abs=1e-9)
        assert a.slack_q_mvar == pytest.approx(b.slack_q_mvar, abs=1e-9)
        assert a.iterations == b.iterations
    assert held == {True, False}  # the series does cross the limit both ways


def test_with_the_chord_step_the_lane_keeps_the_states_and_the_tolerance() -> None:
    fast, _ = _series(lane=True, chord=True)
    ref, _ = _series(lane=False, chord=False)
    assert sum(s.iterations for s in fast) < sum(s.iterations for s in ref)
    for a, b in zip(fast, ref, strict=True):
        assert [(s.gen, s.side) for s in a.q_limited] == [(s.gen, s.side) for s in b.q_limited]
        np.testing.assert_allclose(a.vm_pu, b.vm_pu, rtol=0, atol=1e-9)


def test_the_lane_declines_loads_below_the_low_voltage_threshold() -> None:
    """Every load bus below the threshold (1.5 pu): the constant-impedance fixed point is the
    general path's; the lane leaves every step to it."""
    fast, general_fast = _series(lane=True, lv_threshold_pu=1.5)
    ref, _ = _series(lane=False, lv_threshold_pu=1.5)
    assert general_fast >= 48
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_allclose(a.vm_pu, b.vm_pu, rtol=0, atol=1e-12)
