"""Short-circuit ratio and N-1 screening on tiny hand-made pandapower networks."""

import math

import numpy as np
import pandapower as pp
import pytest

from cosim.analysis.requirements import ShortCircuitDefaults
from cosim.metrics.grid_strength import (
    n1_screening,
    short_circuit_ratio,
    with_short_circuit_defaults,
)


def _source_and_line(s_sc_mva: float | None = 1000.0) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 110.0)
    b1 = pp.create_bus(net, 110.0)
    kw = {} if s_sc_mva is None else {"s_sc_max_mva": s_sc_mva, "rx_max": 0.0}
    pp.create_ext_grid(net, b0, **kw)
    pp.create_line_from_parameters(
        net,
        b0,
        b1,
        length_km=10.0,
        r_ohm_per_km=0.0,
        x_ohm_per_km=1.0,
        c_nf_per_km=0.0,
        max_i_ka=1.0,
    )
    return net


def test_scr_at_the_source_bus_equals_s_sc():
    r = short_circuit_ratio(_source_and_line(), 0, 100.0)
    assert r["s_sc_mva"] == pytest.approx(1000.0, rel=1e-6)
    assert r["scr"] == pytest.approx(10.0, rel=1e-6)
    assert r.defaults_applied == ()


def test_scr_behind_a_line_by_hand():
    # IEC 60909, c_max = 1.1: Z_grid = j 1.1 * 110^2 / 1000 = j13.31 ohm; line j10 ohm
    # S_sc = sqrt(3) * 110 * Ik'' = 1.1 * 110^2 / 23.31
    r = short_circuit_ratio(_source_and_line(), 1, 300.0)
    expected = 1.1 * 110.0**2 / 23.31
    assert r["s_sc_mva"] == pytest.approx(expected, rel=1e-4)
    assert r["scr"] == pytest.approx(expected / 300.0, rel=1e-4)
    assert r["rx_ratio"] == pytest.approx(0.0, abs=1e-9)


def test_missing_sc_data_uses_documented_defaults():
    net = _source_and_line(None)
    r = short_circuit_ratio(net, 0, 100.0, ShortCircuitDefaults(ext_grid_s_sc_max_mva=2500.0))
    assert r["s_sc_mva"] == pytest.approx(2500.0, rel=1e-6)
    assert any("s_sc_max_mva = 2500" in n for n in r["defaults_applied"])
    assert (
        "s_sc_max_mva" not in net.ext_grid or net.ext_grid.s_sc_max_mva.isna().all()
    )  # input untouched


def test_generator_defaults_filled():
    net = _source_and_line()
    pp.create_gen(net, 1, p_mw=50.0, vm_pu=1.0, max_p_mw=85.0)
    work, notes = with_short_circuit_defaults(net)
    g = work.gen.iloc[0]
    assert g.sn_mva == pytest.approx(100.0)  # 85 MW / 0.85
    assert g.xdss_pu == 0.2 and g.vn_kv == 110.0
    assert g.rdss_ohm == pytest.approx(0.07 * 0.2 * 110.0**2 / 100.0)
    assert len(notes) == 5  # the ext_grid has its data; five generator columns were filled
    # with the generator the SCR at bus 1 grows
    assert (
        short_circuit_ratio(net, 1, 300.0)["scr"]
        > short_circuit_ratio(_source_and_line(), 1, 300.0)["scr"]
    )


def _double_circuit() -> pp.pandapowerNet:
    """Source bus 0, two parallel lines to bus 1, a radial line to the POI bus 2."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 110.0) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (0, 1), (1, 2)):
        pp.create_line_from_parameters(
            net,
            b[f],
            b[t],
            length_km=1.0,
            r_ohm_per_km=0.001,
            x_ohm_per_km=0.001,
            c_nf_per_km=0.0,
            max_i_ka=0.4 if f == 0 else 2.0,
        )
    return net


def test_n1_ranks_outages_by_worst_violation():
    net = _double_circuit()
    df = n1_screening(net, 2, [("peak", 100.0, 0.0)], 0.95, 1.05, 100.0)
    assert len(df) == 4  # intact + 3 outages
    assert df["severity"].is_monotonic_decreasing
    # losing the radial line isolates the POI: infinitely bad, first
    assert (
        df.iloc[0]["outage"] == "line.2"
        and df.iloc[0]["poi_isolated"]
        and math.isinf(df.iloc[0]["severity"])
    )
    # one circuit out: I = 100 MW / (sqrt(3) * 110 kV) = 0.5249 kA on a 0.4 kA line = 131.2 %
    single = df[df["outage"].isin(["line.0", "line.1"])]
    assert single["loading_max_percent"].to_numpy() == pytest.approx([131.2] * 2, rel=2e-3)
    assert single["severity"].to_numpy() == pytest.approx([31.2] * 2, rel=1e-2)
    intact = df[df["outage"] == "none"].iloc[0]
    assert intact["loading_max_percent"] == pytest.approx(65.6, rel=2e-3)
    assert intact["severity"] == 0.0 and intact["violations"] == 0
    assert len(net.load) == 0  # the input network is not modified


def test_n1_max_outages_and_several_snapshots():
    df = n1_screening(
        _double_circuit(), 2, [("peak", 100.0, 0.0), ("trough", 10.0, 0.0)], max_outages=1
    )
    assert sorted(df["snapshot"].unique()) == ["peak", "trough"]
    assert len(df) == 4  # (intact + 1 outage) x 2
    trough_out = df[(df["snapshot"] == "trough") & (df["outage"] == "line.0")].iloc[0]
    assert trough_out["severity"] == 0.0 and np.isfinite(trough_out["loading_max_percent"])


def _chain_with_plants() -> pp.pandapowerNet:
    """Source - POI (bus 1) - bus 2 (a 50 MW plant, 1 branch away) - bus 3 - bus 4 (a far plant)."""
    net = _source_and_line()
    prev = 1
    for _ in range(3):
        b = pp.create_bus(net, 110.0)
        pp.create_line_from_parameters(
            net,
            prev,
            b,
            length_km=5.0,
            r_ohm_per_km=0.0,
            x_ohm_per_km=1.0,
            c_nf_per_km=0.0,
            max_i_ka=1.0,
        )
        prev = b
    pp.create_sgen(net, 2, p_mw=50.0, sn_mva=50.0, k=1.2)
    pp.create_sgen(net, 4, p_mw=80.0, sn_mva=80.0, k=1.2)
    return net


def test_near_plants_are_those_within_two_branches():
    from cosim.metrics.grid_strength import near_inverter_plants

    assert near_inverter_plants(_chain_with_plants(), 1) == [(0, 2, 1)]
    assert near_inverter_plants(_source_and_line(), 1) == []


def test_escr_and_wscr_share_the_strength_with_near_plants():
    from cosim.metrics.grid_strength import inverter_interaction

    net = _chain_with_plants()
    r = inverter_interaction(net, 1, 100.0)
    (plant,) = r.plants
    assert (plant["sgen"], plant["bus"], plant["p_mw"]) == (0, 2, 50.0)
    # without the plants: the 1000 MVA source (Z = c Vn^2 / S_sc, IEC 60909 c_max = 1.1)
    # behind 10 ohm (POI) and 15 ohm (the plant's bus) at 110 kV
    z_src = 1.1 * 110.0**2 / 1000.0
    s_poi = 1.1 * 110.0**2 / (z_src + 10.0)
    s_plant = 1.1 * 110.0**2 / (z_src + 15.0)
    assert r.escr == pytest.approx(s_poi / 150.0, rel=1e-3)
    assert r.wscr == pytest.approx((s_poi * 100.0 + s_plant * 50.0) / 150.0**2, rel=1e-3)
    alone = short_circuit_ratio(net, 1, 100.0).scr
    assert r.escr < alone
    assert inverter_interaction(_source_and_line(), 1, 100.0).escr is None
