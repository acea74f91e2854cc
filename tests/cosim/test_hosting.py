"""Hosting capacity: the bisection on fake evaluators, binding constraints, tables and plot.

And one real study.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from cosim.errors import CaseError, CosimError
from cosim.studies.hosting import (
    Capacity,
    Evaluation,
    Violation,
    bisect_capacity,
    capacity_frame,
    describe,
    evaluation_from_record,
    hosting_capacity,
    locate,
    plot_capacity,
    relative_excess,
    size_grid,
    violations,
)


def threshold_evaluator(limit_mw: float, calls: list[float]):
    """Passes up to ``limit_mw``; above it the 'thermal' check fails by the excess."""

    def evaluate(it_mw: float) -> Evaluation:
        calls.append(it_mw)
        if it_mw <= limit_mw:
            return Evaluation(it_mw, True)
        v = Violation(
            "thermal",
            value=100.0 * it_mw / limit_mw,
            limit=100.0,
            unit="%",
            where="line 7",
            t_s=12.0,
            excess=it_mw / limit_mw - 1,
        )
        return Evaluation(it_mw, False, (v,))

    return evaluate


# ---------------------------------------------------------------- the search


def test_size_grid_steps_by_the_tolerance_and_ends_at_max() -> None:
    assert size_grid(10, 100, 20) == [10, 30, 50, 70, 90, 100]
    assert size_grid(10, 50, 20) == [10, 30, 50]
    with pytest.raises(CaseError):
        size_grid(100, 10, 5)
    with pytest.raises(CaseError):
        size_grid(10, 100, 0)


@pytest.mark.parametrize("limit", [10.0, 10.5, 137.0, 333.3, 500.0, 989.9, 990.0])
def test_bisection_finds_the_limit_within_the_tolerance(limit: float) -> None:
    calls: list[float] = []
    cap = bisect_capacity(threshold_evaluator(limit, calls), 10, 1000, 10)
    assert cap.status == "bracketed"
    assert cap.capacity_mw <= limit < cap.capacity_mw + 10 + 1e-9
    assert cap.failing is not None and cap.failing.it_mw > limit
    assert cap.binding is not None and cap.binding.check == "thermal"
    assert len(calls) == len(set(calls)), "a size was evaluated twice"
    assert len(calls) <= 2 + math.ceil(math.log2(len(size_grid(10, 1000, 10)) - 1))
    assert [e.it_mw for e in cap.history] == calls


def test_bisection_below_and_above_the_range() -> None:
    calls: list[float] = []
    below = bisect_capacity(threshold_evaluator(5.0, calls), 10, 1000, 10)
    assert (below.capacity_mw, below.status, calls) == (0.0, "below_range", [10])
    assert below.binding is not None and below.binding.where == "line 7"
    calls.clear()
    above = bisect_capacity(threshold_evaluator(5000.0, calls), 10, 1000, 10)
    assert (above.capacity_mw, above.status, above.binding) == (1000.0, "above_range", None)
    assert sorted(calls) == [10, 1000]


def test_bisection_prefetches_both_ends_first() -> None:
    seen: list[list[float]] = []
    calls: list[float] = []
    bisect_capacity(
        threshold_evaluator(300.0, calls), 50, 650, 100, prefetch=lambda s: seen.append(list(s))
    )
    assert seen == [[50, 650]]
    assert calls[:2] == [50, 650]


# ---------------------------------------------------------------- judging a run


def test_relative_excess_of_upper_lower_and_range_limits() -> None:
    assert relative_excess(110.0, 100.0) == pytest.approx(0.10)
    assert relative_excess(0.90, 0.95) == pytest.approx(0.05 / 0.95)
    assert relative_excess(0.1, [0.2, 0.8]) == pytest.approx(0.5)
    assert relative_excess(0.9, [0.2, 0.8]) == pytest.approx(0.125)
    assert math.isnan(relative_excess("ok", "ok"))


SUMMARY = {
    "status": "ok",
    "verdict": "fail",
    "case": {"poi_bus": 49},
    "poi": {"p_max_mw": 412.0, "ramp_max_t_s": 1800.0},
    "grid": {
        "loading_max_branch": "transmission:line.45",
        "loading_max_t_s": 1234.0,
        "v_min_bus": "transmission:12",
        "v_min_t_s": 3.0,
        "range_a": {
            "episodes": [
                {"element": "transmission:75", "kind": "low", "t_worst_s": 8.0, "excess": 0.007},
                {"element": "transmission:49", "kind": "low", "t_worst_s": 99.0, "excess": 0.02},
                {"element": "transmission:24", "kind": "high", "t_worst_s": 1.0, "excess": 0.001},
            ]
        },
    },
    "checks": [
        {
            "id": "run",
            "name": "Run completed",
            "value": "ok",
            "limit": "ok",
            "passed": True,
            "kind": "limit",
        },
        {
            "id": "ramp",
            "value": 24.0,
            "limit": 20.0,
            "unit": "MW/min",
            "passed": False,
            "kind": "limit",
        },
        {
            "id": "thermal",
            "value": 130.0,
            "limit": 100.0,
            "unit": "%",
            "passed": False,
            "kind": "limit",
        },
        {
            "id": "v_range_a_min",
            "value": 0.93,
            "limit": 0.95,
            "unit": "pu",
            "passed": False,
            "kind": "limit",
        },
        {"id": "scr", "value": 1.0, "limit": 3.0, "passed": False, "kind": "info"},
        {"id": "pst", "value": None, "limit": 0.8, "passed": None, "kind": "limit"},
    ],
}


def test_violations_decide_by_excess_skip_info_and_locate_where_and_when() -> None:
    found = violations(SUMMARY)
    assert [v.check for v in found] == ["thermal", "ramp", "v_range_a_min"]  # 30 %, 20 %, 2.1 %
    thermal, ramp, vmin = found
    assert (thermal.where, thermal.t_s) == ("transmission:line.45", 1234.0)
    assert (ramp.where, ramp.t_s) == ("POI bus 49", 1800.0)
    assert (vmin.where, vmin.t_s) == ("transmission:49", 99.0)  # the worst low-voltage episode
    assert thermal.describe() == "thermal: 130 % vs limit 100 % (transmission:line.45, t=1234 s)"


def test_a_check_that_says_where_and_when_wins_over_the_metrics() -> None:
    summary = {
        **SUMMARY,
        "checks": [
            {
                "id": "thermal",
                "value": 101.0,
                "limit": 100.0,
                "passed": False,
                "where": "trafo 3",
                "t_s": 7.5,
            }
        ],
    }
    assert (violations(summary)[0].where, violations(summary)[0].t_s) == ("trafo 3", 7.5)
    assert locate("thermal", SUMMARY) == ("transmission:line.45", 1234.0)


def test_a_power_flow_that_did_not_converge_never_passes() -> None:
    """Without a converged power flow the voltage checks are 'not applicable': verdict may pass."""
    summary = {
        **SUMMARY,
        "verdict": "pass",
        "checks": [],
        "grid": {**SUMMARY["grid"], "nonconverged_steps": {"transmission": 10}},
    }
    ev = evaluation_from_record(4000.0, {"status": "ok", "error": "", "summary": summary})
    assert not ev.passed
    assert (ev.binding.check, ev.binding.value, ev.binding.where) == (
        "power_flow_converged",
        10,
        "transmission",
    )


def test_evaluation_of_a_failed_run_binds_on_the_run_check() -> None:
    record = {
        "status": "failed",
        "error": "federate 'transmission' failed: exited with code 1\nmore",
        "summary": {"status": "failed"},
    }
    ev = evaluation_from_record(800.0, record, "r1")
    assert not ev.passed
    assert ev.binding == Violation(
        "run", detail="federate 'transmission' failed: exited with code 1"
    )


def test_evaluation_of_a_passing_run_and_of_a_summary_without_verdict() -> None:
    ev = evaluation_from_record(
        100.0, {"status": "ok", "error": "", "summary": {**SUMMARY, "verdict": "pass"}}
    )
    assert ev.passed and ev.violations == () and ev.poi_p_max_mw == 412.0
    with pytest.raises(CosimError, match="no verdict"):
        evaluation_from_record(
            100.0, {"status": "ok", "error": "", "summary": {"status": "ok"}}, "r2"
        )


# ---------------------------------------------------------------- tables and plot


def _capacities() -> dict[tuple[int, bool], Capacity]:
    out = {}
    for bus, limit_with, limit_without in ((12, 420.0, 260.0), (49, 5000.0, 5.0)):
        for with_bess, limit in ((True, limit_with), (False, limit_without)):
            out[(bus, with_bess)] = bisect_capacity(threshold_evaluator(limit, []), 10, 1000, 10)
    return out


def test_capacity_table_describe_and_plot(tmp_path: Path) -> None:
    frame = capacity_frame(_capacities(), 10, 1000, 10)
    assert frame[["bus", "bess", "status"]].values.tolist() == [
        [12, True, "bracketed"],
        [12, False, "bracketed"],
        [49, True, "above_range"],
        [49, False, "below_range"],
    ]
    row = frame.iloc[0]
    assert row["capacity_it_mw"] <= 420 < row["capacity_it_mw"] + 10
    assert (row["binding_check"], row["binding_where"], row["binding_t_s"]) == (
        "thermal",
        "line 7",
        12.0,
    )
    lines = describe(frame)
    assert (
        lines[0].startswith("bus   12 with BESS")
        and "binding at" in lines[0]
        and "thermal" in lines[0]
    )
    assert ">= 1000.0 MW" in lines[2]
    assert "< 10 MW" in lines[3]
    plot = plot_capacity(frame, tmp_path / "hc.png")
    assert plot is not None and plot.stat().st_size > 5000


# ---------------------------------------------------------------- one real study


@pytest.mark.integration
def test_real_hosting_study_on_one_bus(tmp_path: Path) -> None:
    """Two real runs (both ends of the range at once): 20 MW passes, 600 MW overloads a branch.

    pandapower's ``case118`` has no real branch ratings, so its thermal check is not
    assessed and cannot bind (nor can the screening checks); at 600 MW the POI voltage
    falls below ANSI Range A, an assessed limit.
    """
    case = tmp_path / "hc.toml"
    case.write_text(
        'name = "hc"\nseed = 1\n[horizon]\nduration_s = 10\n[factory]\npoi_bus = 11\n'
        '[requirements]\nvoltage_buses = "poi"\ninformational = ["scr", "osc"]\n'
        "thermal_max_percent = 5.0\n"
    )
    res = hosting_capacity(
        case,
        [11],
        tmp_path / "hc",
        bess=[True],
        min_mw=20,
        max_mw=600,
        tol_mw=1000,
        workers=2,
        progress=False,
    )
    row = res.frame.iloc[0]
    runs = pd.read_parquet(tmp_path / "hc" / "hosting_runs.parquet")
    assert row["status"] == "bracketed", runs.to_dict("records")
    assert row["capacity_it_mw"] == 20 and row["binding_at_it_mw"] == 600
    assert row["binding_check"] == "v_range_a_min"
    assert row["binding_where"].startswith("transmission:") and row["binding_t_s"] >= 0
    assert float(row["binding_value"]) < 0.95 and float(row["binding_limit"]) == 0.95
    thermal = json.loads(
        (tmp_path / "hc" / "runs" / runs["run_id"][1] / "summary.json").read_text()
    )
    th = next(c for c in thermal["checks"] if c["id"] == "thermal")
    assert th["basis"] == "not assessed" and th["passed"] is None
    assert runs["it_mw"].tolist() == [20, 600] and runs["passed"].tolist() == [True, False]
    assert (tmp_path / "hc" / "hosting.parquet").is_file()
    assert (tmp_path / "hc" / "plots" / "hosting_capacity.png").is_file()
    for run_id in runs["run_id"]:
        assert (tmp_path / "hc" / "runs" / run_id / "summary.json").is_file()
