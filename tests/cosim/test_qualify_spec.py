"""BESS specs, per-test parameters, tests as case overrides, the weak grid and the report.

No federation runs here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cosim.case import CASES_DIR
from cosim.errors import CaseError
from cosim.studies.qualify import load_spec, select_tests
from cosim.studies.qualify.params import Param, resolve
from cosim.studies.qualify.runner import overall_verdict
from cosim.studies.qualify.tests import REGISTRY, Context, params_of, resolve_values

SPECS = CASES_DIR / "bess_specs"


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------- params


def test_resolve_reports_default_and_overridden_sources():
    ps = [
        Param("limit", 2.0, "%", "docs/domain.md Q1", "x"),
        Param("band", (0.1, 20.0), "Hz", "docs/domain.md Q1", "y"),
    ]
    v = resolve("Q1", ps, {"limit": 1.5})
    assert v["limit"].value == 1.5 and v["limit"].overridden
    assert v["limit"].source == "case file (default 2.0 from docs/domain.md Q1)"
    assert v["band"].value == (0.1, 20.0) and v["band"].source == "docs/domain.md Q1"
    named = resolve("Q1", ps, {"limit": 1.5, "sources": {"limit": "utility X, 2026"}})
    assert named["limit"].source == "utility X, 2026"
    same = resolve("Q1", ps, {"limit": 2.0})
    assert not same["limit"].overridden and same["limit"].source == "docs/domain.md Q1"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"nope": 1}, "unknown parameter"),
        ({"limit": "high"}, "is not a number"),
        ({"limit": True}, "is not a number"),
        ({"band": [1.0]}, "list of 2"),
        ({"sources": {"nope": "x"}}, "unknown parameter"),
    ],
)
def test_resolve_rejects_bad_tables(table, message):
    ps = [Param("limit", 2.0, "%", "s", "x"), Param("band", (0.1, 20.0), "Hz", "s", "y")]
    with pytest.raises(ValueError, match=message):
        resolve("Q1", ps, table)


def test_every_test_has_sourced_parameters_and_a_profile():
    assert list(REGISTRY) == [f"Q{i}" for i in range(1, 13)]
    for tid, prof in REGISTRY.items():
        assert prof.full_duration_s >= prof.min_duration_s > 0
        for p in params_of(tid):
            assert p.source and p.unit and p.description, (tid, p.name)


# ---------------------------------------------------------------- spec


def test_bundled_specs_load_on_the_reference_case():
    d = load_spec(SPECS / "default_100mw.toml")
    u = load_spec(SPECS / "undersized_10mw.toml")
    assert not d.full_case and not u.full_case
    cd, cu = d.case(), u.case()
    assert (cd.bess.p_mw, cd.bess.e_mwh) == (100.0, 100.0)
    assert (cu.bess.p_mw, cu.bess.e_mwh, cu.bess.s_mva) == (10.0, 2.0, 11.0)
    from cosim.case import load_case

    ref = load_case("ieee118_factory")
    assert (
        cu.factory.poi_bus == cd.factory.poi_bus == ref.factory.poi_bus
    )  # from the reference case
    assert cu.grid.network == ref.grid.network
    assert cu.factory.site_peak_mw == ref.factory.site_peak_mw
    assert cu.name == "undersized_10mw"


def test_spec_thresholds_and_options(tmp_path):
    p = _write(
        tmp_path,
        """
[bess]
p_mw = 50.0
[qualify]
wall_limit_s = 900
[qualify.weak_grid]
rx_ratio = 0.3
[qualify.Q1]
osc_limit_percent = 1.0
sources = { osc_limit_percent = "utility X" }
[qualify.Q4]
dip_s = 30.0
""",
    )
    s = load_spec(p)
    assert s.options.wall_limit_s == 900 and s.options.weak_grid.rx_ratio == 0.3
    v1 = resolve_values(s, "Q1")
    assert v1["osc_limit_percent"].value == 1.0 and v1["osc_limit_percent"].source == "utility X"
    assert resolve_values(s, "Q4")["dip_s"].value == 30.0
    assert s.case().bess.p_mw == 50.0


def test_q3_uses_the_case_ramp_limit(tmp_path):
    p = _write(tmp_path, "[requirements]\nramp_max_mw_per_min = 10.0\n")
    s = load_spec(p)
    assert s.full_case  # [requirements] is not a BESS table
    v = resolve_values(s, "Q3")["ramp_limit_mw_per_min"]
    assert v.value == 10.0 and "requirements.ramp_max_mw_per_min" in v.source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[bess]\np_mw = -5\n", "bess.p_mw"),
        ("[bess]\nbogus = 1\n", "bess.bogus: unknown key"),
        ("[qualify.Q99]\nx = 1\n", "unknown test"),
        ("[qualify.Q1]\nnope = 1\n", "unknown parameter"),
        ("[qualify]\nreference = 'no_such_case'\n", "no case file"),
        ("[qualify]\nbogus = 1\n", "qualify.bogus"),
        ("[bess]\np_mw = \n", "not valid TOML"),
    ],
)
def test_bad_specs_are_case_errors(tmp_path, text, message):
    with pytest.raises(CaseError, match=message):
        load_spec(_write(tmp_path, text))


def test_missing_spec_file():
    with pytest.raises(CaseError, match="not found"):
        load_spec(Path("/no/such/spec.toml"))


def test_overrides_apply_to_the_spec():
    s = load_spec(SPECS / "default_100mw.toml", ["bess.p_mw=40", "qualify.Q1.osc_limit_percent=3"])
    assert s.case().bess.p_mw == 40.0
    assert resolve_values(s, "Q1")["osc_limit_percent"].value == 3.0


def test_select_tests():
    assert select_tests(None) == list(REGISTRY)
    assert select_tests("q7, Q1") == ["Q1", "Q7"]
    with pytest.raises(CaseError, match="Q13"):
        select_tests("Q1,Q13")


def test_overall_verdict():
    assert overall_verdict([{"passed": True}, {"passed": True}]) == "pass"
    assert overall_verdict([{"passed": True}, {"passed": False}, {"passed": None}]) == "fail"
    assert overall_verdict([{"passed": True}, {"passed": None}]) == "incomplete"


# ---------------------------------------------------------------- profiles


def _ctx(tid: str, tmp_path: Path, scale: float = 1.0) -> Context:
    s = load_spec(SPECS / "default_100mw.toml")
    return Context(
        s, tid, tmp_path / tid, scale, resolve_values(s, tid), REGISTRY[tid].duration(scale)
    )


@pytest.mark.parametrize("tid", list(REGISTRY))
def test_profiles_build_valid_cases(tid, tmp_path):
    for scale in (0.01,) if tid == "Q9" else (1.0, 0.01):
        ctx = _ctx(tid, tmp_path, scale)
        plans = REGISTRY[tid].plan(ctx)
        assert [p.name for p in plans] == (
            ["over", "under"]
            if tid == "Q10"
            else ["main", "baseline"]
            if tid == "Q12"
            else ["main"]
        )
        for plan in plans:
            case = ctx.spec.case(plan.overrides)
            assert case.horizon.duration_s == ctx.duration_s
            assert case.outputs.report is False
            assert case.name == f"default_100mw-{tid}"


def test_durations_full_by_default_and_shortened_not_below_minimum():
    assert REGISTRY["Q5"].duration(1.0) == 86400.0
    assert REGISTRY["Q5"].duration(0.05) == pytest.approx(4320.0)
    assert REGISTRY["Q1"].duration(0.001) == REGISTRY["Q1"].min_duration_s


def test_q1_stimulus_is_the_square_wave(tmp_path):
    ctx = _ctx("Q1", tmp_path)
    case = ctx.spec.case(REGISTRY["Q1"].plan(ctx)[0].overrides)
    job = case.factory.training.jobs[0]
    assert (job.period_s, job.compute_duty, job.trough_fraction, job.checkpoint_duration_s) == (
        2.0,
        0.5,
        0.35,
        0.0,
    )
    assert case.horizon.factory_dt_s <= 0.025  # Nyquist above the 20 Hz band edge


def test_q2_writes_a_chirp_trace(tmp_path):
    import pandas as pd

    ctx = _ctx("Q2", tmp_path, 0.01)
    case = ctx.spec.case(REGISTRY["Q2"].plan(ctx)[0].overrides)
    assert case.factory.profile == "trace" and case.factory.trace.applies_to == "site"
    df = pd.read_csv(case.factory.trace.path)
    assert df["p_mw"].max() == pytest.approx(0.7 * case.factory.site_peak_mw + 30.0, abs=0.05)
    assert df["t_s"].iloc[-1] >= ctx.duration_s


def test_q4_dips_fit_shortened_runs(tmp_path):
    ctx = _ctx("Q4", tmp_path, 0.01)
    REGISTRY["Q4"].plan(ctx)
    dips = ctx.info["dips"]
    assert len(dips) == 2 and all(b - a == 60.0 for a, b in dips)
    assert dips[-1][0] < ctx.duration_s
    full = _ctx("Q4", tmp_path, 1.0)
    REGISTRY["Q4"].plan(full)
    assert [a for a, _ in full.info["dips"]] == [600.0, 2400.0]


def test_q7_is_the_july_2024_train(tmp_path):
    ctx = _ctx("Q7", tmp_path)
    case = ctx.spec.case(REGISTRY["Q7"].plan(ctx)[0].overrides)
    sags = [e for e in case.events if e.kind == "sag"]
    assert len(sags) == 6
    assert all(0.25 <= e.vm_pu <= 0.40 and 0.042 <= e.duration_s <= 0.066 for e in sags)
    assert sags[-1].t_s - sags[0].t_s == pytest.approx(82.0)
    assert all(e.bus == case.factory.poi_bus for e in sags)


def test_q6_call(tmp_path):
    ctx = _ctx("Q6", tmp_path)
    case = ctx.spec.case(REGISTRY["Q6"].plan(ctx)[0].overrides)
    (call,) = case.controls.demand_response.calls
    assert (call.reduction, call.duration_s, call.speed) == (0.3, 3600.0, "fast")


# ---------------------------------------------------------------- weak grid


def test_weak_grid_has_the_requested_scr_and_rx(tmp_path):
    import pandapower as pp

    from cosim.metrics.grid_strength import short_circuit_ratio
    from cosim.studies.qualify.weakgrid import write_weak_grid

    tan_phi = math.tan(math.acos(0.98))
    g = write_weak_grid(
        tmp_path / "wg.json",
        scr=2.0,
        rx_ratio=0.5,
        p_base_mw=300.0,
        p_comp_mw=240.0,
        q_comp_mvar=240.0 * tan_phi,
    )
    net = pp.from_json(str(g.path))
    r = short_circuit_ratio(net, g.poi_bus, 300.0)
    # the project's metric is IEC 60909 (c_max = 1.1 x V^2 / Z); the suite's SCR is plain V^2 / Z
    assert r["scr"] == pytest.approx(2.0 * 1.1, rel=0.01)
    assert r["rx_ratio"] == pytest.approx(0.5, rel=0.01)
    assert g.v_at_comp_pu == pytest.approx(1.0, abs=1e-3)
    assert g.shunt_mvar > 0
    assert 240.0 < g.p_max_mw < 300.0  # carries the mean import, not the full site peak


def test_weak_grid_too_weak_is_reported():
    from cosim.studies.qualify.weakgrid import size_compensation

    with pytest.raises(ValueError, match="cannot carry"):
        size_compensation(2.0, 1.0, 300.0, 250.0, 50.0)


# ---------------------------------------------------------------- report


def test_report_renders_every_test_with_embedded_figures(tmp_path):
    from cosim.studies.qualify.evidence import Figure, Panel
    from cosim.studies.qualify.report import render_figures, write_reports

    p = Panel("P [MW]", band=(0.0, 1.0))
    p.add("x", np.arange(10.0), np.arange(10.0))
    (png,) = render_figures([Figure("f", "t", [p])], tmp_path / "plots")
    tests = [
        {
            "id": "Q1",
            "name": "a",
            "passed": True,
            "status": "ok",
            "metric": "m",
            "value": 1.0,
            "threshold": 2.0,
            "unit": "MW",
            "source": "docs/domain.md",
            "reason": "ok",
            "shortfall": None,
            "checks": [
                {
                    "name": "m",
                    "value": 1.0,
                    "threshold": 2.0,
                    "op": "<=",
                    "unit": "MW",
                    "source": "docs/domain.md",
                    "passed": True,
                    "note": "",
                }
            ],
            "figures": [{"name": "f", "title": "t", "caption": "cap", "png": str(png)}],
            "params": {},
        },
        {
            "id": "Q7",
            "name": "b",
            "passed": False,
            "status": "ok",
            "metric": "loss",
            "value": 60.0,
            "threshold": 10.0,
            "unit": "%",
            "source": "ERCOT",
            "reason": "lost",
            "shortfall": {
                "category": "rating",
                "explanation": "power 250 MW needed vs 100 MW rated",
                "need": {"p_mw": 250.0, "e_mwh": 30.0},
                "grow_p_mw": 150.0,
                "grow_e_mwh": 0.0,
            },
            "checks": [],
            "figures": [],
            "params": {},
        },
        {
            "id": "Q10",
            "name": "c",
            "passed": None,
            "status": "not_run",
            "reason": "not run: no model",
            "checks": [],
            "figures": [],
            "params": {},
        },
    ]
    result = {
        "spec": {"name": "s", "bess": {"p_mw": 100.0, "e_mwh": 100.0}},
        "tests": tests,
        "verdict": "fail",
        "shortened": True,
        "duration_scale": 0.1,
        "jobs": 2,
        "wall_s": 1.0,
    }
    jpath, hpath = write_reports(result, tmp_path)
    data = json.loads(jpath.read_text())
    assert data["verdict"] == "fail" and [t["id"] for t in data["tests"]] == ["Q1", "Q7", "Q10"]
    for key in (
        "id",
        "name",
        "metric",
        "value",
        "threshold",
        "unit",
        "source",
        "passed",
        "reason",
        "shortfall",
    ):
        assert key in data["tests"][0]
    text = hpath.read_text()
    assert text.count("data:image/png;base64,") == 1
    assert "RATING" in text or "rating is too small" in text
    assert "250 MW / 100 MWh" in text  # the rating needed
    assert "Shortened run" in text and "NOT RUN" in text
    assert "<link" not in text and "<script src" not in text  # self-contained


# ---------------------------------------------------------------- runner robustness


def test_a_failing_test_never_hides_the_others(tmp_path, monkeypatch):
    import dataclasses

    from cosim.studies.qualify import runner
    from cosim.studies.qualify.tests import NotAvailable

    def boom(ctx):
        raise RuntimeError("model exploded")

    def missing(ctx):
        raise NotAvailable("no frequency model")

    patched = dict(REGISTRY)
    patched["Q1"] = dataclasses.replace(patched["Q1"], plan=boom)
    patched["Q10"] = dataclasses.replace(patched["Q10"], plan=missing)
    monkeypatch.setattr(runner, "REGISTRY", patched)
    spec = load_spec(SPECS / "default_100mw.toml")
    seen = []
    result = runner.run_qualification(
        spec, tmp_path, "Q1,Q10", jobs=1, duration_scale=0.01, on_done=seen.append
    )
    q1, q10 = result["tests"]
    assert q1["status"] == "error" and "model exploded" in q1["reason"] and q1["passed"] is None
    assert q10["status"] == "not_run" and "no frequency model" in q10["reason"]
    assert result["verdict"] == "incomplete"
    assert [r["id"] for r in seen] == ["Q1", "Q10"]
    assert (tmp_path / "qualification.json").is_file() and (
        tmp_path / "qualification.html"
    ).is_file()


def test_cli_rejects_bad_arguments(capsys):
    from cosim.cli import main

    assert main(["qualify", str(SPECS / "default_100mw.toml"), "--only", "Q42"]) == 2
    assert "unknown test" in capsys.readouterr().err
    assert main(["qualify", "/no/such.toml"]) == 2


def test_q10_drops_nearby_loads_without_negative_loads(tmp_path):
    ctx = _ctx("Q10", tmp_path)
    over, under = REGISTRY["Q10"].plan(ctx)
    case = ctx.spec.case(over.overrides)
    assert [e.kind for e in ctx.spec.case(under.overrides).events] == ["gen_trip"]
    steps = [e for e in case.events if e.kind == "load_step"]
    assert sum(-e.delta_mw for e in steps) == pytest.approx(1500.0)
    assert case.frequency.enabled
    from federates.grid.network import load_network

    net = load_network(case.grid.network, case.base_dir)
    per_bus = net.load.groupby("bus")["p_mw"].sum()
    assert all(-e.delta_mw <= per_bus[e.bus] + 1e-9 for e in steps)


def test_q12_runs_with_and_without_bess_behind_an_oltc(tmp_path):
    ctx = _ctx("Q12", tmp_path)
    plans = REGISTRY["Q12"].plan(ctx)
    cases = {p.name: ctx.spec.case(p.overrides) for p in plans}
    assert cases["main"].bess.enabled and not cases["baseline"].bess.enabled
    assert all(c.grid.poi_transformer.oltc is not None for c in cases.values())


@pytest.mark.parametrize(("dp", "target"), [(-1500.0, 61.2), (1500.0, 58.8)])
def test_q10_system_base_reaches_the_target_frequency(dp, target):
    from cosim.studies.qualify.tests.q10_frequency import s_base_for_peak
    from federates.grid.config import FrequencyConfig
    from federates.grid.frequency import SystemFrequency

    cfg = FrequencyConfig(enabled=True)
    s = s_base_for_peak(cfg, dp, target)
    m = SystemFrequency(cfg, s)
    m.advance(0.0, 60.0, dp)
    peak = m.zenith_hz if dp < 0 else m.nadir_hz
    assert peak == pytest.approx(target, abs=1e-3)


def test_switched_compensation_covers_the_site_range():
    from cosim.studies.qualify.weakgrid import (
        _poi_voltage,
        build_network,
        size_switched_compensation,
    )

    tan_phi = math.tan(math.acos(0.98))
    c = size_switched_compensation(2.0, 0.5, 300.0, tan_phi, 230.0, 250.0, 250.0, 10.0)
    assert c.fixed_mvar > 0 and c.steps >= 2
    full = build_network(2.0, 0.5, 300.0, shunt_mvar=c.fixed_mvar + c.steps * c.step_mvar)
    assert (
        _poi_voltage(full, 250.0, 250.0 * tan_phi) >= 1.0 - 1e-3
    )  # the full bank holds the highest import
    low = build_network(2.0, 0.5, 300.0, shunt_mvar=c.fixed_mvar)
    assert _poi_voltage(low, 230.0, 230.0 * tan_phi) == pytest.approx(1.0, abs=1e-3)
    assert c.steps_on >= c.steps - 1  # starts at the highest import


@pytest.mark.parametrize(
    ("failed", "fatal", "cause"),
    [
        ("factory", "FederationJoinError: [-1] Unable to connect to broker", "start"),
        ("broker", None, "start"),
        ("transmission", "NonConvergence: power flow did not converge at t_s = 2 s", "diverged"),
        ("factory", "ValueError: boom", "crashed"),
        ("wall-clock limit", None, "limit"),
    ],
)
def test_runner_tells_infrastructure_divergence_and_crash_apart(failed, fatal, cause):
    """The cause is structured (RunError.cause), never parsed from the message."""
    from cosim.engine.supervisor import Outcome

    assert Outcome("failed", 1.0, failed, "reason", fatal=fatal).cause == cause


@pytest.mark.parametrize(
    ("cause", "attempts"),
    [("start", 3), ("crashed", 1), ("diverged", 1), ("hung", 1)],
)
def test_runner_retries_on_the_run_errors_cause_not_its_text(
    tmp_path, monkeypatch, cause, attempts
):
    import cosim.engine.runner
    from cosim.errors import RunError
    from cosim.studies.qualify import runner

    calls = []

    def fail(case, run_dir, report=False):
        calls.append(run_dir)
        # the message reads like a broker failure whatever the cause: only the cause may decide
        raise RunError(
            "main: federate 'factory' failed: Unable to connect to broker",
            federate="factory",
            cause=cause,
        )

    monkeypatch.setattr(cosim.engine.runner, "run_case", fail)
    rec = runner.run_test("Q3", load_spec(SPECS / "default_100mw.toml"), tmp_path, 0.01)
    assert rec["runs"]["main"]["attempts"] == attempts == len(calls)
    assert rec["runs"]["main"]["status"] == "failed"
    assert rec["status"] == "error" and rec["passed"] is None
    assert "Unable to connect to broker" in rec["reason"]
