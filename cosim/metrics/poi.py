"""Metrics of the point of interconnection: power, power factor, ramps, spectrum.

Power follows the load convention (``p_mw > 0`` = import; ``q_mvar > 0`` =
lagging). Series are step-held over non-uniform instants (see ``_series``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal

from cosim.metrics._series import (
    as_array,
    durations_s,
    end_time_s,
    finite_or_none,
    is_uniform,
    runs,
    uniform,
    window_mean,
)

#: the oscillation bands reported in the summary: key suffix -> (low, high) [Hz]
OSC_BANDS_HZ: dict[str, tuple[float, float]] = {
    "0p1_2hz": (0.1, 2.0),
    "0p2_3hz": (0.2, 3.0),
    "3_30hz": (3.0, 30.0),
}


def power_extremes(
    t_s: np.ndarray, p_mw: np.ndarray, t_end_s: float | None = None
) -> dict[str, Any]:
    """Peak and minimum import [MW], their times [s], mean [MW] and energy [MWh]."""
    t, p = as_array(t_s), as_array(p_mw)
    ok = np.isfinite(p)
    if not ok.any():
        return {
            "p_max_mw": None,
            "p_max_t_s": None,
            "p_min_mw": None,
            "p_min_t_s": None,
            "p_mean_mw": None,
            "energy_mwh": None,
        }
    dur = durations_s(t, t_end_s)
    imax, imin = int(np.nanargmax(p)), int(np.nanargmin(p))
    energy = float(np.sum(p[ok] * dur[ok]))
    return {
        "p_max_mw": float(p[imax]),
        "p_max_t_s": float(t[imax]),
        "p_min_mw": float(p[imin]),
        "p_min_t_s": float(t[imin]),
        "p_mean_mw": energy / float(dur[ok].sum()) if dur[ok].sum() > 0 else float(p[ok].mean()),
        "energy_mwh": energy / 3600.0,
    }


def power_factor(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    q_mvar: np.ndarray,
    pf_lag_min: float = 0.95,
    pf_lead_min: float = 0.95,
    s_min_mva: float = 0.0,
    t_end_s: float | None = None,
) -> dict[str, Any]:
    """Power factor at the POI against a lag / lead band.

    ``pf = |P| / |S|``; lagging when ``Q * P > 0`` (the site draws vars while it
    imports), leading when ``Q * P < 0``. Samples with ``|S| < s_min_mva`` are
    not judged (PF is meaningless near no load).

    Returns
    -------
    dict: ``pf_min_lag`` / ``pf_min_lead`` (None when no such sample), time
    outside the band ``out_of_band_s`` [s] and its share of the judged time
    ``out_of_band_percent`` [%].
    """
    t, p, q = as_array(t_s), as_array(p_mw), as_array(q_mvar)
    dur = durations_s(t, t_end_s)
    s = np.hypot(p, q)
    judged = np.isfinite(s) & (s >= s_min_mva) & (s > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pf = np.where(judged, np.abs(p) / s, np.nan)
    lag = judged & (p * q > 0)
    lead = judged & (p * q < 0)
    out_band = (lag & (pf < pf_lag_min)) | (lead & (pf < pf_lead_min))
    judged_s = float(dur[judged].sum())
    return {
        "pf_min_lag": float(pf[lag].min()) if lag.any() else None,
        "pf_min_lead": float(pf[lead].min()) if lead.any() else None,
        "out_of_band_s": float(dur[out_band].sum()),
        "out_of_band_percent": 100.0 * float(dur[out_band].sum()) / judged_s
        if judged_s > 0
        else None,
    }


def _ramp_at(
    t: np.ndarray, p: np.ndarray, te: np.ndarray, window_s: float, t_end_s: float | None
) -> np.ndarray:
    now = window_mean(t, p, te - window_s, te, t_end_s)
    before = window_mean(t, p, te - 2 * window_s, te - window_s, t_end_s)
    return (now - before) / window_s


def ramp_series(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    window_s: float,
    t_end_s: float | None = None,
    dt_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ramp of the ``window_s``-averaged power [MW/s] on a uniform grid.

    ``r(t) = (mean P over [t - W, t) - mean P over [t - 2W, t - W)) / W``: the
    change between two consecutive sliding averages of length ``W``. A step of
    ``dP`` gives ``max r = dP / W`` whatever its duration below ``W``;
    oscillations faster than ``W`` average out (they are judged by the
    oscillation bands and flicker instead). The grid starts at
    ``t0 + 2 W`` with step ``dt_s`` (default: the median step of the series, at
    most ``W``); empty when the series is shorter than ``2 W``.
    """
    t, p = as_array(t_s), as_array(p_mw)
    if t.size < 2:
        return np.empty(0), np.empty(0)
    end = end_time_s(t, t_end_s)
    step = dt_s or min(float(np.median(np.diff(t))), window_s)
    te = np.arange(t[0] + 2 * window_s, end + 1e-9, step)
    if te.size == 0:
        return te, te.copy()
    return te, _ramp_at(t, p, te, window_s, t_end_s)


def ramp_rates(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    window_s: float,
    t_end_s: float | None = None,
    percentile: float = 99.0,
) -> dict[str, Any]:
    """Largest and ``percentile`` ramp of a power series over ``window_s`` (see :func:`ramp_series`).

    ``r(t)`` is piecewise linear between the instants where ``t``, ``t - W``
    or ``t - 2W`` meets a sample instant, so its maximum is taken exactly at
    those instants; the percentile is taken over the uniform grid (time-weighted).

    Returns
    -------
    dict: ``max_mw_per_s``, ``p99_mw_per_s`` (absolute values), the same in
    ``max_mw_per_min`` / ``p99_mw_per_min``, ``t_max_s`` (end of the window of
    the largest ramp); Nones when the series is shorter than ``2 * window_s``.
    """
    t, p = as_array(t_s), as_array(p_mw)
    none = {
        "max_mw_per_s": None,
        "p99_mw_per_s": None,
        "max_mw_per_min": None,
        "p99_mw_per_min": None,
        "t_max_s": None,
    }
    te, r = ramp_series(t, p, window_s, t_end_s)
    if te.size == 0:
        return none
    end = end_time_s(t, t_end_s)
    knots = np.append(t, end)
    brk = np.concatenate([knots, knots + window_s, knots + 2 * window_s])
    brk = brk[(brk >= t[0] + 2 * window_s - 1e-9) & (brk <= end + 1e-9)]
    rb = _ramp_at(t, p, brk, window_s, t_end_s)
    allt, allr = np.concatenate([te, brk]), np.abs(np.concatenate([r, rb]))
    if not np.isfinite(allr).any():
        return none
    i = int(np.nanargmax(allr))
    p99 = float(np.nanpercentile(np.abs(r), percentile))
    return {
        "max_mw_per_s": float(allr[i]),
        "p99_mw_per_s": p99,
        "max_mw_per_min": 60.0 * float(allr[i]),
        "p99_mw_per_min": 60.0 * p99,
        "t_max_s": float(allt[i]),
    }


def rapid_voltage_change(
    t_s: np.ndarray,
    vm_pu: np.ndarray,
    window_s: float = 1.0,
    v_band_pu: tuple[float, float] = (0.9, 1.1),
    t_end_s: float | None = None,
) -> dict[str, Any]:
    """Largest rapid voltage change [% of nominal] (IEC 61000-4-30-inspired).

    At every sample the change is ``|V(t) - mean(V over [t - window_s, t))|``
    in % of 1 pu. Samples whose window (or themselves) touch a value outside
    ``v_band_pu`` are dips or swells, judged by ride-through and not counted
    here (as IEC 61000-4-30 excludes dips from RVC). The first ``window_s`` of
    the series has no reference and is skipped.

    Returns
    -------
    dict: ``max_percent`` and ``t_max_s`` (None when nothing could be judged),
    ``excluded_s`` (time skipped as dips/swells) [s].
    """
    t, v = as_array(t_s), as_array(vm_pu)
    if t.size < 2:
        return {"max_percent": None, "t_max_s": None, "excluded_s": 0.0}
    bad = ~np.isfinite(v) | (v < v_band_pu[0]) | (v > v_band_pu[1])
    dur = durations_s(t, t_end_s)
    knots = np.append(t, t[-1] + dur[-1])
    cv = np.concatenate([[0.0], np.cumsum(np.where(bad, 0.0, v) * dur)])
    cb = np.concatenate([[0.0], np.cumsum(bad * dur)])
    a = t - window_s
    judged = (a >= t[0] - 1e-9) & ~bad
    a = np.maximum(a, t[0])
    ref = (np.interp(t, knots, cv) - np.interp(a, knots, cv)) / window_s
    bad_in_window = np.interp(t, knots, cb) - np.interp(a, knots, cb) > 1e-12
    judged &= ~bad_in_window
    if not judged.any():
        return {"max_percent": None, "t_max_s": None, "excluded_s": float(dur[bad].sum())}
    dv = np.where(judged, 100.0 * np.abs(v - ref), -np.inf)
    i = int(np.argmax(dv))
    return {
        "max_percent": float(dv[i]),
        "t_max_s": float(t[i]),
        "excluded_s": float(dur[bad].sum()),
    }


def reversals(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Indices of the turning points of a series, with hysteresis.

    A turn is accepted once the series has moved back from its extreme by more
    than ``threshold`` (against numerical noise). The first point of the
    leading trend and the last extreme are included.
    """
    x = as_array(x)
    n = x.size
    if n < 2:
        return np.arange(n)
    out: list[int] = []
    lo_i = hi_i = 0
    direction, ext_i = 0, 0
    for i in range(1, n):
        xi = x[i]
        if direction == 0:
            if xi < x[lo_i]:
                lo_i = i
            if xi > x[hi_i]:
                hi_i = i
            if x[hi_i] - x[lo_i] > threshold:
                rising = hi_i > lo_i
                out.append(lo_i if rising else hi_i)
                direction, ext_i = (1, hi_i) if rising else (-1, lo_i)
        elif direction == 1:
            if xi > x[ext_i]:
                ext_i = i
            elif x[ext_i] - xi > threshold:
                out.append(ext_i)
                direction, ext_i = -1, i
        else:
            if xi < x[ext_i]:
                ext_i = i
            elif xi - x[ext_i] > threshold:
                out.append(ext_i)
                direction, ext_i = 1, i
    if direction != 0:
        out.append(ext_i)
    return np.array(out, dtype=int)


def voltage_changes(x_percent: np.ndarray, threshold_percent: float = 0.01) -> np.ndarray:
    """Magnitudes [%] of the monotonic changes between reversals of a series.

    A ramp over several samples counts as one change of its full size; NaNs
    are dropped.
    """
    x = as_array(x_percent)
    x = x[np.isfinite(x)]
    r = reversals(x, threshold_percent)
    return np.abs(np.diff(x[r])) if r.size > 1 else np.empty(0)


def flicker_severity(
    t_s: np.ndarray,
    vm_pu: np.ndarray,
    window_s: float = 600.0,
    v_band_pu: tuple[float, float] = (0.9, 1.1),
    t_end_s: float | None = None,
    shape_factor: float = 1.0,
) -> dict[str, Any]:
    """Flicker severity estimate from an RMS voltage series (simplified).

    Not a flickermeter: the IEC 61000-4-15 lamp-eye chain needs the waveform,
    which a quasi-static simulation does not have. Instead the analytical
    method of IEC 61000-3-3 (annex) is applied to the relative voltage
    changes ``d`` [% of 1 pu] found between reversals of the series: each
    change adds a flicker time ``tf = 2.3 (F d)^3.2`` [s] and
    ``Pst = (sum tf / T)^(1/3.2)`` per window of ``T = window_s`` (the real
    length of a shorter last window, at least 60 s);
    ``Plt = (mean Pst^3)^(1/3)`` over all windows (IEC uses 12 = 2 h; a
    shorter run uses what it has). The shape factor ``F`` is 1 (a step:
    conservative for ramps). Fluctuations faster than the series' step are not
    seen. Samples outside ``v_band_pu`` (dips, swells: ride-through events)
    are left out and the series is split there, so a dip is not counted as
    flicker (IEC 61000-4-30 instead flags the whole window).

    Returns
    -------
    dict: ``pst`` (list per window), ``pst_max``, ``plt`` (None without
    data), ``excluded_s`` (time left out as dips/swells) [s].
    """
    t, v = as_array(t_s), as_array(vm_pu)
    if t.size < 2:
        return {"pst": [], "pst_max": None, "plt": None, "excluded_s": 0.0}
    end = end_time_s(t, t_end_s)
    dur = durations_s(t, t_end_s)
    good = np.isfinite(v) & (v >= v_band_pu[0]) & (v <= v_band_pu[1])
    psts: list[float] = []
    for a in np.arange(t[0], end, window_s):
        b = min(a + window_s, end)
        idx = np.flatnonzero((t >= a) & (t < b))
        if idx.size == 0:
            continue
        tf = 0.0
        for i0, i1 in runs(good[idx]):
            d = voltage_changes(100.0 * v[idx[i0:i1]])
            tf += float(np.sum(2.3 * (shape_factor * d) ** 3.2))
        psts.append(float((tf / max(b - a, 60.0)) ** (1 / 3.2)))
    arr = np.array(psts)
    return {
        "pst": psts,
        "pst_max": float(arr.max()) if arr.size else None,
        "plt": float(np.mean(arr**3) ** (1 / 3)) if arr.size else None,
        "excluded_s": float(dur[~good].sum()),
    }


def spectrum(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    segment_s: float = 100.0,
    t_end_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Welch power spectral density of a power series.

    Non-uniform series are resampled (step-held) to their smallest step.
    Segments of ``segment_s`` (0.01 Hz resolution by default, fewer samples
    when the series is shorter), Hann window, linear detrend.

    Returns
    -------
    ``(f_hz, psd_mw2_per_hz, dt_s)``; empty arrays when fewer than 8 samples.
    """
    t, p = as_array(t_s), as_array(p_mw)
    ok = np.isfinite(p)
    if ok.sum() < 8:
        return np.empty(0), np.empty(0), float("nan")
    t, p = t[ok], p[ok]
    if is_uniform(t):
        dt = float(t[1] - t[0])
    else:
        dt = float(np.min(np.diff(t)))
        t, p = uniform(t, p, dt, t_end_s)
    nper = int(min(p.size, max(8, round(segment_s / dt))))
    f, pxx = signal.welch(
        p, fs=1.0 / dt, window="hann", nperseg=nper, detrend="linear", scaling="density"
    )
    return f, pxx, dt


def band_rms(f_hz: np.ndarray, psd: np.ndarray, lo_hz: float, hi_hz: float) -> float | None:
    """RMS [MW] of the part of a signal in ``[lo_hz, hi_hz]`` from its PSD.

    ``sqrt(sum PSD df)`` over the bins inside the band. None when the band
    lies wholly above the Nyquist frequency (no data); a band cut by Nyquist
    covers only the part below it.
    """
    f, s = as_array(f_hz), as_array(psd)
    if f.size < 2 or lo_hz >= f[-1]:
        return None
    df = float(f[1] - f[0])
    sel = (f >= lo_hz) & (f <= hi_hz)
    return float(np.sqrt(np.sum(s[sel]) * df))


def oscillation_bands(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    bands_hz: dict[str, tuple[float, float]] | None = None,
    t_end_s: float | None = None,
) -> dict[str, Any]:
    """RMS of POI power in each band [MW] (Welch), plus the Nyquist frequency [Hz].

    Returns ``{"osc_rms_<key>_mw": value, ..., "nyquist_hz": f_N,
    "bands_truncated": [keys cut by Nyquist]}``.
    """
    bands = OSC_BANDS_HZ if bands_hz is None else bands_hz
    f, pxx, dt = spectrum(t_s, p_mw, t_end_s=t_end_s)
    out: dict[str, Any] = {}
    nyq = 0.5 / dt if f.size else None
    for key, (lo, hi) in bands.items():
        out[f"osc_rms_{key}_mw"] = band_rms(f, pxx, lo, hi) if f.size else None
    out["nyquist_hz"] = finite_or_none(nyq)
    out["bands_truncated"] = [
        k for k, (lo, hi) in bands.items() if nyq is not None and lo < nyq < hi
    ]
    return out


def attenuation_db(rms_in: float | None, rms_out: float | None) -> float | None:
    """``20 log10(rms_in / rms_out)`` [dB]; None when either is missing or zero."""
    if not rms_in or not rms_out or rms_in <= 0 or rms_out <= 0:
        return None
    return float(20.0 * np.log10(rms_in / rms_out))
