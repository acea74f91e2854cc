"""Comparison of two summaries / run directories."""

import json

import pytest

from cosim.analysis.compare import (
    compare_runs,
    compare_summaries,
    flatten_metrics,
    render_comparison,
    write_comparison_json,
)
from tests.cosim.synthetic_run import make_run_dir

A = {
    "status": "ok",
    "steps": 100,
    "verdict": "fail",
    "poi": {
        "p_max_mw": 300.0,
        "ramp_max_mw_per_min": 120.0,
        "scr": None,
        "power_series": "factory_hr",
    },
    "bess": {"efc": 0.0, "enabled": False},
    "checks": [
        {
            "id": "ramp",
            "name": "POI ramp",
            "value": 120.0,
            "limit": 20.0,
            "unit": "MW/min",
            "passed": False,
        },
        {"id": "rvc", "name": "RVC", "value": 1.0, "limit": 3.0, "unit": "%", "passed": True},
    ],
    "requirements": {"ramp_max_mw_per_min": {"value": 20.0}},
}
B = {
    "status": "ok",
    "steps": 100,
    "verdict": "pass",
    "poi": {
        "p_max_mw": 240.0,
        "ramp_max_mw_per_min": 15.0,
        "scr": 4.0,
        "power_series": "factory_hr",
    },
    "bess": {"efc": 0.5, "enabled": True},
    "checks": [
        {
            "id": "ramp",
            "name": "POI ramp",
            "value": 15.0,
            "limit": 20.0,
            "unit": "MW/min",
            "passed": True,
        },
        {"id": "rvc", "name": "RVC", "value": 0.5, "limit": 3.0, "unit": "%", "passed": True},
    ],
}


def test_flatten_keeps_numeric_leaves_only():
    flat = flatten_metrics(A)
    assert flat["poi.p_max_mw"] == 300.0 and flat["steps"] == 100.0
    assert "poi.power_series" not in flat and "bess.enabled" not in flat  # strings and bools
    assert "requirements.ramp_max_mw_per_min.value" not in flat  # bookkeeping
    assert flat["poi.scr"] != flat["poi.scr"]  # NaN placeholder: present in one run only


def test_deltas_and_check_changes():
    cmp = compare_summaries(A, B, "baseline", "bess")
    rows = {r["metric"]: r for r in cmp["metrics"]}
    assert rows["poi.p_max_mw"]["delta"] == -60.0
    assert rows["poi.p_max_mw"]["delta_percent"] == pytest.approx(-20.0)
    assert rows["poi.ramp_max_mw_per_min"]["delta"] == -105.0
    assert rows["bess.efc"]["delta"] == 0.5 and rows["bess.efc"]["delta_percent"] is None  # a = 0
    assert rows["poi.scr"] == {
        "metric": "poi.scr",
        "a": None,
        "b": 4.0,
        "delta": None,
        "delta_percent": None,
    }
    assert rows["steps"]["delta"] == 0.0
    checks = {c["id"]: c for c in cmp["checks"]}
    assert (
        checks["ramp"]["changed"]
        and checks["ramp"]["a_passed"] is False
        and checks["ramp"]["b_passed"] is True
    )
    assert not checks["rvc"]["changed"]
    assert cmp["verdict"] == {"a": "fail", "b": "pass"}


def test_text_and_json(tmp_path):
    cmp = compare_summaries(A, B, "baseline", "bess")
    text = render_comparison(cmp)
    line = next(ln for ln in text.splitlines() if ln.startswith("poi.p_max_mw"))
    assert line.split()[1:4] == ["300", "240", "-60"] and line.split()[4] == "-20.0"
    assert "POI ramp" in text and "<- changed" in text and "verdict: A fail  ->  B pass" in text
    short = render_comparison(cmp, changed_only=True)
    assert "steps" not in short.split("check")[0] and "RVC" not in short
    path = write_comparison_json(cmp, tmp_path / "cmp.json")
    assert json.loads(path.read_text())["metrics"] == cmp["metrics"]


def test_compare_run_directories(tmp_path):
    base = make_run_dir(tmp_path / "base", bess=False)
    run = make_run_dir(tmp_path / "run")
    cmp = compare_runs(base, run)  # summary.json has no checks yet: rebuilt
    rows = {r["metric"]: r for r in cmp["metrics"]}
    assert rows["poi.p_max_mw"]["a"] == 300.0 and rows["poi.p_max_mw"]["b"] == 240.0
    assert rows["poi.osc_rms_0p2_3hz_mw"]["delta"] < 0  # the BESS flattens the swing
    assert cmp["a"] == str(base) and any(c["id"] == "soc_window" for c in cmp["checks"])
