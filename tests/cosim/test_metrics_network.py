"""Bus voltage and branch loading metrics on hand-built network frames."""

import numpy as np
import pandas as pd
import pytest

from cosim.metrics.network import (
    band_episodes,
    energy_loss_mwh,
    loading_matrix,
    thermal_loading,
    voltage_band,
)


def _net_frame() -> pd.DataFrame:
    # t = 0..9 s at 1 s, with a refined stretch 5.0, 5.5
    t = np.array([0, 1, 2, 3, 4, 5, 5.5, 6, 7, 8, 9], dtype=float)
    n = t.size
    return pd.DataFrame(
        {
            "t_s": t,
            "converged": [1.0] * 9 + [0.0, 1.0],  # t = 8 did not converge
            "vm_pu.0": np.full(n, 1.0),
            # bus 1: low at t = 2, 3 (0.94, 0.93), high at t = 5.5 (1.06)
            "vm_pu.1": [1.0, 1.0, 0.94, 0.93, 1.0, 1.0, 1.06, 1.0, 1.0, 0.5, 1.0],
            "loading_percent.line.0": [50, 50, 120, 130, 50, 50, 50, 50, 50, 500, 50],
            "loading_percent.trafo.2": np.full(n, 80.0),
            "p_loss_mw": np.full(n, 3.6),
        }
    )


def test_band_episodes_by_hand():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    ep = band_episodes(t, {"a": np.array([1.0, 0.9, 0.8, 1.0])}, 0.95, 1.05, t_end_s=4.0)
    assert len(ep) == 1
    e = ep.iloc[0]
    assert (e.element, e.kind, e.t_start_s, e.t_end_s, e.duration_s, e.worst, e.t_worst_s) == (
        "a",
        "low",
        1.0,
        3.0,
        2.0,
        0.8,
        2.0,
    )
    assert e.excess == pytest.approx(0.15)


def test_voltage_band_range_a():
    df = _net_frame()
    r = voltage_band(df, 0.95, 1.05, t_end_s=10.0)
    # non-converged t = 8 (0.5 pu) is ignored
    assert r["v_min_pu"] == 0.93 and r["v_min_bus"] == "1" and r["v_min_t_s"] == 3.0
    assert r["v_max_pu"] == 1.06 and r["v_max_t_s"] == 5.5
    assert r["count"] == 2  # one low (2 s), one high (0.5 s)
    assert r["duration_s"] == pytest.approx(2.5)
    assert r["buses"] == 2 and r["buses_violated"] == 1
    # worst = largest excess: low 0.95 - 0.93 = 0.02 > high 1.06 - 1.05 = 0.01
    assert r["worst_bus"] == "1" and r["worst_vm_pu"] == 0.93 and r["worst_t_s"] == 3.0


def test_voltage_band_selected_buses_and_empty():
    df = _net_frame()
    r = voltage_band(df, 0.95, 1.05, buses=[0])
    assert r["buses"] == 1 and r["count"] == 0 and r["v_min_pu"] == 1.0
    r = voltage_band(pd.DataFrame({"t_s": [0.0]}), 0.95, 1.05)
    assert r["v_min_pu"] is None and r["count"] == 0


def test_thermal_loading_and_emergency():
    df = _net_frame()
    r = thermal_loading(df, 100.0, t_end_s=10.0, emergency_percent=125.0)
    assert r["loading_max_percent"] == 130.0  # the 500 % at t = 8 did not converge
    assert r["loading_max_branch"] == "line.0" and r["loading_max_t_s"] == 3.0
    assert r["count"] == 1 and r["duration_s"] == 2.0 and r["max_episode_s"] == 2.0
    assert r["branches"] == 2 and r["branches_violated"] == 1
    assert r["emergency_count"] == 1  # only t = 3 (130 %) is above 125 %


def test_loading_matrix_orders_by_peak():
    t, names, mat = loading_matrix(_net_frame(), top=1)
    assert names == ["line.0"] and mat.shape == (1, 11)


def test_losses_energy():
    # 3.6 MW over 10 s = 0.01 MWh
    assert energy_loss_mwh(_net_frame(), t_end_s=10.0) == pytest.approx(0.01)
    assert energy_loss_mwh(pd.DataFrame({"t_s": [0.0]})) is None


def test_preexisting_violations_are_found_with_a_tolerance() -> None:
    from cosim.metrics.network import preexisting_violations

    v_pre = {"1": 0.94, "2": 1.0, "3": 1.0500000001, "4": 1.06, "5": float("nan")}
    assert preexisting_violations(v_pre, 0.95, 1.05) == {"1": "low", "4": "high"}


def test_worsening_measures_extra_deviation_in_the_violation_direction() -> None:
    from cosim.metrics.network import worsening

    df = pd.DataFrame(
        {
            "t_s": [0.0, 1.0, 2.0],
            "converged": [1, 1, 1],
            "vm_pu.1": [0.940, 0.936, 0.941],  # pre 0.940, low: worsened by 0.004 at t=1
            "vm_pu.4": [1.060, 1.062, 1.059],  # pre 1.060, high: worsened by 0.002 at t=1
            "vm_pu.2": [0.900, 0.900, 0.900],  # not pre-existing: ignored here
        }
    )
    w = worsening(df, {"1": 0.940, "4": 1.060}, {"1": "low", "4": "high"})
    assert w["bus"] == "1" and w["t_s"] == 1.0
    assert w["worsening_pu"] == pytest.approx(0.004)
    improved = worsening(df.assign(**{"vm_pu.1": [0.95] * 3}), {"1": 0.940}, {"1": "low"})
    assert improved["worsening_pu"] == 0.0


def test_extreme_instant_is_the_first_within_round_off():
    """A generator bus at its 1.04 pu set point for the whole run: the maximum is reported at
    its first instant, whichever later step is larger by round-off."""
    t = np.arange(5.0)
    df = pd.DataFrame(
        {
            "t_s": t,
            "vm_pu.3": [1.0, 1.01, 1.02, 1.01, 1.0],
            "vm_pu.7": [1.04, 1.04 - 4e-13, 1.04 + 3e-13, 1.04, 1.04 - 2e-9],
            "converged": True,
        }
    )
    band = voltage_band(df, 0.95, 1.05)
    assert band.v_max_pu == pytest.approx(1.04 + 3e-13, abs=1e-15)  # the extreme itself
    assert band.v_max_t_s == 0.0 and band.v_max_bus == "7"
    assert band.v_min_t_s == 0.0 and band.v_min_bus == "3"  # 1.0 at t = 0 and t = 4: the first
