"""Wear of equipment: OLTC tap operations and BESS cycling."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cosim.metrics._result import MetricResult
from cosim.metrics._series import as_array, durations_s, prefixed_columns
from federates.factory.wear import RAINFLOW_BIN_EDGES, rainflow_histogram

#: SOC cycle-depth bin edges of the rainflow histogram [fraction of capacity] (the BESS model's)
DEPTH_EDGES: tuple[float, ...] = RAINFLOW_BIN_EDGES


@dataclass(frozen=True)
class TapOperations(MetricResult):
    """OLTC tap operations.

    Attributes
    ----------
    tap_ops : total tap steps [1] (None when the network records no taps)
    per_trafo : transformer -> tap steps [1]
    """

    tap_ops: int | None
    per_trafo: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RainflowHistogram(MetricResult):
    """Rainflow cycle count of a SOC series, binned by depth.

    Attributes
    ----------
    edges : depth bin edges [fraction of capacity]
    cycles : cycles per bin [1] (half cycles count 0.5)
    """

    edges: tuple[float, ...]
    cycles: tuple[float, ...]


@dataclass(frozen=True)
class BessWear(MetricResult):
    """Throughput, equivalent full cycles and SOC statistics of the BESS (None without data).

    Attributes
    ----------
    throughput_mwh : AC energy charged plus discharged [MWh]
    charge_mwh, discharge_mwh : AC energy charged / discharged [MWh]
    efc : equivalent full cycles ``throughput / (2 e_mwh)`` [1]
    soc_min, soc_max : SOC extremes [1]
    soc_start, soc_end : first and last SOC [1]
    soc_drift : ``soc_end - soc_start`` [1]
    rainflow_depth_hist : rainflow histogram of the SOC
    """

    throughput_mwh: float | None = None
    charge_mwh: float | None = None
    discharge_mwh: float | None = None
    efc: float | None = None
    soc_min: float | None = None
    soc_max: float | None = None
    soc_start: float | None = None
    soc_end: float | None = None
    soc_drift: float | None = None
    rainflow_depth_hist: RainflowHistogram | None = None


def tap_operations(df: pd.DataFrame, prefix: str = "tap_pos.") -> TapOperations:
    """OLTC operations from ``tap_pos.trafo.<i>`` columns.

    One operation is one tap step: a move of n positions between two samples
    counts n (tap changers move one step at a time). NaNs are skipped.

    Parameters
    ----------
    df : a network frame
    prefix : prefix of the tap position columns

    Returns
    -------
    TapOperations
    """
    cols = prefixed_columns(df, prefix)
    if not cols:
        return TapOperations(None, {})
    per = {}
    for name, col in cols.items():
        x = df[col].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        per[name] = int(round(np.abs(np.diff(x)).sum())) if x.size > 1 else 0
    return TapOperations(int(sum(per.values())), per)


def rainflow_depths(soc: np.ndarray, edges: tuple[float, ...] = DEPTH_EDGES) -> RainflowHistogram:
    """Rainflow cycle count (ASTM E1049) of a SOC series, binned by depth.

    The same histogram as the BESS model's
    (:func:`federates.factory.wear.rainflow_histogram`).

    Parameters
    ----------
    soc : state of charge [fraction of capacity]
    edges : depth bin edges [fraction of capacity]

    Returns
    -------
    RainflowHistogram
        half cycles count 0.5; the last bin also holds depths above its upper edge.
    """
    cycles, used = rainflow_histogram(as_array(soc), edges)
    return RainflowHistogram(tuple(used), tuple(cycles))


def bess_wear(
    t_s: np.ndarray,
    p_bess_mw: np.ndarray | None,
    soc: np.ndarray | None,
    e_mwh: float,
    t_end_s: float | None = None,
) -> BessWear:
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
    t_end_s : end of the last interval [s]

    Returns
    -------
    BessWear
    """
    t = as_array(t_s)
    power: dict[str, float | None] = {}
    if p_bess_mw is not None and t.size:
        p = np.nan_to_num(as_array(p_bess_mw))
        dur = durations_s(t, t_end_s)
        charge = float(np.sum(np.clip(p, 0, None) * dur)) / 3600.0
        discharge = float(np.sum(np.clip(-p, 0, None) * dur)) / 3600.0
        thr = charge + discharge
        power = {
            "throughput_mwh": thr,
            "charge_mwh": charge,
            "discharge_mwh": discharge,
            "efc": thr / (2.0 * e_mwh) if e_mwh > 0 else None,
        }
    s = as_array(soc) if soc is not None else np.empty(0)
    s = s[np.isfinite(s)]
    if not s.size:
        return BessWear(**power)
    return BessWear(
        **power,
        soc_min=float(s.min()),
        soc_max=float(s.max()),
        soc_start=float(s[0]),
        soc_end=float(s[-1]),
        soc_drift=float(s[-1] - s[0]),
        rainflow_depth_hist=rainflow_depths(s),
    )
