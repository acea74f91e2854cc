"""Facility cooling: a first-order lag on IT heat, chillers that restart after a site trip
(pure, no helics).

Cooling power follows the IT heat with a first-order lag (15-20 % of IT, 5-15
min; assumed, vendor notes); after a whole-site trip the chillers restart after
a delay (4-8 min) and pick up their load over a ramp.
"""

from __future__ import annotations

import math

import numpy as np

from federates.factory.config import CoolingConfig
from federates.factory.ride_through import piecewise_linear_means


class Cooling:
    """Cooling power: ``fraction x`` first-order lag of IT heat, gated by the chillers.

    The lag is exact for the interval-mean IT power and interpolated linearly
    inside the interval. When the site trips to backup the chillers leave the
    grid; they restart ``chiller_restart_s`` after the site starts returning
    and pick up their load over ``restart_ramp_s`` (restart 4-8 min, assumed from vendor notes).
    The IT heat keeps flowing on UPS, so the lag state keeps following it.
    """

    def __init__(self, cfg: CoolingConfig) -> None:
        self.cfg = cfg
        self.heat_mw: float | None = None
        self.mode = "on"  # "on" | "off" | "restarting"
        self.t_restart_s: float | None = None

    def gate_value(self, t: float) -> float:
        """Chiller gate at time ``t``: 1 on, 0 off, ramping while restarting.

        Parameters
        ----------
        t : float
            Time [s].

        Returns
        -------
        float
            Gate [-], 0 to 1.
        """
        if self.mode == "on":
            return 1.0
        if self.mode == "off" or self.t_restart_s is None:
            return 0.0
        r = self.cfg.restart_ramp_s
        if r <= 0:
            return 1.0 if t >= self.t_restart_s else 0.0
        return min(max((t - self.t_restart_s) / r, 0.0), 1.0)

    def advance(
        self,
        t_s: float,
        t_end_s: float,
        it_mean_mw: float,
        a: np.ndarray,
        b: np.ndarray,
        events: list[tuple[str, float]],
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Cooling MW seen by the grid per step, and the chiller gate (None = fully on).

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s].
        it_mean_mw : float
            Interval-mean IT power [MW].
        a : numpy.ndarray
            Step starts in the interval [s].
        b : numpy.ndarray
            Step ends in the interval [s].
        events : list of tuple of (str, float)
            Chiller events in the interval: kind and time [s].

        Returns
        -------
        cooling : numpy.ndarray
            Cooling power seen by the grid per step [MW].
        gate : numpy.ndarray or None
            Chiller gate per step [-], 0 to 1; ``None`` when fully on.
        """
        span = t_end_s - t_s
        h0 = it_mean_mw if self.heat_mw is None else self.heat_mw
        h1 = it_mean_mw + (h0 - it_mean_mw) * math.exp(-span / self.cfg.tau_s)
        self.heat_mw = h1
        # cool = fraction * (h0 + (h1 - h0) * ((0.5 * (a + b) - t_s) / span)), in place
        cool = a + b
        cool *= 0.5
        cool -= t_s
        cool /= span
        cool *= h1 - h0
        cool += h0
        cool *= self.cfg.fraction
        if self.mode == "on" and not events:
            return cool, None
        # piecewise-linear gate over the interval
        tb = [t_s]
        gb = [self.gate_value(t_s)]
        for kind, t in events:
            tb.append(t)
            gb.append(self.gate_value(t))
            if kind == "trip":
                self.mode, self.t_restart_s = "off", None
            else:
                self.mode, self.t_restart_s = "restarting", t + self.cfg.chiller_restart_s
            tb.append(t)
            gb.append(self.gate_value(t))
        if self.mode == "restarting" and self.t_restart_s is not None:
            for k in (self.t_restart_s, self.t_restart_s + self.cfg.restart_ramp_s):
                if tb[-1] < k < t_end_s:
                    tb.append(k)
                    gb.append(self.gate_value(k))
        tb.append(t_end_s)
        gb.append(self.gate_value(t_end_s))
        gate = np.clip(piecewise_linear_means(np.array(tb), np.array(gb), a, b), 0.0, 1.0)
        if (
            self.mode == "restarting"
            and self.t_restart_s is not None
            and t_end_s >= self.t_restart_s + self.cfg.restart_ramp_s
        ):
            self.mode, self.t_restart_s = "on", None
        return cool * gate, gate

    def snapshot(self) -> tuple:
        return (self.heat_mw, self.mode, self.t_restart_s)

    def restore(self, snap: tuple) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : tuple
            ``(heat_mw, mode, t_restart_s)`` from :meth:`snapshot`: lagged IT heat [MW], chiller
            mode and restart time [s].
        """
        self.heat_mw, self.mode, self.t_restart_s = snap
