"""Ride-through and frequency metrics on hand-built series."""

import numpy as np
import pytest

from cosim.metrics import events


def _grid(t_end: float = 20.0) -> np.ndarray:
    return np.round(np.arange(0.0, t_end, 0.01), 9)


def test_sag_with_load_loss_and_recovery():
    t = _grid()
    v = np.where((t >= 5.0) & (t < 5.1), 0.4, 1.0)
    p = np.full_like(t, 200.0)
    p[(t >= 5.0) & (t < 5.6)] = 20.0  # the site leaves, comes back 0.5 s after V recovers
    r = events.ride_through(t, v, t, p, t_end_s=20.0)
    assert r["events"] == 1
    e = r["event_list"][0]
    assert (e["t_start_s"], e["t_end_s"]) == pytest.approx((5.0, 5.1))
    assert e["v_min_pu"] == 0.4
    assert e["p_pre_mw"] == pytest.approx(200.0)
    assert e["mw_lost"] == pytest.approx(180.0)
    assert e["recovery_s"] == pytest.approx(0.5)
    assert e["recovered"] is True
    assert r["mw_lost_max"] == pytest.approx(180.0) and r["all_recovered"] is True


def test_slow_recovery_fails_and_never_recovering_is_none():
    t = _grid()
    v = np.where((t >= 5.0) & (t < 5.1), 0.4, 1.0)
    p = np.full_like(t, 200.0)
    p[(t >= 5.0) & (t < 7.1)] = 0.0  # back 2 s after the voltage: too slow
    r = events.ride_through(t, v, t, p, t_end_s=20.0)
    assert r["event_list"][0]["recovery_s"] == pytest.approx(2.0)
    assert r["all_recovered"] is False
    p[t >= 5.0] = 0.0  # never back
    r = events.ride_through(t, v, t, p, t_end_s=20.0)
    assert r["event_list"][0]["recovery_s"] is None
    assert r["recovery_s_max"] is None and r["all_recovered"] is False


def test_load_held_by_bess_means_no_loss():
    t = _grid()
    v = np.where((t >= 5.0) & (t < 5.05), 0.3, 1.0)
    r = events.ride_through(t, v, t, np.full_like(t, 250.0))
    assert r["mw_lost_max"] == pytest.approx(0.0, abs=1e-9)
    assert r["event_list"][0]["recovery_s"] == 0.0


def test_reclosing_train_keeps_the_load_before_the_first_shot():
    t = _grid(30.0)
    v = np.ones_like(t)
    for start in (5.0, 6.0, 7.0):  # three 50 ms shots, 1 s apart
        v[(t >= start) & (t < start + 0.05)] = 0.3
    p = np.where(t < 5.0, 300.0, 0.0)  # whole site lost at the first shot
    p[t >= 8.0] = 300.0  # back 0.95 s after the last shot
    r = events.ride_through(t, v, t, p, t_end_s=30.0)
    assert r["events"] == 3
    assert [e["p_pre_mw"] for e in r["event_list"]] == pytest.approx([300.0] * 3)
    assert r["mw_lost_max"] == pytest.approx(300.0)
    # shots 1 and 2: still out when the next shot starts 0.95 s later -> not judged
    assert [e["recovered"] for e in r["event_list"]] == [None, None, True]
    assert r["event_list"][2]["recovery_s"] == pytest.approx(0.95)


def test_no_disturbance():
    t = _grid()
    r = events.ride_through(t, np.ones_like(t), t, np.ones_like(t))
    assert r["events"] == 0 and r["mw_lost_max"] is None and r["all_recovered"] is None


def test_transfers():
    assert events.transfers(np.array([0, 0, 1, 1, 0, 0.7, 0])) == 2
    assert events.transfers(np.array([1.0, 0.0])) == 1


def test_frequency_from_recorded_rocof_and_computed():
    t = np.arange(0.0, 10.0, 0.1)
    f = np.where(t < 5.0, 60.0, 60.0 - 0.2 * np.minimum(t - 5.0, 1.0))  # -0.2 Hz/s for 1 s
    r = events.frequency_stats(t, f, rocof_window_s=0.5)
    assert r["nadir_hz"] == pytest.approx(59.8) and r["t_nadir_s"] == pytest.approx(6.0)
    assert r["zenith_hz"] == 60.0
    assert r["rocof_max_hz_per_s"] == pytest.approx(0.2)
    rec = events.frequency_stats(t, f, rocof_hz_per_s=np.where((t >= 5) & (t < 6), -0.25, 0.0))
    assert rec["rocof_max_hz_per_s"] == pytest.approx(0.25)
    none = events.frequency_stats(t, np.full_like(t, np.nan))
    assert none["nadir_hz"] is None and none["rocof_max_hz_per_s"] is None
