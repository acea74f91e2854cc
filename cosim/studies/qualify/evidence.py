"""Plot data that proves a verdict (pure data; :mod:`cosim.studies.qualify.report` renders it).

A criterion returns :class:`Figure` objects: panels of traces over time (or
frequency) with the threshold drawn as a line or band and the judged window
marked, so a reader sees the number and where it came from.
Long series are thinned (:func:`thin`) to keep the pickled results small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: largest number of points kept per trace
MAX_POINTS = 4000


def thin(
    x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most ``max_points`` points, preserving each block's min and max (no lost peaks)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n <= max_points:
        return x, y
    blocks = max(max_points // 2, 1)
    edges = np.linspace(0, n, blocks + 1).astype(int)
    xs, ys = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b <= a:
            continue
        seg = y[a:b]
        if not np.isfinite(seg).any():
            xs.append(x[a])
            ys.append(np.nan)
            continue
        i, j = int(np.nanargmin(seg)), int(np.nanargmax(seg))
        for k in sorted({i, j}):
            xs.append(x[a + k])
            ys.append(seg[k])
    return np.asarray(xs), np.asarray(ys)


@dataclass
class Trace:
    """One line: label, x (time [s] or frequency [Hz]) and y."""

    label: str
    x: np.ndarray
    y: np.ndarray
    style: str = "-"
    step: bool = False


@dataclass
class Panel:
    """One axes: traces, threshold lines (``hlines``), allowed band, marked windows."""

    ylabel: str
    traces: list[Trace] = field(default_factory=list)
    hlines: list[tuple[str, float]] = field(default_factory=list)
    band: tuple[float, float] | None = None  # allowed range, shaded green
    vspans: list[tuple[str, float, float]] = field(default_factory=list)  # marked windows
    xlim: tuple[float, float] | None = None
    xlabel: str = "t [s]"
    logx: bool = False
    logy: bool = False

    def add(
        self,
        label: str,
        x: np.ndarray,
        y: np.ndarray,
        style: str = "-",
        *,
        step: bool = False,
        window: tuple[float, float] | None = None,
    ) -> Panel:
        """Add a trace, thinned; with ``window`` only the part inside it."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if window is not None:
            sel = (x >= window[0]) & (x <= window[1])
            x, y = x[sel], y[sel]
        tx, ty = thin(x, y)
        self.traces.append(Trace(label, tx, ty, style, step))
        return self


@dataclass
class Figure:
    """A titled stack of panels; ``name`` becomes the PNG file name."""

    name: str
    title: str
    panels: list[Panel] = field(default_factory=list)
    caption: str = ""


def voltage_figure(
    name: str,
    title: str,
    t_s: np.ndarray,
    v_pu: np.ndarray,
    band_pu: tuple[float, float] | None,
    settle_s: float = 0.0,
) -> Figure:
    """POI voltage [pu] over time; the allowed band shaded, the start-up (``settle_s``) marked."""
    p = Panel("V [pu]", band=band_pu)
    p.add("POI voltage", t_s, v_pu, step=True)
    if t_s.size and settle_s > 0:
        p.vspans.append(("not judged (start-up)", float(t_s[0]), float(t_s[0]) + settle_s))
    return Figure(name, title, [p])
