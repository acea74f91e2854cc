"""Grid-friendly BESS controls at the POI (pure, no helics).

The controls turn the site load ``p_site`` into a POI setpoint ``y``; the BESS
is asked for ``y - p_site`` (+ = charging). Each control is on/off and tuned
from ``[controls.*]``; with ``bess.enabled = false`` none runs (the baseline).

Priority order (each later stage overrides the earlier ones)::

    1 soc_restore           slow bias toward the rest SOC: + (target - soc) E / tau, capped
    2 damping               remove a band (0.2-3 Hz) of p_site: u = p_site - gain * bandpass(p_site)
    3 smoothing             first-order low-pass of u (tau_s)
    4 ramp_limit            |y[k] - y[k-1]| <= headroom x ramp x dt
    5 freq_watt             + droop: (f - f_nom -/+ deadband) / f_nom / droop x bess.p_mw
                            (not ramp-limited)
    6 peak_cap              y <= limit_mw (interconnection limit)
    7 demand_response       y <= call cap (ramps to target over 2 s fast / 60 s slow)
    8 ride_through_support  y = POI power just before the event, while V is out of band
                            or the site is (partly) on UPS / backup / chillers restarting
    volt_var                Q request from the POI voltage (IEEE 1547 cat. B curve), through a
                            first-order lag of its open-loop response time (default 5 s)
    q_smoothing             + Q that makes the POI's interval-mean Q a low-pass of the site's

The filters and the volt-var / Q states start in steady state (the site ran
before t = 0; see ``FactorySite._start_steady``).

The BESS then clips what it cannot do (recorded in its ledger). Anti-windup:
when the last step of an interval was clipped, capped or held, the ramp
limiter restarts from the POI power actually reached (less the droop), so the
POI ramps away from a cap or a hold instead of jumping.

Demand response also curtails the site itself (GPU power caps) when a call's
``resource`` is ``load`` or ``both``: the IT power is capped so that IT +
cooling + auxiliaries stay under the call's cap.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from federates.factory.config import (
    BessConfig,
    ControlsConfig,
    DemandResponseCall,
    DemandResponseConfig,
)
from federates.factory.filters import BlockFilter, butter_bandpass_sos
from federates.factory.kernels import lpf_ramp


class DemandResponse:
    """Curtailment calls: POI cap (BESS side) and site cap (load side) per step."""

    def __init__(self, cfg: DemandResponseConfig, *, bess_on: bool) -> None:
        self.cfg = cfg
        self.bess_on = bess_on
        self.calls: list[DemandResponseCall] = (
            sorted(cfg.calls, key=lambda c: c.start_s) if cfg.enabled else []
        )
        self._targets: dict[int, tuple[float, float]] = {}  # call -> (baseline, target) [MW]
        self._hist: deque[tuple[float, float, float]] = (
            deque()
        )  # (t_end, mean, span) of past intervals

    def observe(self, t_s: float, t_end_s: float, p_mean_mw: float) -> None:
        """Record an interval's mean POI power (for call baselines).

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s].
        p_mean_mw : float
            Interval-mean POI power [MW], positive = consumption.
        """
        if not self.calls:
            return
        self._hist.append((t_end_s, p_mean_mw, t_end_s - t_s))
        horizon = t_end_s - self.cfg.baseline_window_s
        while self._hist and self._hist[0][0] <= horizon:
            self._hist.popleft()

    def _baseline(self, p_ref_mw: float) -> float:
        if not self._hist:
            return p_ref_mw
        span = sum(h[2] for h in self._hist)
        return sum(h[1] * h[2] for h in self._hist) / span

    def _cap(self, i: int, call: DemandResponseCall, t: np.ndarray) -> np.ndarray:
        base, target = self._targets[i]
        t0, t1 = call.start_s, call.start_s + call.duration_s
        ramp = call.ramp_s
        frac_in = np.clip((t - t0) / ramp, 0.0, 1.0) if ramp > 0 else (t >= t0).astype(float)
        frac_out = np.clip((t - t1) / call.restore_s, 0.0, 1.0)
        cap = base + (target - base) * frac_in + (base - target) * frac_out
        return np.where((t < t0) | (t >= t1 + call.restore_s), np.inf, cap)

    def caps(
        self, t_s: float, t_end_s: float, t: np.ndarray, p_ref_mw: float
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(POI cap for the BESS, site cap for the load) at step starts ``t``; None = no cap.

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s].
        t : numpy.ndarray
            Step starts in the interval [s].
        p_ref_mw : float
            Reference POI power [MW] used for the baseline when no history exists.

        Returns
        -------
        poi_cap : numpy.ndarray or None
            POI cap per step for the BESS [MW].
        site_cap : numpy.ndarray or None
            Site cap per step for the load [MW].
        """
        poi = site = None
        for i, call in enumerate(self.calls):
            t0 = call.start_s
            if t0 >= t_end_s:
                break
            if t_s >= t0 + call.duration_s + call.restore_s:
                continue
            if i not in self._targets:
                base = self._baseline(p_ref_mw)
                target = (
                    call.target_mw
                    if call.target_mw is not None
                    else (1.0 - (call.reduction or 0.0)) * base
                )
                self._targets[i] = (base, min(target, base))
            cap = self._cap(i, call, t)
            if call.resource in ("bess", "both") and self.bess_on:
                poi = cap if poi is None else np.minimum(poi, cap)
            if call.resource in ("load", "both"):
                site = cap if site is None else np.minimum(site, cap)
        return poi, site

    def snapshot(self) -> tuple:
        return (dict(self._targets), list(self._hist))

    def restore(self, snap: tuple) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : tuple
            ``(targets, history)`` from :meth:`snapshot`: call baselines and targets [MW], and the
            recorded interval-mean POI powers [MW].
        """
        targets, hist = snap
        self._targets = dict(targets)
        self._hist = deque(hist)


def _lpf_ramp_general(
    u: list[float],
    d: list[float],
    s: float,
    r: float,
    tau_s: float,
    rate_mw_s: float,
    bias: float,
    smooth: bool,
    ramp: bool,
) -> tuple[list[float], float, float]:
    """:func:`.kernels.lpf_ramp` with a per-step length."""
    out: list[float] = []
    for x, dt in zip(u, d, strict=True):
        if smooth:
            s += (1.0 - math.exp(-dt / tau_s)) * (x - s)
            y = s + bias
        else:
            y = x + bias
        if ramp:
            big_r = rate_mw_s * dt
            if y > r + big_r:
                y = r + big_r
            elif y < r - big_r:
                y = r - big_r
        r = y
        out.append(y)
    return out, s, r


class ControlChain:
    """The POI setpoint of the BESS, one interval at a time (see module docstring)."""

    def __init__(self, cfg: ControlsConfig, bess: BessConfig, *, dt_s: float) -> None:
        self.cfg = cfg
        self.bess_cfg = bess
        self.dt_s = dt_s
        self.on = bess.enabled and bess.p_mw > 0 and bess.e_mwh > 0
        self.dr = DemandResponse(cfg.demand_response, bess_on=self.on)
        self.smooth = cfg.smoothing.enabled
        self.ramp = cfg.ramp_limit.enabled
        self.rate_mw_s = cfg.ramp_limit.mw_per_min * cfg.ramp_limit.headroom / 60.0
        self._a = 1.0 - math.exp(-dt_s / cfg.smoothing.tau_s)
        self._big_r = self.rate_mw_s * dt_s
        self._band: BlockFilter | None = None
        self._zi = None
        self._vv_dt_s = math.nan  # step length [s] of the volt-var lag gain below
        self._vv_gain = 0.0
        if cfg.damping.enabled:
            nyq = 0.5 / dt_s
            hi = min(cfg.damping.f_high_hz, 0.95 * nyq)
            self._band = BlockFilter(
                butter_bandpass_sos(cfg.damping.order, cfg.damping.f_low_hz, hi, 1.0 / dt_s)
            )
        # state
        self.s: float | None = None  # low-pass state [MW]
        self.r: float | None = None  # ramp-limiter state [MW]
        self.last_poi_mw: float | None = None
        self.hold_mw: float | None = None
        self.droop_mw = 0.0
        self.q_vv: float | None = None  # volt-var output [Mvar] (lagged)
        self.q_lp: float | None = None  # low-passed site Q [Mvar] (q_smoothing)
        self._held_last = False  # the last step of the interval was held (ride-through support)

    # ------------------------------------------------------------ per-interval pieces

    def start_from(self, p_mw: float, q_mvar: float | None = None) -> None:
        """Set the smoothing and ramp-limit states to a steady POI power [MW] and the Q smoothing
        to a steady reactive power [Mvar] (before the first interval).

        Parameters
        ----------
        p_mw : float
            Steady POI active power [MW], positive = consumption.
        q_mvar : float, optional
            Steady site reactive power [Mvar], load convention; ``None`` leaves the Q
            smoothing unset.
        """
        self.s = self.r = self.last_poi_mw = float(p_mw)
        if q_mvar is not None:
            self.q_lp = float(q_mvar)

    def q_smooth(self, q_site_mvar: float, dt_s: float) -> float:
        """BESS Q [Mvar, load convention] that makes the POI's interval-mean Q the low-pass of the
        site's: ``q_lp - q_site``. Zero when q_smoothing is off or the BESS is off.

        Parameters
        ----------
        q_site_mvar : float
            Interval-mean site reactive power [Mvar], load convention.
        dt_s : float
            Interval length [s].

        Returns
        -------
        float
            BESS reactive power [Mvar], load convention.
        """
        c = self.cfg.q_smoothing
        if not (self.on and c.enabled):
            return 0.0
        if self.q_lp is None:
            self.q_lp = q_site_mvar
        else:
            self.q_lp += (q_site_mvar - self.q_lp) * (1.0 - math.exp(-dt_s / c.tau_s))
        return self.q_lp - q_site_mvar

    def soc_bias_mw(self, soc: float) -> float:
        """SOC-restoring bias [MW]: positive (more charging) below the target SOC, capped at
        ``max_fraction`` of the BESS rating; 0 when soc_restore is off.

        Parameters
        ----------
        soc : float
            State of charge [fraction of capacity].

        Returns
        -------
        float
            Bias of the POI setpoint [MW].
        """
        c = self.cfg.soc_restore
        if not c.enabled:
            return 0.0
        b = (c.target - soc) * self.bess_cfg.e_mwh * 3600.0 / c.tau_s
        cap = c.max_fraction * self.bess_cfg.p_mw
        return min(max(b, -cap), cap)

    def droop(self, f_hz: float) -> float:
        """Frequency-watt change of POI import [MW] (+ when f is high: absorb more).

        Parameters
        ----------
        f_hz : float
            Grid frequency [Hz].

        Returns
        -------
        float
            Change of POI import [MW], within the BESS rating.
        """
        c = self.cfg.freq_watt
        if not c.enabled:
            return 0.0
        df = f_hz - c.f_nom_hz
        if abs(df) <= c.deadband_hz:
            return 0.0
        df -= math.copysign(c.deadband_hz, df)
        p = df / c.f_nom_hz / c.droop * self.bess_cfg.p_mw
        return min(max(p, -self.bess_cfg.p_mw), self.bess_cfg.p_mw)

    def q_response(self, vm_pu: float, dt_s: float) -> float:
        """Volt-var Q [Mvar] for the next ``dt_s``: the curve value through the first-order lag of
        the open-loop response time (90 % in ``response_time_s``, tau = t90 / ln 10). The lag is
        what keeps volt-var stable on a weak grid, where the curve's slope times the grid's dV/dQ
        exceeds 1 and an instantaneous response oscillates. Starts at the curve value (the
        controller ran before t = 0).

        Parameters
        ----------
        vm_pu : float
            POI voltage magnitude [pu].
        dt_s : float
            Step length [s].

        Returns
        -------
        float
            Reactive power [Mvar], load convention (negative = injection).
        """
        target = self.q_request(vm_pu)
        t90 = self.cfg.volt_var.response_time_s
        if self.q_vv is None or t90 <= 0:
            self.q_vv = target
        else:
            if dt_s != self._vv_dt_s:  # the lag's gain for this step length, kept
                self._vv_dt_s = dt_s
                self._vv_gain = 1.0 - math.exp(-dt_s * math.log(10.0) / t90)
            self.q_vv += (target - self.q_vv) * self._vv_gain
        return self.q_vv

    def q_request(self, vm_pu: float) -> float:
        """Volt-var curve value [Mvar], load convention (< 0 injects when V is low).

        Parameters
        ----------
        vm_pu : float
            POI voltage magnitude [pu].

        Returns
        -------
        float
            Reactive power [Mvar], load convention (negative = injection).
        """
        c = self.cfg.volt_var
        if not (self.on and c.enabled):
            return 0.0
        q = c.q_fraction * self.bess_cfg.s_mva
        v1, v2, v3, v4 = c.v_pu
        if v2 <= vm_pu <= v3:
            return 0.0
        if vm_pu < v2:
            return -q if vm_pu <= v1 else -q * (v2 - vm_pu) / (v2 - v1)
        return q if vm_pu >= v4 else q * (vm_pu - v3) / (v4 - v3)

    # ------------------------------------------------------------ setpoint

    def setpoint(
        self,
        p_site: np.ndarray,
        d: np.ndarray,
        uniform: bool,
        *,
        soc: float,
        f_hz: float,
        hold: np.ndarray | None,
        poi_cap: np.ndarray | None,
    ) -> tuple[np.ndarray, bool]:
        """POI setpoint per step, and whether the last step was capped or held.

        Parameters
        ----------
        p_site : numpy.ndarray
            Site active power per step [MW], positive = consumption.
        d : numpy.ndarray
            Step lengths [s].
        uniform : bool
            All steps have the same length.
        soc : float
            BESS state of charge [fraction of capacity].
        f_hz : float
            Grid frequency [Hz].
        hold : numpy.ndarray or None
            Per step, whether the POI is held (ride-through support); ``None`` for no hold.
        poi_cap : numpy.ndarray or None
            POI cap per step [MW]; ``None`` for no cap.

        Returns
        -------
        setpoint : numpy.ndarray
            POI active power setpoint per step [MW].
        capped : bool
            The last step was capped or held.
        """
        if self.s is None:  # start in steady state at the first interval's mean
            self.s = self.r = self.last_poi_mw = float(np.dot(p_site, d) / d.sum())
        support = self.cfg.ride_through_support.enabled and hold is not None
        bias = self.soc_bias_mw(soc)
        u = p_site
        if support:
            if self.hold_mw is None:
                self.hold_mw = self.last_poi_mw
            # held steps: the filters see the held POI less the SOC bias, so that the ramp
            # limiter leaves a hold from the held value (no jump of the bias at release)
            u = np.where(hold, self.hold_mw - bias, p_site)
        else:
            self.hold_mw = None
        if self._band is not None:
            if self._zi is None:
                self._zi = self._band.steady_state(float(u[0]))
            band, self._zi = self._band.run(u, self._zi)
            u = u - self.cfg.damping.gain * band
        self.droop_mw = droop = self.droop(f_hz)
        if uniform:
            y, self.s, self.r = lpf_ramp(
                np.asarray(u, dtype=float),
                self.s,
                self.r,
                self._a,
                self._big_r,
                bias,
                self.smooth,
                self.ramp,
            )
        else:
            x, self.s, self.r = _lpf_ramp_general(
                u.tolist(),
                d.tolist(),
                self.s,
                self.r,
                self.cfg.smoothing.tau_s,
                self.rate_mw_s,
                bias,
                self.smooth,
                self.ramp,
            )
            y = np.array(x)
        if droop:
            y += droop
        pre_last = float(y[-1])
        if self.cfg.peak_cap.enabled and self.cfg.peak_cap.limit_mw is not None:
            np.minimum(y, self.cfg.peak_cap.limit_mw, out=y)
        if poi_cap is not None:
            np.minimum(y, poi_cap, out=y)
        self._held_last = bool(support and hold[-1])
        if support:
            y = np.where(hold, self.hold_mw, y)
        return y, float(y[-1]) != pre_last

    def settle(self, p_poi_last_mw: float, reset: bool) -> None:
        """End of interval: remember the POI reached [MW]; restart the ramp from it if ``reset``
        (from the held value when the last step was held: the POI reached then also carries
        the swing the delayed BESS leaves).

        Parameters
        ----------
        p_poi_last_mw : float
            POI active power reached at the end of the interval [MW].
        reset : bool
            Restart the ramp limiter from the POI reached.
        """
        self.last_poi_mw = p_poi_last_mw
        if reset:
            ref = self.hold_mw if self._held_last and self.hold_mw is not None else p_poi_last_mw
            self.r = ref - self.droop_mw

    # ------------------------------------------------------------ re-run support

    def snapshot(self) -> tuple:
        zi = None if self._zi is None else self._zi.copy()
        return (
            self.s,
            self.r,
            self.last_poi_mw,
            self.hold_mw,
            self.droop_mw,
            self.q_vv,
            self.q_lp,
            zi,
            self.dr.snapshot(),
            self._held_last,
        )

    def restore(self, snap: tuple) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : tuple
            State from :meth:`snapshot`: filter and ramp states [MW], held POI [MW], droop [MW],
            volt-var and smoothed Q [Mvar], band filter state, demand-response state and hold flag.
        """
        (
            self.s,
            self.r,
            self.last_poi_mw,
            self.hold_mw,
            self.droop_mw,
            self.q_vv,
            self.q_lp,
            zi,
            dr,
            self._held_last,
        ) = snap
        self._zi = None if zi is None else zi.copy()
        self.dr.restore(dr)
