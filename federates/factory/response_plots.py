"""Figures of the BESS controller as built (matplotlib, imported only when drawn).

:func:`plot_attenuation` draws :func:`.response.attenuation_table`;
:func:`plot_gpu_smoothing` draws :func:`.response.gpu_smoothing_study`. Both
return a ``matplotlib.figure.Figure`` and never show or save it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from federates.factory.response import AttenuationRow, SmoothingRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MIN_ATTENUATION_DB = 10.0
"""Attenuation the qualification suite asks in 0.2-3 Hz (Q2) [dB]."""


def plot_attenuation(rows: Sequence[AttenuationRow], band_label: str = "0.2-3 Hz") -> Figure:
    """Band attenuation [dB] against latency [ms], one line per PCS time constant.

    Solid lines with markers: simulation; dashed: the first-order-plus-delay
    formula; dotted horizontal line: the 10 dB of qualification test Q2.

    Parameters
    ----------
    rows : sequence of AttenuationRow
        Simulated and formula attenuations [dB] per PCS time constant [s] and latency [s].
    band_label : str, default "0.2-3 Hz"
        Frequency band [Hz] named in the y-axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    for tau in sorted({r.response_tau_s for r in rows}):
        sel = sorted((r for r in rows if r.response_tau_s == tau), key=lambda r: r.latency_s)
        lat_ms = [1000.0 * r.latency_s for r in sel]
        (line,) = ax.plot(
            lat_ms,
            [r.simulated_db for r in sel],
            marker="o",
            label=f"tau = {1000 * tau:g} ms (simulated)",
        )
        ax.plot(lat_ms, [r.formula_db for r in sel], ls="--", color=line.get_color(), lw=1)
    ax.axhline(MIN_ATTENUATION_DB, ls=":", color="k", lw=1, label="Q2: 10 dB")
    ax.axhline(0.0, color="0.6", lw=0.8)
    period = rows[0].control_period_s if rows else 0.0
    ax.set_xlabel("measurement + communication latency [ms]")
    ax.set_ylabel(f"attenuation in {band_label} [dB]")
    ax.set_title(
        f"BESS {rows[0].control_mode if rows else ''} control, period {1000 * period:g} ms "
        "(dashed: |1 - exp(-jwL)/(1 + jw tau)|)"
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_gpu_smoothing(rows: Sequence[SmoothingRow]) -> Figure:
    """POI and site oscillation RMS [MW] per configuration, with the limit (2 % of the rating).

    Parameters
    ----------
    rows : sequence of SmoothingRow
        One bar pair per configuration: site and POI oscillation RMS [MW] and the limit [MW].

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    x = list(range(len(rows)))
    ax.bar([i - 0.2 for i in x], [r.site_rms_mw for r in rows], width=0.4, label="site")
    ax.bar([i + 0.2 for i in x], [r.poi_rms_mw for r in rows], width=0.4, label="POI")
    if rows:
        ax.axhline(rows[0].limit_mw, ls=":", color="k", lw=1, label="limit (2 % of rating)")
    ax.set_xticks(x, [r.label for r in rows], rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("power RMS in 0.1-20 Hz [MW]")
    ax.set_yscale("log")
    ax.set_title("What GPU-side smoothing adds to the BESS as built")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
