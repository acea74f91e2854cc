"""Voltage and frequency behaviour of the site at the POI (pure, no helics).

The site is constant power while the POI voltage and frequency stay inside the
continuous band (0.90-1.10 pu, SPP and the ERCOT proposal). Outside it, the site's UPS
and transfer logic decides when the load leaves the grid:

* a ride-through curve of ``(voltage, max duration)`` points: the site
  transfers when V stays below (LVRT) or above (HVRT) a point's voltage for
  longer than its duration (default: V < 0.85 pu for > 50 ms, NERC Level 3 alert
  / Dominion pickup 85 %);
* a frequency band (trip allowed < 57.0 or > 61.8 Hz, SPP), after
  ``f_trip_delay_s``;
* optionally, a dip counter: ``max_disturbances`` dips below ``disturbance_v_pu``
  within ``disturbance_window_s`` make the site transfer even if each dip alone
  is short enough (off by default: in a July-2024-like train of six faults,
  0.25-0.40 pu and 42-66 ms within 82 s, NERC incident review Jan 2025, the
  faults longer than 50 ms already cross the UPS curve).

Each transfer records its cause (:meth:`RideThrough.transfers_by_cause`).

On backup, the grid sees ``backup_residual_fraction`` of the site load. The
site returns once V and f have been back inside the continuous band for
``return_delay_s`` and ramps back over ``return_ramp_s``.

Simplified: the transfer is instantaneous; each curve point is judged on the
continuous time below (above) its voltage; V and f are held over each interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import numpy as np

from federates.factory.config_site import RideThroughConfig, TransferCause

_TOL = 1e-9


def piecewise_linear_means(
    tb: np.ndarray, gb: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Mean over each ``[a_k, b_k)`` of the piecewise-linear function through ``(tb, gb)``.

    ``tb`` is non-decreasing (a repeated time is a jump) and covers every
    ``[a, b]``; exact for any step length.

    Parameters
    ----------
    tb : array_like
        Breakpoint times [s], non-decreasing.
    gb : array_like
        Function values at the breakpoints.
    a : numpy.ndarray
        Step starts [s].
    b : numpy.ndarray
        Step ends [s].

    Returns
    -------
    numpy.ndarray
        Mean over each step, in the unit of ``gb``.
    """
    tb = np.asarray(tb, dtype=float)
    gb = np.asarray(gb, dtype=float)
    dt = np.diff(tb)
    seg = 0.5 * (gb[1:] + gb[:-1]) * dt
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    slope = np.divide(np.diff(gb), dt, out=np.zeros_like(dt), where=dt > 0)

    def integral(x: np.ndarray) -> np.ndarray:
        j = np.clip(np.searchsorted(tb, x, side="right") - 1, 0, len(tb) - 2)
        u = x - tb[j]
        return cum[j] + gb[j] * u + 0.5 * slope[j] * u * u

    return (integral(b) - integral(a)) / (b - a)


class RideThrough:
    """State machine grid -> backup -> returning -> grid, advanced per interval."""

    def __init__(self, cfg: RideThroughConfig) -> None:
        self.cfg = cfg
        self.mode = "grid"  # "grid" | "backup" | "returning"
        self.t_ret_s: float | None = None  # start of the current return ramp
        self.ok_since_s: float | None = None
        self.acc_lv = [0.0] * len(cfg.lvrt_curve)
        self.acc_hv = [0.0] * len(cfg.hvrt_curve)
        self.acc_f = 0.0
        self.dips: list[float] = []
        self.below_dip = False
        self.transfers = 0
        self.trip_times: list[float] = []
        self.causes: list[TransferCause] = []  # what made each transfer
        self.backup_s = 0.0  # integral of the share of load on backup [s]

    # ------------------------------------------------------------ helpers

    def _ramp(self, t: float, t0: float) -> float:
        r = self.cfg.return_ramp_s
        if r <= 0:
            return 1.0 if t >= t0 else 0.0
        return min(max((t - t0) / r, 0.0), 1.0)

    def connected(self, t_s: float) -> float:
        """Share of the load on the grid at ``t_s`` under the current mode.

        Parameters
        ----------
        t_s : float
            Time [s].

        Returns
        -------
        float
            Share of the load on the grid [-], 0 to 1.
        """
        if self.mode == "grid":
            return 1.0
        if self.mode == "backup":
            return 0.0
        return self._ramp(t_s, self.t_ret_s or t_s)

    def _normal(self, vm_pu: float, f_hz: float) -> bool:
        c = self.cfg
        lo, hi = c.f_continuous_hz
        return c.v_min_pu <= vm_pu <= c.v_max_pu and lo <= f_hz <= hi

    def quiet(self, vm_pu: float, f_hz: float) -> bool:
        """Nothing to do at ``vm_pu`` [pu] and ``f_hz`` [Hz]: the site is on the grid with V and f
        in the continuous band and no timer running (:meth:`advance` then changes no state and
        returns no connection profile and no events).

        Parameters
        ----------
        vm_pu : float
            Voltage magnitude [pu].
        f_hz : float
            Frequency [Hz].

        Returns
        -------
        bool
            True when an interval at ``vm_pu`` and ``f_hz`` is a no-op.
        """
        c = self.cfg
        return not c.enabled or (
            self.mode == "grid"
            and self._normal(vm_pu, f_hz)
            and not self.below_dip
            and vm_pu >= c.disturbance_v_pu
            and not any(self.acc_lv)
            and not any(self.acc_hv)
            and self.acc_f == 0.0
        )

    def _trip_time(
        self, t_s: float, t_end_s: float, vm_pu: float, f_hz: float
    ) -> tuple[float, TransferCause] | None:
        """Earliest transfer instant in ``[t_s, t_end_s)`` and what caused it (accumulators
        advanced)."""
        c = self.cfg
        span = t_end_s - t_s
        cands: list[tuple[float, TransferCause]] = []

        def acc(
            flags: list[bool], durations: list[float], store: list[float], cause: TransferCause
        ) -> None:
            for i, (outside, dur) in enumerate(zip(flags, durations, strict=True)):
                if outside:
                    before = store[i]
                    store[i] = before + span
                    if store[i] > dur + _TOL:
                        cands.append((t_s + max(dur - before, 0.0), cause))
                else:
                    store[i] = 0.0

        lv = c.lvrt_curve
        acc([vm_pu < v for v, _ in lv], [d for _, d in lv], self.acc_lv, "ups_curve")
        hv = c.hvrt_curve
        acc([vm_pu > v for v, _ in hv], [d for _, d in hv], self.acc_hv, "hvrt_curve")
        f_store = [self.acc_f]
        f_out = f_hz < c.f_min_hz or f_hz > c.f_max_hz
        acc([f_out], [c.f_trip_delay_s], f_store, "frequency")
        self.acc_f = f_store[0]
        if vm_pu < c.disturbance_v_pu:
            if not self.below_dip:
                self.below_dip = True
                self.dips = [t for t in self.dips if t > t_s - c.disturbance_window_s] + [t_s]
                if c.max_disturbances > 0 and len(self.dips) >= c.max_disturbances:
                    cands.append((t_s, "dip_counter"))
        else:
            self.below_dip = False
        return min(cands) if cands else None

    # ------------------------------------------------------------ interval

    def advance(
        self, t_s: float, t_end_s: float, vm_pu: float, f_hz: float, a: np.ndarray, b: np.ndarray
    ) -> tuple[np.ndarray | None, list[tuple[str, float]]]:
        """Advance over ``[t_s, t_end_s)`` with V and f held.

        Returns the share of the load connected to the grid for each internal
        step ``[a_k, b_k)`` (None when fully connected throughout) and the events
        ``("trip" | "return", t_s)`` of the interval.

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s].
        vm_pu : float
            Voltage magnitude held over the interval [pu].
        f_hz : float
            Frequency held over the interval [Hz].
        a : numpy.ndarray
            Internal step starts [s].
        b : numpy.ndarray
            Internal step ends [s].

        Returns
        -------
        connected : numpy.ndarray or None
            Share of the load on the grid per step [-].
        events : list of tuple of (str, float)
            Events ``("trip" | "return", time [s])``.
        """
        c = self.cfg
        if self.quiet(vm_pu, f_hz):
            return None, []
        normal = self._normal(vm_pu, f_hz)
        start_mode, start_ret = self.mode, self.t_ret_s
        events: list[tuple[str, float]] = []
        t_trip = None
        found = self._trip_time(t_s, t_end_s, vm_pu, f_hz)  # timers advance in every mode
        if found is not None and self.mode in ("grid", "returning") and found[0] < t_end_s - _TOL:
            t_trip, cause = found
            self.mode = "backup"
            self.transfers += 1
            self.trip_times.append(t_trip)
            self.causes.append(cause)
            self.ok_since_s = None
            self.t_ret_s = None
            events.append(("trip", t_trip))
        if self.mode == "backup":
            if normal:
                if self.ok_since_s is None:
                    self.ok_since_s = t_trip if t_trip is not None else t_s
                t_ret = self.ok_since_s + c.return_delay_s
                if t_ret < t_end_s - _TOL:
                    self.mode = "returning"
                    self.t_ret_s = t_ret
                    events.append(("return", t_ret))
            else:
                self.ok_since_s = None
        if (
            self.mode == "returning"
            and self.t_ret_s is not None
            and t_end_s >= self.t_ret_s + c.return_ramp_s - _TOL
        ):
            self.mode = "grid"
            self.t_ret_s = None
            self.acc_lv = [0.0] * len(self.acc_lv)
            self.acc_hv = [0.0] * len(self.acc_hv)
            self.acc_f = 0.0
        if start_mode == "grid" and not events:
            return None, events
        g = self._profile(t_s, t_end_s, start_mode, start_ret, events, a, b)
        self.backup_s += float(np.dot(1.0 - g, b - a))
        return g, events

    def _profile(
        self,
        t_s: float,
        t_end_s: float,
        start_mode: str,
        start_ret: float | None,
        events: list[tuple[str, float]],
        a: np.ndarray,
        b: np.ndarray,
    ) -> np.ndarray:
        """Step means of the connection share over the interval."""

        # value function after each event, as a function of time
        def initial(t: float) -> float:
            if start_mode == "grid":
                return 1.0
            if start_mode == "backup":
                return 0.0
            return self._ramp(t, start_ret if start_ret is not None else t_s)

        pieces: list[tuple[float, Callable[[float], float]]] = [(t_s, initial)]
        knots = {t_s, t_end_s}
        if start_mode == "returning" and start_ret is not None:
            knots.add(start_ret + self.cfg.return_ramp_s)
        for kind, t in events:
            if kind == "trip":
                pieces.append((t, lambda _t: 0.0))
            else:
                pieces.append((t, lambda x, t0=t: self._ramp(x, t0)))
                knots.add(t + self.cfg.return_ramp_s)
            knots.add(t)
        times = sorted(k for k in knots if t_s <= k <= t_end_s)

        def value(t: float, left: bool) -> float:
            fn = pieces[0][1]
            for t0, f in pieces:
                if t0 < t or (t0 == t and not left):
                    fn = f
            return fn(t)

        tb: list[float] = []
        gb: list[float] = []
        for t in times:
            lv, rv = value(t, True), value(t, False)
            if t > t_s:
                tb.append(t)
                gb.append(lv)
            if t < t_end_s and (t == t_s or rv != lv):
                tb.append(t)
                gb.append(rv)
        return np.clip(piecewise_linear_means(np.array(tb), np.array(gb), a, b), 0.0, 1.0)

    # ------------------------------------------------------------ re-run support

    def snapshot(self) -> tuple:
        return (
            self.mode,
            self.t_ret_s,
            self.ok_since_s,
            list(self.acc_lv),
            list(self.acc_hv),
            self.acc_f,
            list(self.dips),
            self.below_dip,
            self.transfers,
            len(self.trip_times),
            self.backup_s,
        )

    def transfers_by_cause(self) -> dict[TransferCause, int]:
        """Number of transfers per cause (UPS curve, HVRT curve, frequency, dip counter)."""
        out: dict[TransferCause, int] = dict.fromkeys(get_args(TransferCause), 0)
        for cause in self.causes:
            out[cause] += 1
        return out

    def restore(self, snap: tuple) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : tuple
            State from :meth:`snapshot`: mode, return time [s], normal-since time [s], voltage and
            frequency accumulators [s], dips, transfers, trip count and backup time [s].
        """
        (
            self.mode,
            self.t_ret_s,
            self.ok_since_s,
            acc_lv,
            acc_hv,
            self.acc_f,
            dips,
            self.below_dip,
            self.transfers,
            n_trips,
            self.backup_s,
        ) = snap
        self.acc_lv, self.acc_hv, self.dips = list(acc_lv), list(acc_hv), list(dips)
        del self.trip_times[n_trips:]
        del self.causes[n_trips:]
