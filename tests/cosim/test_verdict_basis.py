"""Every check states its basis; the verdict counts only assessed limits (synthetic runs)."""

from __future__ import annotations

import numpy as np
import pytest

from cosim.analysis import voltage_quality
from cosim.analysis.checks import BASES
from cosim.analysis.summary import build_summary, verdict_line
from cosim.engine.results import load_results
from tests.cosim.synthetic_run import make_run_dir


def _summary(tmp, **kw) -> dict:
    run = make_run_dir(tmp, **kw)
    results = load_results(run)
    return build_summary(results, results.case)


def _check(s: dict, cid: str) -> dict:
    return next(c for c in s["checks"] if c["id"] == cid)


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> dict:
    return _summary(tmp_path_factory.mktemp("basis") / "run")


def test_every_check_has_a_basis_and_a_note(summary):
    for c in summary["checks"]:
        assert c["basis"] in BASES, c["id"]
        assert c["note"].strip(), c["id"]


def test_quasi_static_run_does_not_assess_flicker_or_rvc(summary):
    # the synthetic run's grid is solved every 1 s: flicker and RVC are screening figures
    for cid in ("pst", "plt", "rvc"):
        assert _check(summary, cid)["basis"] == "screening", cid
    assert summary["poi"]["flicker"]["method"] == "IEC 61000-3-3 analytical estimate"
    assert "every 1 s" in _check(summary, "rvc")["note"]


def test_oscillation_and_ride_through_are_screening_without_a_dynamic_grid(summary):
    osc = _check(summary, "osc")
    assert osc["basis"] == "screening" and "factory's own POI power series" in osc["note"]
    assert _check(summary, "ride_through_recovery")["basis"] == "screening"
    assert _check(summary, "f_min")["basis"] == "screening"  # aggregate frequency model


def test_verdict_counts_only_assessed_limits(summary):
    limits = [c for c in summary["checks"] if c["kind"] == "limit"]
    counts = summary["verdict_basis"]
    assert counts["screening"] == sum(c["basis"] == "screening" for c in limits)
    assert counts["not_assessed"] == sum(c["basis"] == "not assessed" for c in limits)
    assessed = [c for c in limits if c["basis"] == "assessed"]
    assert counts["assessed"] + counts["not_applicable"] == len(assessed)
    failed = {c["id"] for c in assessed if c["passed"] is False}
    assert set(summary["verdict_failed"]) == failed
    assert summary["verdict"] == ("fail" if failed else "pass")
    # the synthetic oscillation fails, but it is a screening check: listed, not counted
    assert "osc" in summary["screening_failed"] and "osc" not in summary["verdict_failed"]
    line = verdict_line(summary)
    assert f"{counts['screening']} screening, {counts['not_assessed']} not assessed" in line


def test_a_failed_screening_check_alone_does_not_fail_the_verdict(tmp_path):
    s = _summary(tmp_path / "run", extra_case={"requirements": {"osc_limit_mw": 1e-6}})
    assert _check(s, "osc")["passed"] is False and _check(s, "osc")["basis"] == "screening"
    assert "osc" not in s["verdict_failed"]


def test_no_frequency_federate_is_not_assessed(tmp_path):
    s = _summary(tmp_path / "run", frequency=False)
    f_min = _check(s, "f_min")
    assert (f_min["basis"], f_min["passed"]) == ("not assessed", None)


def _rectangular(fs_hz: float, duration_s: float, cpm: float, dv_percent: float) -> np.ndarray:
    """RMS voltage stepping between 1 +/- d/2 at ``cpm`` changes per minute (IEC 61000-4-15)."""
    t = np.arange(0.0, duration_s, 1.0 / fs_hz)
    square = np.where(np.floor(t * cpm / 60.0) % 2 == 0, 1.0, -1.0)
    return 1.0 + square * dv_percent / 200.0


def test_flickermeter_assesses_voltage_solved_every_0p1_s():
    # Table 5, 120 V lamp: 39 changes/min at dV/V = 1.040 % is Pst = 1.00 (0.994 at 10 Hz)
    fs, dur = 10.0, 730.0
    v = _rectangular(fs, dur, 39.0, 1.040)
    t = np.arange(v.size) / fs
    out = voltage_quality.flicker_figures(
        t,
        v,
        "transmission.poi_vm_pu",
        dynamic=False,
        f_nom_hz=60.0,
        v_band_pu=(0.9, 1.1),
        t_end_s=dur,
    )
    fl = out["flicker"]
    assert fl["method"] == "IEC 61000-4-15 flickermeter" and fl["pst_basis"] == "assessed"
    assert fl["plt_basis"] == "screening"  # one Pst, not the 12 of a Plt
    assert out["pst_max"] == pytest.approx(1.0, abs=0.05)
    assert "every 0.1 s" in fl["note"]
    # the same fluctuation sampled every 1 s: the screening estimate
    coarse = voltage_quality.flicker_figures(
        t[::10],
        v[::10],
        "transmission.poi_vm_pu",
        dynamic=False,
        f_nom_hz=60.0,
        v_band_pu=(0.9, 1.1),
        t_end_s=dur,
    )
    assert coarse["flicker"]["pst_basis"] == "screening"
    assert coarse["flicker"]["method"] == "IEC 61000-3-3 analytical estimate"


def test_short_event_windows_do_not_make_flicker_assessed():
    # 1 s steps with a 2 s event window at 10 ms: the stretch is too short for a 10 min Pst
    t = np.concatenate([np.arange(0.0, 100.0), np.arange(100.0, 102.0, 0.01), np.arange(102, 900)])
    stretch = voltage_quality.fine_stretch(t)
    assert stretch is not None and stretch.duration_s == pytest.approx(2.0, abs=0.02)
    out = voltage_quality.flicker_figures(
        t, np.ones_like(t), "x", dynamic=False, f_nom_hz=60.0, v_band_pu=(0.9, 1.1), t_end_s=900
    )
    assert out["flicker"]["pst_basis"] == "screening"
    assert voltage_quality.rvc_basis(t, "x")[0] == "screening"  # the usual step is 1 s
    assert voltage_quality.rvc_basis(np.arange(0, 10, 0.1), "x")[0] == "assessed"


def test_print_summary_says_how_many_checks_rest_on_each_basis(summary, capsys, tmp_path):
    from cosim.cli.run import print_summary

    print_summary(summary, tmp_path)
    out = capsys.readouterr().out
    counts = summary["verdict_basis"]
    n_fail = len(summary["verdict_failed"])
    expected = (
        f"{counts['assessed'] - n_fail} assessed checks pass, {n_fail} fail; "
        f"{counts['screening']} screening, {counts['not_assessed']} not assessed"
    )
    assert expected in out


def test_report_verdict_table_shows_the_basis(summary, tmp_path):
    from cosim.analysis.report import _verdict_section

    html = _verdict_section(summary)
    assert "<th>Basis</th>" in html and "screening" in html
