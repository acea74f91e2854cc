"""Shared pieces of the tests' ``need``: the rating an ideal BESS needs for a target POI power.

See :mod:`cosim.studies.qualify.shortfall` for the method.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cosim.studies.qualify.series import poi_power
from cosim.studies.qualify.shortfall import Need, required_rating
from cosim.studies.qualify.signals import first_order_lowpass
from cosim.studies.qualify.tests.base import Context, Frames

#: low-pass time constant [s] of the target when the spec's smoothing is off (assumed)
DEFAULT_TAU_S = 60.0


def need_for(
    res: Any, t_s: np.ndarray, p_site_mw: np.ndarray | None, target_mw: np.ndarray, basis: str
) -> Need | None:
    """The rating that makes the POI follow ``target_mw`` [MW] with the run's BESS efficiencies
    and SOC window; None without the site power."""
    if p_site_mw is None:
        return None
    b = res.case.bess
    eta_c, eta_d = b.efficiencies
    return required_rating(
        t_s,
        p_site_mw,
        target_mw,
        eta_charge=eta_c,
        eta_discharge=eta_d,
        soc_init=b.soc_init,
        soc_min=b.soc_min,
        soc_max=b.soc_max,
        basis=basis,
    )


def smoothing_tau_s(res: Any) -> float:
    """The spec's smoothing time constant [s], or :data:`DEFAULT_TAU_S` when smoothing is off."""
    sm = res.case.controls.smoothing
    return float(sm.tau_s) if sm.enabled else DEFAULT_TAU_S


def need_flat(ctx: Context, runs: Frames) -> Need | None:
    """Target: the site's power through the spec's low-pass (60 s when smoothing is off)."""
    res = runs["main"]
    t, _, ps, _ = poi_power(res)
    if ps is None or not t.size:
        return None
    tau = smoothing_tau_s(res)
    target = first_order_lowpass(t, ps, tau)
    return need_for(res, t, ps, target, f"POI = site power low-passed with tau {tau:g} s")
