"""The RMS-domain flickermeter against IEC 61000-4-15 ed. 2 (2010).

Table 5 (rectangular modulation, Pst = 1.00 +/- 5 %) and Table 1a/1b
(sinusoidal modulation, Pinst max = 1.00 +/- 8 %) as transcribed in the
open-source ``flicker_sim`` verification script (QWTB, ``alg_flicker_sim``).
dV/V is peak to peak: the RMS voltage steps between V (1 + d/2) and V (1 - d/2);
"changes per minute" counts steps, so the square wave is at CPM / 120 Hz.
"""

from __future__ import annotations

import numpy as np
import pytest

from cosim.metrics import flicker

#: IEC 61000-4-15 ed. 2 Table 5: (changes/min, dV/V [%]) giving Pst = 1.00
TABLE5: dict[int, list[tuple[float, float]]] = {
    120: [(1, 3.181), (2, 2.564), (7, 1.694), (39, 1.040), (110, 0.844), (1620, 0.548)],
    230: [(1, 2.715), (2, 2.191), (7, 1.450), (39, 0.894), (110, 0.722), (1620, 0.407)],
}
#: IEC 61000-4-15 ed. 2 Tables 1a/1b (120 V / 60 Hz, 230 V / 50 Hz): (f [Hz], dV/V [%])
TABLE1: dict[int, list[tuple[float, float]]] = {
    120: [(0.5, 2.453), (2.0, 0.942), (8.8, 0.321), (20.0, 0.977)],
    230: [(0.5, 2.325), (2.0, 0.879), (8.8, 0.250), (20.0, 0.704)],
}
#: 2 min settling + one 10-minute window [s]
DURATION_S = 720.0


def rectangular(cpm: float, dv_percent: float, fs_hz: float, duration_s: float) -> np.ndarray:
    """RMS voltage [pu] stepping ``cpm`` times a minute by ``dv_percent`` peak to peak."""
    t = np.arange(int(round(duration_s * fs_hz))) / fs_hz
    sign = np.where(np.sin(2 * np.pi * cpm / 120.0 * t) >= 0, 1.0, -1.0)
    return 1.0 + dv_percent / 200.0 * sign


def sinusoidal(f_hz: float, dv_percent: float, fs_hz: float, duration_s: float) -> np.ndarray:
    """RMS voltage [pu] modulated at ``f_hz`` by ``dv_percent`` peak to peak."""
    t = np.arange(int(round(duration_s * fs_hz))) / fs_hz
    return 1.0 + dv_percent / 200.0 * np.sin(2 * np.pi * f_hz * t)


def _cases(table: dict[int, list[tuple[float, float]]]) -> list[tuple[int, float, float]]:
    return [(lamp, x, dv) for lamp, rows in table.items() for x, dv in rows]


@pytest.mark.parametrize("fs_hz", [1000.0, flicker.FULL_ACCURACY_FS_HZ])
@pytest.mark.parametrize(("lamp_v", "cpm", "dv_percent"), _cases(TABLE5))
def test_table5_rectangular_gives_pst_one(
    lamp_v: int, cpm: float, dv_percent: float, fs_hz: float
) -> None:
    v = rectangular(cpm, dv_percent, fs_hz, DURATION_S)
    p = flicker.pst(v, fs_hz, lamp_v=lamp_v)
    assert p.shape == (1,)
    assert p[0] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(("lamp_v", "f_hz", "dv_percent"), _cases(TABLE1))
def test_table1_sinusoidal_gives_pinst_max_one(lamp_v: int, f_hz: float, dv_percent: float) -> None:
    fs_hz = 1000.0
    fl = flicker.instantaneous_flicker(
        sinusoidal(f_hz, dv_percent, fs_hz, 60.0), fs_hz, lamp_v=lamp_v
    )
    settled = fl.pinst[int(40.0 * fl.fs_hz) :]
    assert settled.max() == pytest.approx(1.0, abs=0.08)


@pytest.mark.parametrize("lamp_v", [120, 230])
def test_constant_and_slow_drift_give_no_flicker(lamp_v: int) -> None:
    fs_hz = 100.0
    n = int(DURATION_S * fs_hz)
    assert flicker.pst(np.full(n, 1.03), fs_hz, lamp_v=lamp_v)[0] < 1e-9
    drift = 1.0 + 0.01 * np.arange(n) / n  # 1 % over 12 min: a tap-changer-free slow drift
    assert flicker.pst(drift, fs_hz, lamp_v=lamp_v)[0] < 0.02


@pytest.mark.parametrize(("lamp_v", "cpm"), [(120, 7), (230, 110), (120, 1620)])
def test_pst_is_linear_in_modulation_depth(lamp_v: int, cpm: float) -> None:
    fs_hz = 200.0
    one = flicker.pst(rectangular(cpm, 0.5, fs_hz, DURATION_S), fs_hz, lamp_v=lamp_v)[0]
    two = flicker.pst(rectangular(cpm, 1.0, fs_hz, DURATION_S), fs_hz, lamp_v=lamp_v)[0]
    assert one > 0.1
    assert two / one == pytest.approx(2.0, rel=0.05)


def test_120v_lamp_is_less_sensitive_than_230v() -> None:
    fs_hz = 200.0
    v = rectangular(39, 1.0, fs_hz, DURATION_S)
    assert flicker.pst(v, fs_hz, lamp_v=120)[0] < flicker.pst(v, fs_hz, lamp_v=230)[0]


def test_pst_counts_complete_windows_after_settling() -> None:
    fs_hz = 20.0
    v = rectangular(110, 0.8, fs_hz, 120.0 + 2 * 600.0 + 300.0)
    p = flicker.pst(v, fs_hz, lamp_v=120)
    assert p.shape == (2,)
    assert p[1] == pytest.approx(p[0], rel=0.02)
    assert flicker.pst(v[: int(700 * fs_hz)], fs_hz).size == 0
    assert flicker.pst(v, fs_hz, settle_s=0.0).shape == (2,)


def test_pst_from_constant_pinst_is_root_of_weight_sum() -> None:
    # every percentile of a constant is that constant: Pst = sqrt(c * sum of weights)
    weights = 0.0314 + 0.0525 + 0.0657 + 0.28 + 0.08
    assert flicker.pst_from_pinst(np.full(1000, 4.0)) == pytest.approx(np.sqrt(4.0 * weights))


def test_pst_from_pinst_uses_levels_exceeded() -> None:
    # Pinst = 1 for 0.05 % of the time: only P0.1 sees it, partly (interpolated)
    p = np.zeros(200_000)
    p[:100] = 1.0
    assert flicker.pst_from_pinst(p) == 0.0
    p[:1000] = 1.0  # 0.5 % of the time: P0.1 = 1, nothing else
    assert flicker.pst_from_pinst(p) == pytest.approx(np.sqrt(0.0314))


def test_plt_is_cube_mean_of_twelve() -> None:
    assert flicker.plt(np.full(12, 0.7))[0] == pytest.approx(0.7)
    one_loud = np.array([0.0] * 11 + [12.0 ** (1 / 3)])
    assert flicker.plt(one_loud)[0] == pytest.approx(1.0)
    assert flicker.plt(np.full(11, 0.7)).size == 0
    two = flicker.plt(np.concatenate([np.full(12, 0.5), np.full(12, 0.9), [3.0]]))
    np.testing.assert_allclose(two, [0.5, 0.9])


def test_slow_series_is_refused_naming_fs() -> None:
    with pytest.raises(ValueError, match="fs_hz"):
        flicker.pst(np.ones(3600), 1.0)
    with pytest.raises(ValueError, match="fs_hz"):
        flicker.instantaneous_flicker(np.ones(100), flicker.MIN_FS_HZ / 2)


def test_bad_inputs_are_refused() -> None:
    v = np.ones(1000)
    with pytest.raises(ValueError, match="lamp_v"):
        flicker.pst(v, 100.0, lamp_v=240)
    with pytest.raises(ValueError, match="non-finite"):
        flicker.pst(np.where(np.arange(1000) == 5, np.nan, 1.0), 100.0)
    with pytest.raises(ValueError, match="settle_s"):
        flicker.pst(v, 100.0, settle_s=-1.0)
    with pytest.raises(ValueError, match="reconstruct"):
        flicker.pst(v, 100.0, reconstruct="cubic")


def test_coarse_steps_keep_table5_low_rates() -> None:
    # 0.1 s steps (the project's finest quasi-static step) still see 1-110 changes/min
    fs_hz = flicker.MIN_FS_HZ
    for cpm, dv in TABLE5[120][:5]:
        p = flicker.pst(rectangular(cpm, dv, fs_hz, DURATION_S), fs_hz, lamp_v=120)[0]
        assert p == pytest.approx(1.0, abs=0.05)
