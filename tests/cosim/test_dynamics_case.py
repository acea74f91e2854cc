"""The [dynamics] case section, the dynamic federate's spec and the dynamics summary (no broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosim.analysis.dynamics import dynamics_checks
from cosim.analysis.requirements import RequirementsConfig
from cosim.case import load_case
from cosim.engine.federation import federation
from cosim.errors import CaseError
from cosim.studies.oscillation import half_power_band_hz, resonances
from federates.dynamics.modes import Mode


def test_dynamic_case_uses_the_dynamic_transmission_federate():
    case = load_case("kundur_factory")
    specs = {s.name: s for s in federation(case)}
    tr = specs["transmission"]
    assert tr.module == "federates.dynamics.adapter"
    assert tr.subscriptions == ("factory/p_mw", "factory/q_mvar")
    assert {p.key for p in tr.publications} == {
        "transmission/poi_vm_pu",
        "transmission/site_vm_pu",
        "transmission/f_hz",
    }
    # the initial power flow carries the factory's first-step power
    assert 100 < tr.params["p_site0_mw"] < 300 and "enabled" not in tr.params
    assert tr.params["f_site_nom_hz"] == case.controls.freq_watt.f_nom_hz
    # the factory sees the dynamic grid's frequency, and no aggregate frequency federate runs
    assert specs["factory"].subscriptions == ("transmission/site_vm_pu", "transmission/f_hz")
    assert "frequency" not in specs


def test_dynamic_case_refuses_the_aggregate_frequency_model():
    with pytest.raises(CaseError, match="frequency.enabled"):
        load_case("kundur_factory", ["frequency.enabled=true"])


def test_quasi_static_default_and_disabled_dynamics():
    assert not load_case({}).dynamic
    case = load_case("kundur_factory", ["dynamics.enabled=false", "horizon.grid_dt_s=1"])
    assert {s.name: s for s in federation(case)}["transmission"].module == (
        "federates.grid.transmission"
    )


def test_dynamic_grid_step_is_10_to_50_ms():
    with pytest.raises(CaseError, match="grid_dt_s"):
        load_case("kundur_factory", ["horizon.grid_dt_s=0.1"])


def test_fault_instants_are_on_every_federate_grid():
    case = load_case("kundur_july2024")
    t = case.time_grid()
    assert any(abs(t - 20.042) < 1e-9)  # a 42 ms fault's clearing, off the 20 ms grid


def test_resonance_is_a_line_inside_the_half_power_band():
    m = Mode(0.64, 0.1, {"G1": 1.0}, "inter-area", complex(-0.4, 4.0))
    lo, hi = half_power_band_hz(m)
    assert lo < 0.64 < hi and hi - lo == pytest.approx(2 * 0.1 * 0.64 / (1 - 0.01) ** 0.5)
    assert [r["line_hz"] for r in resonances([0.65, 1.3], [m])] == [0.65]


def test_damping_and_oscillation_checks():
    req = RequirementsConfig()
    d = {"min_damping_ratio": 0.03, "min_damping_freq_hz": 0.6, "speed_dev_pp_max_mhz": 10.0}
    checks = {c.id: c.as_dict() for c in dynamics_checks(d, req)}
    assert checks["damping"]["passed"] is False and checks["damping"]["limit"] == 0.05
    assert checks["oscillation"]["passed"] is True
    assert dynamics_checks(None, req) == []


def test_psse_case_resolves_raw_and_dyr_and_builds_the_grid():
    from cosim.studies.modes import dynamic_grid

    case = load_case("kundur_psse_factory")
    params = {s.name: s for s in federation(case)}["transmission"].params
    assert params["case"].endswith("kundur_two_area.raw") and params["dyr"].endswith(".dyr")
    assert Path(params["case"]).is_absolute() and Path(params["dyr"]).is_file()
    grid = dynamic_grid(case)
    assert grid.typical_machines == [] and len(grid.bus_names) == 11


def test_dyr_without_a_raw_case_is_refused():
    with pytest.raises(CaseError, match="dyr: a DYR file goes with a .raw case"):
        load_case("kundur_factory", ["dynamics.dyr=data/psse/kundur_two_area.dyr"])


def test_network_without_dynamic_data_runs_only_with_typical_defaults():
    from cosim.studies.modes import dynamic_grid

    case = load_case("ieee118_typical_factory")
    grid = dynamic_grid(case)
    assert len(grid.typical_machines) == len(grid.ps.gen["GEN"].par)  # all reported typical
    bare = load_case("ieee118_typical_factory", ["dynamics.defaults=none"])
    with pytest.raises(CaseError, match="no dynamic data for machine"):
        dynamic_grid(bare)


def test_quasi_static_grid_reads_a_raw_file():
    from federates.grid.network import load_network

    case = load_case("kundur_psse_factory")
    net = load_network(str(case.resolve(case.dynamics.case)), key="grid.network")
    assert len(net.bus) == 11 and len(net.ext_grid) == 1
