"""Rainflow cycle count of a state-of-charge series, binned by depth (pure, no helics).

One histogram serves the BESS model (its SOC turning points) and the metrics
(a recorded SOC column), so both report the same bins.
"""

from __future__ import annotations

import numpy as np
import rainflow

RAINFLOW_BIN_EDGES: tuple[float, ...] = (0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 1.0)
"""SOC-depth bin edges of the rainflow histogram [fraction of capacity]."""


def rainflow_histogram(
    soc: np.ndarray, edges: tuple[float, ...] = RAINFLOW_BIN_EDGES
) -> tuple[list[float], list[float]]:
    """Rainflow cycle count (ASTM E1049, ``rainflow`` package) of a SOC series, binned by depth.

    Parameters
    ----------
    soc : numpy.ndarray
        State of charge [fraction of capacity]; non-finite values are skipped.
    edges : tuple of float
        Increasing depth bin edges [fraction of capacity].

    Returns
    -------
    (cycles, edges) : tuple of list of float
        Cycle count per bin (half cycles count 0.5; the last bin also holds
        depths above its upper edge, the first one depths below its lower edge)
        and the edges.
    """
    x = np.asarray(soc, dtype=float)
    x = x[np.isfinite(x)]
    counts = np.zeros(len(edges) - 1)
    if x.size >= 2:
        cycles = list(rainflow.extract_cycles(x))
        if cycles:
            depth = np.round(np.array([c[0] for c in cycles]), 9)  # 0.6 - 0.5 is 0.0999...
            cnt = np.array([c[2] for c in cycles])
            idx = np.clip(np.searchsorted(edges, depth, side="right") - 1, 0, len(edges) - 2)
            np.add.at(counts, idx, cnt)
    return counts.tolist(), list(edges)
