"""Typed metric results, the one JSON encoder and the one flattener."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from cosim.analysis.compare import flatten_metrics
from cosim.analysis.jsonio import flatten, jsonable
from cosim.metrics import events, poi, wear
from cosim.studies.sweep import flatten_summary


def test_metric_results_are_frozen_and_refuse_unknown_names():
    r = poi.ramp_rates(np.arange(200.0), np.arange(200.0), 60.0)
    assert r.max_mw_per_min == pytest.approx(60.0) and r["max_mw_per_min"] == r.max_mw_per_min
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.max_mw_per_min = 0.0  # type: ignore[misc]
    with pytest.raises(KeyError, match="max_mw_per_minute"):
        r["max_mw_per_minute"]  # a typo is an error, not a silent None
    assert set(r.as_dict()) == {f.name for f in dataclasses.fields(r)}


def test_nested_results_become_plain_data():
    rt = events.ride_through(
        np.array([0.0, 1.0, 2.0, 3.0]),
        np.array([1.0, 0.5, 1.0, 1.0]),
        np.array([0.0, 1.0, 2.0, 3.0]),
        np.array([100.0, 0.0, 100.0, 100.0]),
    )
    d = rt.as_dict()
    assert d["events"] == 1 and isinstance(d["event_list"], list)
    assert d["event_list"][0]["mw_lost"] == pytest.approx(100.0)
    w = wear.bess_wear(np.array([0.0, 1.0]), None, np.array([0.5, 0.6, 0.5]), 100.0)
    assert w.as_dict()["rainflow_depth_hist"]["edges"] == list(wear.DEPTH_EDGES)


def test_one_json_encoder_for_results_numpy_and_nan():
    data = {
        "r": poi.power_extremes(np.array([0.0, 1.0]), np.array([1.0, np.nan])),
        "x": np.float32(1.5),
        "n": np.int64(3),
        "a": np.array([1.0, np.inf]),
        "t": (1, 2),
        "bad": float("nan"),
    }
    out = jsonable(data)
    json.dumps(out, allow_nan=False)
    assert out["r"]["p_max_mw"] == 1.0 and out["a"] == [1.0, None] and out["bad"] is None
    assert out["t"] == [1, 2] and out["n"] == 3 and out["x"] == 1.5


SUMMARY = {
    "status": "ok",
    "poi": {"p_max_mw": 10.0, "v_min_pu": None, "osc_band_hz": [0.1, 20.0], "series": "x"},
    "run": {"host": "h"},
    "n1": {"ranking": [{"a": 1}], "outages_screened": 3},
    "checks": [{"id": "ramp", "passed": True, "value": 1.0, "limit": 20.0, "basis": "assessed"}],
}


def test_sweep_and_compare_flatten_the_same_way():
    flat = flatten(SUMMARY, skip=("run",))
    assert flatten_summary(SUMMARY) == flat
    assert flat["poi.p_max_mw"] == 10.0 and flat["poi.osc_band_hz"] == "[0.1, 20.0]"
    assert flat["checks.ramp.basis"] == "assessed" and "run.host" not in flat
    metrics = flatten_metrics(SUMMARY)
    assert metrics["poi.p_max_mw"] == 10.0 and math.isnan(metrics["poi.v_min_pu"])
    assert metrics["n1.outages_screened"] == 3.0
    assert not any(k.startswith(("checks", "n1.ranking", "run")) for k in metrics)
    assert set(metrics) <= set(flat)


def test_frequency_config_takes_the_interconnection_preset():
    from federates.grid.config import FrequencyConfig
    from federates.grid.interconnections import preset

    ercot = preset("ERCOT").frequency_config()
    f = FrequencyConfig(interconnection="ERCOT")
    assert (f.s_base_mva, f.h_s, f.r_pu) == (ercot["s_base_mva"], ercot["h_s"], ercot["r_pu"])
    assert FrequencyConfig(interconnection="ERCOT", h_s=3.0).h_s == 3.0  # the case wins
    assert FrequencyConfig().s_base_mva is None  # 'none': the study network's generation
    with pytest.raises(ValueError, match="ERCOT"):
        FrequencyConfig(interconnection="Texas")
