"""Signal helpers of the qualification criteria: band RMS, steps, moving means, filters.

Pure functions of step-held series (time ``t_s`` in seconds, power in MW);
the spectra come from :mod:`cosim.metrics.poi`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cosim.metrics import poi as poi_metrics
from cosim.studies.qualify.verdict import arr


def band_rms_mw(
    t_s: np.ndarray, p_mw: np.ndarray, band_hz: tuple[float, float]
) -> tuple[float | None, dict[str, Any]]:
    """RMS [MW] of a power series in ``band_hz`` (Welch PSD, :mod:`cosim.metrics.poi`).

    Parameters
    ----------
    t_s : instants [s]
    p_mw : power [MW]
    band_hz : ``(low, high)`` [Hz]

    Returns
    -------
    The RMS [MW] (None for an empty series) and ``{"f_hz", "psd", "nyquist_hz",
    "truncated"}``; ``truncated`` is True when the band reaches above the
    Nyquist frequency of the series (the part above it is not seen).
    """
    f, psd, dt = poi_metrics.spectrum(arr(t_s), arr(p_mw))
    if not f.size:
        return None, {"f_hz": f, "psd": psd, "nyquist_hz": None, "truncated": False}
    nyq = 0.5 / dt
    rms = poi_metrics.band_rms(f, psd, band_hz[0], band_hz[1])
    return rms, {
        "f_hz": f,
        "psd": psd,
        "nyquist_hz": nyq,
        "truncated": band_hz[1] > nyq * (1 + 1e-9),
    }


def max_step_mw(
    t_s: np.ndarray, p_mw: np.ndarray, window_s: float
) -> tuple[float | None, float | None]:
    """Largest ``|P(t) - P(t - window_s)|`` [MW] of a step-held series and the time [s] it ends."""
    r = poi_metrics.ramp_rates(arr(t_s), arr(p_mw), window_s)
    if r["max_mw_per_s"] is None:
        return None, None
    return r["max_mw_per_s"] * window_s, r["t_max_s"]


def centred_mean(t_s: np.ndarray, x: np.ndarray, width_s: float) -> np.ndarray:
    """Moving mean of ``x`` over ``[t - width_s/2, t + width_s/2]`` (time-weighted, step-held)."""
    from cosim.metrics._series import window_mean

    t = arr(t_s)
    return window_mean(t, arr(x), t - width_s / 2, t + width_s / 2)


def first_order_lowpass(t_s: np.ndarray, x: np.ndarray, tau_s: float) -> np.ndarray:
    """Exact discretisation of ``tau_s dy/dt = x - y`` for step-held ``x``, ``y(0) = x(0)``."""
    t, v = arr(t_s), arr(x)
    if not v.size:
        return v.copy()
    dt = np.diff(t, append=t[-1] + (t[-1] - t[-2] if t.size > 1 else 0.0))
    a = 1.0 - np.exp(-dt / tau_s)
    y = np.empty_like(v)
    y[0] = v[0]
    for k in range(1, v.size):
        y[k] = y[k - 1] + a[k - 1] * (v[k - 1] - y[k - 1])
    return y


def rate_limited(t_s: np.ndarray, x: np.ndarray, mw_per_s: float) -> np.ndarray:
    """``x`` [MW] passed through a rate limiter of ``mw_per_s`` [MW/s], starting at ``x(0)``."""
    t, v = arr(t_s), arr(x)
    y = np.empty_like(v)
    if not v.size:
        return y
    y[0] = v[0]
    dt = np.diff(t)
    for k in range(1, v.size):
        step = mw_per_s * dt[k - 1]
        y[k] = min(max(v[k], y[k - 1] - step), y[k - 1] + step)
    return y
