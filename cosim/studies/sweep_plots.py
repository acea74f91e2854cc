"""Plots of a sweep: headline metrics against each swept parameter, pass/fail coloured."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

#: metrics plotted against each swept parameter, when the summary has them
PLOT_METRICS = (
    "poi.p_max_mw",
    "poi.ramp_max_mw_per_min",
    "poi.v_min_pu",
    "grid.v_min_pu",
    "grid.loading_max_percent",
    "bess.throughput_mwh",
)


def describe_params(params: Mapping[str, Any]) -> str:
    """``key=value, ...`` of a run's parameters, or ``(base case)``."""
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "(base case)"


def plot_sweep(df: pd.DataFrame, params: Sequence[str], plot_dir: Path) -> list[Path]:
    """One PNG per swept parameter: headline metrics against it, pass/fail coloured.

    Points that share the other parameters are joined by a line (one line per
    combination of the other parameters).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [
        m
        for m in PLOT_METRICS
        if m in df and pd.api.types.is_numeric_dtype(df[m]) and df[m].notna().any()
    ]
    if not metrics:
        metrics = ["wall_s"] if "wall_s" in df and df["wall_s"].notna().any() else []
    plot_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for param in params:
        ncols = min(3, max(1, len(metrics)))
        nrows = max(1, math.ceil(len(metrics) / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
        x, ticks = _positions(df[param], categorical=param.endswith("bus") or param == "case")
        others = [p for p in params if p != param]
        groups = df.groupby(others, dropna=False, sort=True) if others else [((), df)]
        for ax, metric in zip(axes.flat, metrics, strict=False):
            for n, (key, g) in enumerate(groups):
                order = x[g.index].sort_values().index
                label = describe_params(
                    dict(zip(others, key if isinstance(key, tuple) else (key,), strict=True))
                )
                ax.plot(
                    x[order],
                    g.loc[order, metric],
                    "-",
                    color=f"C{n % 10}",
                    alpha=0.5,
                    lw=1,
                    label=label if n < 8 and others else None,
                    zorder=1,
                )
            colors = df["verdict"].map({"pass": "tab:green", "fail": "tab:red"}).fillna("tab:blue")
            ax.scatter(x, df[metric], c=colors, s=28, zorder=2)
            ax.set_title(metric, fontsize=9)
            ax.set_xlabel(param, fontsize=8)
            if ticks is not None:
                ax.set_xticks(
                    range(len(ticks)),
                    ticks,
                    rotation=30 if max(map(len, ticks)) > 4 else 0,
                    fontsize=7,
                )
            ax.grid(alpha=0.3)
        if others and metrics:
            axes[0, 0].legend(fontsize=7, title=", ".join(others), title_fontsize=7)
        for ax in list(axes.flat)[len(metrics) :]:
            ax.axis("off")
        if not metrics:
            axes[0, 0].text(0.5, 0.5, "no metrics in the summaries", ha="center", va="center")
        n_failed = int((df["status"] != "ok").sum())
        fig.suptitle(
            f"sweep over {param}: {len(df)} runs, {n_failed} failed "
            "(green pass, red fail, blue no verdict)",
            fontsize=10,
        )
        fig.tight_layout()
        path = plot_dir / f"sweep_{re.sub(r'[^A-Za-z0-9._-]+', '_', param)}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def _positions(col: pd.Series, categorical: bool = False) -> tuple[pd.Series, list[str] | None]:
    """x positions for a parameter column: its values, or 0..n-1 with tick labels for categories
    (bus numbers, case names, strings)."""
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric and not categorical:
        return col.astype(float), None
    values = sorted(set(col), key=lambda v: (not numeric, v if numeric else str(v)))
    labels = [str(v) for v in values]
    return col.map(lambda v: float(labels.index(str(v)))), labels
