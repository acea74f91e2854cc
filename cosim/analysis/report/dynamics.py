"""Plots of the grid-dynamics studies: forced response versus frequency, a dynamic run's traces."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cosim.analysis.report.plots import PlotData, PlotSpec, Skipped, to_png

__all__ = ["DYNAMIC_PLOTS", "dynamic_run_figure", "oscillation_figure", "to_png"]


def oscillation_figure(points: list[dict[str, Any]], modes: list[dict[str, Any]]) -> Figure:
    """Peak-to-peak speed deviation, branch MW and POI voltage vs forcing frequency.

    Modes (inter-area and local) are marked with their half-power bands shaded.
    """
    fig = Figure(figsize=(9, 8), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    f = np.array([p["f_hz"] for p in points])
    order = np.argsort(f)
    rows = (
        ("speed_dev_pp_max_mhz", "speed deviation p-p [mHz]"),
        ("branch_osc_max_mw", "branch P p-p [MW]"),
        ("poi_v_osc_percent", "POI voltage p-p [%]"),
    )
    for ax, (key, label) in zip(axes, rows, strict=True):
        y = np.array([p[key] for p in points])
        ax.plot(f[order], y[order], "o-", color="C0", label="with BESS")
        if all("no_bess" in p for p in points):
            y0 = np.array([p["no_bess"][key] for p in points])
            ax.plot(f[order], y0[order], "s--", color="C3", label="without BESS")
        for m in modes:
            if m.get("kind") == "control":
                continue
            z = min(float(m["damping_ratio"]), 0.99)
            f_n = float(m["freq_hz"]) / np.sqrt(1 - z * z)
            color = "C2" if m["kind"] == "inter-area" else "C1"
            ax.axvspan(f_n * (1 - z), f_n * (1 + z), color=color, alpha=0.08)
            ax.axvline(float(m["freq_hz"]), color=color, lw=1.0, ls=":")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="upper right")
    axes[0].set_title("Forced response; modes dotted (green inter-area, orange local), shaded ±ζ")
    axes[-1].set_xlabel("forcing frequency [Hz]")
    return fig


def dynamic_run_figure(tr: pd.DataFrame, fac: pd.DataFrame | None = None) -> Figure:
    """POI voltage, site power (drawn and scheduled) and generator speeds of a dynamic run."""
    fig = Figure(figsize=(10, 8), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    t = tr["t_s"].to_numpy()
    axes[0].plot(t, tr["poi_vm_pu"], lw=0.8)
    axes[0].set_ylabel("POI voltage [pu]")
    axes[1].plot(t, tr["p_site_mw"], lw=0.8, label="drawn (grid)")
    if fac is not None and "p_mw" in fac:
        axes[1].plot(fac["t_s"], fac["p_mw"], lw=0.8, ls="--", label="scheduled (factory)")
    axes[1].set_ylabel("site P [MW]")
    axes[1].legend(loc="lower right")
    for c in [c for c in tr.columns if c.startswith("speed_dev_mhz.")]:
        axes[2].plot(t, tr[c], lw=0.8, label=c.removeprefix("speed_dev_mhz."))
    axes[2].set_ylabel("speed deviation [mHz]")
    axes[2].legend(loc="lower right", ncol=4)
    axes[-1].set_xlabel("time [s]")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig


def dynamic_run(data: PlotData) -> Figure | Skipped:
    """POI voltage, site power and generator speeds at the dynamic grid's exchange step."""
    tr = data.frame("transmission")
    if not any(c.startswith("speed_dev_mhz.") for c in tr.columns):
        return Skipped("not a dynamic case (no generator speeds recorded)")
    return dynamic_run_figure(tr, data.frame("factory"))


DYNAMIC_PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("dynamics", "Dynamic grid: POI voltage, site power, generator speeds", dynamic_run),
)
