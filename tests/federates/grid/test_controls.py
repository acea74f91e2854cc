"""Tap changers, shunt banks, events and profiles: hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from federates.grid.config import EventConfig, ProfileConfig
from federates.grid.events import imbalance_mw, state_at
from federates.grid.network import load_network
from federates.grid.oltc import TapChanger
from federates.grid.profiles import ProfileError, load_profiles
from federates.grid.shunts import ShuntBank


def _tc(**kw) -> TapChanger:
    args = dict(
        vm_set_pu=1.0, deadband_pu=0.01, delay_s=30.0, inter_tap_delay_s=5.0, raises_with_tap=False
    )
    args.update(kw)
    return TapChanger(0, -2, 2, **args)


def test_oltc_waits_its_delay_then_steps_every_inter_tap_delay() -> None:
    tc = _tc()
    moves = [t for t in range(60) if tc.update(0.95, 1.0)]
    # HV-side tap: raising the LV voltage means a lower tap; first after 30 s, then every 5 s,
    # limit -2
    assert moves == [29, 34] and tc.tap_pos == -2 and tc.state.operations == 2


def test_oltc_resets_inside_the_band_and_respects_direction() -> None:
    tc = _tc(raises_with_tap=True)
    for _ in range(20):
        tc.update(1.05, 1.0)
    tc.update(1.0, 1.0)  # back inside the band: timer reset
    assert not any(tc.update(1.05, 1.0) for _ in range(29))
    assert tc.update(1.05, 1.0) and tc.tap_pos == -1


def test_shunt_bank_switches_in_when_low_and_out_when_high() -> None:
    b = ShuntBank(25.0, 4, 1, v_low_pu=0.97, v_high_pu=1.03, delay_s=10.0)
    assert [t for t in range(25) if b.update(0.95, 1.0)] == [9, 19]
    assert b.steps_on == 3 and b.q_mvar == 75.0
    assert [t for t in range(12) if b.update(1.06, 1.0)] == [9]
    reactor = ShuntBank(-10.0, 2, 0, v_low_pu=0.97, v_high_pu=1.03, delay_s=0.0)
    assert reactor.update(1.05, 1.0) and reactor.steps_on == 1


def test_event_state_and_imbalance() -> None:
    evs = [
        EventConfig(kind="sag", t_s=1.0, duration_s=0.05, vm_pu=0.3),
        EventConfig(kind="gen_trip", t_s=2.0, element=3),
        EventConfig(kind="load_step", t_s=2.5, duration_s=1.0, bus=4, delta_mw=-100.0),
        EventConfig(kind="line_outage", t_s=0.5, duration_s=0.5, element=7),
    ]
    assert state_at(evs, 1.0, default_bus=9).clamps == {9: 0.3}
    assert state_at(evs, 1.05, default_bus=9).clamps == {}  # [t_s, t_s + duration)
    assert state_at(evs, 0.7, 9).lines_out == frozenset({7}) and not state_at(evs, 1.0, 9).lines_out
    assert imbalance_mw(evs, 3.0, {3: 250.0}) == pytest.approx(150.0)
    assert imbalance_mw(evs, 4.0, {3: 250.0}) == pytest.approx(250.0)


def test_csv_profile_kinds_zones_and_elements(tmp_path: Path) -> None:
    net = load_network("case14")
    net.bus["zone"] = ["a"] * 7 + ["b"] * 7
    f = tmp_path / "p.csv"
    f.write_text("t_s,load,zone.b,load.0\n0,1.0,2.0,3.0\n100,0.5,1.0,3.0\n")
    prof = load_profiles(ProfileConfig(file=str(f)), net, tmp_path)
    p0 = net.load.p_mw.to_numpy()
    v = prof.at(50.0)[("load", "p_mw")]
    zone_b = np.array([net.bus.at[b, "zone"] == "b" for b in net.load.bus])
    expected = np.where(zone_b, 1.5, 0.75) * p0
    expected[0] = 3.0 * p0[0]
    np.testing.assert_allclose(v, expected)
    np.testing.assert_allclose(
        prof.at(250.0)[("load", "p_mw")], prof.at(50.0)[("load", "p_mw")]
    )  # loops (period 200 s)


def test_csv_profile_errors_are_one_line(tmp_path: Path) -> None:
    net = load_network("case14")
    f = tmp_path / "p.csv"
    f.write_text("t_s,load.99\n0,1\n")
    with pytest.raises(ProfileError, match="load 99 is not in the network"):
        load_profiles(ProfileConfig(file=str(f)), net, tmp_path)
    f.write_text("t_s,wind\n0,1\n")
    with pytest.raises(ProfileError, match="unknown columns"):
        load_profiles(ProfileConfig(file=str(f)), net, tmp_path)
