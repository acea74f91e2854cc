"""Time-series helpers shared by the metrics (pure numpy/pandas).

Recorded series are *step-held*: the value at ``t_s[i]`` holds over the interval
``[t_s[i], t_s[i+1])`` (the grid may be non-uniform; it refines around events),
and the last one until ``t_end_s``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_array(x: object) -> np.ndarray:
    """A float64 1-D array (pandas Series, lists and arrays alike).

    Parameters
    ----------
    x : a series, list or array (any unit)

    Returns
    -------
    numpy.ndarray
        the values, same unit.
    """
    return np.asarray(x, dtype=float).reshape(-1)


def durations_s(t_s: np.ndarray, t_end_s: float | None = None) -> np.ndarray:
    """Length of each step-held interval [s].

    The last interval ends at ``t_end_s``; without it (or when ``t_end_s`` is not
    after the last instant) it gets the median step, 0 for a single sample.

    Parameters
    ----------
    t_s : instants [s]
    t_end_s : end of the last interval [s]

    Returns
    -------
    numpy.ndarray
        interval lengths [s].
    """
    t = as_array(t_s)
    if t.size == 0:
        return t.copy()
    d = np.diff(t)
    if t_end_s is not None and t_end_s > t[-1]:
        last = t_end_s - t[-1]
    else:
        last = float(np.median(d)) if d.size else 0.0
    return np.append(d, last)


def end_time_s(t_s: np.ndarray, t_end_s: float | None = None) -> float:
    """End of the last interval (see :func:`durations_s`).

    Parameters
    ----------
    t_s : instants [s]
    t_end_s : end of the last interval [s], when known

    Returns
    -------
    float
        end [s]; 0 for an empty series.
    """
    t = as_array(t_s)
    return float(t[-1] + durations_s(t, t_end_s)[-1]) if t.size else 0.0


def hold_at(t_s: np.ndarray, x: np.ndarray, t_query_s: np.ndarray) -> np.ndarray:
    """Step-held value of ``x`` at ``t_query_s`` (NaN before the first instant).

    Parameters
    ----------
    t_s : instants [s]
    x : values (any unit)
    t_query_s : instants asked for [s]

    Returns
    -------
    numpy.ndarray
        values at ``t_query_s``, unit of ``x``.
    """
    t, v = as_array(t_s), as_array(x)
    q = as_array(t_query_s)
    i = np.searchsorted(t, q, side="right") - 1
    out = np.full(q.shape, np.nan)
    ok = i >= 0
    out[ok] = v[i[ok]]
    return out


def cumulative_integral(
    t_s: np.ndarray, x: np.ndarray, t_end_s: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(t_k, C_k)`` of the running integral of a step-held series.

    ``C`` is piecewise linear between the knots, so ``np.interp(t, t_k, C_k)``
    gives the exact integral from the first instant to ``t`` [unit of x * s].
    NaN values count as zero.

    Parameters
    ----------
    t_s : instants [s]
    x : values (any unit)
    t_end_s : end of the last interval [s]

    Returns
    -------
    t_k : knots [s]
    c_k : running integral at the knots [unit of x * s]
    """
    t, v = as_array(t_s), np.nan_to_num(as_array(x))
    dur = durations_s(t, t_end_s)
    knots = np.append(t, t[-1] + dur[-1]) if t.size else t
    if not t.size:
        return knots, t
    c = np.empty(t.size + 1)
    c[0] = 0.0
    np.multiply(v, dur, out=v)
    np.cumsum(v, out=c[1:])
    return knots, c


def window_mean(
    t_s: np.ndarray,
    x: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
    t_end_s: float | None = None,
) -> np.ndarray:
    """Time-weighted mean of a step-held series over ``[start_s, end_s)``.

    Parameters
    ----------
    t_s : instants [s]
    x : values (any unit)
    start_s, end_s : window bounds [s] (arrays)
    t_end_s : end of the last interval [s]

    Returns
    -------
    numpy.ndarray
        mean of each window, unit of ``x`` (NaN for an empty window).
    """
    knots, c = cumulative_integral(t_s, x, t_end_s)
    return mean_between(knots, c, start_s, end_s)


def mean_between(
    knots: np.ndarray, c: np.ndarray, start_s: np.ndarray, end_s: np.ndarray
) -> np.ndarray:
    """Mean over ``[start_s, end_s)`` from the knots of a running integral.

    Parameters
    ----------
    knots, c : :func:`cumulative_integral` of a series ([s], [unit of x * s])
    start_s, end_s : window bounds [s] (arrays)

    Returns
    -------
    numpy.ndarray
        mean of each window, unit of ``x`` (NaN for an empty window).
    """
    a, b = as_array(start_s), as_array(end_s)
    a = np.clip(a, knots[0], knots[-1])
    b = np.clip(b, knots[0], knots[-1])
    span = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(span > 0, (np.interp(b, knots, c) - np.interp(a, knots, c)) / span, np.nan)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges ``[i0, i1)`` of consecutive True values.

    Parameters
    ----------
    mask : booleans

    Returns
    -------
    list
        ``(i0, i1)`` pairs.
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    edges = np.diff(np.concatenate([[0], m.view(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def uniform(
    t_s: np.ndarray, x: np.ndarray, dt_s: float, t_end_s: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Resample a step-held series onto a uniform grid of step ``dt_s``.

    Parameters
    ----------
    t_s : instants [s]
    x : values (any unit)
    dt_s : step of the grid [s]
    t_end_s : end of the last interval [s]

    Returns
    -------
    t_s : the grid [s]
    x : held values, unit of ``x``
    """
    t = as_array(t_s)
    end = end_time_s(t, t_end_s)
    n = max(int(np.floor((end - t[0]) / dt_s + 1e-9)), 1)
    tu = t[0] + dt_s * np.arange(n)
    return tu, hold_at(t, x, tu)


def is_uniform(t_s: np.ndarray, rtol: float = 1e-6) -> bool:
    """True when the instants are equally spaced.

    Parameters
    ----------
    t_s : instants [s]
    rtol : relative tolerance on the steps [1]

    Returns
    -------
    bool
    """
    d = np.diff(as_array(t_s))
    return d.size == 0 or bool(np.all(np.abs(d - d[0]) <= rtol * max(abs(d[0]), 1e-12)))


def prefixed_columns(df: pd.DataFrame, prefix: str) -> dict[str, str]:
    """``{element: column}`` for columns ``<prefix><element>`` (e.g. ``vm_pu.12``).

    Parameters
    ----------
    df : a result frame
    prefix : column prefix (``"vm_pu."``)

    Returns
    -------
    dict
        element -> column name.
    """
    return {c[len(prefix) :]: c for c in df.columns if isinstance(c, str) and c.startswith(prefix)}


def valid_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows whose power flow converged (all rows when there is no ``converged`` column).

    Parameters
    ----------
    df : a network frame

    Returns
    -------
    numpy.ndarray
        one boolean per row.
    """
    if "converged" in df.columns:
        return np.asarray(df["converged"].fillna(0).to_numpy() > 0.5)
    return np.ones(len(df), dtype=bool)


def finite_or_none(x: float | None) -> float | None:
    """A float for JSON, or None when missing / not finite.

    Parameters
    ----------
    x : a number or None (any unit)

    Returns
    -------
    float or None
        same unit.
    """
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None
