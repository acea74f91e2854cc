"""Aggregate system frequency response (SFR) model (pure, no helics).

Anderson & Mirheydar, "A low-order system frequency response model", IEEE
Trans. Power Systems 5(3), 1990, with a first-order governor lag and a dead
band added (assumed). One equivalent machine on the system base ``S_base``:

    2 H d(dw)/dt = dPm - dPe - D dw                      (swing, pu)
    T_g dx_g/dt  = -dw_db / R - x_g                      (governor, pu)
    T_R dx_r/dt  = x_g - x_r                             (reheat)
    dPm          = Km (F_H x_g + (1 - F_H) x_r)          (turbine)
    f            = f_nom (1 + dw)

``dPe`` is the load increase [pu of S_base] (factory P change, load steps,
lost generation). Integrated with RK4 at ``dt_s`` or finer. Simplifications:
no network (one frequency for the whole system), no under-frequency load
shedding, governors without limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from federates.grid.config import FrequencyConfig


@dataclass
class FrequencyState:
    dw_pu: float = 0.0
    x_gov_pu: float = 0.0
    x_reheat_pu: float = 0.0


class SystemFrequency:
    """The SFR model of one case; :meth:`advance` integrates one grid step."""

    def __init__(self, cfg: FrequencyConfig, s_base_mva: float) -> None:
        if s_base_mva <= 0:
            raise ValueError(f"s_base_mva must be > 0 (got {s_base_mva})")
        self.cfg = cfg
        self.s_base_mva = float(s_base_mva)
        self.state = FrequencyState()
        self.t_s = 0.0
        self.nadir_hz = self.zenith_hz = cfg.f_nom_hz
        self.nadir_t_s = self.zenith_t_s = 0.0
        self.rocof_max_hz_per_s = 0.0

    @property
    def f_hz(self) -> float:
        return self.cfg.f_nom_hz * (1.0 + self.state.dw_pu)

    def _deriv(self, y: np.ndarray, dpe_pu: float) -> np.ndarray:
        c = self.cfg
        dw, xg, xr = y
        db = c.deadband_hz / c.f_nom_hz
        dw_db = math.copysign(max(abs(dw) - db, 0.0), dw)
        dpm = c.km * (c.f_hp * xg + (1.0 - c.f_hp) * xr)
        return np.array(
            [
                (dpm - dpe_pu - c.d_pu * dw) / (2.0 * c.h_s),
                (-dw_db / c.r_pu - xg) / c.t_gov_s,
                (xg - xr) / c.t_reheat_s,
            ]
        )

    def rocof_hz_per_s(self, dpe_mw: float) -> float:
        """Rate of change of frequency now, for a load increase ``dpe_mw`` [Hz/s].

        Parameters
        ----------
        dpe_mw : float
            Load increase [MW].

        Returns
        -------
        float
            Rate of change of frequency [Hz/s].
        """
        s = self.state
        d = self._deriv(np.array([s.dw_pu, s.x_gov_pu, s.x_reheat_pu]), dpe_mw / self.s_base_mva)
        return float(d[0] * self.cfg.f_nom_hz)

    def mechanical_mw(self) -> float:
        """Governor response dPm [MW]."""
        c, s = self.cfg, self.state
        return c.km * (c.f_hp * s.x_gov_pu + (1.0 - c.f_hp) * s.x_reheat_pu) * self.s_base_mva

    def advance(self, t_s: float, t_end_s: float, dpe_mw: float) -> float:
        """Integrate from ``t_s`` to ``t_end_s`` [s] with a constant load increase ``dpe_mw`` [MW];
        returns f [Hz].

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s].
        dpe_mw : float
            Load increase held over the interval [MW].

        Returns
        -------
        float
            Frequency at ``t_end_s`` [Hz].
        """
        c, s = self.cfg, self.state
        span = t_end_s - t_s
        if span <= 0:
            return self.f_hz
        n = max(1, math.ceil(span / c.dt_s - 1e-9))
        h = span / n
        y = np.array([s.dw_pu, s.x_gov_pu, s.x_reheat_pu])
        dpe = dpe_mw / self.s_base_mva
        for k in range(n):
            k1 = self._deriv(y, dpe)
            self._track(t_s + k * h, y[0], k1[0])
            k2 = self._deriv(y + 0.5 * h * k1, dpe)
            k3 = self._deriv(y + 0.5 * h * k2, dpe)
            k4 = self._deriv(y + h * k3, dpe)
            y = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        s.dw_pu, s.x_gov_pu, s.x_reheat_pu = (float(v) for v in y)
        self.t_s = t_end_s
        self._track(t_end_s, y[0], None)
        return self.f_hz

    def _track(self, t_s: float, dw: float, ddw: float | None) -> None:
        f = self.cfg.f_nom_hz * (1.0 + dw)
        if f < self.nadir_hz:
            self.nadir_hz, self.nadir_t_s = f, t_s
        if f > self.zenith_hz:
            self.zenith_hz, self.zenith_t_s = f, t_s
        if ddw is not None:
            r = abs(ddw * self.cfg.f_nom_hz)
            self.rocof_max_hz_per_s = max(self.rocof_max_hz_per_s, r)

    def steady_state_hz(self, dpe_mw: float) -> float:
        """Settling frequency after a sustained load increase (no dead band) [Hz].

        Parameters
        ----------
        dpe_mw : float
            Sustained load increase [MW].

        Returns
        -------
        float
            Settling frequency [Hz].
        """
        c = self.cfg
        beta = c.d_pu + c.km / c.r_pu
        return c.f_nom_hz * (1.0 - dpe_mw / self.s_base_mva / beta)

    def summary(self) -> dict[str, float]:
        return {
            "nadir_hz": self.nadir_hz,
            "nadir_t_s": self.nadir_t_s,
            "zenith_hz": self.zenith_hz,
            "zenith_t_s": self.zenith_t_s,
            "rocof_max_hz_per_s": self.rocof_max_hz_per_s,
            "s_base_mva": self.s_base_mva,
            "h_s": self.cfg.h_s,
            "r_pu": self.cfg.r_pu,
            "d_pu": self.cfg.d_pu,
        }
