"""The compiled BESS passes give, bit for bit, what their plain forms give."""

from __future__ import annotations

import math

import numpy as np
import pytest

from federates.factory.bess import Bess
from federates.factory.bess_control import BessControlLoop
from federates.factory.config import BessConfig
from federates.factory.kernels import extremes, free_run, interp, lpf_ramp


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def test_interp_is_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for i in range(2000):
        xp = np.unique(rng.uniform(-10, 10, int(rng.integers(2, 40))))
        if len(xp) < 2:
            continue
        fp = np.cumsum(rng.standard_normal(len(xp)) * 10.0 ** rng.integers(-3, 4))
        x = rng.uniform(-12, 12, int(rng.integers(1, 30)))
        if i % 2:
            x = np.sort(np.concatenate([x, xp[:: int(rng.integers(1, 4))]]))  # on the knots
        assert _bits_equal(interp(x, xp, fp), np.interp(x, xp, fp)), (x, xp, fp)
    xp, fp = np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 3.0])
    got = interp(np.array([math.nan, -1.0, 0.5, 2.0, 5.0]), xp, fp)
    assert _bits_equal(got, np.interp([math.nan, -1.0, 0.5, 2.0, 5.0], xp, fp))


@pytest.mark.parametrize(
    ("latency_s", "period_s", "dt_s"),
    [(0.05, 0.02, 0.05), (0.0, 0.02, 0.05), (0.05, 0.1, 0.02), (0.3, 0.03, 0.01), (2.0, 0.5, 0.1)],
)
def test_feedforward_is_its_plain_form_bit_for_bit(
    latency_s: float, period_s: float, dt_s: float
) -> None:
    """Block after block (the history carried over and trimmed), blocks of irregular sizes
    that do not start on a control instant: the requests and the history are the same."""
    rng = np.random.default_rng(int(1000 * (latency_s + period_s + dt_s)))
    cfg = BessConfig(latency_s=latency_s, control_period_s=period_s)
    fast, plain = BessControlLoop(cfg), BessControlLoop(cfg)
    t = 1234.567
    for k in range(300):
        n = int(rng.integers(1, 45))
        a = t + np.arange(n) * dt_s
        b = a + dt_s
        m = rng.standard_normal(n) * 50.0
        m[:: int(rng.integers(2, 6))] = 0.0
        got, ref = fast.feedforward(a, b, m), plain.feedforward_steps(a, b, m)
        assert _bits_equal(got, ref), k
        assert _bits_equal(fast.st.t_s, plain.st.t_s) and _bits_equal(fast.st.m_mw, plain.st.m_mw)
        t = float(b[-1]) + (float(rng.uniform(0.0, 3.0)) if k % 7 == 6 else 0.0)  # a gap, seldom


def test_feedforward_snapshot_is_not_changed_by_later_blocks() -> None:
    loop = BessControlLoop(BessConfig(latency_s=0.05, control_period_s=0.02))
    a = np.arange(20) * 0.05
    loop.feedforward(a, a + 0.05, np.ones(20))
    snap = loop.snapshot()
    t_before, m_before = np.array(snap.t_s), np.array(snap.m_mw)
    first = loop.feedforward(a + 1.0, a + 1.05, np.full(20, 7.0))
    assert _bits_equal(snap.t_s, t_before) and _bits_equal(snap.m_mw, m_before)
    loop.restore(snap)
    assert _bits_equal(loop.feedforward(a + 1.0, a + 1.05, np.full(20, 7.0)), first)


def test_extremes_are_numpys_min_and_max() -> None:
    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 40):
        x = rng.standard_normal(n)
        assert extremes(x) == (x.min(), x.max())
    lo, hi = extremes(np.array([1.0, math.nan, -2.0]))
    assert math.isnan(lo) and math.isnan(hi)
    assert extremes(np.array([-math.inf, 3.0])) == (-math.inf, 3.0)
    assert all(math.isnan(v) for v in extremes(np.empty(0)))


def test_empty_blocks_change_nothing() -> None:
    loop = BessControlLoop(BessConfig(latency_s=0.05, control_period_s=0.02))
    a = np.arange(20) * 0.05
    loop.feedforward(a, a + 0.05, np.ones(20))
    before = (np.array(loop.st.t_s), np.array(loop.st.m_mw))
    assert len(loop.feedforward(np.empty(0), np.empty(0), np.empty(0))) == 0
    assert _bits_equal(loop.st.t_s, before[0]) and _bits_equal(loop.st.m_mw, before[1])
    y, s, r = lpf_ramp(np.empty(0), 1.0, 2.0, 0.5, 0.1, 0.0, True, True)
    assert len(y) == 0 and (s, r) == (1.0, 2.0)


def _plain_free_run(
    req: list[float],
    lag: float,
    c_h: float,
    d_h: float,
    sd_h: float,
    act: float,
    e: float,
    up: bool,
) -> tuple[list[float], list[float], float, float, bool, float, float, list[float]]:
    """The free run as written in Python: the lag, the energy, the ledger, the turns."""
    cin = cout = 0.0
    turns, p_out, e_out = [], [], []
    for r in req:
        act += lag * (r - act)
        if act >= 0.0:
            cin += act
            de = act * c_h - sd_h
        else:
            cout -= act
            de = act * d_h - sd_h
        if de > 0.0:
            if not up:
                turns.append(e)
                up = True
        elif de < 0.0 and up:
            turns.append(e)
            up = False
        e += de
        p_out.append(act)
        e_out.append(e)
    return p_out, e_out, act, e, up, cin, cout, turns


def test_free_run_is_its_plain_form_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    for i in range(500):
        n = int(rng.integers(1, 60))
        req = rng.standard_normal(n) * 40.0
        req[:: int(rng.integers(2, 9))] = 0.0
        args = (
            float(rng.choice([1.0, 0.8, 0.2])),
            0.92 * 0.05 / 3600.0,
            0.05 / (0.92 * 3600.0),
            float(rng.choice([0.0, 1e-7])),
            float(rng.uniform(-50, 50)),
            float(rng.uniform(20, 80)),
            bool(i % 2),
        )
        got = free_run(req, *args)
        ref = _plain_free_run(req.tolist(), *args)
        assert _bits_equal(got[0], ref[0]) and _bits_equal(got[1], ref[1])
        assert got[2:7] == ref[2:7]
        assert got[7].tolist() == ref[7]
        assert (got[8], got[9]) == (min(ref[1]), max(ref[1]))


def test_free_block_keeps_the_ledger_and_turning_points() -> None:
    """A block with no binding limit: the kernel's turning points reach the wear count, and
    the SOC extremes seen are the block's."""
    b = Bess(BessConfig(soc_init=0.5, response_tau_s=0.0, self_discharge_per_day=0.0))
    req = np.array([10.0, 10.0, -10.0, -10.0, 10.0])
    d = np.full(5, 60.0)
    assert b._nothing_binds(req, 300.0, 0.0)
    e0 = b.st.e_mwh
    blk = b.run(req, d, 0.0, uniform=True)
    # at rest (not rising) it starts charging, turns to discharging, then to charging again
    assert b._turns == [e0, float(blk.e_mwh[1]), float(blk.e_mwh[3])]
    assert b.st.soc_max_seen == pytest.approx(float(blk.e_mwh.max()) / b.e_nom_mwh, rel=1e-15)
    assert b.st.soc_min_seen == pytest.approx(min(e0, float(blk.e_mwh.min())) / b.e_nom_mwh)
    assert b.st.ac_in_mwh == pytest.approx(3 * 10.0 * 60.0 / 3600.0)
    assert b.st.ac_out_mwh == pytest.approx(2 * 10.0 * 60.0 / 3600.0)


def _plain_lpf_ramp(
    u: list[float],
    s: float,
    r: float,
    a: float,
    big_r: float,
    bias: float,
    smooth: bool,
    ramp: bool,
) -> tuple[list[float], float, float]:
    """The low-pass filter and ramp limit as written in Python (a list loop)."""
    out: list[float] = []
    if smooth and ramp:
        for x in u:
            s += a * (x - s)
            y = s + bias
            hi = r + big_r
            if y > hi:
                y = hi
            else:
                lo = r - big_r
                if y < lo:
                    y = lo
            r = y
            out.append(y)
    elif smooth:
        for x in u:
            s += a * (x - s)
            out.append(s + bias)
        r = out[-1] if out else r
    elif ramp:
        for x in u:
            y = x + bias
            if y > r + big_r:
                y = r + big_r
            elif y < r - big_r:
                y = r - big_r
            r = y
            out.append(y)
    else:
        out = [x + bias for x in u]
        r = out[-1] if out else r
    return out, s, r


@pytest.mark.parametrize(
    ("smooth", "ramp"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_lpf_ramp_is_its_plain_form_bit_for_bit(smooth: bool, ramp: bool) -> None:
    rng = np.random.default_rng(int(smooth) + 2 * int(ramp))
    s, r = 240.0, 240.0
    s_ref, r_ref = s, r
    for _ in range(300):
        u = 240.0 + rng.standard_normal(int(rng.integers(1, 40))) * 30.0
        args = (1.0 - math.exp(-0.05 / 60.0), 20.0 / 60.0 * 0.05, float(rng.uniform(-5, 5)))
        y, s, r = lpf_ramp(u, s, r, *args, smooth, ramp)
        y_ref, s_ref, r_ref = _plain_lpf_ramp(u.tolist(), s_ref, r_ref, *args, smooth, ramp)
        assert _bits_equal(y, y_ref) and (s, r) == (s_ref, r_ref)
