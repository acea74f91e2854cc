"""Compiled per-step passes of the site's controls, the BESS controller and the BESS (pure,
no helics).

The site runs its controls, the BESS controller and the BESS once per grid
step, over the few tens of internal steps of that grid step
(:meth:`.site.FactorySite.advance_block` included: the controls decide per grid
step). In Python, each pass is a dozen small list and numpy operations, about
half of the factory's time. Each function here does one of them in one
compiled call, with the same arithmetic in the same order, so the results are
the same bit for bit (``tests/federates/factory/test_kernels.py`` compares them
with the plain forms they replace):

* :func:`lpf_ramp`: the setpoint's low-pass filter and ramp limit over equal
  steps (:meth:`.controls.ControlChain.setpoint`);
* :func:`feedforward_step`: :meth:`.bess_control.BessControlLoop.feedforward` with a
  control period (the history appended, the held and delayed measurement at the
  control instants, its step means, the history trimmed);
* :func:`free_run`: :meth:`.bess.Bess._run_free` (lag, energy, ledger and turning
  points of a block in which no limit binds), and :func:`extremes` for the check that
  none binds.

Interpolation is numpy's ``interp`` algorithm, written out (:func:`interp`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: tolerance of a step-held lookup [s] (as :data:`.bess_control._TOL`)
TOL = 1e-9


@numba.njit(cache=True)
def lpf_ramp(
    u_mw: np.ndarray,
    s_mw: float,
    r_mw: float,
    a: float,
    step_mw: float,
    bias_mw: float,
    smooth: bool,
    ramp: bool,
) -> tuple[np.ndarray, float, float]:
    """Low-pass filter, then ramp limit, over equal steps.

    Parameters
    ----------
    u_mw : numpy.ndarray
        Input per step [MW].
    s_mw, r_mw : float
        The filter's state and the ramp limiter's last output [MW].
    a : float
        The filter's gain over one step, ``1 - exp(-dt / tau)``.
    step_mw : float
        Largest change over one step [MW].
    bias_mw : float
        Added after the filter [MW].
    smooth, ramp : bool
        Filter; limit the ramp.

    Returns
    -------
    y_mw : numpy.ndarray
        Output per step [MW].
    s_mw, r_mw : float
        The states after the steps [MW].
    """
    n = len(u_mw)
    out = np.empty(n)
    s, r = s_mw, r_mw
    for k in range(n):
        x = u_mw[k]
        if smooth:
            s += a * (x - s)
            y = s + bias_mw
        else:
            y = x + bias_mw
        if ramp:
            hi = r + step_mw
            if y > hi:
                y = hi
            else:
                lo = r - step_mw
                if y < lo:
                    y = lo
        out[k] = y
        r = y
    return out, s, r


@numba.njit(cache=True)
def interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``numpy.interp(x, xp, fp)`` for increasing ``xp`` and ``x``, bit for bit.

    Numpy's algorithm: the segment ``xp[j] <= x < xp[j + 1]``, its slope
    ``(fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])``, and ``slope * (x - xp[j]) + fp[j]``;
    the end values outside ``xp``, and ``fp[j]`` on a knot.

    Parameters
    ----------
    x : numpy.ndarray
        Where to interpolate (any unit of ``xp``).
    xp, fp : numpy.ndarray
        Increasing knots and the values on them.

    Returns
    -------
    numpy.ndarray
        The interpolated values (unit of ``fp``).
    """
    n = len(xp)
    out = np.empty(len(x))
    j = 0
    for i in range(len(x)):
        v = x[i]
        if v < xp[0]:
            out[i] = fp[0]
            continue
        if v >= xp[n - 1]:
            out[i] = fp[n - 1]
            continue
        if v < xp[j]:
            j = 0
        while xp[j + 1] <= v:
            j += 1
        if xp[j] == v:
            out[i] = fp[j]
        else:
            slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
            y = slope * (v - xp[j]) + fp[j]
            if math.isnan(y):  # numpy then tries the other end
                y = slope * (v - xp[j + 1]) + fp[j + 1]
                if math.isnan(y) and fp[j] == fp[j + 1]:
                    y = fp[j]
            out[i] = y
    return out


@numba.njit(cache=True)
def _bisect_right(a: np.ndarray, x: float) -> int:
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) // 2
        if x < a[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@numba.njit(cache=True)
def feedforward_step(
    hist_t_s: np.ndarray,
    hist_m_mw: np.ndarray,
    a_s: np.ndarray,
    b_s: np.ndarray,
    m_mw: np.ndarray,
    latency_s: float,
    period_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feedforward controller over one block of steps, with a control period > 0.

    Parameters
    ----------
    hist_t_s, hist_m_mw : numpy.ndarray
        The history: step starts [s] (the first may be ``-inf``: held since for ever) and
        the measurement ``y - p_site`` of each [MW].
    a_s, b_s : numpy.ndarray
        The block's step starts and ends [s].
    m_mw : numpy.ndarray
        The block's measurement per step [MW].
    latency_s : float
        Measurement delay [s], >= 0.
    period_s : float
        Control period [s], > 0.

    Returns
    -------
    request_mw : numpy.ndarray
        Step means of the held, delayed command [MW].
    hist_t_s, hist_m_mw : numpy.ndarray
        The history with the block appended, trimmed to what a later block can reach.
    """
    n_hist = len(hist_t_s)
    t_all = np.empty(n_hist + len(a_s))
    m_all = np.empty(n_hist + len(a_s))
    t_all[:n_hist] = hist_t_s
    t_all[n_hist:] = a_s
    m_all[:n_hist] = hist_m_mw
    m_all[n_hist:] = m_mw
    n_all = len(t_all)
    p = period_s
    b_end = b_s[-1]
    # the knots: the control instants from the one before the first step, then an end
    c0 = math.ceil((a_s[0] - p) / p - TOL)
    n_k = math.ceil(b_end / p - TOL) - c0 + 1
    knots = np.empty(n_k)
    for i in range(n_k - 1):
        knots[i] = (c0 + i) * p
    knots[n_k - 1] = max(b_end, knots[n_k - 2]) + 1.0
    # the measurement held at each instant less the delay, times the segment it holds on
    j = _bisect_right(t_all, knots[0] - latency_s + TOL)
    t_next = t_all[j] if j < n_all else math.inf
    cum = np.empty(n_k)
    cum[0] = 0.0
    for i in range(n_k - 1):
        x = knots[i] - latency_s + TOL
        while t_next <= x:
            j += 1
            t_next = t_all[j] if j < n_all else math.inf
        held = m_all[j - 1] if j > 0 else m_all[0]
        cum[i + 1] = cum[i] + held * (knots[i + 1] - knots[i])
    request = (interp(b_s, knots, cum) - interp(a_s, knots, cum)) / (b_s - a_s)
    # forget the steps no later lookup reaches
    keep = _bisect_right(t_all, b_end - latency_s - p - 1.0) - 1
    if keep < 0:
        keep = 0
    return request, t_all[keep:], m_all[keep:]


@numba.njit(cache=True)
def extremes(x: np.ndarray) -> tuple[float, float]:
    """The smallest and largest of ``x``, both NaN if one is (as numpy's ``min`` and ``max``).

    Parameters
    ----------
    x : numpy.ndarray
        Values (any unit).

    Returns
    -------
    (lo, hi) : tuple of float
        Smallest and largest value (unit of ``x``); NaN for no value.
    """
    if len(x) == 0:
        return math.nan, math.nan
    lo = x[0]
    hi = x[0]
    for v in x:
        if math.isnan(v):
            return math.nan, math.nan
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    return lo, hi


@numba.njit(cache=True)
def free_run(
    req_mw: np.ndarray,
    lag: float,
    charge_h: float,
    discharge_h: float,
    self_discharge_mwh: float,
    p_mw: float,
    e_mwh: float,
    rising: bool,
) -> tuple[np.ndarray, np.ndarray, float, float, bool, float, float, np.ndarray, float, float]:
    """Equal steps in which no limit binds: the PCS lag, the stored energy, the ledger.

    Parameters
    ----------
    req_mw : numpy.ndarray
        Request per step [MW] (+ charging).
    lag : float
        The PCS lag's gain over one step, ``1 - exp(-dt / tau)`` (1: no lag).
    charge_h : float
        ``eta_c * dt / 3600`` [h]: stored energy per MW charged over a step.
    discharge_h : float
        ``dt / (eta_d * 3600)`` [h]: stored energy per MW discharged over a step.
    self_discharge_mwh : float
        Self-discharge over one step [MWh].
    p_mw, e_mwh : float
        Power [MW] and stored energy [MWh] before the block.
    rising : bool
        The stored energy was rising at the last turn.

    Returns
    -------
    p_mw, e_mwh : numpy.ndarray
        Power and stored energy after each step.
    p_last_mw, e_last_mwh, rising : float, float, bool
        The state after the block.
    charged_mw_steps, discharged_mw_steps : float
        Sums of the charging and discharging power over the steps [MW].
    turns_mwh : numpy.ndarray
        Stored energy at each turning point in the block.
    e_min_mwh, e_max_mwh : float
        The least and the most stored energy after a step.
    """
    n = len(req_mw)
    p_out = np.empty(n)
    e_out = np.empty(n)
    turns = np.empty(n)
    n_turns = 0
    act, e, up = p_mw, e_mwh, rising
    cin = 0.0
    cout = 0.0
    e_lo = math.inf
    e_hi = -math.inf
    for k in range(n):
        act += lag * (req_mw[k] - act)
        if act >= 0.0:
            cin += act
            de = act * charge_h - self_discharge_mwh
        else:
            cout -= act
            de = act * discharge_h - self_discharge_mwh
        if de > 0.0:
            if not up:
                turns[n_turns] = e
                n_turns += 1
                up = True
        elif de < 0.0 and up:
            turns[n_turns] = e
            n_turns += 1
            up = False
        e += de
        p_out[k] = act
        e_out[k] = e
        e_lo = min(e_lo, e)
        e_hi = max(e_hi, e)
    return p_out, e_out, act, e, up, cin, cout, turns[:n_turns], e_lo, e_hi
