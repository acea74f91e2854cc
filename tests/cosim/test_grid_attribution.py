"""Pre-existing problems are the network's; thermal basis follows the ratings; SCR and frequency say
what they rest on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cosim.analysis.context as context_mod
from cosim.analysis import sections_grid
from cosim.analysis.check_rules import CheckInputs, scr_basis
from cosim.analysis.requirements import RequirementsConfig
from cosim.analysis.summary import build_summary
from cosim.engine.results import load_results
from tests.cosim.synthetic_run import make_run_dir


def _summary(tmp, **kw) -> dict:
    run = make_run_dir(tmp, **kw)
    results = load_results(run)
    return build_summary(results, results.case)


def _check(s: dict, cid: str) -> dict:
    return next(c for c in s["checks"] if c["id"] == cid)


def test_without_ratings_thermal_is_not_assessed(tmp_path, monkeypatch):
    reason = "every rating is 9,900 MVA: no real branch carries that"
    monkeypatch.setattr(
        context_mod, "ratings_status", lambda net: ("none", reason, ["line.0", "line.1"])
    )
    s = _summary(tmp_path / "run")
    assert s["grid"]["ratings"] == "none" and s["grid"]["unrated_branch_count"] == 2
    th = _check(s, "thermal")
    assert (th["passed"], th["basis"]) == (None, "not assessed")
    assert reason in th["note"]
    assert "thermal" not in s["verdict_failed"]


def test_assumed_ratings_make_thermal_screening(tmp_path, monkeypatch):
    monkeypatch.setattr(context_mod, "ratings_status", lambda net: ("assumed", "by kV", []))
    s = _summary(tmp_path / "run")
    assert _check(s, "thermal")["basis"] == "screening"


def test_default_ratings_hook_treats_the_file_as_rated(tmp_path):
    s = _summary(tmp_path / "run")
    assert s["grid"]["ratings"] == "file"
    th = _check(s, "thermal")
    assert th["basis"] == "assessed" and th["passed"] is False  # line 1 at 110 % in [80, 85) s


@pytest.mark.parametrize(("pre_percent", "passed"), [(105.0, False), (109.5, True)])
def test_preexisting_overloads_are_judged_on_worsening(tmp_path, monkeypatch, pre_percent, passed):
    # synthetic line 1 runs at 110 % for 5 s; before the site connects it was at pre_percent
    volts = {str(b): 1.0 for b in range(9)}
    monkeypatch.setattr(
        context_mod, "preconnection_state", lambda net: (volts, {"line.1": pre_percent})
    )
    s = _summary(tmp_path / "run")
    pre = s["grid"]["thermal_preexisting"]
    assert pre["branches"] == {"transmission:line.1": pre_percent}
    assert pre["worsening_percent"] == pytest.approx(110.0 - pre_percent)
    assert pre["branch"] == "transmission:line.1"
    chk = _check(s, "thermal_preexisting")
    assert chk["passed"] is passed and chk["limit"] == 1.0
    th = _check(s, "thermal")  # the site is not charged with line 1's own overload
    assert th["passed"] is True and th["where"] != "transmission:line.1"
    assert s["grid"]["loading_max_percent"] == pytest.approx(110.0)  # still reported


def _feeder_frame() -> pd.DataFrame:
    t = np.arange(0.0, 10.0)
    return pd.DataFrame(
        {"t_s": t, "vm_pu.17": np.full(t.size, 0.905), "vm_pu.3": np.full(t.size, 0.99)}
    )


def test_feeder_violations_are_attributed_like_transmission_ones():
    req = RequirementsConfig()
    s = {"grid": {}}
    v_pre = {"distribution": {"17": 0.913, "3": 0.99}}
    sections_grid.grid_voltage(s, req, None, {"distribution": _feeder_frame()}, 10.0, v_pre)
    g = s["grid"]
    assert g["range_a"]["count"] == 0 and g["range_a"]["buses_checked"] == 1
    pre = g["range_a_preexisting"]
    assert pre["buses"] == {"distribution:17": 0.913}
    assert pre["worsening_pu"] == pytest.approx(0.008) and pre["bus"] == "distribution:17"


def test_feeder_preconnection_voltages_come_from_its_own_power_flow():
    from cosim.case import load_case

    case = load_case(
        {
            "name": "feeder",
            "factory": {"it_mw": 0.001, "pue": 1.2, "poi_bus": 4},
            "grid": {"network": "case9"},
            "distribution": {"network": "case33bw", "substation_bus": 4},
        }
    )
    ctx = context_mod.network_context(case)
    feeder = ctx.v_pre_by_network["distribution"]
    # Baran & Wu: the 33-bus feeder's own minimum, ~0.913 pu at bus 18, scaled by its slack
    slack = ctx.v_pre_pu["4"]
    assert min(feeder.values()) == pytest.approx(0.913 * slack, abs=0.005)
    assert min(feeder, key=feeder.get) == "17"
    assert ctx.ratings["distribution"].status in ("file", "assumed", "none")


def test_scr_basis_follows_the_short_circuit_data():
    req = RequirementsConfig()
    own = CheckInputs({"poi": {"scr": 5.0, "sc_defaults_applied": []}}, req, None)
    assumed = CheckInputs({"poi": {"scr": 5.0, "sc_defaults_applied": ["gen.xdss_pu"]}}, req, None)
    none = CheckInputs({"poi": {"scr": None}}, req, None)
    assert (scr_basis(own), scr_basis(assumed), scr_basis(none)) == (
        "assessed",
        "screening",
        "not assessed",
    )


def test_scr_note_lists_the_assumptions(tmp_path):
    s = _summary(tmp_path / "run")
    scr = _check(s, "scr")
    assert scr["basis"] == "screening"
    assert "assumed: ext_grid.s_sc_max_mva" in scr["note"]
    assert "inverter plant" in scr["note"]


def test_frequency_base_comes_from_the_interconnection(tmp_path):
    s = _summary(
        tmp_path / "run",
        extra_case={"frequency": {"enabled": True, "interconnection": "ERCOT"}},
    )
    f = s["frequency"]
    assert f["interconnection"] == "ERCOT" and f["s_base_mva"] == 55000.0
    assert "ERCOT" in f["system_base_source"]
    f_min = _check(s, "f_min")
    assert f_min["basis"] == "screening" and "ERCOT" in f_min["note"]


def test_feeder_behind_a_substation_transformer_is_not_attributed():
    from cosim.case import load_case

    ctx = context_mod.network_context(load_case("td_cigre_mv"))
    assert "distribution" not in ctx.v_pre_by_network
    assert any("substation transformer" in r for r in ctx.remarks) and not ctx.notes
