"""IEC 61000-4-15 ed. 2 (2010) flickermeter on an RMS voltage magnitude series (pure numpy/scipy).

The standard's flickermeter takes the voltage *waveform*. A co-simulation records
an RMS (phasor) magnitude instead, so the chain here starts where the waveform
chain has already demodulated the carrier:

* block 1/2 (adaptor, square-law demodulator): ``x = (v / v_ref)^2`` with
  ``v_ref`` the mean voltage over a first-order 60 s sliding mean (the
  adaptor's one-minute time constant); ``x - 1`` is what the demodulator sees
  in the flicker band (``2 dV/V`` for small ``dV``);
* block 3: a first-order 0.05 Hz high-pass, a 6th-order Butterworth low-pass
  (35 Hz for the 230 V / 50 Hz lamp, 42 Hz for the 120 V / 60 Hz lamp) and the
  lamp-eye weighting filter

      K w1 s / (s^2 + 2 lambda s + w1^2) * (1 + s/w2) / ((1 + s/w3)(1 + s/w4))

  with the standard's two coefficient sets (:data:`LAMP_WEIGHTING`);
* block 4: squaring and a first-order sliding mean of time constant 300 ms,
  scaled so that the standard's reference fluctuation gives a maximum
  instantaneous flicker sensation ``Pinst = 1``: sinusoidal modulation at
  8.8 Hz of dV/V = 0.250 % (230 V lamp) or 0.321 % (120 V lamp; IEC
  61000-4-15 ed. 2 Tables 1a/1b). dV/V is peak to peak throughout: the RMS
  voltage swings between ``V (1 + d/2)`` and ``V (1 - d/2)``. The constant is
  computed from the analogue transfer functions (:func:`pinst_scale`), not
  fitted to the Table 5 points that the tests check;
* block 5: Pst of each complete 10-minute window from exact percentiles of
  ``Pinst`` (no class quantisation): ``P_k`` is the level exceeded ``k`` % of
  the time, ``P1s = (P0.7 + P1 + P1.5)/3``, ``P3s = (P2.2 + P3 + P4)/3``,
  ``P10s = (P6 + P8 + P10 + P13 + P17)/5``, ``P50s = (P30 + P50 + P80)/3`` and
  ``Pst = sqrt(0.0314 P0.1 + 0.0525 P1s + 0.0657 P3s + 0.28 P10s + 0.08 P50s)``;
  ``Plt`` is the cube mean of 12 consecutive Pst (2 h).

Sampling. Recorded series are step-held (see ``_series``): each sample holds
until the next. By default (``reconstruct="hold"``) the series is held up to an
internal rate of at least :data:`INTERNAL_FS_HZ` and the analogue filters are
mapped there by the bilinear transform (frequency warping below 1 % up to
42 Hz); ``reconstruct="linear"`` interpolates instead, for series sampled from
a smooth process. The weighting reaches up to ~35 Hz, so full accuracy needs
``fs_hz >= 100`` (:data:`FULL_ACCURACY_FS_HZ`, the half-cycle RMS rate of a
50 Hz system): there all Table 5 points are within 1 % and sinusoidal
fluctuations up to 8.8 Hz within 2.5 % (the hold's sinc loss grows to -13 % at
20 Hz). Coarser series are accepted down to :data:`MIN_FS_HZ` = 10 Hz (0.1 s,
the finest step a quasi-static study usually records) with these errors
(measured, see ``docs/power_quality.md``):

* steps (Table 5, 1-110 changes/min) stay within 1 % at 10-50 Hz with the
  hold: a step's size, not its exact instant, sets the flicker;
* fluctuations faster than ``fs_hz / 2`` are not seen or are aliased: Table 5's
  1620 changes/min (13.5 Hz) gives 0.88-1.28 at 10-50 Hz, and a sinusoid at
  8.8 Hz sampled at 10 Hz gives almost nothing;
* a smooth fluctuation held in steps gains the steps' own flicker: at 10 Hz a
  0.5-4 Hz sinusoid reads 1.5-2 times too high with the hold, while linear
  interpolation reads it 2-45 % too low and steps 30-35 % too low.

Slower series (1 s samples) are refused: use the screening estimate
:func:`cosim.metrics.poi.flicker_severity` for those.

Sources: IEC 61000-4-15:2010 (ed. 2), clause 5 and Tables 1, 2 and 5; the
filter coefficients and Table 1/5 figures as transcribed in the open-source
flickermeter ``flicker_sim`` (Solcept AG; TUBITAK UME; CMI, TracePQM project,
in the QWTB toolbox, ``alg_flicker_sim``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import signal

#: how a series is brought to the internal rate
Reconstruct = Literal["hold", "linear"]

#: slowest accepted sampling rate of the input [Hz] (0.1 s steps)
MIN_FS_HZ = 10.0
#: sampling rate from which the Table 5 points are met within 5 % [Hz]
FULL_ACCURACY_FS_HZ = 100.0
#: the series is held up to at least this rate before filtering [Hz]
INTERNAL_FS_HZ = 1000.0
#: length of one Pst window [s]
PST_WINDOW_S = 600.0
#: number of Pst in one Plt (2 h)
PST_PER_PLT = 12
#: time constant of the block-1 adaptor's sliding mean [s]
ADAPTOR_TAU_S = 60.0
#: time constant of the block-4 sliding mean [s]
SMOOTHING_TAU_S = 0.3
#: cut-off of the block-3 high-pass [Hz]
HIGHPASS_HZ = 0.05

#: (percent exceeded, weight) of block 5; smoothed percentiles are averages
_PST_TERMS: tuple[tuple[tuple[float, ...], float], ...] = (
    ((0.1,), 0.0314),
    ((0.7, 1.0, 1.5), 0.0525),
    ((2.2, 3.0, 4.0), 0.0657),
    ((6.0, 8.0, 10.0, 13.0, 17.0), 0.28),
    ((30.0, 50.0, 80.0), 0.08),
)


@dataclass(frozen=True)
class LampWeighting:
    """Lamp-eye weighting of one reference lamp (IEC 61000-4-15 ed. 2, 5.5).

    Attributes
    ----------
    k : float
        Gain ``K`` [-].
    lambda_hz, f1_hz, f2_hz, f3_hz, f4_hz : float
        ``lambda = 2 pi lambda_hz`` and ``w_i = 2 pi f_i_hz`` [Hz].
    lowpass_hz : float
        Cut-off of the block-3 6th-order Butterworth low-pass [Hz].
    reference_dv_percent : float
        Peak-to-peak dV/V of the 8.8 Hz sinusoidal modulation that gives
        ``Pinst max = 1`` [%] (Table 1a / 1b).
    """

    k: float
    lambda_hz: float
    f1_hz: float
    f2_hz: float
    f3_hz: float
    f4_hz: float
    lowpass_hz: float
    reference_dv_percent: float


#: the standard's two reference lamps, by nominal lamp voltage [V]
LAMP_WEIGHTING: dict[int, LampWeighting] = {
    230: LampWeighting(1.74802, 4.05981, 9.15494, 2.27979, 1.22535, 21.9, 35.0, 0.250),
    120: LampWeighting(1.6357, 4.167375, 9.077169, 2.939902, 1.394468, 17.31512, 42.0, 0.321),
}
#: modulation frequency of the reference fluctuation [Hz]
REFERENCE_HZ = 8.8


@dataclass(frozen=True)
class InstantaneousFlicker:
    """Output of block 4.

    Attributes
    ----------
    pinst : numpy.ndarray
        Instantaneous flicker sensation [-] (1 = threshold of perceptibility).
    fs_hz : float
        Its sampling rate [Hz] (the internal rate, an integer multiple of the input's).
    """

    pinst: np.ndarray
    fs_hz: float


def _weighting(lamp_v: int) -> LampWeighting:
    try:
        return LAMP_WEIGHTING[int(lamp_v)]
    except (KeyError, TypeError, ValueError):
        allowed = ", ".join(str(v) for v in sorted(LAMP_WEIGHTING))
        raise ValueError(f"lamp_v must be one of {allowed} [V] (got {lamp_v!r})") from None


def analog_chain_zpk(lamp_v: int = 120) -> tuple[np.ndarray, np.ndarray, float]:
    """Zeros, poles [rad/s] and gain of block 3 (high-pass, low-pass, weighting).

    Parameters
    ----------
    lamp_v : int, default 120
        Reference lamp voltage [V] of the weighting filter (a key of ``LAMP_WEIGHTING``).

    Returns
    -------
    zeros : numpy.ndarray
        Zeros [rad/s], complex.
    poles : numpy.ndarray
        Poles [rad/s], complex.
    gain : float
        Gain [-].
    """
    w = _weighting(lamp_v)
    two_pi = 2.0 * math.pi
    lam, w1, w2, w3, w4 = (two_pi * f for f in (w.lambda_hz, w.f1_hz, w.f2_hz, w.f3_hz, w.f4_hz))
    zb, pb, kb = signal.butter(6, two_pi * w.lowpass_hz, btype="low", analog=True, output="zpk")
    w_hp = two_pi * HIGHPASS_HZ
    # K w1 s (1 + s/w2) / ((s^2 + 2 lam s + w1^2)(1 + s/w3)(1 + s/w4))
    pw = np.roots([1.0, 2.0 * lam, w1 * w1])
    zeros = np.concatenate([zb, [0.0], [0.0, -w2]])
    poles = np.concatenate([pb, [-w_hp], pw, [-w3, -w4]])
    gain = kb * 1.0 * (w.k * w1 * w3 * w4 / w2)
    return zeros.astype(complex), poles.astype(complex), float(gain)


def _chain_gain(lamp_v: int, f_hz: float) -> float:
    z, p, k = analog_chain_zpk(lamp_v)
    _, h = signal.freqs_zpk(z, p, k, worN=[2.0 * math.pi * f_hz])
    return float(abs(h[0]))


@lru_cache(maxsize=8)
def pinst_scale(lamp_v: int = 120) -> float:
    """Block-4 gain that makes the reference fluctuation give ``Pinst max = 1`` [-].

    For ``v = 1 + (d/2) sin(w t)`` the demodulated signal is ``x - 1 ~ d sin(w t)``;
    after block 3 it is ``d |H(jw)| sin``, whose square smoothed by the 300 ms
    mean peaks at ``(d |H|)^2 / 2 * (1 + |L(j 2w)|)`` with
    ``L = 1 / (1 + s tau)``. The scale is the inverse of that at the reference
    (8.8 Hz, ``d`` = :attr:`LampWeighting.reference_dv_percent`).

    Parameters
    ----------
    lamp_v : int, default 120
        Reference lamp voltage [V] of the weighting filter (a key of ``LAMP_WEIGHTING``).

    Returns
    -------
    float
        Block-4 gain [-].
    """
    w = _weighting(lamp_v)
    d = w.reference_dv_percent / 100.0
    h = _chain_gain(lamp_v, REFERENCE_HZ)
    ripple = 1.0 / math.hypot(1.0, 2.0 * math.pi * 2.0 * REFERENCE_HZ * SMOOTHING_TAU_S)
    return 2.0 / ((d * h) ** 2 * (1.0 + ripple))


@lru_cache(maxsize=16)
def _digital_filters(lamp_v: int, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    z, p, k = analog_chain_zpk(lamp_v)
    zd, pd, kd = signal.bilinear_zpk(z, p, k, fs_hz)
    sos_w = signal.zpk2sos(zd, pd, kd)
    zs, ps, ks = signal.bilinear_zpk([], [-1.0 / SMOOTHING_TAU_S], 1.0 / SMOOTHING_TAU_S, fs_hz)
    sos_s = signal.zpk2sos(zs, ps, ks)
    return sos_w, sos_s


def _check_input(v_rms_pu: np.ndarray, fs_hz: float) -> np.ndarray:
    v = np.asarray(v_rms_pu, dtype=float).reshape(-1)
    if not np.isfinite(fs_hz) or fs_hz < MIN_FS_HZ:
        raise ValueError(
            f"fs_hz = {fs_hz!r} Hz is too slow for the flickermeter: it needs fs_hz >= "
            f"{MIN_FS_HZ:g} Hz (>= {FULL_ACCURACY_FS_HZ:g} Hz for full accuracy); use the "
            "screening estimate cosim.metrics.poi.flicker_severity for coarser series"
        )
    if v.size < 2:
        raise ValueError(f"v_rms_pu needs at least 2 samples (got {v.size})")
    bad = int(np.count_nonzero(~np.isfinite(v)))
    if bad:
        raise ValueError(f"v_rms_pu has {bad} non-finite samples; fill or cut them first")
    if np.any(v <= 0):
        raise ValueError("v_rms_pu must be > 0 (an outage is not flicker)")
    return v


def _adaptor_reference(v: np.ndarray, fs_hz: float) -> np.ndarray:
    """Block 1: first-order sliding mean of ``v`` with a 60 s time constant [pu]."""
    a = math.exp(-1.0 / (ADAPTOR_TAU_S * fs_hz))
    n0 = max(1, min(v.size, int(round(ADAPTOR_TAU_S * fs_hz))))
    zi = np.array([a * float(np.mean(v[:n0]))])
    ref, _ = signal.lfilter([1.0 - a], [1.0, -a], v, zi=zi)
    return ref


def instantaneous_flicker(
    v_rms_pu: np.ndarray, fs_hz: float, *, lamp_v: int = 120, reconstruct: Reconstruct = "hold"
) -> InstantaneousFlicker:
    """Instantaneous flicker sensation (block 4 output) of an RMS voltage series.

    Parameters
    ----------
    v_rms_pu : numpy.ndarray
        RMS (phasor magnitude) voltage, uniformly sampled, step-held [pu] (any
        base: it is normalised to its own sliding mean).
    fs_hz : float
        Sampling rate of ``v_rms_pu`` [Hz]; at least :data:`MIN_FS_HZ`.
    lamp_v : int
        Reference lamp: 120 (120 V / 60 Hz) or 230 (230 V / 50 Hz) [V].
    reconstruct : {"hold", "linear"}
        How the series is brought to the internal rate: held (the recorded
        series' convention; right for steps) or linearly interpolated (for a
        series sampled from a smooth process).

    Returns
    -------
    InstantaneousFlicker
        ``pinst`` [-] at ``fs_hz`` [Hz], the internal rate (``m * fs_hz`` with
        the smallest integer ``m`` that reaches :data:`INTERNAL_FS_HZ`); sample
        ``i`` is at ``t = i / fs_hz`` [s] from the first input sample.

    Raises
    ------
    ValueError
        ``fs_hz`` below :data:`MIN_FS_HZ`, an unknown ``lamp_v`` or
        ``reconstruct``, non-finite or non-positive voltage.
    """
    _weighting(lamp_v)
    v = _check_input(v_rms_pu, fs_hz)
    m = max(1, math.ceil(INTERNAL_FS_HZ / fs_hz - 1e-9))
    fs_int = float(fs_hz) * m
    v_ref = _adaptor_reference(v, float(fs_hz))
    x = (v / v_ref) ** 2  # blocks 1-2
    if reconstruct == "hold":
        x = np.repeat(x, m)
    elif reconstruct == "linear":
        x = np.interp(np.arange(x.size * m) / m, np.arange(x.size), x)
    else:
        raise ValueError(f"reconstruct must be 'hold' or 'linear' (got {reconstruct!r})")
    sos_w, sos_s = _digital_filters(int(lamp_v), fs_int)
    y = signal.sosfilt(sos_w, x - x[0])  # block 3 starts at rest on the first value
    pinst = pinst_scale(int(lamp_v)) * signal.sosfilt(sos_s, y * y)  # block 4
    return InstantaneousFlicker(pinst=pinst, fs_hz=fs_int)


def pst_from_pinst(pinst: np.ndarray) -> float:
    """Short-term flicker severity of one observation period (block 5) [-].

    Parameters
    ----------
    pinst : numpy.ndarray
        Instantaneous flicker sensation over the period (normally 10 min), uniformly sampled [-].

    Returns
    -------
    float
        ``Pst`` from the exact (interpolated) percentiles of ``pinst``: ``P_k``
        is the level exceeded ``k`` % of the time.
    """
    p = np.asarray(pinst, dtype=float).reshape(-1)
    if p.size == 0:
        raise ValueError("pinst is empty")
    total = 0.0
    for exceeded, weight in _PST_TERMS:
        levels = np.percentile(p, [100.0 - e for e in exceeded])
        total += weight * float(np.mean(levels))
    return math.sqrt(max(total, 0.0))


def pst(
    v_rms_pu: np.ndarray,
    fs_hz: float,
    *,
    lamp_v: int = 120,
    settle_s: float = 120.0,
    reconstruct: Reconstruct = "hold",
) -> np.ndarray:
    """Short-term flicker severity of each complete 10-minute window.

    Parameters
    ----------
    v_rms_pu : numpy.ndarray
        RMS (phasor magnitude) voltage, uniformly sampled, step-held [pu].
    fs_hz : float
        Sampling rate [Hz]; at least :data:`MIN_FS_HZ` (10 Hz), and at least
        :data:`FULL_ACCURACY_FS_HZ` (100 Hz) for the standard's accuracy.
    lamp_v : int
        Reference lamp: 120 (120 V / 60 Hz) or 230 (230 V / 50 Hz) [V].
    settle_s : float
        Time left for the filters to settle before the first window [s].
    reconstruct : {"hold", "linear"}
        See :func:`instantaneous_flicker`.

    Returns
    -------
    numpy.ndarray
        ``Pst`` [-] of the windows ``[settle_s + 600 k, settle_s + 600 (k+1))``
        [s] that the series covers completely; empty when it covers none.

    Raises
    ------
    ValueError
        As :func:`instantaneous_flicker`, or a negative ``settle_s``.
    """
    if not settle_s >= 0:
        raise ValueError(f"settle_s must be >= 0 s (got {settle_s!r})")
    fl = instantaneous_flicker(v_rms_pu, fs_hz, lamp_v=lamp_v, reconstruct=reconstruct)
    n_win = int(round(PST_WINDOW_S * fl.fs_hz))
    i0 = int(round(settle_s * fl.fs_hz))
    n = max(0, (fl.pinst.size - i0) // n_win)
    return np.array(
        [pst_from_pinst(fl.pinst[i0 + k * n_win : i0 + (k + 1) * n_win]) for k in range(n)]
    )


def plt(pst_values: np.ndarray, *, n_per_plt: int = PST_PER_PLT) -> np.ndarray:
    """Long-term flicker severity: cube mean of each complete group of Pst.

    Parameters
    ----------
    pst_values : numpy.ndarray
        Consecutive 10-minute ``Pst`` [-].
    n_per_plt : int
        Pst per Plt: 12 (2 h) in IEC 61000-4-15.

    Returns
    -------
    numpy.ndarray
        ``Plt = (sum Pst^3 / n)^(1/3)`` [-] of each complete, non-overlapping
        group of ``n_per_plt`` values; empty when there is none.
    """
    if n_per_plt < 1:
        raise ValueError(f"n_per_plt must be >= 1 (got {n_per_plt})")
    p = np.asarray(pst_values, dtype=float).reshape(-1)
    n = p.size // n_per_plt
    groups = p[: n * n_per_plt].reshape(n, n_per_plt)
    return np.cbrt(np.mean(groups**3, axis=1))
