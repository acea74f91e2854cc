"""summary.json content from a synthetic run directory (expected values worked out by hand)."""

import json
from pathlib import Path

import pytest

from cosim.analysis.summary import build_summary, write_summary_json
from cosim.engine.results import load_results
from tests.cosim.synthetic_run import make_run_dir, synthetic_case

REQUIRED = {
    "poi": [
        "p_max_mw",
        "p_min_mw",
        "ramp_max_mw_per_min",
        "v_min_pu",
        "v_max_pu",
        "osc_rms_0p1_2hz_mw",
        "osc_rms_0p2_3hz_mw",
        "osc_rms_3_30hz_mw",
        "rvc_max_percent",
        "scr",
    ],
    "bess": ["soc_min", "soc_max", "throughput_mwh", "efc"],
    "grid": ["v_min_pu", "v_max_pu", "loading_max_percent"],
    "ride_through": ["events", "mw_lost_max"],
    "frequency": ["nadir_hz", "rocof_max_hz_per_s"],
    "oltc": ["tap_ops"],
}
CHECK_KEYS = {"name", "value", "limit", "unit", "source", "passed"}


def _summary(tmp: Path, **kw) -> dict:
    run = make_run_dir(tmp, **kw)
    results = load_results(run)
    return build_summary(results, results.case)


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> dict:
    return _summary(tmp_path_factory.mktemp("s") / "run")


def _check(s: dict, cid: str) -> dict:
    return next(c for c in s["checks"] if c["id"] == cid)


def test_required_keys_and_json(summary, tmp_path):
    for key in ("status", "steps", "wall_s", "verdict", "checks"):
        assert key in summary
    for section, keys in REQUIRED.items():
        for k in keys:
            assert k in summary[section], f"{section}.{k}"
    for c in summary["checks"]:
        assert set(c) >= CHECK_KEYS, c
    json.dumps(summary, allow_nan=False)
    path = write_summary_json(summary, tmp_path / "summary.json")
    assert json.loads(path.read_text())["poi"]["p_max_mw"] == 240.0


def test_values_by_hand(summary):
    assert summary["status"] == "ok" and summary["wall_s"] == 1.5
    # 120 one-second steps + the 10 ms refinement around the sag (the shared time grid)
    assert summary["steps"] == len(synthetic_case().time_grid()) > 120
    poi, bess, grid = summary["poi"], summary["bess"], summary["grid"]
    assert (poi["p_max_mw"], poi["p_min_mw"]) == (240.0, 0.0)
    # a 240 MW drop for 0.5 s moves the 60 s average by 2 MW; the 1 s average by 120 MW
    assert poi["ramp_max_mw_per_min"] == pytest.approx(2.0, rel=1e-6)
    assert poi["ramp_max_mw_per_s"] == pytest.approx(120.0, rel=1e-6)
    assert (poi["v_min_pu"], poi["v_max_pu"]) == (0.5, 1.0)
    # |p_bess| = 60 MW except 0.5 s: 60 * 119.5 MWs
    assert bess["throughput_mwh"] == pytest.approx(60 * 119.5 / 3600)
    assert bess["efc"] == pytest.approx(60 * 119.5 / 3600 / 200)
    assert bess["soc_max"] == pytest.approx(0.55, abs=1e-4) and bess["soc_min"] < bess["soc_max"]
    assert grid["v_min_pu"] == 0.5 and grid["loading_max_percent"] == 110.0
    assert grid["range_a"]["count"] == 2 and grid["range_a"]["duration_s"] == pytest.approx(10.1)
    assert grid["thermal"]["count"] == 1 and grid["thermal"]["duration_s"] == pytest.approx(5.0)
    assert grid["losses_mwh"] == pytest.approx(5.0 * 120 / 3600)
    rt = summary["ride_through"]
    assert (
        rt["events"] == 1
        and rt["mw_lost_max"] == pytest.approx(240.0)
        and rt["load_transfers"] == 1
    )
    assert rt["recovery_s_max"] == pytest.approx(0.4)
    assert summary["frequency"]["nadir_hz"] == pytest.approx(59.9)
    assert summary["oltc"]["tap_ops"] == 3
    assert poi["scr"] is not None and poi["scr"] > 0 and poi["sc_defaults_applied"]
    assert summary["notes"] == []  # every metric section computed


def test_checks_and_verdict(summary):
    assert summary["verdict"] == "fail"
    failed = {c["id"] for c in summary["checks"] if c["passed"] is False and c["kind"] == "limit"}
    assert failed == {"v_range_a_min", "thermal", "osc"}
    ramp = _check(summary, "ramp")
    assert (ramp["limit"], ramp["unit"], ramp["passed"]) == (20.0, "MW/min", True)
    assert "Southern Co" in ramp["source"]
    assert _check(summary, "v_range_b_min")["kind"] == "info"  # Range A decides by default
    assert _check(summary, "scr")["kind"] == "info"
    assert _check(summary, "osc")["limit"] == pytest.approx(2.0)  # 2 % of the 100 MW BESS
    # where and when each judged value occurred
    grid = summary["grid"]
    thermal = _check(summary, "thermal")
    assert (thermal["where"], thermal["t_s"]) == (
        grid["loading_max_branch"],
        grid["loading_max_t_s"],
    )
    low = [e for e in grid["range_a"]["episodes"] if e["kind"] == "low"][0]
    v_min = _check(summary, "v_range_a_min")
    assert (v_min["where"], v_min["t_s"]) == (low["element"], low["t_worst_s"])
    assert v_min["where"].startswith("transmission:")
    v_max = _check(summary, "v_range_a_max")  # no high episode: the extreme over the judged buses
    assert v_max["where"] == grid["range_a"]["v_max_bus"] and v_max["where"].startswith(
        "transmission:"
    )
    assert v_max["t_s"] == grid["range_a"]["v_max_t_s"]
    assert (ramp["where"], ramp["t_s"]) == ("POI", summary["poi"]["ramp_max_t_s"])
    assert all({"where", "t_s"} <= set(c) for c in summary["checks"])
    assert summary["requirements"]["rvc_max_percent"] == {
        "value": 3.0,
        "unit": "%",
        "source": "Dominion (Zahedi et al., arXiv 2601.12686)",
    }


def test_overridden_limits_say_where_they_come_from(tmp_path):
    req = {
        "thermal_max_percent": 120.0,
        "ramp_max_mw_per_min": 1.0,
        "informational": ["osc", "scr"],
        "v_range_a_min_pu": 0.4,
        "sources": {"thermal_max_percent": "utility X agreement"},
    }
    s = _summary(tmp_path / "run", extra_case={"requirements": req})
    th, ramp = _check(s, "thermal"), _check(s, "ramp")
    assert th["passed"] is True and th["limit"] == 120.0 and th["source"] == "utility X agreement"
    assert ramp["passed"] is False and ramp["source"].startswith(
        "case file (default 20.0 from Southern Co"
    )
    assert _check(s, "osc")["kind"] == "info"
    # ramp (1 MW/min) still fails -> verdict fail; only it
    assert {c["id"] for c in s["checks"] if c["passed"] is False and c["kind"] == "limit"} == {
        "ramp"
    }


def test_missing_frequency_and_high_rate_data(tmp_path):
    s = _summary(tmp_path / "run", frequency=False, high_rate=False)
    assert s["frequency"]["nadir_hz"] is None and s["frequency"]["rocof_max_hz_per_s"] is None
    f_min = _check(s, "f_min")
    assert f_min["passed"] is None and f_min["value"] is None
    assert f_min["basis"] == "not assessed" and "no frequency federate" in f_min["note"]
    assert s["poi"]["power_series"] == "factory"
    assert s["poi"]["p_max_mw"] == pytest.approx(240.0)  # interval maxima (and means)
    assert s["site"]["p_max_mw"] is not None


def test_baseline_without_bess(tmp_path):
    s = _summary(tmp_path / "run", bess=False)
    assert s["bess"]["enabled"] is False
    assert s["poi"]["p_max_mw"] == 300.0
    assert (
        _check(s, "soc_window")["passed"] is None
        and "BESS disabled" in _check(s, "soc_window")["note"]
    )


def test_partial_results_of_a_failed_run(tmp_path):
    s = _summary(tmp_path / "run", status="failed", truncate_s=50.0)
    assert s["status"] == "failed" and s["verdict"] == "fail"
    assert _check(s, "run")["passed"] is False
    assert s["ride_through"]["events"] == 0  # the sag at 60 s was never reached
    assert _check(s, "ride_through_recovery")["passed"] is None
    assert s["poi"]["p_max_mw"] == 240.0


def test_run_with_no_series_at_all(tmp_path):
    run = make_run_dir(tmp_path / "run", status="failed")
    for p in (run / "timeseries").glob("*.parquet"):
        p.unlink()
    results = load_results(run)
    s = build_summary(results, results.case)
    assert s["status"] == "failed" and s["verdict"] == "fail"
    assert (
        s["poi"]["p_max_mw"] is None and s["grid"]["v_min_pu"] is None and s["bess"]["efc"] is None
    )
    assert s["ride_through"]["events"] is None and s["oltc"]["tap_ops"] is None
    json.dumps(s, allow_nan=False)


def test_n1_screening_in_the_summary(tmp_path):
    s = _summary(tmp_path / "run", extra_case={"requirements": {"n1_screening": True}})
    n1 = s["n1"]
    assert [x["name"] for x in n1["snapshots"]] == ["peak import", "swing trough"]
    assert n1["snapshots"][0]["p_mw"] == pytest.approx(240.0)
    assert n1["outages_screened"] == 2 * 9  # case9: 9 lines, no trafos, two snapshots
    assert (
        n1["ranking"] and n1["ranking"][0]["severity"] is None
    )  # diverged / isolated first (inf -> null)
    chk = _check(s, "n1")
    assert chk["value"] == n1["outages_with_violations"] and chk["passed"] is (chk["value"] == 0)
    assert chk["source"].startswith("NERC TPL-001 (N-1), judged against ANSI C84.1 Range A")


# ---------------------------------------------------------------- the requirements profile


def test_requirement_defaults_are_the_domain_figures():
    from cosim.analysis.requirements import RequirementsConfig

    r = RequirementsConfig()
    assert (r.ramp_max_mw_per_min, r.rvc_max_percent, r.pf_lag_min, r.pf_lead_min) == (
        20.0,
        3.0,
        0.95,
        0.95,
    )
    assert (r.v_range_a_min_pu, r.v_range_a_max_pu, r.v_range_b_min_pu, r.v_range_b_max_pu) == (
        0.95,
        1.05,
        0.917,
        1.058,
    )
    assert (r.pst_max, r.plt_max, r.thermal_max_percent, r.scr_weak) == (0.8, 0.6, 100.0, 3.0)
    assert (r.f_min_hz, r.f_max_hz, r.recovery_fraction, r.recovery_time_max_s) == (
        58.8,
        61.2,
        0.9,
        1.0,
    )
    assert r.limit("pst_max").source == "IEEE 1453 planning level (HV/EHV)"
    table = r.table()
    assert table["short_circuit.ext_grid_s_sc_max_mva"]["unit"] == "MVA"
    assert all(v["source"] for v in table.values())


@pytest.mark.parametrize(
    "bad",
    [
        {"informational": ["nope"]},
        {"sources": {"not_a_limit": "x"}},
        {"v_range_a_min_pu": 1.1},
        {"f_min_hz": 62.0},
        {"osc_band_hz": [3.0, 1.0]},
        {"ramp_max_mw_per_min": -1.0},
        {"unknown_key": 1},
    ],
)
def test_invalid_requirements_are_case_errors(bad):
    from cosim.case import load_case
    from cosim.errors import CaseError

    with pytest.raises(CaseError):
        load_case({"requirements": bad})


def test_override_survives_the_resolved_case_round_trip(tmp_path):
    import tomli_w

    from cosim.case import load_case

    case = load_case(
        {"requirements": {"ramp_max_mw_per_min": 10.0, "short_circuit": {"gen_xdss_pu": 0.25}}}
    )
    path = tmp_path / "case.toml"
    path.write_text(tomli_w.dumps(case.to_dict()))
    again = load_case(path).requirements
    assert again.limit("ramp_max_mw_per_min").source.startswith("case file (default 20.0")
    assert again.limit("rvc_max_percent").source.startswith("Dominion")
    assert again.table()["short_circuit.gen_xdss_pu"]["source"].startswith("case file (default 0.2")


@pytest.mark.parametrize(("v_pre_bus3", "passed"), [(0.940, True), (0.946, False)])
def test_preexisting_violations_are_attributed_to_the_network(
    tmp_path, monkeypatch, v_pre_bus3, passed
):
    import cosim.analysis.context as context_mod

    # bus 3 sits at 0.94 pu for 10 s of the run; before the site connects: v_pre_bus3 (< 0.95)
    pre = {"0": 1.0, "1": 0.99, "2": 0.98, "3": v_pre_bus3, "4": 1.0}
    monkeypatch.setattr(context_mod, "preconnection_state", lambda net: (pre, {}))
    s = _summary(tmp_path / "run")
    pre_a = s["grid"]["range_a_preexisting"]
    assert pre_a["buses"] == {"transmission:3": v_pre_bus3}
    assert pre_a["worsening_pu"] == pytest.approx(v_pre_bus3 - 0.94)
    check = _check(s, "v_preexisting")
    assert check["passed"] is passed and check["limit"] == 0.005
    # bus 3 no longer counts against Range A itself
    assert all(e["element"] != "transmission:3" for e in s["grid"]["range_a"]["episodes"])


def test_include_mode_counts_every_bus(tmp_path, monkeypatch):
    import cosim.analysis.context as context_mod

    monkeypatch.setattr(context_mod, "preconnection_state", lambda net: ({"3": 0.94}, {}))
    s = _summary(tmp_path / "run", extra_case={"requirements": {"voltage_preexisting": "include"}})
    assert "range_a_preexisting" not in s["grid"]
    assert any(e["element"] == "transmission:3" for e in s["grid"]["range_a"]["episodes"])


def test_diverged_power_flows_fail_the_verdict(tmp_path):
    import pandas as pd

    run = make_run_dir(tmp_path / "run")
    path = run / "timeseries" / "transmission.parquet"
    tr = pd.read_parquet(path)
    tr["converged"] = 0.0  # every step diverged: no voltage or loading is known
    tr.to_parquet(path)
    results = load_results(run)
    s = build_summary(results, results.case)
    check = _check(s, "converged")
    assert check["passed"] is False and check["value"] == len(tr)
    assert s["verdict"] == "fail"


def test_converged_run_passes_the_convergence_check(summary):
    check = _check(summary, "converged")
    assert check["passed"] is True and check["value"] == 0


def test_network_context_is_cached_only_when_asked_and_applies_load_scale():
    from cosim.analysis.summary import network_context
    from cosim.case import load_case

    case = load_case("ieee118_factory")
    a = network_context(case, cached=True)
    assert a.net is not None and a.scr is not None and a.v_pre_pu and not a.notes
    assert network_context(case, cached=True) is a  # a sweep worker's next run on the same network
    assert network_context(case) is not a  # build_summary without a context computes afresh
    scaled = network_context(load_case("ieee118_factory", {"grid.load_scale": 1.1}), cached=True)
    assert scaled is not a
    assert scaled.net.load.p_mw.sum() == pytest.approx(1.1 * a.net.load.p_mw.sum())
    assert scaled.v_pre_pu != a.v_pre_pu  # the pre-connection flow sees the scaled load
