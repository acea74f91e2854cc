"""Bus voltages and branch loadings of a network series against limits.

Columns follow the results layout: ``vm_pu.<bus>``, ``loading_percent.line.<i>``,
``loading_percent.trafo.<i>``; rows where the power flow did not converge
(``converged == 0``) are left out. An *episode* is a run of consecutive steps
in which one element is outside its band; its duration is the sum of the step
intervals (step-held values, last interval to ``t_end_s``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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
        "episodes": ep.head(max_listed).to_dict("records"),
    }


def bus_voltages(df: pd.DataFrame, buses: list[int] | None = None) -> dict[str, np.ndarray]:
    """``{bus: vm_pu series}`` of converged rows (NaN elsewhere), optionally only ``buses``."""
    ok = valid_rows(df)
    cols = prefixed_columns(df, "vm_pu.")
    if buses is not None:
        wanted = {str(b) for b in buses}
        cols = {k: c for k, c in cols.items() if k in wanted}
    return {k: np.where(ok, df[c].to_numpy(dtype=float), np.nan) for k, c in cols.items()}


def branch_loadings(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """``{"line.3": loading_percent series, "trafo.1": ...}`` of converged rows."""
    ok = valid_rows(df)
    cols = prefixed_columns(df, "loading_percent.")
    return {k: np.where(ok, df[c].to_numpy(dtype=float), np.nan) for k, c in cols.items()}


def voltage_band(
    df: pd.DataFrame,
    v_min_pu: float,
    v_max_pu: float,
    t_end_s: float | None = None,
    buses: list[int] | None = None,
    max_listed: int = 20,
) -> dict[str, Any]:
    """Bus voltages of a network series against ``[v_min_pu, v_max_pu]``.

    Returns
    -------
    dict with ``v_min_pu``/``v_max_pu`` (extremes over the buses, None without
    data), their bus and time, ``count`` of episodes, total ``duration_s``
    (bus-seconds outside), ``elements`` (buses violated), the ``worst_*``
    episode (largest excess) and up to ``max_listed`` ``episodes``.
    """
    volts = bus_voltages(df, buses)
    out: dict[str, Any] = {"buses": len(volts)}
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    if volts:
        mat = np.column_stack(list(volts.values()))
        names = list(volts)
        out.update(
            _extreme(mat, names, t, np.nanargmin, "v_min"),
            **_extreme(mat, names, t, np.nanargmax, "v_max"),
        )
    else:
        out.update(
            v_min_pu=None,
            v_min_bus=None,
            v_min_t_s=None,
            v_max_pu=None,
            v_max_bus=None,
            v_max_t_s=None,
        )
    ep = band_episodes(t, volts, v_min_pu, v_max_pu, t_end_s)
    out.update(_episode_stats(ep, max_listed))
    out["worst_bus"] = out.pop("worst_element")
    out["worst_vm_pu"] = out.pop("worst_value")
    out["buses_violated"] = out.pop("elements")
    return out


def _extreme(
    mat: np.ndarray, names: list[str], t: np.ndarray, argf: Any, key: str
) -> dict[str, Any]:
    if not np.isfinite(mat).any():
        return {f"{key}_pu": None, f"{key}_bus": None, f"{key}_t_s": None}
    flat = argf(mat)
    i, j = np.unravel_index(flat, mat.shape)
    return {f"{key}_pu": float(mat[i, j]), f"{key}_bus": names[j], f"{key}_t_s": float(t[i])}


def thermal_loading(
    df: pd.DataFrame,
    limit_percent: float = 100.0,
    t_end_s: float | None = None,
    emergency_percent: float | None = None,
    max_listed: int = 20,
) -> dict[str, Any]:
    """Branch loadings against the normal (and optional emergency) rating.

    Returns
    -------
    dict with ``loading_max_percent``, ``worst_branch`` (``"line.3"``), its time,
    the episodes above ``limit_percent`` (count, total and longest duration [s],
    branches violated) and, with an emergency rating, ``emergency_count`` of
    episodes above it.
    """
    load = branch_loadings(df)
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    out: dict[str, Any] = {"branches": len(load)}
    if load and np.isfinite(mat := np.column_stack(list(load.values()))).any():
        i, j = np.unravel_index(np.nanargmax(mat), mat.shape)
        out.update(
            loading_max_percent=float(mat[i, j]),
            loading_max_branch=list(load)[j],
            loading_max_t_s=float(t[i]),
        )
    else:
        out.update(loading_max_percent=None, loading_max_branch=None, loading_max_t_s=None)
    ep = band_episodes(t, load, -np.inf, limit_percent, t_end_s)
    out.update(_episode_stats(ep, max_listed))
    out["branches_violated"] = out.pop("elements")
    out["worst_branch"] = out.pop("worst_element")
    out["worst_loading_percent"] = out.pop("worst_value")
    if emergency_percent is not None:
        em = band_episodes(t, load, -np.inf, emergency_percent, t_end_s)
        out["emergency_count"] = len(em)
    return out


def loading_matrix(df: pd.DataFrame, top: int = 40) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The ``top`` most loaded branches over time: ``(t_s, names, matrix[branch, time])`` [%]."""
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
    """Energy of a step-held power column [MWh] (e.g. network losses); None without data."""
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

    Returns ``{bus: "low" | "high"}``.
    """
    return {
        b: ("low" if v < v_min_pu else "high")
        for b, v in v_pre_pu.items()
        if np.isfinite(v) and (v < v_min_pu - tol_pu or v > v_max_pu + tol_pu)
    }


def worsening(
    df: pd.DataFrame, v_pre_pu: dict[str, float], sides: dict[str, str]
) -> dict[str, Any]:
    """Largest extra deviation [pu] at pre-existing violations, in their own direction.

    For a bus already low, how far below its pre-connection voltage it goes; for
    one already high, how far above. Returns ``worsening_pu`` (0 when the site
    only improves them), ``bus`` and ``t_s``; None values without data.
    """
    volts = bus_voltages(df, [int(b) for b in sides])
    t = df["t_s"].to_numpy(dtype=float) if "t_s" in df else np.arange(len(df), dtype=float)
    best: dict[str, Any] = {"worsening_pu": None, "bus": None, "t_s": None}
    for bus, v in volts.items():
        if not np.isfinite(v).any():
            continue
        extra = (v_pre_pu[bus] - v) if sides[bus] == "low" else (v - v_pre_pu[bus])
        k = int(np.nanargmax(extra))
        value = max(0.0, float(extra[k]))
        if best["worsening_pu"] is None or value > best["worsening_pu"]:
            best = {"worsening_pu": value, "bus": bus, "t_s": float(t[k])}
    return best
