"""POI metrics on hand-built series: extremes, PF, ramps, RVC, flicker, spectrum."""

import numpy as np
import pytest

from cosim.metrics import poi


def test_power_extremes_time_weighted():
    t = np.array([0.0, 10.0, 10.5, 20.0])
    p = np.array([100.0, 300.0, 100.0, 200.0])
    r = poi.power_extremes(t, p, t_end_s=30.0)
    assert (r["p_max_mw"], r["p_max_t_s"], r["p_min_mw"], r["p_min_t_s"]) == (
        300.0,
        10.0,
        100.0,
        0.0,
    )
    # energy: 100*10 + 300*0.5 + 100*9.5 + 200*10 = 4100 MWs
    assert r["energy_mwh"] == pytest.approx(4100 / 3600)
    assert r["p_mean_mw"] == pytest.approx(4100 / 30)
    assert poi.power_extremes(t, np.full(4, np.nan))["p_max_mw"] is None


def test_power_factor_lag_lead_and_light_load():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    p = np.array([100.0, 100.0, 100.0, 1.0])
    q = np.array([20.0, 50.0, -10.0, 5.0])  # pf 0.9806 lag, 0.8944 lag, 0.995 lead, (light)
    r = poi.power_factor(t, p, q, 0.95, 0.95, s_min_mva=10.0, t_end_s=4.0)
    assert r["pf_min_lag"] == pytest.approx(100 / np.hypot(100, 50))
    assert r["pf_min_lead"] == pytest.approx(100 / np.hypot(100, 10))
    assert r["out_of_band_s"] == 1.0
    assert r["out_of_band_percent"] == pytest.approx(100 / 3)


def test_ramp_of_a_step_over_one_minute():
    # 1 s grid, a 100 MW step at t = 300 s, 600 s long
    t = np.arange(0.0, 600.0, 1.0)
    p = np.where(t < 300, 100.0, 200.0)
    r = poi.ramp_rates(t, p, 60.0, t_end_s=600.0)
    # consecutive 60 s means differ by at most 100 MW -> 100 MW/min, at t = 360 s
    assert r["max_mw_per_min"] == pytest.approx(100.0)
    assert r["max_mw_per_s"] == pytest.approx(100.0 / 60.0)
    assert r["t_max_s"] == pytest.approx(360.0)
    # the ramp is non-zero only for 120 s of the 480 s judged: the p99 is well below the max
    assert 0 < r["p99_mw_per_min"] < 100.0
    r1 = poi.ramp_rates(t, p, 1.0, t_end_s=600.0)
    assert r1["max_mw_per_s"] == pytest.approx(100.0)


def test_ramp_of_a_linear_ramp_and_non_uniform_grid():
    # 20 MW/min ramp sampled irregularly: ramp of the averages is the same 20 MW/min
    t = np.sort(np.concatenate([np.arange(0.0, 600.0, 1.0), np.arange(100.0, 101.0, 0.01)]))
    t = np.unique(np.round(t, 9))
    p = 50.0 + 20.0 / 60.0 * t
    r = poi.ramp_rates(t, p, 60.0, t_end_s=600.0)
    assert r["max_mw_per_min"] == pytest.approx(20.0, rel=1e-3)
    assert r["p99_mw_per_min"] == pytest.approx(20.0, rel=1e-3)


def test_ramp_too_short():
    r = poi.ramp_rates(np.arange(0.0, 50.0), np.ones(50), 60.0)
    assert r["max_mw_per_min"] is None


def test_fast_oscillation_does_not_count_as_ramp():
    # 0.5 Hz square wave +/- 60 MW: the 60 s averages barely move
    t = np.arange(0.0, 600.0, 0.05)
    p = np.where(np.mod(t, 2.0) < 1.0, 300.0, 180.0)
    r = poi.ramp_rates(t, p, 60.0, t_end_s=600.0)
    assert r["max_mw_per_min"] < 1.0


def test_rapid_voltage_change_step_and_dip_exclusion():
    t = np.arange(0.0, 10.0, 0.1)
    v = np.where(t < 5.0, 1.0, 0.98)
    r = poi.rapid_voltage_change(t, v, 1.0, t_end_s=10.0)
    # first sample after the step: |0.98 - 1.0| = 2 %
    assert r["max_percent"] == pytest.approx(2.0)
    assert r["t_max_s"] == pytest.approx(5.0)
    # a dip to 0.5 pu at t = [3, 3.2) is ride-through, not RVC: the 2 % step still wins
    v2 = v.copy()
    v2[(t >= 3.0) & (t < 3.2)] = 0.5
    r2 = poi.rapid_voltage_change(t, v2, 1.0, t_end_s=10.0)
    assert r2["max_percent"] == pytest.approx(2.0)
    assert r2["excluded_s"] == pytest.approx(0.2)


def test_reversals_and_changes_with_hysteresis():
    x = np.array([0.0, 1.0, 2.0, 1.995, 2.0, 0.5, 0.5, 3.0])
    # 0 -> 2 (up 2), 2 -> 0.5 (down 1.5), 0.5 -> 3 (up 2.5); the 0.005 wiggle is noise
    assert poi.reversals(x, 0.01).tolist() == [0, 2, 5, 7]
    assert poi.voltage_changes(x, 0.01) == pytest.approx([2.0, 1.5, 2.5])
    assert poi.voltage_changes(np.ones(5)).size == 0


def test_flicker_pst_analytical():
    # 1 % steps, one per second, for 600 s: sum tf = 600 * 2.3 * 1^3.2 -> Pst = 2.3^(1/3.2)
    t = np.arange(0.0, 600.0, 0.5)
    v = np.where(np.mod(t, 2.0) < 1.0, 1.0, 0.99)
    r = poi.flicker_severity(t, v, t_end_s=600.0)
    assert len(r["pst"]) == 1
    assert r["pst_max"] == pytest.approx(2.3 ** (1 / 3.2), rel=1e-3)
    assert r["plt"] == pytest.approx(r["pst_max"])
    flat = poi.flicker_severity(t, np.ones_like(t), t_end_s=600.0)
    assert flat["pst_max"] == 0.0


def test_flicker_ignores_dips_and_plt_over_windows():
    t = np.arange(0.0, 1200.0, 1.0)
    v = np.ones_like(t)
    v[100:102] = 0.3  # a dip: left out, not flicker
    v[700::2] = 0.99  # second window: 1 % changes every second
    r = poi.flicker_severity(t, v, t_end_s=1200.0)
    assert r["pst"][0] == 0.0
    # 500 changes of 1 % in the second window (699->700 ... 1198->1199)
    assert r["pst"][1] == pytest.approx(((500 * 2.3) / 600) ** (1 / 3.2), rel=1e-6)
    assert r["plt"] == pytest.approx((r["pst"][1] ** 3 / 2) ** (1 / 3))
    assert r["excluded_s"] == 2.0


def test_band_rms_of_a_sine():
    dt = 0.02
    t = np.arange(0.0, 400.0, dt)
    amp = 30.0
    p = 240.0 + amp * np.sin(2 * np.pi * 0.5 * t)
    r = poi.oscillation_bands(t, p)
    assert r["osc_rms_0p1_2hz_mw"] == pytest.approx(amp / np.sqrt(2), rel=0.02)
    assert r["osc_rms_0p2_3hz_mw"] == pytest.approx(amp / np.sqrt(2), rel=0.02)
    assert r["osc_rms_3_30hz_mw"] < 0.05
    assert r["nyquist_hz"] == pytest.approx(25.0)
    assert r["bands_truncated"] == ["3_30hz"]


def test_band_above_nyquist_is_none():
    t = np.arange(0.0, 600.0, 1.0)  # Nyquist 0.5 Hz
    r = poi.oscillation_bands(t, np.sin(0.2 * t))
    assert r["osc_rms_3_30hz_mw"] is None
    assert r["osc_rms_0p1_2hz_mw"] is not None


def test_spectrum_of_non_uniform_series_is_resampled():
    t = np.unique(
        np.round(np.concatenate([np.arange(0.0, 100.0, 0.1), np.arange(50.0, 51.0, 0.01)]), 9)
    )
    f, pxx, dt = poi.spectrum(t, np.sin(2 * np.pi * t))
    assert dt == pytest.approx(0.01)
    assert f[np.argmax(pxx)] == pytest.approx(1.0, abs=0.02)


def test_attenuation_db():
    assert poi.attenuation_db(100.0, 1.0) == pytest.approx(40.0)
    assert poi.attenuation_db(None, 1.0) is None
    assert poi.attenuation_db(1.0, 0.0) is None
