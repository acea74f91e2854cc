"""The weak reference grid of the suite: a Thevenin source behind an impedance (pandapower).

``SCR = S_sc / P_site`` at the POI, with ``P_site`` the site's POI peak
(``factory.site_peak_mw``), the same definition as the project's SCR metric
(:func:`cosim.metrics.grid_strength.short_circuit_ratio`). The source is an
ideal voltage (``ext_grid``, ``vm_pu = v_source_pu``) behind
``Z = V_n^2 / S_sc`` with the requested ``R/X``. ``S_sc`` here is the plain
Thevenin figure ``V_n^2 / |Z|`` used in weak-grid studies; the project's SCR
metric follows IEC 60909 with the voltage factor ``c_max = 1.1`` and therefore
reports 1.1 x this SCR for the same network (2.2 for the default 2.0).

A load of ``P`` at SCR 2 sits at the nose of its PV curve (for a unity-PF load
behind a pure reactance the largest transferable power is ``S_sc / 2``), and
with a high R/X even less can be carried. A utility connecting a large load to
such a grid requires reactive compensation; the suite therefore adds, at the
POI, a fixed capacitor sized so that the POI voltage is ``v_target_pu`` at the
site's lowest slow import, and a voltage-controlled switched bank (the grid
model's ``grid.shunts``) that covers the rest up to its highest slow import
(``compensate = true``; assumed, and it can be turned off). The bank follows
the site's slow changes (tens of seconds); what the test judges is whether the
site's fast swing, as the BESS leaves it, keeps the POI voltage in range.

Network layout: bus 0 = source (138 kV), bus 1 = POI; the factory attaches at
bus 1 (``factory.poi_bus = 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandapower as pp

from federates.grid.network import thevenin_network

#: the POI bus of the weak grid (bus 0 is the Thevenin source)
POI_BUS = 1


@dataclass(frozen=True)
class WeakGrid:
    """What was built: the file, the POI bus and the figures it was built for."""

    path: Path
    poi_bus: int
    scr: float
    rx_ratio: float
    s_sc_mva: float
    p_base_mw: float
    shunt_mvar: float  # capacitive compensation at the POI [Mvar] (>= 0)
    p_comp_mw: float  # site import the compensation was sized for [MW]
    v_at_comp_pu: float | None  # POI voltage at that import with the shunt [pu]
    p_max_mw: float | None  # largest site import that still converges with the shunt [MW]


def build_network(
    scr: float,
    rx_ratio: float,
    p_base_mw: float,
    vn_kv: float = 138.0,
    v_source_pu: float = 1.0,
    shunt_mvar: float = 0.0,
) -> pp.pandapowerNet:
    """Source - impedance - POI, with ``S_sc = scr * p_base_mw`` and the given R/X
    (:func:`federates.grid.network.thevenin_network`), plus a capacitor at the POI.

    Parameters
    ----------
    scr : short-circuit ratio at the POI [-]
    rx_ratio : R/X of the source impedance [-]
    p_base_mw : the power the SCR refers to [MW]
    vn_kv : nominal voltage [kV]
    v_source_pu : source voltage [pu]
    shunt_mvar : capacitor at the POI [Mvar] (pandapower shunt ``q_mvar < 0``); 0 for none
    """
    net = thevenin_network(scr, rx_ratio, p_base_mw, vn_kv, v_source_pu)
    if shunt_mvar:
        pp.create_shunt(net, POI_BUS, q_mvar=-float(shunt_mvar), p_mw=0.0, name="POI compensation")
    return net


def _poi_voltage(net: pp.pandapowerNet, p_mw: float, q_mvar: float) -> float | None:
    work = net  # a temporary load is added and removed again
    idx = pp.create_load(work, POI_BUS, p_mw=p_mw, q_mvar=q_mvar)
    try:
        pp.runpp(work, numba=False, enforce_q_lims=True)
        v = float(work.res_bus.vm_pu.at[POI_BUS])
    except pp.LoadflowNotConverged:
        v = None
    finally:
        work.load.drop(idx, inplace=True)
    return v


def size_compensation(
    scr: float,
    rx_ratio: float,
    p_base_mw: float,
    p_mw: float,
    q_mvar: float,
    v_target_pu: float = 1.0,
    vn_kv: float = 138.0,
    v_source_pu: float = 1.0,
) -> float:
    """Capacitor [Mvar] that gives ``v_target_pu`` at the POI for a load ``p_mw + j q_mvar``.

    Scans the shunt size upward in steps of 5 % of ``S_sc`` (the POI voltage
    rises with it on the upper branch of the PV curve) and bisects the step
    that crosses the target. Raises ValueError when up to ``S_sc`` of
    capacitance cannot reach the target: the grid cannot carry that import.
    """
    s_sc = scr * p_base_mw

    def v_at(q_shunt: float) -> float | None:
        return _poi_voltage(
            build_network(scr, rx_ratio, p_base_mw, vn_kv, v_source_pu, q_shunt), p_mw, q_mvar
        )

    step = 0.05 * s_sc
    lo = 0.0
    v = v_at(lo)
    if v is not None and v >= v_target_pu:
        return 0.0
    hi = None
    for k in range(1, 21):
        v = v_at(k * step)
        if v is not None and v >= v_target_pu:
            hi = k * step
            break
        if v is not None:
            lo = k * step
    if hi is None:
        raise ValueError(
            f"the weak grid (SCR {scr:g}, R/X {rx_ratio:g}, S_sc {s_sc:g} MVA) cannot carry "
            f"{p_mw:.0f} MW at {v_target_pu:g} pu even with {20 * step:.0f} Mvar of compensation"
        )
    while hi - lo > 0.05:
        mid = 0.5 * (lo + hi)
        v = v_at(mid)
        if v is not None and v >= v_target_pu:
            hi = mid
        else:
            lo = mid
    return hi


def max_import_mw(
    net: pp.pandapowerNet, tan_phi: float, p_start_mw: float, p_stop_mw: float
) -> float | None:
    """Largest site import [MW] (at ``tan_phi``) for which the power flow converges (bisection)."""
    lo, hi = 0.0, p_stop_mw
    if _poi_voltage(net, p_stop_mw, p_stop_mw * tan_phi) is not None:
        return p_stop_mw
    if _poi_voltage(net, p_start_mw, p_start_mw * tan_phi) is None:
        return None
    lo = p_start_mw
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if _poi_voltage(net, mid, mid * tan_phi) is not None:
            lo = mid
        else:
            hi = mid
        if hi - lo < 0.5:
            break
    return lo


def write_weak_grid(
    path: Path,
    *,
    scr: float,
    rx_ratio: float,
    p_base_mw: float,
    p_comp_mw: float,
    q_comp_mvar: float,
    compensate: bool = True,
    v_target_pu: float = 1.0,
    vn_kv: float = 138.0,
    v_source_pu: float = 1.0,
) -> WeakGrid:
    """Build the weak grid, size its compensation for ``p_comp_mw``, save it as pandapower JSON."""
    shunt = 0.0
    if compensate:
        shunt = size_compensation(
            scr, rx_ratio, p_base_mw, p_comp_mw, q_comp_mvar, v_target_pu, vn_kv, v_source_pu
        )
    net = build_network(scr, rx_ratio, p_base_mw, vn_kv, v_source_pu, shunt)
    v_comp = _poi_voltage(net, p_comp_mw, q_comp_mvar)
    tan_phi = q_comp_mvar / p_comp_mw if p_comp_mw else 0.0
    p_max = max_import_mw(net, tan_phi, p_comp_mw, 2.0 * p_base_mw)
    path.parent.mkdir(parents=True, exist_ok=True)
    pp.to_json(net, str(path))
    return WeakGrid(
        path, POI_BUS, scr, rx_ratio, scr * p_base_mw, p_base_mw, shunt, p_comp_mw, v_comp, p_max
    )


@dataclass(frozen=True)
class Compensation:
    """Fixed capacitor plus a switched bank at the POI, sized for a range of site imports."""

    fixed_mvar: float  # always in service [Mvar]
    step_mvar: float  # bank step [Mvar]
    steps: int  # bank steps
    steps_on: int  # steps in service at t = 0
    p_low_mw: float  # import the fixed part is sized for [MW]
    p_high_mw: float  # import the full bank is sized for [MW]
    p_start_mw: float  # import at t = 0 the initial steps are sized for [MW]


def size_switched_compensation(
    scr: float,
    rx_ratio: float,
    p_base_mw: float,
    tan_phi: float,
    p_low_mw: float,
    p_high_mw: float,
    p_start_mw: float,
    step_mvar: float,
    v_target_pu: float = 1.0,
    vn_kv: float = 138.0,
    v_source_pu: float = 1.0,
) -> Compensation:
    """Fixed part for ``p_low_mw``; bank steps up to ``p_high_mw``; on at t = 0 for ``p_start_mw``.

    Raises ValueError (from :func:`size_compensation`) when the grid cannot carry ``p_high_mw``.
    """

    def q(p: float) -> float:
        return size_compensation(
            scr, rx_ratio, p_base_mw, p, p * tan_phi, v_target_pu, vn_kv, v_source_pu
        )

    q_lo, q_hi, q_start = q(p_low_mw), q(p_high_mw), q(p_start_mw)
    steps = max(1, math.ceil((q_hi - q_lo) / step_mvar) + 1)
    on = min(steps, max(0, round((q_start - q_lo) / step_mvar)))
    return Compensation(q_lo, step_mvar, steps, on, p_low_mw, p_high_mw, p_start_mw)
