"""The BESS power controller as built: meter, delay, sampled control, PCS lag (pure, no helics).

The site's controls (:mod:`.controls`) give a POI setpoint ``y``. The BESS
controller turns it into the power request of the PCS, which then follows
through its first-order lag ``response_tau_s`` (in :class:`.bess.Bess`):

* ``feedforward`` (site metering): the controller meters the site load and
  commands ``m = y - p_site``. Its command at time ``t`` is the measurement
  taken ``latency_s`` before the latest control instant ``t_c <= t`` (instants
  every ``control_period_s``; continuous when 0)::

      cmd(t) = m(t_c - latency_s)

  A swing at angular frequency ``w`` then leaves a residual at the POI of
  ``|1 - exp(-j w L) / (1 + j w tau)|`` of its amplitude (a first-order lag tau
  plus a delay L; the sample-and-hold adds about half a period to L).
* ``feedback`` (POI metering): the controller meters the POI and integrates
  the error at each control instant::

      cmd_c = cmd_(c-1) + (t_c - t_(c-1)) / feedback_ti_s x (y - p_poi)(t_c - latency_s)

  The measurement of a step still running is not known yet: the controller
  uses the last completed step then (the delay is at least one step).

Signals are step-held: a measurement at an instant is the value of the step
that contains it. Before the first interval the controller is in the steady
state of its first inputs (causal: nothing from the future).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from federates.factory.bess import Bess, BessBlock
from federates.factory.config_bess import BessConfig
from federates.factory.kernels import feedforward_step

_TOL = 1e-9


def piecewise_constant_means(
    knots_s: np.ndarray, values: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Mean over each ``[a_k, b_k)`` of the function equal to ``values[i]`` on
    ``[knots_s[i], knots_s[i + 1])`` (the last value holds on).

    The plain statement of what the controller computes with :func:`held_means`
    (its per-step form on lists), which is tested against it bit for bit.

    Parameters
    ----------
    knots_s : numpy.ndarray
        Increasing breakpoints [s]; ``knots_s[0] <= a[0]``.
    values : numpy.ndarray
        Value on each segment (any unit).
    a, b : numpy.ndarray
        Step starts and ends [s], ``b > a``.

    Returns
    -------
    numpy.ndarray
        Step means (unit of ``values``).
    """
    k = np.array(knots_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if not np.isfinite(k[0]):  # a value held since for ever: start it just before the steps
        k[0] = min(float(a[0]), float(k[1]) if len(k) > 1 else float(a[0])) - 1.0
    end = max(float(b[-1]), float(k[-1])) + 1.0
    kk = np.append(k, end)
    cum = np.concatenate([[0.0], np.cumsum(v * np.diff(kk))])
    return (np.interp(b, kk, cum) - np.interp(a, kk, cum)) / (b - a)


def held_means(
    knots_s: list[float], values: list[float], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """:func:`piecewise_constant_means` with the knots and values given as lists: the same
    operations (the products, numpy's sequential ``cumsum``, ``interp``), so the same result bit
    for bit, with fewer numpy calls for the few tens of values of a grid step.

    Parameters
    ----------
    knots_s : list of float
        Increasing breakpoints [s]; ``knots_s[0] <= a[0]`` (``-inf``: held since for ever).
    values : list of float
        Value on each segment (any unit), one per knot.
    a, b : numpy.ndarray
        Step starts and ends [s], ``b > a``.

    Returns
    -------
    numpy.ndarray
        Step means (unit of ``values``).
    """
    kk = list(knots_s)
    if not math.isfinite(kk[0]):
        a0 = float(a[0])
        kk[0] = min(a0, kk[1] if len(kk) > 1 else a0) - 1.0
    kk.append(max(float(b[-1]), kk[-1]) + 1.0)
    return _means_on_knots(np.array(kk), values, a, b)


def _means_on_knots(
    k_arr: np.ndarray, values: list[float], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """:func:`held_means` from its knots [s] as an array, the end after the last value included."""
    seg = np.array(values, dtype=float)
    seg *= k_arr[1:] - k_arr[:-1]  # value x segment length
    cum = np.empty(len(k_arr))
    cum[0] = 0.0
    np.add.accumulate(seg, out=cum[1:])  # np.cumsum without its Python wrapper
    return (np.interp(b, k_arr, cum) - np.interp(a, k_arr, cum)) / (b - a)


@dataclass
class ControlLoopState:
    """History the controller keeps between intervals: step starts and the step-held signal.

    Only steps that have run are appended, so every value is known (feedback: the step still
    running is not in the history yet). The lists are replaced, never changed in place, so a
    snapshot may share them. With a control period, the feedforward keeps them as arrays
    (:func:`.kernels.feedforward_step`), replaced as well.
    """

    t_s: list[float] | np.ndarray  # step starts [s]
    m_mw: (
        list[float] | np.ndarray
    )  # feedforward measurement y - p_site [MW]; feedback: y - p_poi [MW]
    cmd_mw: float = 0.0  # feedback: last command [MW]
    t_cmd_s: float = float("nan")  # feedback: time of the last command [s]


class BessControlLoop:
    """Delay, control period and the feedforward or feedback law (see the module docstring)."""

    def __init__(self, cfg: BessConfig) -> None:
        self.cfg = cfg
        self.latency_s = cfg.latency_s
        self.period_s = cfg.control_period_s
        self.feedback = cfg.control_mode == "feedback"
        self.st: ControlLoopState | None = None

    def start_from(self, t_s: float, m_mw: float, cmd_mw: float = 0.0) -> None:
        """Steady state before ``t_s`` [s]: the measurement was ``m_mw`` [MW] and the command
        ``cmd_mw`` [MW] for ever.

        Parameters
        ----------
        t_s : float
            Start time [s].
        m_mw : float
            Steady measurement [MW].
        cmd_mw : float, default 0.0
            Steady command [MW].
        """
        self.st = ControlLoopState([-math.inf], [float(m_mw)], float(cmd_mw), t_s)

    # ------------------------------------------------------------ history

    def _append(self, a: list[float], m: list[float]) -> None:
        st = self.st
        st.t_s = st.t_s + a
        st.m_mw = st.m_mw + m

    def _trim(self, t_now_s: float) -> None:
        """Forget steps that no future lookup can reach."""
        st = self.st
        keep_from = t_now_s - self.latency_s - self.period_s - 1.0
        j = bisect_right(st.t_s, keep_from) - 1
        if j > 0:
            st.t_s, st.m_mw = st.t_s[j:], st.m_mw[j:]

    def _held_at(self, t_s: float) -> float:
        """Step-held measurement at the instant ``t_s`` [s] (the first value before the
        history starts)."""
        st = self.st
        j = bisect_right(st.t_s, t_s + _TOL) - 1
        return st.m_mw[j if j > 0 else 0]

    def _held_values(self, t_s: list[float], lag_s: float) -> list[float]:
        """:meth:`_held_at` of ``t - lag_s`` for every ``t`` of the increasing ``t_s`` [s]."""
        st = self.st
        t_hist = st.t_s
        held = [st.m_mw[0], *st.m_mw]  # held[j]: the value once j step starts have passed
        n = len(t_hist)
        j = bisect_right(t_hist, t_s[0] - lag_s + _TOL)
        t_next = t_hist[j] if j < n else math.inf
        out = []
        for t in t_s:
            x = t - lag_s + _TOL
            while t_next <= x:
                j += 1
                t_next = t_hist[j] if j < n else math.inf
            out.append(held[j])
        return out

    def _instants(self, t0_s: float, t1_s: float) -> list[float]:
        """Control instants in ``[t0_s, t1_s)`` [s] (multiples of the control period)."""
        p = self.period_s
        c0 = math.ceil(t0_s / p - _TOL)
        c1 = math.ceil(t1_s / p - _TOL)
        return [c * p for c in range(c0, c1)]

    # ------------------------------------------------------------ feedforward

    def feedforward(self, a: np.ndarray, b: np.ndarray, m_mw: np.ndarray) -> np.ndarray:
        """PCS request per step [MW] from the measurement ``m_mw = y - p_site`` per step.

        Parameters
        ----------
        a, b : numpy.ndarray
            Step starts and ends [s].
        m_mw : numpy.ndarray
            Setpoint minus site load per step [MW].

        Returns
        -------
        numpy.ndarray
            Step means of the held, delayed command [MW].
        """
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        m = np.asarray(m_mw, dtype=float)
        if not len(a):
            return np.empty(0)
        if self.st is None:
            self.start_from(float(a[0]), float(m[0]))
        st = self.st
        lat, p = self.latency_s, self.period_s
        if p > 0:  # the common case, one compiled pass; the history becomes arrays
            out, t_hist, m_hist = feedforward_step(
                np.asarray(st.t_s, dtype=float), np.asarray(st.m_mw, dtype=float), a, b, m, lat, p
            )
            st.t_s, st.m_mw = t_hist, m_hist
            return out
        m_list = m.tolist()
        self._append(a.tolist(), m_list)
        out = np.array(m_list) if lat <= 0 else held_means([t + lat for t in st.t_s], st.m_mw, a, b)
        self._trim(float(b[-1]))
        return out

    def feedforward_steps(self, a: np.ndarray, b: np.ndarray, m_mw: np.ndarray) -> np.ndarray:
        """:meth:`feedforward` with a control period, step by step in Python: the plain form
        of what :func:`.kernels.feedforward_step` computes, which is tested against it.

        Parameters
        ----------
        a, b : numpy.ndarray
            Step starts and ends [s].
        m_mw : numpy.ndarray
            Setpoint minus site load per step [MW].

        Returns
        -------
        numpy.ndarray
            Step means of the held, delayed command [MW].
        """
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        a_list = a.tolist()
        m_list = np.asarray(m_mw, dtype=float).tolist()
        if self.st is None:
            self.start_from(a_list[0], m_list[0])
        st = self.st
        st.t_s, st.m_mw = list(st.t_s), list(st.m_mw)
        self._append(a_list, m_list)
        lat, p = self.latency_s, self.period_s
        b_end = float(b[-1])  # the knots: control instants (as _instants), then the end
        c0 = math.ceil((a_list[0] - p) / p - _TOL)
        k_arr = np.empty(math.ceil(b_end / p - _TOL) - c0 + 1)
        np.multiply(np.arange(c0, c0 + len(k_arr) - 1), p, out=k_arr[:-1])
        tc = k_arr[:-1].tolist()
        k_arr[-1] = max(b_end, tc[-1]) + 1.0
        out = _means_on_knots(k_arr, self._held_values(tc, lat), a, b)
        self._trim(b_end)
        return out

    # ------------------------------------------------------------ feedback

    def run_feedback(
        self,
        bess: Bess,
        a: np.ndarray,
        b: np.ndarray,
        d: np.ndarray,
        y_mw: np.ndarray,
        p_site_mw: np.ndarray,
        q_req_mvar: float,
        vm_pu: float,
    ) -> BessBlock:
        """Run the BESS under the POI feedback loop over the steps ``[a_k, b_k)``.

        Parameters
        ----------
        bess : Bess
            The battery (advanced here).
        a, b, d : numpy.ndarray
            Step starts, ends and lengths [s].
        y_mw, p_site_mw : numpy.ndarray
            POI setpoint and site load per step [MW].
        q_req_mvar : float
            Reactive-power request [Mvar].
        vm_pu : float
            Voltage at the PCS [pu].

        Returns
        -------
        BessBlock
            The BESS's steps, joined.
        """
        if self.st is None:
            self.start_from(float(a[0]), 0.0, bess.p_actual_mw)
        st = self.st
        n = len(a)
        p_lim = bess.p_ov_mw
        period = self.period_s
        # steps at which the command changes: a control instant falls in (a_(k-1), a_k]
        if period <= 0:
            starts = list(range(n))
        else:
            tc = np.array(self._instants(float(a[0]), float(b[-1])))
            starts = sorted(set(np.searchsorted(a, tc - _TOL, side="left").tolist()))
            starts = [k for k in starts if k < n]
            if not starts or starts[0] != 0:
                starts = [0, *starts]
        blocks: list[BessBlock] = []
        bounds = [*starts, n]
        for k0, k1 in zip(bounds, bounds[1:], strict=False):
            t_c = float(a[k0])
            on_instant = period <= 0 or abs(t_c / period - round(t_c / period)) < 1e-6
            if on_instant:
                e = self._held_at(t_c - self.latency_s)
                dt_c = t_c - st.t_cmd_s if np.isfinite(st.t_cmd_s) else float(d[k0])
                st.cmd_mw = min(max(st.cmd_mw + dt_c / self.cfg.feedback_ti_s * e, -p_lim), p_lim)
                st.t_cmd_s = t_c
            blk = bess.run(
                np.full(k1 - k0, st.cmd_mw), d[k0:k1], q_req_mvar, vm_pu=vm_pu, uniform=None
            )
            blocks.append(blk)
            err = y_mw[k0:k1] - (p_site_mw[k0:k1] + blk.p_actual_mw)
            self._append(a[k0:k1].tolist(), err.tolist())
        self._trim(float(b[-1]))
        return _join(blocks)

    # ------------------------------------------------------------ re-run support

    def snapshot(self) -> ControlLoopState | None:
        """A copy of the history (its lists are replaced, never changed in place)."""
        if self.st is None:
            return None
        s = self.st
        return ControlLoopState(s.t_s, s.m_mw, s.cmd_mw, s.t_cmd_s)

    def restore(self, snap: ControlLoopState | None) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : ControlLoopState or None
            State returned by :meth:`snapshot`; ``None`` for no state.
        """
        if snap is None:
            self.st = None
            return
        self.st = ControlLoopState(snap.t_s, snap.m_mw, snap.cmd_mw, snap.t_cmd_s)


def _join(blocks: list[BessBlock]) -> BessBlock:
    if len(blocks) == 1:
        return blocks[0]
    over = [
        blk.overloaded if blk.overloaded is not None else np.zeros(len(blk.p_actual_mw), bool)
        for blk in blocks
    ]
    return BessBlock(
        np.concatenate([blk.p_actual_mw for blk in blocks]),
        np.concatenate([blk.q_actual_mvar for blk in blocks]),
        np.concatenate([blk.e_mwh for blk in blocks]),
        sum(blk.clipped_mwh for blk in blocks),
        max(blk.clipped_max_mw for blk in blocks),
        blocks[-1].clipped_last,
        np.concatenate(over),
    )
