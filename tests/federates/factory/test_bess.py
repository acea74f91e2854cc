"""BESS model: hand-computed cases, limits, clipping ledger, wear, properties."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federates.factory.bess import Bess
from federates.factory.config import BessConfig


def ideal(**kw) -> BessConfig:
    """No lag, no self-discharge, 81 % round trip (0.9 each way) unless overridden."""
    base = dict(rte=0.81, response_tau_s=0.0, self_discharge_per_day=0.0)
    return BessConfig(**{**base, **kw})


@pytest.mark.parametrize(
    ("p_mw", "seconds", "de_mwh"),
    [
        (10.0, 360.0, 10.0 * 0.9 * 0.1),  # charge: 1 MWh from the grid, 0.9 stored
        (-10.0, 360.0, -10.0 / 0.9 * 0.1),  # discharge: 1 MWh delivered, 1.111 drawn from storage
        (0.0, 3600.0, 0.0),
        (50.0, 36.0, 50.0 * 0.9 * 0.01),
    ],
)
def test_hand_computed_energy(p_mw: float, seconds: float, de_mwh: float) -> None:
    b = Bess(ideal())
    e0 = b.e_mwh
    n = int(seconds / 0.5)
    blk = b.run(np.full(n, p_mw), np.full(n, 0.5))
    assert blk.p_actual_mw == pytest.approx(np.full(n, p_mw))
    assert b.e_mwh - e0 == pytest.approx(de_mwh, rel=1e-12, abs=1e-12)
    assert blk.clipped_mwh == 0.0


def test_efficiencies_from_round_trip_and_overrides() -> None:
    assert BessConfig(rte=0.81).efficiencies == pytest.approx((0.9, 0.9))
    assert BessConfig(rte=0.85, eta_charge=0.95).efficiencies == pytest.approx((0.95, 0.85 / 0.95))
    with pytest.raises(ValueError, match="must equal rte"):
        BessConfig(rte=0.85, eta_charge=0.95, eta_discharge=0.95)


def test_self_discharge_and_window_floor() -> None:
    b = Bess(ideal(self_discharge_per_day=0.24, soc_init=0.2))  # 1 MW of self-discharge
    assert b.p_sd_mw == pytest.approx(1.0)
    lo, hi = b.feasible_range(1.0)
    assert lo == pytest.approx(1.0 / 0.9)  # must charge just enough to stay at soc_min
    blk = b.run(np.zeros(100), np.full(100, 1.0))
    assert b.soc == pytest.approx(0.2, abs=1e-12)
    assert blk.p_actual_mw == pytest.approx(np.full(100, 1.0 / 0.9))
    assert b.clipped_mwh == pytest.approx(100 * (1.0 / 0.9) / 3600)  # the forced charge is recorded


def test_soc_window_clips_and_records() -> None:
    b = Bess(ideal(soc_init=0.79))
    blk = b.run(np.full(100, 100.0), np.full(100, 1.0))  # 1 MWh room, 100 MW asked for 100 s
    assert b.soc == pytest.approx(0.8, abs=1e-12)
    stored = float(np.sum(blk.p_actual_mw)) * 0.9 / 3600
    assert stored == pytest.approx(1.0, rel=1e-9)
    asked = 100 * 100 / 3600
    assert b.clipped_mwh == pytest.approx(asked - float(np.sum(blk.p_actual_mw)) / 3600, rel=1e-9)
    assert blk.clipped_last


def test_overload_120_percent_for_10_s() -> None:
    b = Bess(ideal())
    blk = b.run(np.full(300, -130.0), np.full(300, 0.1))  # 30 s at 130 MW asked
    p = -blk.p_actual_mw
    assert p.max() == pytest.approx(120.0)
    assert np.sum(p > 100.0 + 1e-9) * 0.1 == pytest.approx(10.0)
    assert p[-1] == pytest.approx(100.0)
    # 10 s x 10 MW + 20 s x 30 MW refused
    assert b.clipped_mwh == pytest.approx((10 * 10 + 20 * 30) / 3600, rel=1e-9)
    # full budget back after overload_recovery_s at or below the rating
    b.run(np.zeros(600), np.full(600, 0.1))
    assert b.budget_s == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("priority", "p_req", "q_req", "p_exp", "q_exp"),
    [
        ("p", -100.0, 80.0, -100.0, math.sqrt(110**2 - 100**2)),
        ("q", -100.0, 80.0, -math.sqrt(110**2 - 80**2), 80.0),
        ("p", 50.0, -40.0, 50.0, -40.0),
    ],
)
def test_pcs_circle(priority: str, p_req: float, q_req: float, p_exp: float, q_exp: float) -> None:
    b = Bess(ideal(pcs_priority=priority, overload_s=0.0))
    blk = b.run(np.full(10, p_req), np.full(10, 1.0), q_req)
    assert blk.p_actual_mw[-1] == pytest.approx(p_exp)
    assert blk.q_actual_mvar[-1] == pytest.approx(q_exp)


def test_response_lag_first_order() -> None:
    b = Bess(ideal(response_tau_s=0.1))
    blk = b.run(np.full(50, 10.0), np.full(50, 0.01))
    t = np.arange(1, 51) * 0.01
    assert blk.p_actual_mw == pytest.approx(10.0 * (1 - np.exp(-t / 0.1)), rel=1e-9)


def test_vessim_style_api() -> None:
    b = Bess(ideal(soc_init=0.5))
    lo, hi = b.feasible_range(1.0)
    assert (lo, hi) == (pytest.approx(-120.0), pytest.approx(120.0))
    b.set_power(-200.0, 0.0)
    out = b.step(1.0)
    assert out.p_actual_mw[0] == pytest.approx(-120.0)
    assert b.state().clipped_mwh == pytest.approx(80.0 / 3600)
    with pytest.raises(ValueError, match="finite"):
        b.set_power(math.nan)
    with pytest.raises(ValueError, match="dt_s"):
        b.feasible_range(0.0)


def test_wear_efc_and_rainflow() -> None:
    b = Bess(ideal(rte=1.0, soc_init=0.5))
    # five full cycles of 10 MWh (0.1 SOC) depth: 100 MW for 360 s each way
    for _ in range(5):
        b.run(np.full(36, 100.0), np.full(36, 10.0))
        b.run(np.full(36, -100.0), np.full(36, 10.0))
    s = b.summary()
    assert s["bess.throughput_mwh"] == pytest.approx(100.0)
    assert s["bess.efc"] == pytest.approx(100.0 / 200.0)
    edges = s["bess.rainflow_bin_edges"]
    hist = s["bess.rainflow_hist"]
    j = edges.index(0.1)
    assert hist[j] == pytest.approx(5.0)  # all cycles in the [0.1, 0.2) depth bin
    assert sum(hist) == pytest.approx(5.0)


def test_energy_balance_closes_over_24h() -> None:
    """24 h of a random walk of requests at 1 s: ledger and an independent integral agree."""
    cfg = BessConfig()
    b = Bess(cfg)
    rng = np.random.default_rng(7)
    e0 = b.e_mwh
    eta_c, eta_d = cfg.efficiencies
    stored = 0.0
    dt = 1.0
    for _ in range(144):  # 10-minute blocks
        req = np.clip(np.cumsum(rng.normal(0, 3, 600)), -130, 130)
        blk = b.run(req, np.full(600, dt))
        p = blk.p_actual_mw
        stored += (eta_c * p[p > 0].sum() + (p[p < 0] / eta_d).sum()) * dt / 3600
    stored -= b.p_sd_mw * 24.0
    assert abs((b.e_mwh - e0) - stored) < 1e-6
    assert abs(b.energy_balance_error_mwh()) < 1e-6


@settings(max_examples=60, deadline=None)
@given(
    reqs=st.lists(st.floats(-400, 400), min_size=1, max_size=80),
    dt=st.sampled_from([0.01, 0.02, 0.05, 0.1, 1.0, 30.0]),
    q=st.floats(-150, 150),
    soc0=st.floats(0.2, 0.8),
    tau=st.sampled_from([0.0, 0.01, 0.05]),
    priority=st.sampled_from(["p", "q"]),
    vm_pu=st.sampled_from([1.0, 1.05, 0.95, 0.85, 0.5, 0.25, 0.1]),
    grid_mode=st.sampled_from(["grid_following", "grid_forming"]),
    fault_priority=st.sampled_from(["reactive", "active"]),
)
def test_property_soc_window_and_pcs_limits(
    reqs: list[float],
    dt: float,
    q: float,
    soc0: float,
    tau: float,
    priority: str,
    vm_pu: float,
    grid_mode: str,
    fault_priority: str,
) -> None:
    """SOC window, rating, overload duration and the current limit hold at any voltage."""
    cfg = BessConfig(
        soc_init=soc0,
        response_tau_s=tau,
        pcs_priority=priority,
        self_discharge_per_day=0.05,
        grid_mode=grid_mode,
        fault_current_priority=fault_priority,
    )
    b = Bess(cfg)
    req = np.array(reqs)
    blk = b.run(req, np.full(len(req), dt), q, vm_pu=vm_pu)
    soc = blk.e_mwh / cfg.e_mwh
    assert soc.min() >= cfg.soc_min - 1e-9
    assert soc.max() <= cfg.soc_max + 1e-9
    p, qq = blk.p_actual_mw, blk.q_actual_mvar
    ov = cfg.overload_factor
    assert np.all(np.abs(p) <= ov * cfg.p_mw + 1e-9)
    s_v = vm_pu * cfg.s_mva
    if grid_mode == "grid_following" and vm_pu < cfg.gfl_min_v_pu:
        s_v = 0.0
    forced = (
        b.p_sd_mw / b.eta_c + 1e-9
    )  # the charge that holds the SOC floor against self-discharge
    s2 = p * p + qq * qq
    assert np.all(np.sqrt(s2) <= ov * s_v + forced + 1e-6)
    assert np.all(np.sqrt(s2[~blk.overloaded]) <= s_v + forced + 1e-6)
    # no overload episode lasts longer than overload_s
    over = np.concatenate([[0], (np.abs(p) > cfg.p_mw + 1e-9).astype(int), [0]])
    starts, ends = np.flatnonzero(np.diff(over) == 1), np.flatnonzero(np.diff(over) == -1)
    assert np.all((ends - starts) * dt <= cfg.overload_s + 1e-9)
    assert 0.0 <= b.budget_s <= cfg.overload_s
    assert abs(b.energy_balance_error_mwh()) < 1e-9


@settings(max_examples=40, deadline=None)
@given(reqs=st.lists(st.floats(-300, 300), min_size=1, max_size=60), soc0=st.floats(0.2, 0.8))
def test_property_clipping_is_never_silent(reqs: list[float], soc0: float) -> None:
    """Without lag, every MW refused shows up in the clipping ledger."""
    b = Bess(ideal(soc_init=soc0))
    req = np.array(reqs)
    blk = b.run(req, np.full(len(req), 1.0))
    refused = float(np.sum(np.abs(req - blk.p_actual_mw))) / 3600
    assert b.clipped_mwh == pytest.approx(refused, rel=1e-9, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    reqs=st.lists(st.floats(-100, 100), min_size=1, max_size=60),
    dt=st.sampled_from([0.005, 0.01, 0.02, 0.05, 0.1, 1.0]),
    soc0=st.floats(0.3, 0.7),
    p0=st.floats(-100, 100),
    tau=st.sampled_from([0.0, 0.01, 0.05, 0.3]),
    q=st.sampled_from([0.0, 30.0, -60.0]),
    priority=st.sampled_from(["p", "q"]),
    sd=st.sampled_from([0.0, 0.05]),
)
def test_fast_kernel_equals_full_kernel(
    reqs: list[float],
    dt: float,
    soc0: float,
    p0: float,
    tau: float,
    q: float,
    priority: str,
    sd: float,
) -> None:
    """Where no limit can bind, the fast kernel gives the full kernel's powers, energies, state."""
    cfg = BessConfig(
        soc_init=soc0, response_tau_s=tau, pcs_priority=priority, self_discharge_per_day=sd
    )
    fast, full = Bess(cfg), Bess(cfg)
    for b in (fast, full):
        b.start_at(min(max(p0, -b._p_limit(False, q)), b._p_limit(False, q)))
    req = np.clip(np.array(reqs), -fast._p_limit(False, q), fast._p_limit(False, q))
    d = np.full(len(req), dt)
    assert fast._nothing_binds(req.tolist(), float(d.sum()), q)
    a = fast.run(req, d, q, uniform=True)
    full._nothing_binds = lambda *_a: False  # force the per-step limit checks
    b = full.run(req, d, q, uniform=True)
    np.testing.assert_allclose(a.p_actual_mw, b.p_actual_mw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.q_actual_mvar, b.q_actual_mvar, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.e_mwh, b.e_mwh, rtol=1e-12, atol=1e-12)
    assert b.clipped_mwh == 0.0 and not b.clipped_last
    sa, sb = asdict(fast.state()), asdict(full.state())
    for key, va in sa.items():
        assert va == pytest.approx(sb[key], rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize(
    ("vm_pu", "priority", "mode", "p_exp", "q_exp"),
    [
        # 0.4 pu, reactive first: I_q = min(2 x (0.9 - 0.4), 1) = 1 pu -> Q = -0.4 x 110 = -44;
        # P gets what the 120 % overload leaves: sqrt(52.8^2 - 44^2)
        (0.4, "reactive", "grid_following", -math.sqrt(52.8**2 - 44.0**2), -44.0),
        # 0.8 pu: I_q = 0.2 pu -> Q = -0.2 x 0.8 x 110 = -17.6; the 100 MW asked fits within the
        # overload (sqrt(105.6^2 - 17.6^2) = 104 MW) and spends its budget
        (0.8, "reactive", "grid_following", -100.0, -17.6),
        # 0.4 pu, active first: P takes the whole (overloaded) current, no room for Q
        (0.4, "active", "grid_following", -52.8, 0.0),
        # 0.1 pu: a grid-following PCS has lost its PLL; a grid-forming one injects I_max
        (0.1, "reactive", "grid_following", 0.0, 0.0),
        (0.1, "reactive", "grid_forming", -math.sqrt(13.2**2 - 11.0**2), -11.0),
    ],
)
def test_current_limit_in_a_fault(
    vm_pu: float, priority: str, mode: str, p_exp: float, q_exp: float
) -> None:
    """|S| <= V x s_mva (x 1.2 while the overload lasts); the fault priority shares the current."""
    b = Bess(ideal(fault_current_priority=priority, grid_mode=mode))
    blk = b.run(np.full(5, -100.0), np.full(5, 0.1), 0.0, vm_pu=vm_pu)
    assert blk.p_actual_mw[0] == pytest.approx(p_exp, abs=1e-9)
    assert blk.q_actual_mvar[0] == pytest.approx(q_exp, abs=1e-9)
    assert b.clipped_mwh == pytest.approx((100.0 - abs(p_exp)) * 0.5 / 3600, rel=1e-9)


def test_overload_in_a_fault_lasts_10_s_then_the_continuous_limit() -> None:
    b = Bess(ideal(fault_current_priority="active"))
    blk = b.run(np.full(150, -100.0), np.full(150, 0.1), 0.0, vm_pu=0.5)
    p = -blk.p_actual_mw
    assert p[0] == pytest.approx(0.5 * 110 * 1.2)
    assert p[-1] == pytest.approx(0.5 * 110)
    assert np.sum(blk.overloaded) * 0.1 == pytest.approx(10.0)


def test_feasible_range_is_the_kernels_bound() -> None:
    """feasible_range and the kernel use the same bounds: a huge request gets exactly it."""
    for vm in (1.0, 0.6):
        b = Bess(ideal(soc_init=0.5))
        lo, hi = b.feasible_range(0.1, vm_pu=vm)
        blk = b.run(np.array([1e4]), np.array([0.1]), vm_pu=vm)
        assert blk.p_actual_mw[0] == pytest.approx(hi)
        b2 = Bess(ideal(soc_init=0.5))
        assert b2.run(np.array([-1e4]), np.array([0.1]), vm_pu=vm).p_actual_mw[0] == pytest.approx(
            lo
        )
