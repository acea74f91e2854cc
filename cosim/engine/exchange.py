"""The default exchange interval of a case: long sync blocks where nothing voltage-sensitive acts.

When a case leaves ``horizon.sync_interval_s`` unset, the build picks it here,
once, from the case (a static rule: HELICS time requests are fixed per run, so
every federate must derive the same blocks before the run starts):

* every grid step (exact) for a dynamic grid, a T&D case (iterative coupling), a
  case with the frequency federate (freq-watt responds to every step's
  frequency), and a factory whose voltage response can act: the site voltage of
  the intact network, solved at the factory's lowest and highest POI power
  (no import and peak IT load plus the BESS charging at its rating), comes within
  :data:`MARGIN_PU` of the volt-var deadband or of the ride-through continuous
  band;
* else :data:`DEFAULT_SYNC_INTERVAL_S` of base steps.

Event windows are exchanged every step whatever the interval
(:func:`federates.common.timegrid.sync_blocks`). The lag this leaves: inside a
block the factory holds the site voltage of the previous block's last step
(up to ``DEFAULT_SYNC_INTERVAL_S`` old), while the network solves every step
with the factory's own power of that step. ``horizon.sync_interval_s =
horizon.grid_dt_s`` forces every-step exchange.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cosim.case import Case

DEFAULT_SYNC_INTERVAL_S = 60.0  # [s] of base steps per exchange when nothing voltage-sensitive acts
MARGIN_PU = 0.01  # [pu] kept from a band edge for the long default (load profiles, taps, swings)


def site_voltage_range(case: Case) -> tuple[float, float]:
    """Site voltage [pu] at the factory's highest and lowest POI power (intact network).

    Solved with ``pandapower.runpp`` (Q limits as the case's grid) at 0 MW and at
    ``it_peak_mw * pue + bess.p_mw`` (reactive power 0); returns ``(lowest, highest)``.
    Cached per network and site within a process.
    """
    from cosim.engine.apart import worth_apart

    key = _screen_key(case)
    if key in _KNOWN:
        return _KNOWN[key]
    return _voltage_range(*key, worth_apart(case))


#: screens solved by another process (a study's, :func:`known_voltage_ranges`)
_KNOWN: dict[tuple[str, str, int, float], tuple[float, float]] = {}


def _screen_key(case: Case) -> tuple[str, str, int, float]:
    peak = case.factory.it_peak_mw * case.factory.pue + (
        case.bess.p_mw if case.bess.enabled else 0.0
    )
    return case.grid.model_dump_json(), str(case.base_dir), int(case.factory.poi_bus), float(peak)


def known_voltage_ranges(cases: Iterable[Case]) -> dict[tuple[str, str, int, float], Any]:
    """The site-voltage screens the runs of ``cases`` need, solved in this process.

    For a study's own process, which has loaded the networks to check them: its
    workers are handed the result (:func:`learn_voltage_ranges`) instead of each
    solving the same screens again before its first run (0.4 s on PGLib 118).
    A screen that fails is left to the run (which says why).
    """
    known: dict[tuple[str, str, int, float], Any] = {}
    for case in cases:
        if _without_screen(case) is not None:
            continue
        key = _screen_key(case)
        if key not in known:
            with contextlib.suppress(Exception):
                known[key] = _solve_voltage_range(*key)
    return known


def learn_voltage_ranges(known: dict[tuple[str, str, int, float], Any]) -> None:
    """Use screens solved by another process (:func:`known_voltage_ranges`)."""
    _KNOWN.update(known)


@functools.lru_cache(maxsize=32)
def _voltage_range(
    grid_json: str, base_dir: str, poi_bus: int, peak_mw: float, apart: bool = True
) -> tuple[float, float]:
    from cosim.engine.apart import call_apart

    if not apart:
        return _solve_voltage_range(grid_json, base_dir, poi_bus, peak_mw)
    # in a child process: pandapower stays out of the supervising process
    return call_apart(_solve_voltage_range, grid_json, base_dir, poi_bus, peak_mw)


def _solve_voltage_range(
    grid_json: str, base_dir: str, poi_bus: int, peak_mw: float
) -> tuple[float, float]:
    import pandapower as pp

    from federates.grid.config import GridConfig
    from federates.grid.network import attach_factory, scaled_network

    g = GridConfig.model_validate_json(grid_json, context={"base_dir": base_dir})
    net = scaled_network(g.network, Path(base_dir), g.load_scale)
    site = attach_factory(net, poi_bus, 0.0, 0.0, g.poi_transformer)
    vm = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p_mw in (0.0, peak_mw):
            net.load.at[site.load, "p_mw"] = p_mw
            pp.runpp(net, numba=False, enforce_q_lims=g.enforce_q_lims)
            vm.append(float(net.res_bus.vm_pu.at[site.site_bus]))
    return min(vm), max(vm)


def exchange_interval(case: Case) -> tuple[float, str]:
    """The sync interval [s] a run uses and why (see the module docstring)."""
    h = case.horizon
    fixed = _without_screen(case)
    if fixed is not None:
        return fixed
    every = float(h.grid_dt_s)
    try:
        lo, hi = site_voltage_range(case)
    except Exception as exc:  # noqa: BLE001 - no screen, no long blocks
        return every, f"every step: site voltage not screened ({type(exc).__name__})"
    vv, rt = case.controls.volt_var, case.factory.ride_through
    if (
        case.bess.enabled
        and vv.enabled
        and (lo < vv.v_pu[1] + MARGIN_PU or hi > vv.v_pu[2] - MARGIN_PU)
    ):
        return every, f"every step: volt-var can respond (site {lo:.3f}-{hi:.3f} pu)"
    if rt.enabled and (lo < rt.v_min_pu + MARGIN_PU or hi > rt.v_max_pu - MARGIN_PU):
        return every, f"every step: ride-through band (site {lo:.3f}-{hi:.3f} pu)"
    interval = min(DEFAULT_SYNC_INTERVAL_S, float(h.duration_s))
    return interval, f"{interval:g} s blocks: site {lo:.3f}-{hi:.3f} pu, inside every band"


def _without_screen(case: Case) -> tuple[float, str] | None:
    """The interval of a case that needs no site-voltage screen, else None."""
    h = case.horizon
    if h.sync_interval_s:
        return float(h.sync_interval_s), "horizon.sync_interval_s"
    every = float(h.grid_dt_s)
    if case.dynamic:
        return every, "every step: dynamic grid"
    if case.distribution is not None:
        return every, "every step: T&D iterations"
    if case.frequency.enabled:
        return every, "every step: frequency federate"
    return None
