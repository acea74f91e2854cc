"""Disturbance metrics: voltage ride-through at the POI and system frequency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cosim.metrics._result import MetricResult
from cosim.metrics._series import as_array, durations_s, end_time_s, hold_at, runs, window_mean


@dataclass(frozen=True)
class DisturbanceEvent(MetricResult):
    """One voltage disturbance at the POI and the load the grid lost in it.

    Attributes
    ----------
    t_start_s, t_end_s : first instant outside the band and end of the last one [s]
    duration_s : time outside the band [s]
    v_min_pu, v_max_pu : voltage extremes in the disturbance [pu]
    p_pre_mw : POI import before it [MW] (None without power data)
    p_min_mw : lowest import from its start to the end of its window [MW]
    mw_lost : ``p_pre_mw - p_min_mw``, at least 0 [MW]
    recovery_s : time from the voltage's return until the import stays at the
        recovery fraction [s] (None when it did not within the window)
    recovered : ``recovery_s`` within the limit (None when not judged)
    """

    t_start_s: float
    t_end_s: float
    duration_s: float
    v_min_pu: float
    v_max_pu: float
    p_pre_mw: float | None = None
    p_min_mw: float | None = None
    mw_lost: float | None = None
    recovery_s: float | None = None
    recovered: bool | None = None


@dataclass(frozen=True)
class RideThrough(MetricResult):
    """Voltage disturbances at the POI and how the load came back.

    Attributes
    ----------
    events : number of disturbances
    mw_lost_max : largest load lost [MW] (None when none was judged)
    recovery_s_max : slowest recovery [s] (None when one did not recover)
    all_recovered : every judged disturbance recovered in time (None when none judged)
    event_list : the disturbances
    """

    events: int
    mw_lost_max: float | None
    recovery_s_max: float | None
    all_recovered: bool | None
    event_list: tuple[DisturbanceEvent, ...]


def ride_through(
    t_v_s: np.ndarray,
    vm_pu: np.ndarray,
    t_p_s: np.ndarray,
    p_mw: np.ndarray,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    recovery_fraction: float = 0.9,
    recovery_time_max_s: float = 1.0,
    window_s: float = 10.0,
    pre_s: float = 1.0,
    t_end_s: float | None = None,
) -> RideThrough:
    """Voltage disturbances at the POI and the load the grid lost in each.

    A disturbance is a run of voltage samples outside ``[v_min_pu, v_max_pu]``
    (each reclosing shot of a fault train is its own event). For each:

    * ``p_pre_mw``: mean POI import over ``pre_s`` before it started (for an
      event less than ``window_s`` after the previous one, e.g. a reclosing
      shot, the previous event's value: the load before the whole train);
    * ``mw_lost``: ``p_pre_mw`` minus the lowest import from its start until
      ``window_s`` after the voltage is back in band (or the next event), >= 0;
    * ``recovery_s``: time from the voltage's return into band until the import
      is back at (and stays at) ``recovery_fraction * p_pre_mw`` for the rest
      of the window (0 when it is not below then; None when it is still below
      at the end of the window); ``recovered`` is None (not judged) when the
      window was cut below ``recovery_time_max_s`` by the next event, else
      ``recovery_s <= recovery_time_max_s`` (ERCOT: 90 % within 1 s).

    Parameters
    ----------
    t_v_s, vm_pu : POI voltage series [s], [pu]
    t_p_s, p_mw : POI import series [s], [MW] (the finest available)
    v_min_pu, v_max_pu : continuous ride-through band [pu]
    recovery_fraction : share of the pre-disturbance import to recover to [1]
    recovery_time_max_s : allowed recovery time [s]
    window_s : observation window after the voltage returns [s]
    pre_s : averaging window before the disturbance [s]
    t_end_s : end of the last interval [s]

    Returns
    -------
    RideThrough
    """
    tv, v = as_array(t_v_s), as_array(vm_pu)
    tp, p = as_array(t_p_s), as_array(p_mw)
    dur = durations_s(tv, t_end_s)
    end = max(end_time_s(tv, t_end_s), end_time_s(tp, t_end_s) if tp.size else 0.0)
    spans = [
        (
            float(tv[i0]),
            float(tv[i1 - 1] + dur[i1 - 1]),
            float(np.min(v[i0:i1])),
            float(np.max(v[i0:i1])),
        )
        for i0, i1 in runs((v < v_min_pu) | (v > v_max_pu))
    ]
    events = []
    for k, (a, b, vlo, vhi) in enumerate(spans):
        stop = min(b + window_s, spans[k + 1][0] if k + 1 < len(spans) else np.inf, end)
        ev: dict[str, Any] = {
            "t_start_s": a,
            "t_end_s": b,
            "duration_s": b - a,
            "v_min_pu": vlo,
            "v_max_pu": vhi,
            "p_pre_mw": None,
            "p_min_mw": None,
            "mw_lost": None,
            "recovery_s": None,
            "recovered": None,
        }
        if tp.size and a > tp[0]:
            if k and a - spans[k - 1][1] < window_s and events[-1]["p_pre_mw"] is not None:
                p_pre = events[-1]["p_pre_mw"]  # same train: keep the load before the first shot
            else:
                p_pre = float(
                    window_mean(tp, p, np.array([max(a - pre_s, tp[0])]), np.array([a]), t_end_s)[0]
                )
            sel = (tp >= a) & (tp < stop)
            p_in = np.concatenate([p[sel], hold_at(tp, p, np.array([a]))])
            p_min = float(np.nanmin(p_in))
            target = recovery_fraction * p_pre
            after = (tp > b) & (tp < stop)
            times = np.concatenate([[b], tp[after]])
            vals = np.concatenate([hold_at(tp, p, np.array([b])), p[after]])
            below = np.flatnonzero(~(vals >= target))
            if below.size == 0:
                rec: float | None = 0.0
            elif below[-1] == vals.size - 1:
                rec = None  # still below at the end of the window
            else:
                rec = float(times[below[-1] + 1] - b)
            if rec is None and stop - b < recovery_time_max_s:
                recovered = None  # cut short by the next event or the end: not judged here
            else:
                recovered = rec is not None and rec <= recovery_time_max_s
            ev.update(
                p_pre_mw=p_pre,
                p_min_mw=p_min,
                mw_lost=max(p_pre - p_min, 0.0),
                recovery_s=rec,
                recovered=recovered,
            )
        events.append(ev)
    judged = [e for e in events if e["mw_lost"] is not None]
    conclusive = [e for e in judged if e["recovered"] is not None]
    recs = [e["recovery_s"] for e in conclusive]
    return RideThrough(
        events=len(events),
        mw_lost_max=max((e["mw_lost"] for e in judged), default=None),
        recovery_s_max=None if any(r is None for r in recs) else max(recs, default=None),
        all_recovered=all(e["recovered"] for e in conclusive) if conclusive else None,
        event_list=tuple(DisturbanceEvent(**e) for e in events),
    )


def transfers(on_backup: np.ndarray) -> int:
    """Number of transfers of the site to backup (rising edges of ``on_backup >= 0.5``).

    Parameters
    ----------
    on_backup : 1 while the site is on backup, else 0 [1]

    Returns
    -------
    int
        transfers.
    """
    b = np.nan_to_num(as_array(on_backup)) >= 0.5
    return int(np.count_nonzero(b[1:] & ~b[:-1]) + (1 if b.size and b[0] else 0))


@dataclass(frozen=True)
class FrequencyStats(MetricResult):
    """Nadir, zenith and largest rate of change of frequency (None without data).

    Attributes
    ----------
    nadir_hz, zenith_hz : lowest / highest frequency [Hz]
    t_nadir_s, t_zenith_s : their instants [s]
    rocof_max_hz_per_s : largest absolute rate of change [Hz/s]
    t_rocof_max_s : its instant [s]
    """

    nadir_hz: float | None
    t_nadir_s: float | None
    zenith_hz: float | None
    t_zenith_s: float | None
    rocof_max_hz_per_s: float | None
    t_rocof_max_s: float | None


def frequency_stats(
    t_s: np.ndarray,
    f_hz: np.ndarray,
    rocof_hz_per_s: np.ndarray | None = None,
    rocof_window_s: float = 0.5,
) -> FrequencyStats:
    """Nadir, zenith and largest rate of change of frequency.

    RoCoF is taken from the recorded ``rocof_hz_per_s`` when given, else as
    ``(f(t) - f(t - rocof_window_s)) / rocof_window_s`` with ``f`` linearly
    interpolated (frequency is a sampled state, not an interval mean).

    Parameters
    ----------
    t_s : instants [s]
    f_hz : frequency [Hz]
    rocof_hz_per_s : recorded rate of change [Hz/s], or None
    rocof_window_s : window of the computed rate of change [s]

    Returns
    -------
    FrequencyStats
    """
    t, f = as_array(t_s), as_array(f_hz)
    ok = np.isfinite(f)
    if not ok.any():
        return FrequencyStats.empty()
    t, f = t[ok], f[ok]
    i_lo, i_hi = int(np.argmin(f)), int(np.argmax(f))
    if rocof_hz_per_s is not None and np.isfinite(r := as_array(rocof_hz_per_s)[ok]).any():
        rate = np.abs(r)
        tr = t
    else:
        tr = t[t >= t[0] + rocof_window_s]
        rate = (
            np.abs(f[t >= t[0] + rocof_window_s] - np.interp(tr - rocof_window_s, t, f))
            / rocof_window_s
        )
    j = int(np.nanargmax(rate)) if rate.size and np.isfinite(rate).any() else None
    return FrequencyStats(
        nadir_hz=float(f[i_lo]),
        t_nadir_s=float(t[i_lo]),
        zenith_hz=float(f[i_hi]),
        t_zenith_s=float(t[i_hi]),
        rocof_max_hz_per_s=None if j is None else float(rate[j]),
        t_rocof_max_s=None if j is None else float(tr[j]),
    )
