"""Report section: what the BESS controller as built can do against the 0.2-3 Hz training swing.

The attenuation of the site's swing at the POI depends on the controller's
measurement and communication delay (``bess.latency_s``), its PCS time
constant (``bess.response_tau_s``) and its control period: a first-order lag
``tau`` plus a delay ``L`` leaves a residual ``|1 - exp(-j w L) / (1 + j w tau)|``
of a swing at ``w = 2 pi f``. The table and plot put the case's own controller
beside a grid of delays and time constants, the formula beside a simulation of
the controller (:func:`federates.factory.response.attenuation_table`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cosim.analysis.report import html as H
from cosim.analysis.report.plots import to_png

LATENCIES_S = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25)
TAUS_S = (0.01, 0.03, 0.1)


def bess_control_section(case: Any, plot_dir: Path) -> tuple[str, dict[str, Path]]:
    """The section's HTML and the PNG it wrote ('' when the case has no BESS).

    Parameters
    ----------
    case : the run's case (``bess.latency_s``, ``response_tau_s``, ``control_period_s``,
        ``control_mode``)
    plot_dir : folder for ``bess_control.png``
    """
    bess = getattr(case, "bess", None)
    if bess is None or not bess.enabled:
        return "", {}
    from federates.factory.response import attenuation_table
    from federates.factory.response_plots import plot_attenuation

    latency_s, tau_s = float(bess.latency_s), float(bess.response_tau_s)
    period_s, mode = float(bess.control_period_s), str(bess.control_mode)
    own = attenuation_table((latency_s,), (tau_s,), period_s, mode)[0]
    rows = attenuation_table(
        tuple(sorted({*LATENCIES_S, latency_s})), tuple(sorted({*TAUS_S, tau_s})), period_s, mode
    )
    png = to_png(plot_attenuation(rows))
    path = plot_dir / "bess_control.png"
    path.write_bytes(png)
    table = H.table(
        ["latency [ms]", "PCS tau [ms]", "formula [dB]", "simulated [dB]"],
        [
            [
                f"{r.latency_s * 1e3:g}",
                f"{r.response_tau_s * 1e3:g}",
                f"{r.formula_db:.1f}",
                f"{r.simulated_db:.1f}",
            ]
            for r in rows
        ],
        "bess-control",
    )
    text = (
        f"<p>This case's controller: latency {latency_s * 1e3:g} ms, PCS time constant "
        f"{tau_s * 1e3:g} ms, control period {period_s * 1e3:g} ms, {H.esc(mode)}: "
        f"<b>{own.simulated_db:.1f} dB</b> of attenuation of the 0.2-3 Hz swing "
        f"(formula, feed-forward: {own.formula_db:.1f} dB). A negative figure amplifies the "
        "swing. GPU-side smoothing is what remains when a BESS this slow cannot meet the "
        "oscillation limit.</p>"
    )
    fig = H.figure(
        "bess_control",
        "0.2-3 Hz attenuation against latency and PCS time constant",
        png,
        "first-order lag plus delay: formula and simulated controller",
    )
    html = f'<section id="bess-control"><h2>BESS control as built</h2>{text}{fig}{table}</section>'
    return html, {"bess_control": path}
