"""What the summary reads from a run: its frames and columns, federate info, the section runner."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosim.metrics._series import valid_rows

#: the network frames a run may hold, in the order their POI voltage is preferred
NETWORKS = ("transmission", "distribution")


def frame(results: Any, name: str) -> pd.DataFrame:
    """A result frame sorted by ``t_s`` (one row per instant), empty when absent.

    From a :class:`cosim.engine.results.Results` it is a
    :class:`cosim.engine.series_table.SeriesTable` (read column by column, the
    same rows and values as the sorted DataFrame); otherwise the DataFrame of
    ``results.frame(name)`` (or ``results.frames[name]``) sorted and deduplicated.
    """
    table = getattr(type(results), "table", None)
    if callable(table):
        try:
            tab = results.table(name)
        except (OSError, ValueError):
            tab = None
        if tab is None or not len(tab) or "t_s" not in tab:
            return pd.DataFrame()
        return tab
    try:
        df = results.frame(name)
    except (AttributeError, OSError, ValueError):
        frames = getattr(results, "frames", {}) or {}
        df = frames.get(name, pd.DataFrame())
    if df is None or not len(df) or "t_s" not in df:
        return pd.DataFrame()
    df = df.sort_values("t_s", kind="stable")
    return df.drop_duplicates("t_s", keep="last").reset_index(drop=True)


def federate_info(results: Any, name: str) -> dict[str, Any]:
    """A federate's ``<name>.info.json`` (empty when absent)."""
    try:
        return dict(results.federate_info(name) or {})
    except (AttributeError, OSError, ValueError):
        return {}


def dig(d: dict[str, Any], path: str) -> Any:
    """``d["a"]["b"]`` or ``d["a.b"]`` for ``path == "a.b"``; None when absent."""
    if path in d:
        return d[path]
    node: Any = d
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def col(df: pd.DataFrame, name: str) -> np.ndarray | None:
    """A column as float array, None when absent or all NaN."""
    if name in df and df[name].notna().any():
        return df[name].to_numpy(dtype=float)
    return None


def times(df: pd.DataFrame) -> np.ndarray:
    """The ``t_s`` column [s]."""
    return df["t_s"].to_numpy(dtype=float)


def site_rating_mw(case: Any) -> float | None:
    """The site's rating ``it_mw * pue`` [MW], None without a case."""
    f = getattr(case, "factory", None)
    return float(f.it_mw * f.pue) if f is not None else None


def poi_voltage(
    fac: pd.DataFrame, nets: dict[str, pd.DataFrame]
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """The finest POI voltage series: ``(t_s, vm_pu, "frame.column")``.

    A network's ``poi_vm_pu`` (non-converged rows NaN), else the voltage the
    factory saw (``factory.vm_pu``).
    """
    for name in NETWORKS:
        df = nets.get(name)
        if df is not None and (v := col(df, "poi_vm_pu")) is not None:
            return times(df), np.where(valid_rows(df), v, np.nan), f"{name}.poi_vm_pu"
    if (v := col(fac, "vm_pu")) is not None:
        return times(fac), v, "factory.vm_pu"
    return np.empty(0), None, None


class Sections:
    """Runs each metric section; a failure leaves its keys null and adds a note."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def run(self, name: str, fn: Callable[[], None]) -> None:
        """Run ``fn``; on an exception add ``"<name>: not computed (...)"`` to the notes."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - one bad metric must not lose the summary
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(tb.filename).name}:{tb.lineno}"
            self.notes.append(f"{name}: not computed ({type(exc).__name__}: {exc} at {where})")
