"""Modes of the Kundur two-area system against the textbook, and their time-domain signature.

Reference figures: Kundur, Power System Stability and Control (1994), two-area
example (Example 12.6): one inter-area mode at about 0.64 Hz and two local
modes at about 1.1-1.2 Hz (1.12 Hz in area 1 and 1.16 Hz in area 2 with the
thyristor exciter). The free and forced responses below come from the nonlinear
time-domain model, the modes from its linearisation.
"""

from __future__ import annotations

import numpy as np
import pytest

from federates.dynamics.cases import load_case
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import electromechanical, modes

KUNDUR_INTER_AREA_HZ = 0.64
KUNDUR_LOCAL_HZ = (1.12, 1.16)
EXCHANGE_S = 0.02


@pytest.fixture(scope="module")
def kundur_modes():
    grid = DynamicGrid(load_case("kundur"), "B7", p_site0_mw=200.0, q_site0_mvar=20.0)
    return grid, modes(grid)


def test_kundur_one_inter_area_and_two_local_modes(kundur_modes):
    _, found = kundur_modes
    em = electromechanical(found)
    inter = [m for m in em if m.kind == "inter-area"]
    local = [m for m in em if m.kind == "local"]
    assert len(inter) == 1 and 0.45 <= inter[0].freq_hz <= 0.8
    assert len(local) == 2 and all(0.9 <= m.freq_hz <= 1.4 for m in local)
    # within 10 % of the textbook's figures
    assert inter[0].freq_hz == pytest.approx(KUNDUR_INTER_AREA_HZ, rel=0.1)
    assert sorted(m.freq_hz for m in local) == pytest.approx(KUNDUR_LOCAL_HZ, rel=0.1)
    # each local mode belongs to one area's pair of machines
    pairs = {frozenset(sorted(m.participation, key=m.participation.get)[-2:]) for m in local}
    assert pairs == {frozenset({"G1", "G2"}), frozenset({"G3", "G4"})}
    assert all(sum(m.participation.values()) == pytest.approx(1.0) for m in found)


def _free_response(grid: DynamicGrid, pulse_mw: float, t_end_s: float) -> tuple:
    """Speeds after a 100 ms load pulse at the site (from the pulse's end on)."""
    p0 = grid.s_site0_pu.real * grid.s_base_mva
    t = EXCHANGE_S * np.arange(1, int(round(t_end_s / EXCHANGE_S)) + 1)
    p = np.where((t > 0.5) & (t <= 0.6 + 1e-9), p0 + pulse_mw, p0)
    r = grid.run_block(t, p, np.full_like(t, grid.s_site0_pu.imag * grid.s_base_mva))
    keep = t >= 0.6 + 1e-9
    return t[keep], r.speed_dev_hz[keep]


def _matrix_pencil(y: np.ndarray, dt_s: float, order: int) -> np.ndarray:
    """Continuous-time poles [1/s] of a sampled signal (Hua and Sarkar's matrix pencil)."""
    n = len(y)
    rows = n - order
    h = np.array([y[i : i + order + 1] for i in range(rows)])
    _, _, vh = np.linalg.svd(h, full_matrices=False)
    v = vh[:order].conj().T
    v1, v2 = v[:-1], v[1:]
    z = np.linalg.eigvals(np.linalg.pinv(v1) @ v2)
    return np.log(z.astype(complex)) / dt_s


def _nearest_pole(poles: np.ndarray, f_hz: float) -> complex:
    osc = poles[poles.imag > 0]
    return complex(osc[np.argmin(np.abs(osc.imag / (2 * np.pi) - f_hz))])


@pytest.mark.parametrize(
    ("kind", "signal"),
    [
        ("inter-area", lambda w: w[:, :2].mean(axis=1) - w[:, 2:].mean(axis=1)),
        ("local", lambda w: w[:, 0] - w[:, 1]),
    ],
)
def test_free_response_matches_eigenvalue(kundur_modes, kind, signal):
    grid, found = kundur_modes
    mode = [m for m in electromechanical(found) if m.kind == kind][0]
    if kind == "local":  # the area-1 local mode (G1 against G2)
        mode = max(
            (m for m in found if m.kind == "local"),
            key=lambda m: m.participation["G1"] + m.participation["G2"],
        )
    grid.reset()
    _, w = _free_response(grid, pulse_mw=20.0, t_end_s=8.0)
    y = signal(w)
    assert np.ptp(y) > 1e-5  # the pulse excited the mode (> 10 uHz)
    pole = _nearest_pole(_matrix_pencil(y - y.mean(), EXCHANGE_S, order=12), mode.freq_hz)
    f_hz = pole.imag / (2 * np.pi)
    zeta = -pole.real / abs(pole)
    assert f_hz == pytest.approx(mode.freq_hz, rel=0.05)
    assert zeta == pytest.approx(mode.damping_ratio, rel=0.2)


def _forced_pp_mhz(grid: DynamicGrid, f_hz: float, amplitude_mw: float) -> float:
    """Steady peak-to-peak speed deviation (max over machines) under a sine at the site [mHz]."""
    grid.reset()
    p0 = grid.s_site0_pu.real * grid.s_base_mva
    t = EXCHANGE_S * np.arange(1, int(round(14.0 / EXCHANGE_S)) + 1)
    p = p0 + amplitude_mw * np.sin(2 * np.pi * f_hz * (t - EXCHANGE_S))
    r = grid.run_block(t, p, np.full_like(t, 20.0))
    tail = r.speed_dev_hz[t > 8.0]
    tail = tail - tail.mean(axis=0)
    return float(np.ptp(tail, axis=0).max() * 1e3)


def test_forced_response_peaks_at_the_modes(kundur_modes):
    grid, found = kundur_modes
    em = electromechanical(found)
    at_2hz = _forced_pp_mhz(grid, 2.0, 50.0)
    for m in em:
        at_mode = _forced_pp_mhz(grid, m.freq_hz, 50.0)
        assert at_mode >= 1.5 * at_2hz, (m.kind, m.freq_hz, at_mode, at_2hz)
