"""The factory's own filters against scipy.signal (the tests may import it; the federate not)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import butter, lfilter, sosfilt, sosfilt_zi, sosfreqz

from federates.factory.filters import (
    MAX_CHUNK,
    BlockFilter,
    butter_bandpass_sos,
    first_order_lag_sos,
)


@pytest.mark.parametrize(
    ("order", "f_low_hz", "f_high_hz", "fs_hz"),
    [
        (2, 0.2, 3.0, 20.0),
        (1, 0.2, 3.0, 50.0),
        (3, 0.2, 3.0, 20.0),
        (4, 0.5, 2.0, 100.0),
        (2, 0.2, 9.5, 20.0),
    ],
)
def test_bandpass_design_and_block_filtering_match_scipy(order, f_low_hz, f_high_hz, fs_hz) -> None:
    mine = butter_bandpass_sos(order, f_low_hz, f_high_hz, fs_hz)
    ref = butter(order, [f_low_hz, f_high_hz], btype="bandpass", fs=fs_hz, output="sos")
    _, h_mine = sosfreqz(mine, worN=2000, fs=fs_hz)
    _, h_ref = sosfreqz(ref, worN=2000, fs=fs_hz)
    assert np.max(np.abs(h_mine - h_ref)) < 1e-9
    x = np.random.default_rng(0).normal(size=1200) + 5.0
    f = BlockFilter(mine)
    zi = f.steady_state(x[0])
    parts = []
    for s in range(0, len(x), 37):  # blocks like a grid step's samples, with a short last one
        y, zi = f.run(x[s : s + 37], zi)
        parts.append(y)
    y_ref, _ = sosfilt(ref, x, zi=sosfilt_zi(ref) * x[0])
    assert np.max(np.abs(np.concatenate(parts) - y_ref)) < 1e-9


def test_edges_are_minus_3_db() -> None:
    sos = butter_bandpass_sos(2, 0.2, 3.0, 20.0)
    _, h = sosfreqz(sos, worN=[0.2, 3.0], fs=20.0)
    assert np.allclose(20 * np.log10(np.abs(h)), -3.0103, atol=1e-3)


def test_first_order_lag_is_lfilter_with_its_state() -> None:
    a = 0.97
    w = np.random.default_rng(1).normal(size=300)
    y, zf = BlockFilter(first_order_lag_sos(a)).run(w, np.array([[a * 0.3, 0.0]]))
    y_ref, z_ref = lfilter([1.0], [1.0, -a], w, zi=[a * 0.3])
    assert np.max(np.abs(y - y_ref)) < 1e-12 and zf[0, 0] == pytest.approx(z_ref[0], abs=1e-12)


def test_blocks_longer_than_a_chunk_are_exact() -> None:
    sos = butter_bandpass_sos(2, 0.2, 3.0, 100.0)
    x = np.sin(np.linspace(0, 60, 3 * MAX_CHUNK + 11))
    y, _ = BlockFilter(sos).run(x, np.zeros((2, 2)))
    y_ref = sosfilt(sos, x)
    assert np.max(np.abs(y - y_ref)) < 1e-9


def test_steady_state_holds_a_constant_input() -> None:
    f = BlockFilter(butter_bandpass_sos(2, 0.2, 3.0, 20.0))
    y, zf = f.run(np.full(50, 7.0), f.steady_state(7.0))
    assert np.allclose(y, 0.0, atol=1e-9) and np.allclose(zf, f.steady_state(7.0))


def test_bad_band_is_refused() -> None:
    with pytest.raises(ValueError, match="band edges"):
        butter_bandpass_sos(2, 3.0, 0.2, 20.0)
    with pytest.raises(ValueError, match="order"):
        butter_bandpass_sos(0, 0.2, 3.0, 20.0)


def test_factory_federate_does_not_import_scipy_signal() -> None:
    """scipy.signal costs ~1.2 s of CPU at every federate start: the factory must not load it."""
    code = (
        "import sys, federates.factory.federate, federates.factory.site, federates.common.loop; "
        "print('scipy.signal' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
