"""The simulated instants at which the grid federates solve (pure, no helics).

Every federate of a federation derives the same grid from the case, so that
they request the same HELICS times. A step at ``t_s`` covers the interval
``[t_s, t_next_s)``: the factory publishes the interval's mean POI power at
``t_s`` and the networks solve at ``t_s`` with it.

Inside refinement windows (events such as voltage sags) the step shrinks to the
window's ``dt_s`` and grows back to the base step after it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: HELICS time = case time + this offset [s], so that the first step is a real time request
#: (HELICS grants time 0 without synchronisation); written into every federate config
TIME_OFFSET_S = 1.0
_DECIMALS = 9  # round instants to the nanosecond so that every federate agrees bit for bit


def time_grid(
    duration_s: float,
    dt_s: float,
    windows: Iterable[tuple[float, float, float]] = (),
    instants: Iterable[float] = (),
) -> np.ndarray:
    """Return the solve instants ``t_s`` (s) in ``[0, duration_s)``.

    Parameters
    ----------
    duration_s : horizon [s], > 0
    dt_s : base step [s], > 0
    windows : ``(start_s, end_s, dt_s)`` refinement windows; inside each the
        step is ``min(base, window dt)``. Overlapping windows take the finest step.
    instants : extra instants that must be on the grid (event starts and ends),
        so that an event's edges fall on a step boundary whatever its duration.
    """
    if duration_s <= 0 or dt_s <= 0:
        raise ValueError(f"duration_s and dt_s must be > 0 (got {duration_s}, {dt_s})")
    base = dt_s * np.arange(int(np.ceil(duration_s / dt_s - 1e-9)))
    pieces = [base]
    for start_s, end_s, w_dt_s in windows:
        start_s, end_s = max(0.0, float(start_s)), min(float(end_s), duration_s)
        if end_s <= start_s or w_dt_s <= 0 or w_dt_s >= dt_s:
            continue
        n = int(np.ceil((end_s - start_s) / w_dt_s - 1e-9))
        pieces.append(start_s + w_dt_s * np.arange(n))
    pieces.append(np.asarray([x for x in instants if 0.0 <= x < duration_s], dtype=float))
    t = np.unique(np.round(np.concatenate(pieces), _DECIMALS))
    return t[t < duration_s - 10.0**-_DECIMALS]


def interval_ends(t_s: np.ndarray, duration_s: float) -> np.ndarray:
    """End of each step's interval: the next instant, or the horizon for the last one."""
    return np.append(t_s[1:], duration_s)


def sync_blocks(
    t_s: np.ndarray, duration_s: float, grid_dt_s: float, sync_interval_s: float
) -> list[tuple[int, int]]:
    """Group solve instants into blocks exchanged at one HELICS synchronisation.

    Returns ``(i0, i1)`` index ranges (``i1`` exclusive). A block holds
    consecutive base-length steps spanning less than ``sync_interval_s``;
    refined steps (shorter than ``grid_dt_s``, i.e. inside event windows) are
    always blocks of one, so that events are exchanged at every step. With
    ``sync_interval_s <= grid_dt_s`` every step is its own block.
    """
    n = len(t_s)
    if n == 0:
        return []
    ends = interval_ends(t_s, duration_s)
    eps = 1e-9
    refined = (ends - t_s) < grid_dt_s - eps
    blocks = []
    i0 = 0
    for i in range(1, n):
        if refined[i] or refined[i - 1] or t_s[i] - t_s[i0] >= sync_interval_s - eps:
            blocks.append((i0, i))
            i0 = i
    blocks.append((i0, n))
    return blocks
