"""Metrics of the point of interconnection: power, power factor, ramps, rapid voltage change.

The spectrum (:mod:`cosim.metrics.spectrum`) and the screening flicker estimate
(:mod:`cosim.metrics.flicker_estimate`) live in their own modules and are
re-exported here.

Power follows the load convention (``p_mw > 0`` = import; ``q_mvar > 0`` =
lagging). Series are step-held over non-uniform instants (see ``_series``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.metrics._result import MetricResult
from cosim.metrics._series import (
    as_array,
    cumulative_integral,
    durations_s,
    end_time_s,
    mean_between,
)
from cosim.metrics.flicker_estimate import (
    FlickerEstimate,
    flicker_severity,
    reversals,
    voltage_changes,
)
from cosim.metrics.spectrum import (
    OSC_BANDS_HZ,
    OscillationBands,
    attenuation_db,
    band_rms,
    oscillation_bands,
    spectrum,
)

__all__ = [
    "OSC_BANDS_HZ",
    "FlickerEstimate",
    "OscillationBands",
    "PowerExtremes",
    "PowerFactor",
    "RampRates",
    "RapidVoltageChange",
    "attenuation_db",
    "band_rms",
    "flicker_severity",
    "oscillation_bands",
    "power_extremes",
    "power_factor",
    "ramp_rates",
    "ramp_series",
    "rapid_voltage_change",
    "reversals",
    "spectrum",
    "voltage_changes",
]


@dataclass(frozen=True)
class PowerExtremes(MetricResult):
    """Extremes, mean and energy of a power series (None without data).

    Attributes
    ----------
    p_max_mw : largest sample [MW]
    p_max_t_s : its instant [s]
    p_min_mw : smallest sample [MW]
    p_min_t_s : its instant [s]
    p_mean_mw : time-weighted mean [MW]
    energy_mwh : integral of the step-held power [MWh]
    """

    p_max_mw: float | None
    p_max_t_s: float | None
    p_min_mw: float | None
    p_min_t_s: float | None
    p_mean_mw: float | None
    energy_mwh: float | None


def power_extremes(
    t_s: np.ndarray, p_mw: np.ndarray, t_end_s: float | None = None
) -> PowerExtremes:
    """Peak and minimum import, their times, mean and energy of a step-held power series.

    Parameters
    ----------
    t_s : instants [s]
    p_mw : power [MW] (load convention: import positive); NaN = not recorded
    t_end_s : end of the last interval [s]

    Returns
    -------
    PowerExtremes
        all fields None when no sample is finite.
    """
    t, p = as_array(t_s), as_array(p_mw)
    ok = np.isfinite(p)
    if not ok.any():
        return PowerExtremes.empty()
    dur = durations_s(t, t_end_s)
    imax, imin = int(np.nanargmax(p)), int(np.nanargmin(p))
    energy = float(np.sum(p[ok] * dur[ok]))
    return PowerExtremes(
        p_max_mw=float(p[imax]),
        p_max_t_s=float(t[imax]),
        p_min_mw=float(p[imin]),
        p_min_t_s=float(t[imin]),
        p_mean_mw=energy / float(dur[ok].sum()) if dur[ok].sum() > 0 else float(p[ok].mean()),
        energy_mwh=energy / 3600.0,
    )


@dataclass(frozen=True)
class PowerFactor(MetricResult):
    """Power factor at the POI against a lag / lead band.

    Attributes
    ----------
    pf_min_lag : lowest lagging power factor [1], None without a lagging sample
    pf_min_lead : lowest leading power factor [1], None without a leading sample
    out_of_band_s : time outside the band [s]
    out_of_band_percent : that time as a share of the judged time [%], None when
        nothing was judged
    """

    pf_min_lag: float | None
    pf_min_lead: float | None
    out_of_band_s: float
    out_of_band_percent: float | None


def power_factor(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    q_mvar: np.ndarray,
    pf_lag_min: float = 0.95,
    pf_lead_min: float = 0.95,
    s_min_mva: float = 0.0,
    t_end_s: float | None = None,
) -> PowerFactor:
    """Power factor at the POI against a lag / lead band.

    ``pf = |P| / |S|``; lagging when ``Q * P > 0`` (the site draws vars while it
    imports), leading when ``Q * P < 0``. Samples with ``|S| < s_min_mva`` are
    not judged (PF is meaningless near no load).

    Parameters
    ----------
    t_s : instants [s]
    p_mw : active power [MW], import positive
    q_mvar : reactive power [Mvar], positive = drawn (lagging)
    pf_lag_min, pf_lead_min : lowest accepted lagging / leading power factor [1]
    s_min_mva : smallest apparent power judged [MVA]
    t_end_s : end of the last interval [s]

    Returns
    -------
    PowerFactor
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
    return PowerFactor(
        pf_min_lag=float(pf[lag].min()) if lag.any() else None,
        pf_min_lead=float(pf[lead].min()) if lead.any() else None,
        out_of_band_s=float(dur[out_band].sum()),
        out_of_band_percent=100.0 * float(dur[out_band].sum()) / judged_s if judged_s > 0 else None,
    )


def _ramp_at(knots: np.ndarray, c: np.ndarray, te: np.ndarray, window_s: float) -> np.ndarray:
    """The ramp at the window ends ``te`` from the running integral ``(knots, c)`` of P."""
    out = np.empty(te.size)
    for i0 in range(0, te.size, _CHUNK):  # in chunks: a long series at 50 ms is millions
        e = te[i0 : i0 + _CHUNK]
        now = mean_between(knots, c, e - window_s, e)
        before = mean_between(knots, c, e - 2 * window_s, e - window_s)
        out[i0 : i0 + _CHUNK] = (now - before) / window_s
    return out


#: instants evaluated at once by the ramp functions (bounds their memory)
_CHUNK = 1 << 18


def _ramp_grid(t: np.ndarray, window_s: float, end: float, dt_s: float | None) -> np.ndarray:
    step = dt_s or min(float(np.median(np.diff(t))), window_s)
    return np.arange(t[0] + 2 * window_s, end + 1e-9, step)


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

    Parameters
    ----------
    t_s : instants [s]
    p_mw : power [MW]
    window_s : averaging window ``W`` [s]
    t_end_s : end of the last interval [s]
    dt_s : step of the output grid [s]

    Returns
    -------
    t_s : window ends [s]
    ramp_mw_per_s : signed ramp [MW/s]
    """
    t, p = as_array(t_s), as_array(p_mw)
    if t.size < 2:
        return np.empty(0), np.empty(0)
    te = _ramp_grid(t, window_s, end_time_s(t, t_end_s), dt_s)
    if te.size == 0:
        return te, te.copy()
    return te, _ramp_at(*cumulative_integral(t, p, t_end_s), te, window_s)


@dataclass(frozen=True)
class RampRates(MetricResult):
    """Largest and percentile ramp of a power series (None when it is too short).

    Attributes
    ----------
    max_mw_per_s : largest absolute ramp [MW/s]
    p99_mw_per_s : the percentile of the absolute ramp [MW/s]
    max_mw_per_min : ``max_mw_per_s`` in [MW/min]
    p99_mw_per_min : ``p99_mw_per_s`` in [MW/min]
    t_max_s : end of the window of the largest ramp [s]
    """

    max_mw_per_s: float | None
    p99_mw_per_s: float | None
    max_mw_per_min: float | None
    p99_mw_per_min: float | None
    t_max_s: float | None


def ramp_rates(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    window_s: float,
    t_end_s: float | None = None,
    percentile: float = 99.0,
) -> RampRates:
    """Largest and ``percentile`` ramp of a power series over ``window_s`` (:func:`ramp_series`).

    ``r(t)`` is piecewise linear between the instants where ``t``, ``t - W``
    or ``t - 2W`` meets a sample instant, so its maximum is taken exactly at
    those instants; the percentile is taken over the uniform grid (time-weighted).

    Parameters
    ----------
    t_s : instants [s]
    p_mw : power [MW]
    window_s : averaging window [s]
    t_end_s : end of the last interval [s]
    percentile : the reported percentile of the absolute ramp [%]

    Returns
    -------
    RampRates
        all fields None when the series is shorter than ``2 * window_s``.
    """
    t, p = as_array(t_s), as_array(p_mw)
    if t.size < 2:
        return RampRates.empty()
    end = end_time_s(t, t_end_s)
    te = _ramp_grid(t, window_s, end, None)
    if te.size == 0:
        return RampRates.empty()
    knots, c = cumulative_integral(t, p, t_end_s)
    r = _ramp_at(knots, c, te, window_s)
    lo = t[0] + 2 * window_s - 1e-9
    best: tuple[float, float] | None = None  # (|ramp|, t): the first largest, grid first
    for shift in (None, 0.0, window_s, 2 * window_s):
        base = te if shift is None else knots
        for i0 in range(0, base.size, _CHUNK):
            at = base[i0 : i0 + _CHUNK]
            if shift is None:
                ra = np.abs(r[i0 : i0 + _CHUNK])
            else:
                at = at + shift
                at = at[(at >= lo) & (at <= end + 1e-9)]
                ra = np.abs(_ramp_at(knots, c, at, window_s))
            if ra.size and np.isfinite(ra).any():
                i = int(np.nanargmax(ra))
                if best is None or ra[i] > best[0]:
                    best = (float(ra[i]), float(at[i]))
    if best is None:
        return RampRates.empty()
    p99 = float(np.nanpercentile(np.abs(r), percentile))
    return RampRates(
        max_mw_per_s=best[0],
        p99_mw_per_s=p99,
        max_mw_per_min=60.0 * best[0],
        p99_mw_per_min=60.0 * p99,
        t_max_s=best[1],
    )


@dataclass(frozen=True)
class RapidVoltageChange(MetricResult):
    """Largest rapid voltage change.

    Attributes
    ----------
    max_percent : largest change [% of 1 pu], None when nothing could be judged
    t_max_s : its instant [s]
    excluded_s : time left out as dips / swells [s]
    """

    max_percent: float | None
    t_max_s: float | None
    excluded_s: float


def rapid_voltage_change(
    t_s: np.ndarray,
    vm_pu: np.ndarray,
    window_s: float = 1.0,
    v_band_pu: tuple[float, float] = (0.9, 1.1),
    t_end_s: float | None = None,
) -> RapidVoltageChange:
    """Largest rapid voltage change [% of nominal] (IEC 61000-4-30-inspired).

    At every sample the change is ``|V(t) - mean(V over [t - window_s, t))|``
    in % of 1 pu. Samples whose window (or themselves) touch a value outside
    ``v_band_pu`` are dips or swells, judged by ride-through and not counted
    here (as IEC 61000-4-30 excludes dips from RVC). The first ``window_s`` of
    the series has no reference and is skipped.

    Parameters
    ----------
    t_s : instants [s]
    vm_pu : voltage magnitude [pu]
    window_s : length of the reference mean [s]
    v_band_pu : band outside which a sample is a dip or swell [pu]
    t_end_s : end of the last interval [s]

    Returns
    -------
    RapidVoltageChange
    """
    t, v = as_array(t_s), as_array(vm_pu)
    if t.size < 2:
        return RapidVoltageChange(None, None, 0.0)
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
        return RapidVoltageChange(None, None, float(dur[bad].sum()))
    dv = np.where(judged, 100.0 * np.abs(v - ref), -np.inf)
    i = int(np.argmax(dv))
    return RapidVoltageChange(float(dv[i]), float(t[i]), float(dur[bad].sum()))
