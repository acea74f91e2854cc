"""Wear of equipment: OLTC tap operations and BESS cycling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cosim.metrics._series import as_array, durations_s, prefixed_columns
from federates.factory.wear import RAINFLOW_BIN_EDGES, rainflow_histogram

#: SOC cycle-depth bin edges of the rainflow histogram [fraction of capacity] (the BESS model's)
DEPTH_EDGES: tuple[float, ...] = RAINFLOW_BIN_EDGES


def tap_operations(df: pd.DataFrame, prefix: str = "tap_pos.") -> dict[str, Any]:
    """OLTC operations from ``tap_pos.trafo.<i>`` columns.

    One operation is one tap step: a move of n positions between two samples
    counts n (tap changers move one step at a time). NaNs are skipped.

    Returns
    -------
    dict: ``tap_ops`` (total; None when the network records no taps),
    ``per_trafo`` {name: ops}.
    """
    cols = prefixed_columns(df, prefix)
    if not cols:
        return {"tap_ops": None, "per_trafo": {}}
    per = {}
    for name, col in cols.items():
        x = df[col].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        per[name] = int(round(np.abs(np.diff(x)).sum())) if x.size > 1 else 0
    return {"tap_ops": int(sum(per.values())), "per_trafo": per}


def rainflow_depths(
    soc: np.ndarray, edges: tuple[float, ...] = DEPTH_EDGES
) -> dict[str, list[float]]:
    """Rainflow cycle count (ASTM E1049) of a SOC series, binned by depth.

    The same histogram as the BESS model's
    (:func:`federates.factory.wear.rainflow_histogram`).

    Returns ``{"edges": [...], "cycles": [...]}``: half cycles count 0.5; the
    last bin also holds depths above its upper edge.
    """
    cycles, used = rainflow_histogram(as_array(soc), edges)
    return {"edges": used, "cycles": cycles}


def bess_wear(
    t_s: np.ndarray,
    p_bess_mw: np.ndarray | None,
    soc: np.ndarray | None,
    e_mwh: float,
    t_end_s: float | None = None,
) -> dict[str, Any]:
    """Throughput, equivalent full cycles and SOC statistics of the BESS.

    ``throughput_mwh = integral |p_bess| dt`` (AC side, step-held);
    ``efc = throughput / (2 e_mwh)`` (equivalent full cycles, ASTM E1049 practice);
    ``soc_drift = soc_end - soc_start``.

    Parameters
    ----------
    t_s : instants [s]
    p_bess_mw : BESS power [MW], + charging (None when not recorded)
    soc : state of charge [fraction of e_mwh] (None when not recorded)
    e_mwh : energy capacity [MWh]
    """
    t = as_array(t_s)
    out: dict[str, Any] = {
        "throughput_mwh": None,
        "charge_mwh": None,
        "discharge_mwh": None,
        "efc": None,
    }
    if p_bess_mw is not None and t.size:
        p = np.nan_to_num(as_array(p_bess_mw))
        dur = durations_s(t, t_end_s)
        charge = float(np.sum(np.clip(p, 0, None) * dur)) / 3600.0
        discharge = float(np.sum(np.clip(-p, 0, None) * dur)) / 3600.0
        thr = charge + discharge
        out.update(
            throughput_mwh=thr,
            charge_mwh=charge,
            discharge_mwh=discharge,
            efc=thr / (2.0 * e_mwh) if e_mwh > 0 else None,
        )
    s = as_array(soc) if soc is not None else np.empty(0)
    s = s[np.isfinite(s)]
    if s.size:
        out.update(
            soc_min=float(s.min()),
            soc_max=float(s.max()),
            soc_start=float(s[0]),
            soc_end=float(s[-1]),
            soc_drift=float(s[-1] - s[0]),
            rainflow_depth_hist=rainflow_depths(s),
        )
    else:
        out.update(
            soc_min=None,
            soc_max=None,
            soc_start=None,
            soc_end=None,
            soc_drift=None,
            rainflow_depth_hist=None,
        )
    return out
