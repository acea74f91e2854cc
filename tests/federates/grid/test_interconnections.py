"""Interconnection presets: plausible, sourced, and a clear error for unknown names."""

from __future__ import annotations

import dataclasses

import pytest

from federates.grid.config import FrequencyConfig
from federates.grid.interconnections import PRESETS, InterconnectionPreset, preset

_NUMERIC = [
    f.name for f in dataclasses.fields(InterconnectionPreset) if f.name not in ("name", "sources")
]


def test_sizes_are_ordered_eastern_western_ercot() -> None:
    e, w, t = preset("Eastern"), preset("Western"), preset("ERCOT")
    for attr in ("s_base_gw", "peak_demand_gw", "kinetic_energy_gw_s"):
        assert getattr(e, attr) > getattr(w, attr) > getattr(t, attr), attr
    assert e.resource_loss_mw > t.resource_loss_mw


@pytest.mark.parametrize("name", ["ERCOT", "Eastern", "Western"])
def test_values_are_plausible(name: str) -> None:
    p = preset(name)
    assert p.f_nom_hz == 60.0
    assert 2.0 <= p.h_s <= 8.0
    assert p.s_base_gw < p.peak_demand_gw
    assert 0.5 <= p.d_pu <= 3.0
    assert 0.03 <= p.droop_pu <= 0.06
    assert 0.0 <= p.deadband_hz <= 0.036
    # the design-basis loss is a few per cent of online generation at most
    assert 0.005 < p.resource_loss_mw / (1000.0 * p.s_base_gw) < 0.06


def test_ercot_inertia_is_above_its_critical_inertia() -> None:
    # ERCOT's critical inertia is 100 GW s and its lowest recorded 130 GW s (2018 report)
    assert preset("ercot").kinetic_energy_gw_s > 130.0


@pytest.mark.parametrize("name", ["ERCOT", "Eastern", "Western"])
def test_every_figure_names_a_source_or_says_assumed(name: str) -> None:
    p = preset(name)
    assert set(p.sources) == set(_NUMERIC)
    assert all(s.strip() for s in p.sources.values())
    assert "kinetic_energy_gw_s" in p.assumed
    assert "resource_loss_mw" not in p.assumed


def test_frequency_config_overrides_are_valid_config_fields() -> None:
    over = preset("Western").frequency_config()
    cfg = FrequencyConfig(**over)
    assert cfg.h_s == pytest.approx(preset("Western").h_s)
    assert cfg.s_base_mva == pytest.approx(110_000.0)


def test_names_are_case_insensitive_and_unknown_names_error() -> None:
    assert preset(" ercot ") is PRESETS["ercot"]
    with pytest.raises(ValueError, match="ERCOT, Eastern, Western"):
        preset("Quebec")
