"""POI voltage quality (rapid voltage change, flicker) and the basis each figure rests on.

Flicker and rapid voltage change (RVC) are **assessed** only from POI voltage
whose own step is 0.1 s or finer:

* a dynamic grid federate's POI voltage (frame ``dynamics``, column
  ``poi_vm_pu``), or
* the quasi-static network's POI voltage over a stretch solved every 0.1 s or
  finer (``horizon.grid_dt_s <= 0.1``; the event windows of ``event_dt_s`` are
  too short for a 10 min Pst).

The factory's high-rate frame does not help: the voltage it sees between two
grid steps is the grid's last solution held, so the resolution is always the
grid's own step. From coarser (1 s) samples the figures are **screening**:
Pst / Plt from the IEC 61000-3-3 analytical estimate
(:func:`cosim.metrics.poi.flicker_severity`), RVC from 1 s samples.

The IEC 61000-4-15 flickermeter (:mod:`cosim.metrics.flicker`) runs with the
120 V lamp on 60 Hz systems and the 230 V lamp on 50 Hz ones, after 120 s of
settling; Plt needs 12 Pst (2 h): from fewer it is the cube mean of those there
are, and screening.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cosim.analysis.checks import Basis
from cosim.metrics import flicker, poi
from cosim.metrics._series import as_array, uniform

#: coarsest voltage step from which flicker and RVC are assessed [s]
ASSESSED_STEP_S = 0.1
#: settling of the flickermeter's filters before the first Pst window [s]
SETTLE_S = 120.0


@dataclass(frozen=True)
class FineStretch:
    """The longest stretch of a voltage series solved at 0.1 s or finer.

    Attributes
    ----------
    i0, i1 : its samples ``[i0, i1)``
    duration_s : its length [s]
    step_s : its coarsest step [s]
    """

    i0: int
    i1: int
    duration_s: float
    step_s: float


def series_step_s(t_s: np.ndarray) -> float | None:
    """The series' usual step [s]: the step that holds for at least half of its time.

    A time-weighted median of the intervals, so that the short event windows a
    quasi-static grid refines to (``event_dt_s``) do not make a 1 s series look
    fine. None for fewer than 2 samples.
    """
    t = as_array(t_s)
    if t.size < 2:
        return None
    d = np.sort(np.diff(t))
    k = int(np.searchsorted(np.cumsum(d), 0.5 * d.sum()))
    return round(float(d[min(k, d.size - 1)]), 9)


def fine_stretch(t_s: np.ndarray, step_max_s: float = ASSESSED_STEP_S) -> FineStretch | None:
    """The longest stretch whose every step is at most ``step_max_s`` [s]; None without one."""
    t = as_array(t_s)
    if t.size < 2:
        return None
    ok = np.diff(t) <= step_max_s * (1 + 1e-9)
    best: FineStretch | None = None
    edges = np.diff(np.concatenate([[0], ok.view(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        dur = float(t[b] - t[a])
        if best is None or dur > best.duration_s:
            step = round(float(np.max(np.diff(t[a : b + 1]))), 9)
            best = FineStretch(int(a), int(b) + 1, round(dur, 9), step)
    return best


def flicker_figures(
    t_s: np.ndarray,
    vm_pu: np.ndarray,
    series: str,
    *,
    dynamic: bool,
    f_nom_hz: float,
    v_band_pu: tuple[float, float],
    t_end_s: float | None,
) -> dict[str, Any]:
    """Pst (max) and Plt at the POI, by the flickermeter where the voltage allows, else estimated.

    Parameters
    ----------
    t_s, vm_pu : POI voltage [s], [pu] (NaN where the power flow failed)
    series : where the voltage comes from (``"transmission.poi_vm_pu"``)
    dynamic : the series is a dynamic grid federate's (not quasi-static)
    f_nom_hz : nominal frequency [Hz]: 60 -> 120 V lamp, else 230 V
    v_band_pu : band outside which samples are dips / swells (estimate only) [pu]
    t_end_s : end of the last interval [s]

    Returns
    -------
    dict
        ``pst_max``, ``plt``, ``flicker_excluded_s`` (keys of ``poi``) and
        ``flicker``: ``method``, ``series``, ``step_s``, ``fs_hz``, ``lamp_v``,
        ``pst`` (each window), ``pst_basis``, ``plt_basis``, ``note``.
    """
    t, v = as_array(t_s), as_array(vm_pu)
    lamp_v = 120 if abs(f_nom_hz - 60.0) < 1.0 else 230
    stretch = fine_stretch(t)
    kind = "dynamic federate" if dynamic else "quasi-static power flow"
    if stretch is not None and stretch.duration_s >= SETTLE_S + flicker.PST_WINDOW_S:
        ts, vs = t[stretch.i0 : stretch.i1], v[stretch.i0 : stretch.i1]
        if np.isfinite(vs).all():
            dt = max(float(np.min(np.diff(ts))), 1.0 / flicker.FULL_ACCURACY_FS_HZ)
            _, vu = uniform(ts, vs, dt, float(ts[-1]))
            psts = flicker.pst(vu, 1.0 / dt, lamp_v=lamp_v, settle_s=SETTLE_S)
            if psts.size:
                full = psts.size >= flicker.PST_PER_PLT
                plt_value = float(flicker.plt(psts, n_per_plt=psts.size if not full else 12)[0])
                note = (
                    f"IEC 61000-4-15 flickermeter ({lamp_v} V lamp) on {series}, "
                    f"{kind} solved every {stretch.step_s:g} s over {stretch.duration_s:g} s"
                )
                return {
                    "pst_max": float(psts.max()),
                    "plt": plt_value,
                    "flicker_excluded_s": 0.0,
                    "flicker": {
                        "method": "IEC 61000-4-15 flickermeter",
                        "series": series,
                        "step_s": stretch.step_s,
                        "fs_hz": round(1.0 / dt, 6),
                        "lamp_v": lamp_v,
                        "pst": psts.tolist(),
                        "pst_basis": "assessed",
                        "plt_basis": "assessed" if full else "screening",
                        "note": note,
                    },
                }
    step = series_step_s(t)
    est = poi.flicker_severity(t, v, v_band_pu=v_band_pu, t_end_s=t_end_s)
    why = (
        f"{series} every {step:g} s: coarser than {ASSESSED_STEP_S:g} s"
        if step is not None and step > ASSESSED_STEP_S * (1 + 1e-9)
        else f"{series}: no {SETTLE_S + flicker.PST_WINDOW_S:g} s stretch at "
        f"{ASSESSED_STEP_S:g} s or finer"
    )
    return {
        "pst_max": est.pst_max,
        "plt": est.plt,
        "flicker_excluded_s": est.excluded_s,
        "flicker": {
            "method": "IEC 61000-3-3 analytical estimate",
            "series": series,
            "step_s": step,
            "fs_hz": None,
            "lamp_v": None,
            "pst": list(est.pst),
            "pst_basis": "screening",
            "plt_basis": "screening",
            "note": f"estimate from voltage steps ({why})",
        },
    }


def rvc_basis(t_s: np.ndarray, series: str | None) -> tuple[Basis, str]:
    """Basis and note of the rapid-voltage-change figure of a POI voltage series."""
    step = series_step_s(t_s)
    if step is None or series is None:
        return "not assessed", "no POI voltage"
    if step <= ASSESSED_STEP_S * (1 + 1e-9):
        return "assessed", f"{series} every {step:g} s (the grid's own step)"
    return "screening", (
        f"{series} every {step:g} s (the grid's own step): changes faster than that are not seen"
    )
