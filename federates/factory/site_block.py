"""The site side of a run of quiet grid intervals, worked out at once (pure, no helics).

Most intervals are quiet: the site is on the grid with V and f in the continuous
band, no ride-through timer running, its motors connected, the chillers on and no
demand-response call. Then nothing of the site side (the internal steps, the IT
load, cooling, the site's P and Q) depends on the BESS, and
``FactorySite.advance_block`` has it from :class:`QuietSiteSide` for a run of such
intervals, with one numpy operation per term over all their steps, before it runs
the controls and the BESS interval by interval. Every value goes through the same
floating-point operations, in the same order, as in ``FactorySite.advance`` (the
per-step values of the arrays are those of the interval's own), so the results
are the same bit for bit; ``tests/federates/factory/test_fast_paths.py`` checks it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from federates.factory.composite import on_grid_factors
from federates.factory.site_interval import ALIGN_TOL, Interval

if TYPE_CHECKING:
    from federates.factory.composite import MotorProtection
    from federates.factory.config import FactoryConfig
    from federates.factory.controls import ControlChain
    from federates.factory.cooling import Cooling
    from federates.factory.load import ItLoad
    from federates.factory.ride_through import RideThrough


def _aligned_steps(dt_s: float, t_s: list[float], t_end_s: list[float]) -> tuple[int, int] | None:
    """``(n, i0)``: every interval has ``n`` whole internal steps, the first starts at grid index
    ``i0``, each interval starts where the last ended; None otherwise."""
    n0 = i_first = -1
    for k, (t0, t1) in enumerate(zip(t_s, t_end_s, strict=True)):
        i0f = t0 / dt_s
        i0 = round(i0f)
        nf = (t1 - t0) / dt_s
        n = round(nf)
        if not (n >= 1 and abs(i0f - i0) < ALIGN_TOL and abs(nf - n) < ALIGN_TOL):
            return None
        if k == 0:
            n0, i_first = n, i0
        elif n != n0 or i0 != i_first + k * n0 or t0 != t_end_s[k - 1]:
            return None
    return n0, i_first


class QuietSiteSide:
    """The quiet-interval shortcut of ``FactorySite`` (one of its base classes; the attributes
    below are the site's)."""

    dt_s: float
    load: ItLoad
    cooling: Cooling
    rt: RideThrough
    motors: MotorProtection
    controls: ControlChain
    factory: FactoryConfig
    aux_mw: float
    tan_phi: float
    _offsets: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, float]]
    _snap_t: float | None
    _t_end_last: float | None
    _last_p_mw: float | None

    def _quiet(self, t_s: list[float], vm_pu: list[float], f_hz: list[float]) -> bool:
        """The site may skip its per-interval state machines over these intervals."""
        if self._last_p_mw is None or self.cooling.heat_mw is None:  # not started yet
            return False
        if self.controls.dr.calls or self.cooling.mode != "on":
            return False
        if self._snap_t is not None and t_s[0] == self._snap_t:  # a re-run
            return False
        if self._t_end_last is not None and t_s[0] < self._t_end_last - self.dt_s * ALIGN_TOL:
            return False  # advance raises
        rt, motors = self.rt, self.motors
        return all(
            math.isfinite(v) and math.isfinite(f) and rt.quiet(v, f) and motors.quiet(v)
            for v, f in zip(vm_pu, f_hz, strict=True)
        )

    def _quiet_site_side(
        self, t_s: list[float], t_end_s: list[float], vm_pu: list[float], f_hz: list[float]
    ) -> list[Interval] | None:
        """The intervals ``[t_s[k], t_end_s[k])`` with their site side filled in, as the site's
        stages time, load and ride-through would fill them; the cooling and motor states are
        advanced over them. None (and nothing changed) unless every interval is quiet and cut
        into the same whole internal steps.

        Parameters
        ----------
        t_s, t_end_s : list of float
            Interval starts and ends [s], consecutive.
        vm_pu : list of float
            POI voltage per interval [pu].
        f_hz : list of float
            Grid frequency per interval [Hz].

        Returns
        -------
        list of Interval or None
            The intervals, ready for the BESS stage.
        """
        if not t_s or not self._quiet(t_s, vm_pu, f_hz):
            return None
        cut = _aligned_steps(self.dt_s, t_s, t_end_s)
        if cut is None:
            return None
        n, i_first = cut
        self._steps(t_s[0], t_end_s[0])  # caches the nominal steps of n
        off, d, w, d_sum = self._offsets[n]
        m = len(t_s)
        t0 = np.array(t_s)
        a = t0[:, None] + off
        b = a + self.dt_s
        b[:, -1] = t_end_s
        its = [self.load.window(i_first + k * n, n) for k in range(m)]
        spans = [t1 - t for t, t1 in zip(t_s, t_end_s, strict=True)]
        it_mean = [float(np.dot(it, d)) / span for it, span in zip(its, spans, strict=True)]
        cool = self._quiet_cooling(a, b, t0, spans, it_mean)
        if self.motors.cfg.enabled:
            self.motors.below_s = 0.0
        it = np.array(its)
        if self.factory.composite.enabled:  # FactorySite._composite_pq, all on the grid
            c = self.factory.composite
            peak = self.factory.it_peak_mw
            f = np.array([on_grid_factors(v, c, self.aux_mw, peak) for v in vm_pu])
            p = f[:, 0:1] * it
            p += f[:, 4:5]
            p += f[:, 6:7]
            p += f[:, 2:3] * cool
            q = f[:, 1:2] * it
            q += f[:, 5:6]
            q += f[:, 7:8]
            q += f[:, 8:9]
            q += f[:, 3:4] * cool
        else:
            p = it + cool
            if self.aux_mw:
                p += self.aux_mw
            q = p * self.tan_phi
        zeros = self._zeros_n(n)
        out = []
        for k in range(m):
            i0 = i_first + k * n
            iv = Interval(t_s[k], t_end_s[k], vm_pu[k], f_hz[k], a[k], b[k], d, w, i0, None, True)
            iv.d_sum_s = d_sum
            iv.it, iv.it_mean, iv.cool, iv.on_backup = its[k], it_mean[k], cool[k], zeros
            iv.p_site, iv.q_site = p[k], q[k]
            out.append(iv)
        return out

    def _quiet_cooling(
        self,
        a: np.ndarray,
        b: np.ndarray,
        t0: np.ndarray,
        spans: list[float],
        it_mean: list[float],
    ) -> np.ndarray:
        """``Cooling.advance`` over the intervals (chillers on, no event): the heat's lag from
        interval to interval, then the cooling power [MW] of every step, shaped like ``a``."""
        m = len(spans)
        h0 = np.empty(m)
        h1 = np.empty(m)
        tau_s = self.cooling.cfg.tau_s
        heat = self.cooling.heat_mw
        for k in range(m):
            h0[k] = heat
            heat = it_mean[k] + (heat - it_mean[k]) * math.exp(-spans[k] / tau_s)
            h1[k] = heat
        self.cooling.heat_mw = heat
        cool = a + b
        cool *= 0.5
        cool -= t0[:, None]
        cool /= np.array(spans)[:, None]
        cool *= (h1 - h0)[:, None]
        cool += h0[:, None]
        cool *= self.cooling.cfg.fraction
        return cool
