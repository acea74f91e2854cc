"""pandapower networks run dynamically: same power flow as pandapower, typical data reported."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from federates.dynamics.from_pandapower import MachineDynamics, from_pandapower
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import electromechanical, modes
from federates.errors import ConfigError


def _solved(net: pp.pandapowerNet) -> pp.pandapowerNet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    return net


@pytest.mark.parametrize("make", [pn.case9, pn.case39])
def test_engine_power_flow_agrees_with_pandapower_and_modes_exist(make):
    net = make()
    data = from_pandapower(net, name=make.__name__, defaults="typical")
    machines = len(net.gen) + len(net.ext_grid)
    assert len(data["typical_dynamics"]) == machines  # every machine reported as typical
    assert len(data["rating_assumed"]) == machines  # no sn_mva in these cases
    grid = DynamicGrid(data, data["slack_bus"])
    _solved(net)
    assert len(grid.bus_names) == len(net.bus)
    for b, vm in zip(net.bus.name, net.res_bus.vm_pu, strict=True):
        assert abs(grid.v0[grid.bus_index[str(b)]]) == pytest.approx(vm, abs=1e-4), b
    dx = grid.ps.state_derivatives(0.0, grid.x, grid.v)
    assert np.abs(dx).max() < 1e-6  # initialised in equilibrium
    em = electromechanical(modes(grid))
    assert any(0.1 <= m.freq_hz <= 2.5 for m in em)


def test_ratings_come_from_sn_mva_when_it_covers_the_unit():
    net = pn.case9()
    net.gen["sn_mva"] = [350.0, 400.0]  # max_p_mw 300 and 270
    data = from_pandapower(net, defaults="typical")
    gens = {r[0]: r for r in data["generators"]["GEN"][1:]}
    header = data["generators"]["GEN"][0]
    s_n = {k: r[header.index("S_n")] for k, r in gens.items()}
    assert len(data["rating_assumed"]) == 1  # only the ext_grid's rating is guessed
    given = sorted(v for k, v in s_n.items() if k not in data["rating_assumed"])
    assert given == [350.0, 400.0]
    assert s_n[data["rating_assumed"][0]] == pytest.approx(250.0 / 0.85)  # its max_p_mw
    h = {k: r[header.index("H")] for k, r in gens.items()}
    assert h[data["rating_assumed"][0]] in (3.0, 4.0, 5.0)
    net.gen["sn_mva"] = [100.0, 400.0]  # 100 MVA (a MATPOWER mBase) cannot carry 300 MW
    again = from_pandapower(net, defaults="typical")
    assert len(again["rating_assumed"]) == 2


def test_without_dynamic_data_is_refused_unless_typical():
    with pytest.raises(ConfigError, match=r"network case9: no dynamic data for machine\(s\)"):
        from_pandapower(pn.case9(), name="case9")


def test_given_dynamic_data_is_used_and_not_reported_typical():
    net = pn.case9()
    names = [r[0] for r in from_pandapower(net, defaults="typical")["generators"]["GEN"][1:]]
    gen = {"H": 6.5, "D": 0.0, "X_d": 1.8, "X_q": 1.7, "X_d_t": 0.3, "X_q_t": 0.55}
    gen |= {"X_d_st": 0.25, "X_q_st": 0.25, "T_d0_t": 8.0, "T_q0_t": 0.4}
    gen |= {"T_d0_st": 0.03, "T_q0_st": 0.05}
    given = {names[0]: MachineDynamics(gen=gen, source="test")}
    data = from_pandapower(net, defaults="typical", machines=given)
    assert names[0] not in data["typical_dynamics"]
    assert len(data["typical_dynamics"]) == len(names) - 1
    header = data["generators"]["GEN"][0]
    row = next(r for r in data["generators"]["GEN"][1:] if r[0] == names[0])
    assert row[header.index("H")] == 6.5
