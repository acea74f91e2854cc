"""Adapter of the dynamic transmission grid: factory P, Q in; POI voltage out (no helics here).

All physics lives in :class:`federates.dynamics.model.DynamicGrid`; this module
maps the inputs ``factory/p_mw`` and ``factory/q_mvar`` (site consumption, MW and
Mvar) to a step and the result to the publications ``transmission/poi_vm_pu``
and ``transmission/site_vm_pu`` (the same bus: the site connects at the POI) and
to one recorded row: ``poi_vm_pu``, ``p_site_mw``, ``q_site_mvar`` (drawn, after
the PQ brake), ``f_coi_hz``, ``speed_dev_mhz.<gen>``, ``angle_deg.<gen>``, ``p_mw.<branch>``.

It also publishes ``transmission/f_hz``: the centre-of-inertia frequency as a
per-unit deviation on the *site's* nominal frequency (``f_site_nom_hz``, the
factory's ``controls.freq_watt.f_nom_hz``), ``f_site_nom_hz (1 + dw_coi)``. The
factory's frequency settings (droop, deadband, ride-through limits) are set for its
own nominal frequency; a per-unit deviation keeps their meaning on a 50 Hz grid
such as Kundur's (a 0.1 Hz dip at 50 Hz reaches a 60 Hz factory as 0.12 Hz).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from federates.common.loop import StepOutput
from federates.common.recorder import ArrayRow
from federates.common.timegrid import time_grid
from federates.dynamics.config import DynamicsConfig
from federates.dynamics.model import DynamicGrid

NAME = "transmission"


class DynamicsAdapter:
    """Copies inputs into the dynamic grid and its results out.

    Parameters
    ----------
    grid : the dynamic grid
    """

    def __init__(self, grid: DynamicGrid, f_site_nom_hz: float = 60.0) -> None:
        self.grid = grid
        self.f_site_nom_hz = float(f_site_nom_hz)
        self.columns = (
            "poi_vm_pu",
            "p_site_mw",
            "q_site_mvar",
            "f_coi_hz",
            *(f"speed_dev_mhz.{g}" for g in grid.gen_names),
            *(f"angle_deg.{g}" for g in grid.gen_names),
            *(f"p_mw.{b}" for b in grid.branch_names),
        )
        self._speed_pp: list[np.ndarray] = []
        self._min_vm_pu = math.inf

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput:
        """Advance ``[t_s, t_next_s)`` with the factory's power held; publish the POI voltage."""
        p_mw = _f(inputs.get("factory/p_mw"))
        q_mvar = _f(inputs.get("factory/q_mvar"))
        r = self.grid.step(t_s, t_next_s - t_s, p_mw, q_mvar)
        self._speed_pp.append(r.speed_dev_hz)
        self._min_vm_pu = min(self._min_vm_pu, r.poi_vm_pu)
        dw = self.grid.coi_speed_dev_pu()
        values = np.concatenate(
            (
                (r.poi_vm_pu, r.p_site_mw, r.q_site_mvar, self.grid.f_n_hz * (1.0 + dw)),
                r.speed_dev_hz * 1e3,
                r.angle_deg,
                r.branch_p_mw,
            )
        )
        return StepOutput(
            publish={
                f"{NAME}/poi_vm_pu": r.poi_vm_pu,
                f"{NAME}/site_vm_pu": r.poi_vm_pu,
                f"{NAME}/f_hz": self.f_site_nom_hz * (1.0 + dw),
            },
            record=ArrayRow(self.columns, values),
        )

    def finalize(self) -> dict[str, Any]:
        """Run summary: peak-to-peak speed deviation [mHz], lowest POI voltage [pu]."""
        speeds = np.asarray(self._speed_pp)
        pp_mhz = float(np.ptp(speeds, axis=0).max() * 1e3) if len(speeds) else math.nan
        return {
            "speed_dev_pp_max_mhz": pp_mhz,
            "poi_vm_min_pu": self._min_vm_pu,
            "network_fallbacks": self.grid.solver.newton_failures,
        }


def _f(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def make(config: dict[str, Any], out_dir: Path) -> tuple[DynamicsAdapter, np.ndarray, float]:
    """Adapter factory: parameters from ``config["cosim"]["params"]``, grid from ``time_grid``.

    Parameters
    ----------
    config : federate config; ``cosim.params`` is a :class:`DynamicsConfig`, ``cosim.time_grid``
        the keyword arguments of :func:`federates.common.timegrid.time_grid`
    out_dir : run directory (relative case paths resolve against it)

    Returns
    -------
    (adapter, solve instants [s], horizon [s])
    """
    cosim = config["cosim"]
    params = dict(cosim["params"])
    f_site_nom_hz = float(params.pop("f_site_nom_hz", 60.0))
    cfg = DynamicsConfig.model_validate(params)
    grid = DynamicGrid.from_config(cfg, base_dir=Path(out_dir))
    tg = dict(cosim["time_grid"])
    instants = [*tg.pop("instants", ()), *grid.faults.instants_s()]
    times_s = time_grid(**tg, instants=instants)
    return DynamicsAdapter(grid, f_site_nom_hz), times_s, float(tg["duration_s"])
