"""OLTC and BESS wear metrics."""

import numpy as np
import pandas as pd
import pytest

from cosim.metrics.wear import DEPTH_EDGES, bess_wear, rainflow_depths, tap_operations


def test_tap_operations_count_steps():
    df = pd.DataFrame(
        {
            "t_s": [0, 1, 2, 3, 4],
            "tap_pos.trafo.0": [0, 1, 3, 2, 2],  # 1 + 2 + 1 = 4 steps
            "tap_pos.trafo.5": [0, 0, np.nan, 0, -1],  # 1 step
        }
    )
    r = tap_operations(df)
    assert r["tap_ops"] == 5
    assert r["per_trafo"] == {"trafo.0": 4, "trafo.5": 1}
    assert tap_operations(pd.DataFrame({"t_s": [0]}))["tap_ops"] is None


def test_rainflow_depth_histogram():
    # 0.2 -> 0.8 -> 0.5 -> 0.6 -> 0.2: one full cycle of depth 0.1, two half cycles of depth 0.6
    h = rainflow_depths(np.array([0.2, 0.8, 0.5, 0.6, 0.2]))
    assert h.edges == DEPTH_EDGES
    assert h.as_dict() == {"edges": list(DEPTH_EDGES), "cycles": list(h.cycles)}
    cycles = dict(zip(zip(h["edges"][:-1], h["edges"][1:], strict=True), h["cycles"], strict=True))
    assert cycles[(0.1, 0.2)] == 1.0
    assert cycles[(0.4, 1.0)] == 1.0
    assert sum(h["cycles"]) == 2.0
    assert sum(rainflow_depths(np.array([0.5]))["cycles"]) == 0


def test_bess_throughput_efc_and_soc():
    t = np.array([0.0, 1800.0])
    p = np.array([10.0, -10.0])  # 10 MW charging for 30 min, then discharging for 30 min
    soc = np.array([0.5, 0.55, 0.6, 0.55, 0.48])
    r = bess_wear(t, p, soc, e_mwh=100.0, t_end_s=3600.0)
    assert r["charge_mwh"] == pytest.approx(5.0) and r["discharge_mwh"] == pytest.approx(5.0)
    assert r["throughput_mwh"] == pytest.approx(10.0)
    assert r["efc"] == pytest.approx(10.0 / 200.0)
    assert (r["soc_min"], r["soc_max"], r["soc_start"], r["soc_end"]) == (0.48, 0.6, 0.5, 0.48)
    assert r["soc_drift"] == pytest.approx(-0.02)
    assert r["rainflow_depth_hist"] is not None


def test_bess_without_data():
    r = bess_wear(np.empty(0), None, None, 100.0)
    assert r["throughput_mwh"] is None and r["efc"] is None and r["soc_min"] is None
