"""The dynamic grid: equilibrium, PQ brake in deep faults, line trips, pandapower, adapter."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest
from pydantic import ValidationError

from federates.dynamics.adapter import DynamicsAdapter, make
from federates.dynamics.cases import load_case
from federates.dynamics.config import BusFaultConfig, DynamicsConfig, LineFaultConfig
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import electromechanical, modes
from federates.dynamics.network import BrakeLaw
from federates.dynamics.to_pandapower import to_pandapower
from federates.dynamics.typical import GEN_COLUMNS, with_typical_dynamics


@pytest.mark.parametrize(
    ("case", "bus", "p_mw"), [("kundur", "B7", 300.0), ("ieee39", "16", 200.0)]
)
def test_starts_in_equilibrium(case, bus, p_mw):
    grid = DynamicGrid(load_case(case), bus, p_site0_mw=p_mw, q_site0_mvar=30.0)
    r = grid.run_block(np.array([0.5, 1.0]), np.full(2, p_mw), np.full(2, 30.0))
    assert np.abs(r.speed_dev_hz).max() < 1e-6
    assert r.poi_vm_pu[-1] == pytest.approx(abs(grid.v0[grid.poi]), abs=1e-7)
    assert r.p_site_mw[-1] == pytest.approx(p_mw)


@pytest.mark.parametrize(
    ("vm_pu", "factor"), [(1.0, 1.0), (0.7, 1.0), (0.6, 0.6 / 0.7), (0.25, (0.5 / 0.7) * 0.25)]
)
def test_brake_law(vm_pu, factor):
    assert BrakeLaw(0.7, 0.5).factor(vm_pu) == pytest.approx(factor)


def test_deep_fault_at_the_site_does_not_fail():
    """A bolted fault at the POI: the site's load brakes instead of the solution failing."""
    fault = BusFaultConfig(bus="B7", start_s=1.0, clear_s=1.15, x_pu=1e-4)
    grid = DynamicGrid(
        load_case("kundur"), "B7", p_site0_mw=400.0, q_site0_mvar=50.0, faults=[fault]
    )
    t = 0.02 * np.arange(1, 201)
    r = grid.run_block(t, np.full_like(t, 400.0), np.full_like(t, 50.0))
    assert np.isfinite(r.speed_dev_hz).all() and np.isfinite(r.poi_vm_pu).all()
    during = (t > 1.02) & (t <= 1.14)
    assert r.poi_vm_pu[during].max() < 0.05
    assert r.p_site_mw[during].max() < 0.01 * 400.0  # constant impedance at ~0 V draws ~0
    assert r.poi_vm_pu[-1] > 0.9 and r.p_site_mw[-1] == pytest.approx(400.0)
    assert grid.solver.newton_failures == 0
    assert np.ptp(r.speed_dev_hz) > 0.01  # the fault shook the machines (> 10 mHz)


def test_line_fault_trips_and_recloses():
    fault = LineFaultConfig(line="L7-8-1", start_s=0.5, clear_s=0.6, reclose_s=1.2)
    grid = DynamicGrid(load_case("kundur"), "B7", faults=[fault])
    assert grid.faults.instants_s() == [0.5, 0.6, 1.2]
    k = grid.branch_names.index("L7-8-1")
    t = 0.02 * np.arange(1, 101)
    r = grid.run_block(t, np.zeros_like(t), np.zeros_like(t))
    p = r.branch_p_mw[:, k]
    assert p[0] == pytest.approx(p[10], rel=1e-6) and abs(p[0]) > 50.0
    assert np.all(p[(t > 0.62) & (t < 1.18)] == 0.0)
    assert abs(p[-1]) > 50.0
    parallel = r.branch_p_mw[:, grid.branch_names.index("L7-8-2")]
    assert parallel[(t > 0.62) & (t < 1.18)].mean() > 1.5 * parallel[0]  # takes over the flow


@pytest.mark.parametrize("case", ["kundur", "ieee39"])
def test_pandapower_runpp_agrees_with_the_engine(case):
    data = load_case(case)
    grid = DynamicGrid(data, data["slack_bus"])
    net = to_pandapower(data)
    pp.runpp(net)
    engine_vm = dict(zip(grid.bus_names, np.abs(grid.v0), strict=True))
    for b, vm in zip(net.bus.name, net.res_bus.vm_pu, strict=True):
        assert vm == pytest.approx(engine_vm[b], abs=1e-4), b
    assert len(net.bus) == len(grid.bus_names)


def test_typical_data_make_a_stable_grid():
    data = load_case("kundur")
    gens = data["generators"]["GEN"]
    data["generators"]["GEN"] = [r[:6] for r in gens]  # name, bus, S_n, V_n, P, V only
    for key in ("avr", "gov", "pss"):
        data.pop(key)
    typical = with_typical_dynamics(data)
    assert typical["typical_dynamics"] == ["G1", "G2", "G3", "G4"]
    assert all(c in typical["generators"]["GEN"][0] for c in GEN_COLUMNS)
    grid = DynamicGrid(typical, "B7")
    em = electromechanical(modes(grid))
    assert em and all(m.damping_ratio > 0 for m in em)
    assert all(0.1 <= m.freq_hz <= 2.5 for m in em)


def test_config_rejects_bad_input():
    with pytest.raises(ValidationError):
        DynamicsConfig.model_validate({"case": "kundur", "unknown": 1})
    with pytest.raises(ValidationError):
        BusFaultConfig(bus="B7", start_s=1.0, clear_s=0.9)
    with pytest.raises(ValidationError):
        DynamicsConfig(load_brake_pu=0.5, load_z_pu=0.6)


def test_adapter_steps_with_plain_dict_inputs(tmp_path):
    config = {
        "cosim": {
            "params": {"case": "kundur", "poi_bus": "B9", "p_site0_mw": 300.0},
            "time_grid": {"duration_s": 1.0, "dt_s": 0.05, "windows": [(0.4, 0.6, 0.02)]},
        }
    }
    adapter, times_s, duration_s = make(config, tmp_path)
    assert isinstance(adapter, DynamicsAdapter) and duration_s == 1.0
    assert 0.42 in np.round(times_s, 9)
    ends = [*times_s[1:], duration_s]
    out = None
    for t_s, t_next_s in zip(times_s, ends, strict=True):
        p_mw = 300.0 if t_s < 0.4 else 350.0
        out = adapter.step(t_s, t_next_s, {"factory/p_mw": p_mw, "factory/q_mvar": 0.0}, 0)
    assert set(out.publish) == {
        "transmission/poi_vm_pu",
        "transmission/site_vm_pu",
        "transmission/f_hz",
    }
    assert 0.9 < out.publish["transmission/poi_vm_pu"] < 1.1
    row = dict(zip(out.record.columns, out.record.values, strict=True))
    dw_pu = row["f_coi_hz"] / 50.0 - 1.0  # the 60 Hz site sees the same per-unit deviation
    assert out.publish["transmission/f_hz"] == pytest.approx(60.0 * (1.0 + dw_pu), abs=1e-9)
    assert row["p_site_mw"] == pytest.approx(350.0)
    summary = adapter.finalize()
    assert summary["speed_dev_pp_max_mhz"] > 0.0 and summary["network_fallbacks"] == 0


def test_coi_frequency_settles_on_the_governor_droop(tmp_path):
    """+100 MW at B9 of Kundur's 50 Hz system: the centre-of-inertia frequency settles where
    the four TGOV1 droops (R = 0.05 on 900 MVA) and the voltage-dependent loads leave it."""
    config = {
        "cosim": {
            "params": {"case": "kundur", "poi_bus": "B9", "p_site0_mw": 300.0},
            "time_grid": {"duration_s": 6.0, "dt_s": 0.05},
        }
    }
    adapter, times_s, duration_s = make(config, tmp_path)
    f_hz, site_hz = [], []
    for t_s, t_next_s in zip(times_s, [*times_s[1:], duration_s], strict=True):
        p_mw = 300.0 if t_s < 0.5 else 400.0
        out = adapter.step(t_s, t_next_s, {"factory/p_mw": p_mw, "factory/q_mvar": 0.0}, 0)
        f_hz.append(dict(zip(out.record.columns, out.record.values, strict=True))["f_coi_hz"])
        site_hz.append(out.publish["transmission/f_hz"])
    assert f_hz[0] == pytest.approx(50.0, abs=1e-6)  # starts in equilibrium
    # steady state by droop alone: df = -dP R f_n / (4 x 900 MW) = -100 x 0.05 x 50 / 3600
    droop_hz = -100.0 * 0.05 * 50.0 / 3600.0
    assert droop_hz < f_hz[-1] - 50.0 < 0.3 * droop_hz  # loads' voltage dependence relieves it
    assert site_hz[-1] - 60.0 == pytest.approx((f_hz[-1] - 50.0) * 60.0 / 50.0, rel=1e-9)
