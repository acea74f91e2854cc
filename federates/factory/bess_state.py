"""The BESS's state record, its block result and its one bounds function (pure, no helics).

See :mod:`.bess` for the storage equation, the limits and the sign convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class BessState:
    """Everything about the BESS that changes while it runs (units in names).

    A snapshot is a copy of this record; ``n_turns`` is the length of the SOC
    turning-point list when the copy was taken.
    """

    e_mwh: float  # stored energy
    p_actual_mw: float = 0.0  # actual active power (+ charging)
    q_actual_mvar: float = 0.0  # actual reactive power (+ absorbing)
    budget_s: float = 0.0  # overload seconds left
    overload_locked: bool = False  # budget used up: no overload until it is full again
    rising: bool = True  # stored energy was rising since the last turning point
    ac_in_mwh: float = 0.0  # energy drawn from the grid while charging
    ac_out_mwh: float = 0.0  # energy delivered while discharging
    self_discharge_mwh: float = 0.0
    clipped_mwh: float = 0.0  # energy of the refused active-power requests
    clipped_max_mw: float = 0.0  # largest refused active-power request
    clipped_steps: int = 0
    q_clipped_mvarh: float = 0.0
    overload_s: float = 0.0  # time spent above the rating
    soc_min_seen: float = math.nan
    soc_max_seen: float = math.nan
    n_turns: int = 0

    def copy(self) -> BessState:
        """A shallow copy (every field is a number; cheaper than :func:`copy.copy`)."""
        new = object.__new__(BessState)
        new.__dict__.update(self.__dict__)
        return new


@dataclass
class BessBlock:
    """Result of :meth:`Bess.run` over a block of steps."""

    p_actual_mw: np.ndarray  # actual power at each step (+ charging) [MW]
    q_actual_mvar: np.ndarray  # actual reactive power at each step [Mvar]
    e_mwh: np.ndarray  # stored energy at the end of each step [MWh]
    clipped_mwh: float  # energy of the refused requests in the block (P) [MWh]
    clipped_max_mw: float  # largest refused request in the block [MW]
    clipped_last: bool  # the last step's request was clipped
    overloaded: np.ndarray | None = None  # steps that spent overload budget (bool)


def p_bounds_mw(
    e_mwh: float,
    dt_s: float,
    p_lim_mw: float,
    e_min_mwh: float,
    e_max_mwh: float,
    eta_c: float,
    eta_d: float,
    p_sd_mw: float,
) -> tuple[float, float]:
    """Feasible active power for one step: the SOC window and the power limit together.

    Parameters
    ----------
    e_mwh : float
        Stored energy at the start of the step [MWh].
    dt_s : float
        Step length [s], > 0.
    p_lim_mw : float
        Power limit of the step (rating, overload or what the PCS leaves) [MW].
    e_min_mwh, e_max_mwh : float
        SOC window [MWh].
    eta_c, eta_d : float
        Charge and discharge efficiency [-].
    p_sd_mw : float
        Self-discharge [MW].

    Returns
    -------
    (p_min_mw, p_max_mw) : tuple of float
        Bounds on the AC power [MW] (+ charging); ``p_min_mw <= p_max_mw``.
    """
    h = 3600.0 / dt_s
    hi = ((e_max_mwh - e_mwh) * h + p_sd_mw) / eta_c
    room = (e_mwh - e_min_mwh) * h - p_sd_mw
    lo = -room * eta_d if room >= 0.0 else -room / eta_c
    if lo < -p_lim_mw:
        lo = -p_lim_mw
    if hi > p_lim_mw:
        hi = p_lim_mw
    if hi < lo:
        hi = lo
    return lo, hi
