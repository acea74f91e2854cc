"""Bus voltages and branch loadings of a network series against limits.

Columns follow the results layout: ``vm_pu.<bus>``, ``loading_percent.line.<i>``,
``loading_percent.trafo.<i>``; rows where the power flow did not converge
(``converged == 0``) are left out. An *episode* is a run of consecutive steps
in which one element is outside its band; its duration is the sum of the step
intervals (step-held values, last interval to ``t_end_s``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cosim.metrics._result import MetricResult
from cosim.metrics._series import (
    as_array,
    durations_s,
    finite_or_none,
    prefixed_columns,
    runs,
    valid_rows,
)

EPISODE_COLUMNS = [
    "element",
    "kind",
    "t_start_s",
    "t_end_s",
    "duration_s",
    "worst",
    "t_worst_s",
    "excess",
]


def band_episodes(
    t_s: np.ndarray,
    values: dict[str, np.ndarray],
    lo: float,
    hi: float,
    t_end_s: float | None = None,
    tol: float = 1e-9,
) -> pd.DataFrame:
    """Episodes in which each element's value leaves ``[lo, hi]``.

    Parameters
    ----------
    t_s : instants [s]
    values : element name -> series (NaN = not available, never a violation)
    lo, hi : band limits (same unit as the values; ``-inf`` / ``inf`` for one side)
    t_end_s : end of the last interval [s]
    tol : a value must lie more than this outside the band (power-flow round-off
        at a regulated 1.05 pu is not a violation)

    Returns
    -------
    DataFrame with :data:`EPISODE_COLUMNS`: ``kind`` is ``"low"`` or ``"high"``,
    ``worst`` the extreme value, ``excess`` how far it lies outside the band
    (always >= 0, in the value's unit).
    """
    t = as_array(t_s)
    dur = durations_s(t, t_end_s)
    rows = []
    for element, series in values.items():
        v = as_array(series)
        for kind, mask in (("low", v < lo - tol), ("high", v > hi + tol)):
            for i0, i1 in runs(mask):
                seg = v[i0:i1]
                j = int(np.argmin(seg) if kind == "low" else np.argmax(seg))
                worst = float(seg[j])
                rows.append(
                    (
                        element,
                        kind,
                        float(t[i0]),
                        float(t[i1 - 1] + dur[i1 - 1]),
                        float(dur[i0:i1].sum()),
                        worst,
                        float(t[i0 + j]),
                        float(lo - worst if kind == "low" else worst - hi),
                    )
                )
    ep = pd.DataFrame(rows, columns=EPISODE_COLUMNS)
    return ep.sort_values("excess", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _BandStats(MetricResult):
    """Episodes of elements outside a band (shared by voltages and loadings).

    Attributes
    ----------
    count : episodes
    count_low, count_high : episodes below / above the band
    duration_s : total element-seconds outside [s]
    duration_low_s, duration_high_s : the same below / above [s]
    max_episode_s : longest episode [s]
    episodes : up to the listed number of episodes (:data:`EPISODE_COLUMNS`), worst first
    """

    count: int
    count_low: int
    count_high: int
    duration_s: float
    duration_low_s: float
    duration_high_s: float
    max_episode_s: float
    episodes: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class VoltageBand(_BandStats):
    """Bus voltages of a network series against a band.

    Attributes
    ----------
    buses : buses judged
    v_min_pu, v_max_pu : extremes over the buses [pu] (None without data)
    v_min_bus, v_max_bus : their buses
    v_min_t_s, v_max_t_s : their instants [s]
    buses_violated : buses with an episode
    worst_bus : bus of the worst episode (largest excess)
    worst_vm_pu : its extreme voltage [pu]
    worst_t_s : its instant [s]
    """

    buses: int = 0
    v_min_pu: float | None = None
    v_min_bus: str | None = None
    v_min_t_s: float | None = None
    v_max_pu: float | None = None
    v_max_bus: str | None = None
    v_max_t_s: float | None = None
    buses_violated: int = 0
    worst_bus: str | None = None
    worst_vm_pu: float | None = None
    worst_t_s: float | None = None


@dataclass(frozen=True)
class ThermalLoading(_BandStats):
    """Branch loadings of a network series against the normal (and emergency) rating.

    Attributes
    ----------
    branches : branches judged
    loading_max_percent : largest loading [% of rating] (None without data)
    loading_max_branch : its branch (``"line.3"``)
    loading_max_t_s : its instant [s]
    branches_violated : branches with an episode above the normal rating
    worst_branch : branch of the worst episode
    worst_loading_percent : its largest loading [%]
    worst_t_s : its instant [s]
    emergency_count : episodes above the emergency rating (None without one)
    """

    branches: int = 0
    loading_max_percent: float | None = None
    loading_max_branch: str | None = None
    loading_max_t_s: float | None = None
    branches_violated: int = 0
    worst_branch: str | None = None
    worst_loading_percent: float | None = None
    worst_t_s: float | None = None
    emergency_count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields; ``emergency_count`` only when an emergency rating was given."""
        out = super().as_dict()
        if out["emergency_count"] is None:
            del out["emergency_count"]
        return out


def _episode_stats(ep: pd.DataFrame, max_listed: int) -> dict[str, Any]:
    worst = ep.iloc[0] if len(ep) else None
    low, high = ep[ep["kind"] == "low"], ep[ep["kind"] == "high"]
    return {
        "count": len(ep),
        "count_low": len(low),
        "count_high": len(high),
        "duration_s": float(ep["duration_s"].sum()) if len(ep) else 0.0,
        "duration_low_s": float(low["duration_s"].sum()),
        "duration_high_s": float(high["duration_s"].sum()),
        "max_episode_s": float(ep["duration_s"].max()) if len(ep) else 0.0,
        "elements": int(ep["element"].nunique()) if len(ep) else 0,
        "worst_element": None if worst is None else str(worst["element"]),
        "worst_value": None if worst is None else float(worst["worst"]),
        "worst_t_s": None if worst is None else float(worst["t_worst_s"]),
        "episodes": tuple(ep.head(max_listed).to_dict("records")),
    }


def bus_voltages(df: pd.DataFrame, buses: list[int] | None = None) -> dict[str, np.ndarray]:
    """Bus voltages of converged rows (NaN elsewhere), optionally only ``buses``.

    Parameters
    ----------
    df : a network frame with ``vm_pu.<bus>`` columns
    buses : the buses wanted (default all)

    Returns
    -------
    Mapping
        bus name -> voltage series [pu] (each read when asked for).
    """
    cols = prefixed_columns(df, "vm_pu.")
    if buses is not None:
        wanted = {str(b) for b in buses}
        cols = {k: c for k, c in cols.items() if k in wanted}
    return _Converged(df, cols)


class _Converged(Mapping):
    """element -> its column on converged rows (NaN elsewhere), read when asked for.

    A mapping, not a dict of arrays: a wide network series is never held whole.
    """

    def __init__(self, df: pd.DataFrame, cols: dict[str, str]) -> None:
        self._df, self._cols = df, cols
        self._ok: np.ndarray | None = None

    def __getitem__(self, key: str) -> np.ndarray:
        if self._ok is None:
            self._ok = valid_rows(self._df)
        return np.where(self._ok, self._df[self._cols[key]].to_numpy(dtype=float), np.nan)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    def subset(self, keys: set[str]) -> _Converged:
        """The same, for the elements in ``keys`` only."""
        return _Converged(self._df, {k: c for k, c in self._cols.items() if k in keys})


def branch_loadings(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Branch loadings of converged rows (NaN elsewhere).

    Parameters
    ----------
    df : a network frame with ``loading_percent.<kind>.<i>`` columns

    Returns
    -------
    Mapping
        branch (``"line.3"``, ``"trafo.1"``) -> loading series [% of rating] (each read
        when asked for).
    """
    return _Converged(df, prefixed_columns(df, "loading_percent."))


def voltage_band(
    df: pd.DataFrame,
    v_min_pu: float,
    v_max_pu: float,
    t_end_s: float | None = None,
    buses: list[int] | None = None,
    max_listed: int = 20,
) -> VoltageBand:
    """Bus voltages of a network series against ``[v_min_pu, v_max_pu]``.

    Parameters
    ----------
    df : a network frame (``t_s``, ``vm_pu.<bus>``, ``converged``)
    v_min_pu, v_max_pu : the band [pu]
    t_end_s : end of the last interval [s]
    buses : the buses judged (default all recorded)
    max_listed : episodes listed

    Returns
    -------
    VoltageBand
    """
    volts = bus_voltages(df, buses)
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    ext: dict[str, Any] = {}
    if volts:
        lo, hi = _extremes(volts, t)
        ext.update(
            {"v_min_pu": lo[0], "v_min_bus": lo[1], "v_min_t_s": lo[2]},
            v_max_pu=hi[0],
            v_max_bus=hi[1],
            v_max_t_s=hi[2],
        )
    ep = band_episodes(t, volts, v_min_pu, v_max_pu, t_end_s)
    st = _episode_stats(ep, max_listed)
    return VoltageBand(
        buses=len(volts),
        **ext,
        **{k: st[k] for k in _BAND_FIELDS},
        buses_violated=st["elements"],
        worst_bus=st["worst_element"],
        worst_vm_pu=st["worst_value"],
        worst_t_s=st["worst_t_s"],
    )


_BAND_FIELDS = (
    "count",
    "count_low",
    "count_high",
    "duration_s",
    "duration_low_s",
    "duration_high_s",
    "max_episode_s",
    "episodes",
)


Extreme = tuple[float | None, str | None, float | None]

#: values this close to the extreme are the same extreme [pu or %]: a generator bus holds its
#: set point for hours, and which step is larger by round-off (or float32 rounding) says nothing
TIE_PU = 1e-9


def _extremes(series: Mapping[str, np.ndarray], t: np.ndarray) -> tuple[Extreme, Extreme]:
    """``(value, element, t_s)`` of the smallest and of the largest value of all the series.

    One series at a time. The value is the extreme itself; its instant and element
    are the earliest instant, then the first element, whose value is within
    :data:`TIE_PU` of it (ties at round-off go to the first occurrence).
    """
    names = list(series)
    own: dict[int, tuple[float, float]] = {}  # element -> (its min, its max)
    for j, name in enumerate(names):
        v = series[name]
        if np.isfinite(v).any():
            own[j] = (float(np.nanmin(v)), float(np.nanmax(v)))
    if not own:
        none: Extreme = (None, None, None)
        return none, none
    lo = min(m for m, _ in own.values())
    hi = max(m for _, m in own.values())

    def first(value: float, near: list[int]) -> Extreme:
        best: tuple[int, int] | None = None  # (instant, element)
        for j in near:
            with np.errstate(invalid="ignore"):
                hit = np.abs(series[names[j]] - value) <= TIE_PU
            if hit.any():
                cand = (int(np.argmax(hit)), j)
                best = cand if best is None or cand < best else best
        assert best is not None  # the element holding the extreme is among ``near``
        return value, names[best[1]], float(t[best[0]])

    return (
        first(lo, [j for j, (m, _) in own.items() if m <= lo + TIE_PU]),
        first(hi, [j for j, (_, m) in own.items() if m >= hi - TIE_PU]),
    )


def thermal_loading(
    df: pd.DataFrame,
    limit_percent: float = 100.0,
    t_end_s: float | None = None,
    emergency_percent: float | None = None,
    max_listed: int = 20,
    branches: list[str] | None = None,
) -> ThermalLoading:
    """Branch loadings against the normal (and optional emergency) rating.

    Parameters
    ----------
    df : a network frame (``t_s``, ``loading_percent.<kind>.<i>``, ``converged``)
    limit_percent : normal rating [% of rating]
    t_end_s : end of the last interval [s]
    emergency_percent : emergency rating [% of rating], or None
    max_listed : episodes listed
    branches : the branches judged (``"line.3"``; default all recorded)

    Returns
    -------
    ThermalLoading
    """
    load = branch_loadings(df)
    if branches is not None:
        load = load.subset(set(branches))
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    ext: dict[str, Any] = {}
    if load and (hi := _extremes(load, t)[1])[0] is not None:
        ext.update(loading_max_percent=hi[0], loading_max_branch=hi[1], loading_max_t_s=hi[2])
    ep = band_episodes(t, load, -np.inf, limit_percent, t_end_s)
    st = _episode_stats(ep, max_listed)
    emergency = None
    if emergency_percent is not None:
        emergency = len(band_episodes(t, load, -np.inf, emergency_percent, t_end_s))
    return ThermalLoading(
        branches=len(load),
        **ext,
        **{k: st[k] for k in _BAND_FIELDS},
        branches_violated=st["elements"],
        worst_branch=st["worst_element"],
        worst_loading_percent=st["worst_value"],
        worst_t_s=st["worst_t_s"],
        emergency_count=emergency,
    )


def loading_matrix(df: pd.DataFrame, top: int = 40) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The ``top`` most loaded branches over time.

    Parameters
    ----------
    df : a network frame
    top : branches kept

    Returns
    -------
    t_s : instants [s]
    names : branches, most loaded first
    matrix : loading [% of rating], one row per branch
    """
    load = branch_loadings(df)
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    if not load:
        return t, [], np.empty((0, len(t)))
    peak = {k: np.nanmax(v) if np.isfinite(v).any() else -np.inf for k, v in load.items()}
    names = sorted(peak, key=lambda k: -peak[k])[:top]
    return t, names, np.vstack([load[k] for k in names])


def energy_loss_mwh(
    df: pd.DataFrame, t_end_s: float | None = None, column: str = "p_loss_mw"
) -> float | None:
    """Energy of a step-held power column (e.g. network losses).

    Parameters
    ----------
    df : a frame with ``t_s`` and ``column`` [MW]
    t_end_s : end of the last interval [s]
    column : the power column

    Returns
    -------
    float or None
        energy [MWh]; None without data.
    """
    if column not in df or "t_s" not in df or not len(df):
        return None
    p = df[column].to_numpy(dtype=float)
    if not np.isfinite(p).any():
        return None
    dur = durations_s(df["t_s"].to_numpy(dtype=float), t_end_s)
    return finite_or_none(np.nansum(p * dur) / 3600.0)


def preexisting_violations(
    v_pre_pu: dict[str, float], v_min_pu: float, v_max_pu: float, tol_pu: float = 1e-6
) -> dict[str, str]:
    """Buses outside ``[v_min_pu, v_max_pu]`` (by more than ``tol_pu``) before the site connects.

    Parameters
    ----------
    v_pre_pu : bus -> pre-connection voltage [pu]
    v_min_pu, v_max_pu : the band [pu]
    tol_pu : tolerance [pu]

    Returns
    -------
    dict
        bus -> ``"low"`` or ``"high"``.
    """
    return {
        b: ("low" if v < v_min_pu else "high")
        for b, v in v_pre_pu.items()
        if np.isfinite(v) and (v < v_min_pu - tol_pu or v > v_max_pu + tol_pu)
    }


@dataclass(frozen=True)
class Worsening(MetricResult):
    """Largest extra deviation at pre-existing violations, in their own direction.

    Attributes
    ----------
    worsening_pu : largest extra deviation [pu] (0 when the site only improves them;
        None without data)
    bus : its bus
    t_s : its instant [s]
    """

    worsening_pu: float | None = None
    bus: str | None = None
    t_s: float | None = None


def worsening(df: pd.DataFrame, v_pre_pu: dict[str, float], sides: dict[str, str]) -> Worsening:
    """Largest extra deviation [pu] at pre-existing violations, in their own direction.

    For a bus already low, how far below its pre-connection voltage it goes; for
    one already high, how far above.

    Parameters
    ----------
    df : a network frame
    v_pre_pu : bus -> pre-connection voltage [pu]
    sides : bus -> ``"low"`` / ``"high"`` (:func:`preexisting_violations`)

    Returns
    -------
    Worsening
    """
    volts = bus_voltages(df, [int(b) for b in sides])
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    best = Worsening()
    for bus, v in volts.items():
        if not np.isfinite(v).any():
            continue
        extra = (v_pre_pu[bus] - v) if sides[bus] == "low" else (v - v_pre_pu[bus])
        k = int(np.nanargmax(extra))
        value = max(0.0, float(extra[k]))
        if best.worsening_pu is None or value > best.worsening_pu:
            best = Worsening(value, bus, float(t[k]))
    return best


@dataclass(frozen=True)
class LoadingWorsening(MetricResult):
    """Largest extra loading at branches already over their rating before the site connects.

    Attributes
    ----------
    worsening_percent : largest ``loading(t) - loading_pre`` [percentage points of rating]
        (0 when the site only relieves them; None without data)
    branch : its branch (``"line.3"``)
    t_s : its instant [s]
    """

    worsening_percent: float | None = None
    branch: str | None = None
    t_s: float | None = None


def loading_worsening(df: pd.DataFrame, loading_pre_percent: dict[str, float]) -> LoadingWorsening:
    """Largest extra loading the run puts on branches, over their pre-connection loading.

    Parameters
    ----------
    df : a network frame (``loading_percent.<kind>.<i>``)
    loading_pre_percent : branch -> pre-connection loading [% of rating] (the branches judged)

    Returns
    -------
    LoadingWorsening
    """
    load = branch_loadings(df)
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    best = LoadingWorsening()
    for branch, pre in loading_pre_percent.items():
        x = load.get(branch)
        if x is None or not np.isfinite(x).any():
            continue
        k = int(np.nanargmax(x))
        value = max(0.0, float(x[k]) - pre)
        if best.worsening_percent is None or value > best.worsening_percent:
            best = LoadingWorsening(value, branch, float(t[k]))
    return best
