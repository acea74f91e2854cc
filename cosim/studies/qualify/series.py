"""The recorded series a qualification test is judged on, read from a run's results.

POI power: ``factory_hr`` (the factory's internal step) when recorded, else
``factory``. POI voltage: ``poi_vm_pu`` of the network federate
(``distribution``, else ``transmission``), else what the factory saw
(``factory.vm_pu``). Every series is sorted by time with repeated instants
dropped (the last value kept). ``res`` is a :class:`cosim.engine.results.Results`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def factory_frame(res: Any) -> pd.DataFrame:
    """The ``factory`` frame sorted by time, one row per instant (empty ``t_s``, ``p_mw``: none)."""
    f = res.frame("factory")
    if not len(f):
        return pd.DataFrame({"t_s": [], "p_mw": []})
    return f.sort_values("t_s").drop_duplicates("t_s", keep="last").reset_index(drop=True)


def poi_power(res: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """The finest POI power series of a run.

    Returns
    -------
    ``(t_s, p_poi_mw, p_site_mw, series name)``: instants [s], POI import
    [MW], site power before the BESS [MW] (None when not recorded) and the
    frame they come from.
    """
    hr = res.frame("factory_hr")
    if len(hr) and "p_mw" in hr:
        hr = hr.sort_values("t_s").drop_duplicates("t_s", keep="last")
        ps = hr["p_site_mw"].to_numpy(float) if "p_site_mw" in hr else None
        return hr["t_s"].to_numpy(float), hr["p_mw"].to_numpy(float), ps, "factory_hr"
    f = factory_frame(res)
    ps = f["p_site_mw"].to_numpy(float) if "p_site_mw" in f else None
    return f["t_s"].to_numpy(float), f["p_mw"].to_numpy(float), ps, "factory"


def poi_voltage(res: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(t_s, v_pu, converged)`` at the POI: instants [s], voltage [pu], 1/0 per power flow.

    From the network federate; else what the factory saw (``converged`` None).
    """
    for name in ("distribution", "transmission"):
        df = res.frame(name)
        if len(df) and "poi_vm_pu" in df:
            df = df.sort_values("t_s").drop_duplicates("t_s", keep="last")
            conv = df["converged"].to_numpy(float) if "converged" in df else None
            return df["t_s"].to_numpy(float), df["poi_vm_pu"].to_numpy(float), conv
    f = factory_frame(res)
    v = f["vm_pu"].to_numpy(float) if "vm_pu" in f else np.full(len(f), np.nan)
    return f["t_s"].to_numpy(float), v, None


def factory_col(res: Any, col: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(t_s, x)`` of one ``factory`` column at the grid step; None when not recorded."""
    f = factory_frame(res)
    if col not in f:
        return None
    return f["t_s"].to_numpy(float), f[col].to_numpy(float)


def hr_col(res: Any, col: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(t_s, x)`` of one column at the factory's internal step, else at the grid step."""
    hr = res.frame("factory_hr")
    if len(hr) and col in hr:
        hr = hr.sort_values("t_s").drop_duplicates("t_s", keep="last")
        return hr["t_s"].to_numpy(float), hr[col].to_numpy(float)
    return factory_col(res, col)
