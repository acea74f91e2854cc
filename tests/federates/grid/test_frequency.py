"""The system frequency response model against its analytical limits."""

from __future__ import annotations

import pytest

from federates.grid.config import FrequencyConfig
from federates.grid.frequency import SystemFrequency


def test_initial_rocof_is_the_swing_equation() -> None:
    m = SystemFrequency(FrequencyConfig(h_s=5.0), s_base_mva=10_000.0)
    # df/dt = -dP f0 / (2 H S) = -500 * 60 / (2 * 5 * 10000) = -0.3 Hz/s
    assert m.rocof_hz_per_s(500.0) == pytest.approx(-0.3)


def test_settles_at_the_droop_frequency_with_a_nadir_below_it() -> None:
    cfg = FrequencyConfig(deadband_hz=0.0)
    m = SystemFrequency(cfg, s_base_mva=10_000.0)
    for k in range(120):
        m.advance(float(k), k + 1.0, 500.0)
    f_ss = 60.0 * (1 - 0.05 / (1.0 + 0.95 / 0.05))  # 60 (1 - dP / (D + Km / R))
    assert m.steady_state_hz(500.0) == pytest.approx(f_ss)
    assert m.f_hz == pytest.approx(f_ss, abs=2e-3)
    assert m.nadir_hz < f_ss - 0.01 and 1.0 < m.nadir_t_s < 15.0
    assert m.summary()["zenith_hz"] == pytest.approx(60.0)


def test_load_loss_raises_frequency_and_dead_band_holds_small_swings() -> None:
    m = SystemFrequency(FrequencyConfig(), s_base_mva=10_000.0)
    m.advance(0.0, 10.0, -300.0)
    assert m.f_hz > 60.0 and m.zenith_hz > 60.0
    quiet = SystemFrequency(FrequencyConfig(deadband_hz=0.036), s_base_mva=10_000.0)
    quiet.advance(0.0, 30.0, 5.0)  # 5 MW on 10 GW: well inside the dead band, no governor action
    assert quiet.mechanical_mw() == 0.0
