"""The report's figures: one function per plot, each returning a Figure or the reason it is skipped.

Figures are built with :class:`matplotlib.figure.Figure` on the Agg canvas (no
pyplot, no global state, no display). A plot whose data is absent returns
``Skipped(reason)``; nothing is drawn from invented data. Long series are
reduced to a min/max envelope for drawing only.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cosim.metrics import network, poi
from cosim.metrics._series import prefixed_columns

WIDE = (10.0, 3.4)
MAX_POINTS = 4000
C_POI, C_SITE, C_BASE, C_LIM, C_LIM_B = "#1f5fa8", "#c9822b", "#888888", "#c0392b", "#e08e79"


@dataclass(frozen=True)
class Skipped:
    """A plot that was not drawn, and why."""

    reason: str


@dataclass(frozen=True)
class PlotSpec:
    """A plot of the report: id (file name / anchor), title and builder."""

    id: str
    title: str
    build: Callable[[Any], Figure | Skipped]


@dataclass
class PlotData:
    """What the plot builders read: frames of a run (and its baseline) and the summaries."""

    frames: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    case: Any = None
    baseline_frames: dict[str, pd.DataFrame] | None = None
    baseline_summary: dict[str, Any] | None = None

    def frame(self, name: str) -> pd.DataFrame:
        df = self.frames.get(name)
        return df if df is not None and len(df) and "t_s" in df else pd.DataFrame()

    def base(self, name: str) -> pd.DataFrame:
        df = (self.baseline_frames or {}).get(name)
        return df if df is not None and len(df) and "t_s" in df else pd.DataFrame()

    def power(self, base: bool = False) -> pd.DataFrame:
        """The finest POI power series (``factory_hr``, else ``factory``)."""
        get = self.base if base else self.frame
        hr = get("factory_hr")
        return hr if "p_mw" in hr else get("factory")


def to_png(fig: Figure, dpi: int = 96) -> bytes:
    """Render a figure to PNG bytes (Agg)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


# ---------------------------------------------------------------- helpers


def _time_axis(t_s: np.ndarray) -> tuple[float, str]:
    span = float(t_s[-1] - t_s[0]) if len(t_s) > 1 else 0.0
    if span <= 900:
        return 1.0, "time [s]"
    if span <= 3 * 3600:
        return 60.0, "time [min]"
    return 3600.0, "time [h]"


def envelope(
    t: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """A min/max envelope of a long series for drawing (at most ``max_points`` points)."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    if t.size <= max_points:
        return t, y
    n = max_points // 2
    edges = np.linspace(0, t.size, n + 1).astype(int)
    lo = np.minimum.reduceat(np.nan_to_num(y, nan=np.inf), edges[:-1])
    hi = np.maximum.reduceat(np.nan_to_num(y, nan=-np.inf), edges[:-1])
    tt = np.repeat(t[edges[:-1]], 2)
    yy = np.column_stack([lo, hi]).ravel()
    yy[~np.isfinite(yy)] = np.nan
    return tt, yy


def _fig(rows: int = 1, height: float | None = None) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(WIDE[0], height or WIDE[1] * rows), layout="constrained")
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0].tolist()
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig, axes


def _hlines(ax: Any, values: list[tuple[float | None, str, str]]) -> None:
    for v, label, color in values:
        if v is not None:
            ax.axhline(v, color=color, lw=1.0, ls="--", label=label)


def _limit(summary: dict[str, Any], name: str) -> Any:
    return ((summary.get("requirements") or {}).get(name) or {}).get("value")


# ---------------------------------------------------------------- plots


def poi_power(d: PlotData) -> Figure | Skipped:
    """POI power at the meter vs the site's own (raw) power; full run and a 20 s zoom."""
    src = d.power()
    if "p_mw" not in src:
        return Skipped("no POI power series (factory.parquet / factory_hr.parquet missing)")
    t = src["t_s"].to_numpy(dtype=float)
    k, xl = _time_axis(t)
    sl = _zoom_at(t, None)
    fig, (ax, az) = _fig(2, height=6.4)
    for col, label, color, lw in (
        ("p_site_mw", "site (raw) p_site_mw", C_SITE, 0.8),
        ("p_mw", "POI (at the meter) p_mw", C_POI, 1.0),
    ):
        if col not in src:
            continue
        y = src[col].to_numpy(dtype=float)
        x_, y_ = envelope(t, y)
        ax.plot(x_ / k, y_, color=color, lw=lw, label=label)
        az.plot(t[sl], y[sl], color=color, lw=lw, label=label)
    for x_ in (ax, az):
        x_.set_ylabel("P [MW] (+ import)")
    ax.set_xlabel(xl)
    az.set_xlabel("time [s] (zoom: 20 s mid-run)")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def _zoom_at(t: np.ndarray, centre_s: float | None, width_s: float = 20.0) -> slice:
    c = 0.5 * (t[0] + t[-1]) if centre_s is None else centre_s
    i0, i1 = np.searchsorted(t, [c - width_s / 2, c + width_s / 2])
    return slice(int(i0), max(int(i1), int(i0) + 2))


def spectrum(d: PlotData) -> Figure | Skipped:
    """Welch PSD of POI and site power, with the reported bands shaded."""
    src = d.power()
    if "p_mw" not in src:
        return Skipped("no POI power series")
    fig, (ax,) = _fig(1, height=3.8)
    drawn = False
    series = [("p_site_mw", "site (raw)", C_SITE, src), ("p_mw", "POI", C_POI, src)]
    if d.baseline_frames is not None and "p_mw" in (b := d.power(base=True)):
        series.append(("p_mw", "POI, baseline (BESS off)", C_BASE, b))
    for col, label, color, df in series:
        if col not in df:
            continue
        f, pxx, _ = poi.spectrum(df["t_s"], df[col])
        if f.size > 1:
            ax.loglog(f[1:], np.maximum(pxx[1:], 1e-12), color=color, lw=0.9, label=label)
            drawn = True
    if not drawn:
        return Skipped("POI power series too short for a spectrum")
    for (lo, hi), color in zip(
        poi.OSC_BANDS_HZ.values(), ("#d6eaf8", "#fdebd0", "#e8daef"), strict=True
    ):
        ax.axvspan(lo, hi, color=color, alpha=0.5, lw=0)
    ax.set_xlabel("frequency [Hz] (shaded: 0.1-2, 0.2-3, 3-30 Hz)")
    ax.set_ylabel("PSD [MW²/Hz]")
    ax.legend(fontsize=8)
    return fig


def ramps(d: PlotData) -> Figure | Skipped:
    """Ramp over the requirement's window (MW/min) and over 1 s (MW/s)."""
    src = d.power()
    if "p_mw" not in src:
        return Skipped("no POI power series")
    window = float(_limit(d.summary, "ramp_window_s") or 60.0)
    limit = _limit(d.summary, "ramp_max_mw_per_min")
    t = src["t_s"].to_numpy(dtype=float)
    fig, (a1, a2) = _fig(2, height=6.0)
    drawn = False
    for col, label, color in (("p_site_mw", "site (raw)", C_SITE), ("p_mw", "POI", C_POI)):
        if col not in src:
            continue
        p = src[col].to_numpy(dtype=float)
        for ax, w, scale in ((a1, window, 60.0), (a2, 1.0, 1.0)):
            te, r = poi.ramp_series(t, p, w)
            if te.size:
                k, xl = _time_axis(te)
                x, y = envelope(te, r * scale)
                ax.plot(x / k, y, color=color, lw=0.8, label=label)
                ax.set_xlabel(xl)
                drawn = True
    if not drawn:
        return Skipped(f"series shorter than the {window:g} s ramp window")
    if limit is not None:
        _hlines(a1, [(limit, f"limit ±{limit:g} MW/min", C_LIM), (-limit, None, C_LIM)])
    a1.set_ylabel(f"ramp over {window:g} s\n[MW/min]")
    a2.set_ylabel("ramp over 1 s\n[MW/s]")
    a1.legend(fontsize=8, loc="lower right")
    return fig


def poi_voltage(d: PlotData) -> Figure | Skipped:
    """POI voltage with ANSI C84.1 Range A / B and the ride-through band."""
    t, v, label = _poi_v(d.frames)
    if v is None:
        return Skipped("no POI voltage series")
    fig, (ax,) = _fig(1)
    k, xl = _time_axis(t)
    x, y = envelope(t, v)
    ax.plot(x / k, y, color=C_POI, lw=0.9, label=label)
    s = d.summary
    _hlines(
        ax,
        [
            (_limit(s, "v_range_a_min_pu"), "Range A", C_LIM),
            (_limit(s, "v_range_a_max_pu"), None, C_LIM),
            (_limit(s, "v_range_b_min_pu"), "Range B", C_LIM_B),
            (_limit(s, "v_range_b_max_pu"), None, C_LIM_B),
        ],
    )
    ax.set_xlabel(xl)
    ax.set_ylabel("V [pu]")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _poi_v(frames: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray | None, str]:
    for name in ("distribution", "transmission"):
        df = frames.get(name)
        if df is not None and "poi_vm_pu" in df and df["poi_vm_pu"].notna().any():
            return (
                df["t_s"].to_numpy(dtype=float),
                df["poi_vm_pu"].to_numpy(dtype=float),
                f"{name}.poi_vm_pu",
            )
    df = frames.get("factory")
    if df is not None and "vm_pu" in df and df["vm_pu"].notna().any():
        return df["t_s"].to_numpy(dtype=float), df["vm_pu"].to_numpy(dtype=float), "factory.vm_pu"
    return np.empty(0), None, ""


def worst_bus_voltage(d: PlotData) -> Figure | Skipped:
    """The worst bus's voltage, and the min / max over all recorded buses."""
    g = d.summary.get("grid") or {}
    worst = (g.get("range_a") or {}).get("worst_bus") or g.get("v_min_bus")
    fig, (ax,) = _fig(1)
    drawn = False
    for name in ("transmission", "distribution"):
        df = d.frame(name)
        volts = network.bus_voltages(df) if len(df) else {}
        if not volts:
            continue
        t = df["t_s"].to_numpy(dtype=float)
        k, xl = _time_axis(t)
        mat = np.column_stack(list(volts.values()))
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(mat, axis=1), np.nanmax(mat, axis=1)
        x, y = envelope(t, lo)
        ax.plot(x / k, y, color="#7f8c8d", lw=0.7, label=f"{name}: min over buses")
        x, y = envelope(t, hi)
        ax.plot(x / k, y, color="#bdc3c7", lw=0.7, label=f"{name}: max over buses")
        if (
            worst
            and str(worst).startswith(f"{name}:")
            and (bus := str(worst).split(":", 1)[1]) in volts
        ):
            x, y = envelope(t, volts[bus])
            ax.plot(x / k, y, color=C_POI, lw=1.1, label=f"worst bus {worst}")
        ax.set_xlabel(xl)
        drawn = True
    if not drawn:
        return Skipped("no bus voltages recorded (vm_pu.<bus> columns)")
    s = d.summary
    _hlines(
        ax,
        [
            (_limit(s, "v_range_a_min_pu"), "Range A", C_LIM),
            (_limit(s, "v_range_a_max_pu"), None, C_LIM),
        ],
    )
    ax.set_ylabel("V [pu]")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def loading_heatmap(d: PlotData) -> Figure | Skipped:
    """Loading of the most loaded branches over time (heat map, % of rating)."""
    parts = []
    for name in ("transmission", "distribution"):
        df = d.frame(name)
        if len(df):
            t, names, mat = network.loading_matrix(df, top=30)
            if names:
                parts.append((name, t, names, mat))
    if not parts:
        return Skipped("no branch loadings recorded (loading_percent.* columns)")
    fig, axes = _fig(len(parts), height=3.2 + 0.12 * sum(len(p[2]) for p in parts))
    limit = _limit(d.summary, "thermal_max_percent") or 100.0
    for ax, (name, t, names, mat) in zip(axes, parts, strict=True):
        ax.grid(False)
        k, xl = _time_axis(t)
        cols = min(mat.shape[1], 1000)
        edges = np.linspace(0, mat.shape[1], cols + 1).astype(int)
        with np.errstate(all="ignore"):
            red = np.maximum.reduceat(np.nan_to_num(mat, nan=-1.0), edges[:-1], axis=1)
        im = ax.imshow(
            red,
            aspect="auto",
            interpolation="nearest",
            cmap="viridis",
            vmin=0,
            vmax=max(limit * 1.2, float(np.nanmax(red))),
            extent=(t[0] / k, t[-1] / k, len(names) - 0.5, -0.5),
        )
        ax.set_yticks(range(len(names)), [f"{n}" for n in names], fontsize=6)
        ax.set_xlabel(xl)
        ax.set_title(f"{name}: {len(names)} most loaded branches", fontsize=9)
        fig.colorbar(im, ax=ax, label="loading [%]")
    return fig


def soc(d: PlotData) -> Figure | Skipped:
    """BESS state of charge with its window."""
    df = d.frame("factory_hr")
    df = df if "soc" in df else d.frame("factory")
    if "soc" not in df or not df["soc"].notna().any():
        return Skipped("no SOC series")
    if d.case is not None and not d.case.bess.enabled:
        return Skipped("BESS disabled in this run")
    t = df["t_s"].to_numpy(dtype=float)
    k, xl = _time_axis(t)
    fig, (ax,) = _fig(1)
    x, y = envelope(t, df["soc"].to_numpy(dtype=float))
    ax.plot(x / k, y, color=C_POI, lw=1.0, label="SOC")
    if d.case is not None:
        _hlines(
            ax, [(d.case.bess.soc_min, "SOC window", C_LIM), (d.case.bess.soc_max, None, C_LIM)]
        )
    ax.set_xlabel(xl)
    ax.set_ylabel("SOC [-]")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def frequency(d: PlotData) -> Figure | Skipped:
    """System frequency (frequency federate) with the continuous band."""
    df = d.frame("frequency")
    if "f_hz" not in df or not df["f_hz"].notna().any():
        return Skipped("no frequency series (the run had no frequency federate)")
    t = df["t_s"].to_numpy(dtype=float)
    k, xl = _time_axis(t)
    fig, (ax,) = _fig(1)
    x, y = envelope(t, df["f_hz"].to_numpy(dtype=float))
    ax.plot(x / k, y, color=C_POI, lw=1.0, label="f_hz")
    s = d.summary
    _hlines(
        ax,
        [(_limit(s, "f_min_hz"), "continuous band", C_LIM), (_limit(s, "f_max_hz"), None, C_LIM)],
    )
    ax.set_xlabel(xl)
    ax.set_ylabel("f [Hz]")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def tap_positions(d: PlotData) -> Figure | Skipped:
    """OLTC tap positions over time."""
    fig, (ax,) = _fig(1)
    drawn = False
    for name in ("transmission", "distribution"):
        df = d.frame(name)
        for trafo, col in prefixed_columns(df, "tap_pos.").items() if len(df) else []:
            t = df["t_s"].to_numpy(dtype=float)
            k, xl = _time_axis(t)
            ax.step(
                t / k, df[col].to_numpy(dtype=float), where="post", lw=1.0, label=f"{name}:{trafo}"
            )
            ax.set_xlabel(xl)
            drawn = True
    if not drawn:
        return Skipped("no tap positions recorded (the networks have no OLTC)")
    ax.set_ylabel("tap position [-]")
    ax.legend(fontsize=7, loc="best")
    return fig


def rainflow(d: PlotData) -> Figure | Skipped:
    """Rainflow cycle count of SOC by depth."""
    h = (d.summary.get("bess") or {}).get("rainflow_depth_hist")
    if not h or not h.get("cycles") or not any(h["cycles"]):
        return Skipped("no BESS cycles counted")
    edges, cycles = h["edges"], h["cycles"]
    fig, (ax,) = _fig(1, height=3.0)
    labels = [f"{100 * a:g}-{100 * b:g}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ax.bar(labels, cycles, color=C_POI)
    ax.set_xlabel("cycle depth [% SOC]")
    ax.set_ylabel("cycles")
    return fig


def baseline_power(d: PlotData) -> Figure | Skipped:
    """POI power of this run vs the baseline (BESS off)."""
    if d.baseline_frames is None:
        return Skipped("no baseline run")
    b, a = d.power(base=True), d.power()
    if "p_mw" not in b or "p_mw" not in a:
        return Skipped("POI power missing in this run or its baseline")
    fig, (ax, az) = _fig(2, height=6.0)
    t = b["t_s"].to_numpy(dtype=float)
    k, xl = _time_axis(t)
    for df, label, color in ((b, "baseline (BESS off)", C_BASE), (a, "this run", C_POI)):
        tt = df["t_s"].to_numpy(dtype=float)
        p = df["p_mw"].to_numpy(dtype=float)
        x, y = envelope(tt, p)
        ax.plot(x / k, y, color=color, lw=0.9, label=label)
        sl = _zoom_at(tt, None)
        az.plot(tt[sl], p[sl], color=color, lw=0.9, label=label)
    ax.set_xlabel(xl)
    az.set_xlabel("time [s] (zoom: 20 s mid-run)")
    for x_ in (ax, az):
        x_.set_ylabel("P [MW]")
    ax.legend(fontsize=8, loc="lower right")
    return fig


PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("poi_power", "POI power: site (raw) vs at the meter", poi_power),
    PlotSpec("spectrum", "Spectrum of POI power (Welch)", spectrum),
    PlotSpec("ramps", "Ramp rates", ramps),
    PlotSpec("poi_voltage", "POI voltage", poi_voltage),
    PlotSpec("worst_bus_voltage", "Worst-bus voltage", worst_bus_voltage),
    PlotSpec("loading_heatmap", "Branch loading over time", loading_heatmap),
    PlotSpec("soc", "BESS state of charge", soc),
    PlotSpec("rainflow", "BESS cycle depths (rainflow)", rainflow),
    PlotSpec("frequency", "System frequency", frequency),
    PlotSpec("tap_positions", "OLTC tap positions", tap_positions),
)

BASELINE_PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("baseline_power", "POI power with the BESS vs baseline (BESS off)", baseline_power),
)
