"""Screening flicker estimate from a quasi-static RMS voltage series (IEC 61000-3-3 method).

Not a flickermeter: :mod:`cosim.metrics.flicker` is the IEC 61000-4-15 one, for
voltage at 0.1 s or finer. This estimate serves series too coarse for it (1 s
quasi-static samples); its verdicts are screening.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.metrics._result import MetricResult
from cosim.metrics._series import as_array, durations_s, end_time_s, runs


def reversals(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Indices of the turning points of a series, with hysteresis.

    A turn is accepted once the series has moved back from its extreme by more
    than ``threshold`` (against numerical noise). The first point of the
    leading trend and the last extreme are included.

    Parameters
    ----------
    x : a series (any unit)
    threshold : hysteresis, in the unit of ``x``

    Returns
    -------
    numpy.ndarray
        indices of the turning points.
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

    Parameters
    ----------
    x_percent : a series [%]
    threshold_percent : hysteresis [%]

    Returns
    -------
    numpy.ndarray
        change magnitudes [%].
    """
    x = as_array(x_percent)
    x = x[np.isfinite(x)]
    r = reversals(x, threshold_percent)
    return np.abs(np.diff(x[r])) if r.size > 1 else np.empty(0)


@dataclass(frozen=True)
class FlickerEstimate(MetricResult):
    """Screening flicker estimate (IEC 61000-3-3 analytical method).

    Attributes
    ----------
    pst : Pst of each window [1]
    pst_max : largest Pst [1], None without data
    plt : cube mean of the Pst [1], None without data
    excluded_s : time left out as dips / swells [s]
    """

    pst: tuple[float, ...]
    pst_max: float | None
    plt: float | None
    excluded_s: float


def flicker_severity(
    t_s: np.ndarray,
    vm_pu: np.ndarray,
    window_s: float = 600.0,
    v_band_pu: tuple[float, float] = (0.9, 1.1),
    t_end_s: float | None = None,
    shape_factor: float = 1.0,
) -> FlickerEstimate:
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

    Parameters
    ----------
    t_s : instants [s]
    vm_pu : voltage magnitude [pu]
    window_s : Pst window [s]
    v_band_pu : band outside which samples are left out [pu]
    t_end_s : end of the last interval [s]
    shape_factor : IEC 61000-3-3 shape factor F [1]

    Returns
    -------
    FlickerEstimate
    """
    t, v = as_array(t_s), as_array(vm_pu)
    if t.size < 2:
        return FlickerEstimate((), None, None, 0.0)
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
    return FlickerEstimate(
        pst=tuple(psts),
        pst_max=float(arr.max()) if arr.size else None,
        plt=float(np.mean(arr**3) ** (1 / 3)) if arr.size else None,
        excluded_s=float(dur[~good].sum()),
    )
