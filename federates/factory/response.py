"""How much of a load swing the BESS controller as built removes (pure, no helics).

A feedforward controller with a delay ``L`` and a first-order PCS lag ``tau``
leaves at the POI a residual of a swing at ``w = 2 pi f``::

    r(f) = |1 - exp(-j w L) / (1 + j w tau)|        (control theory)

and its attenuation is ``-20 log10 r`` [dB]. A sample-and-hold of period ``T``
adds ``exp(-j w T / 2) sinc(f T)`` to the transfer function (the hold's own
response; its aliases are left out). In the 0.2-3 Hz band of AI training
(arXiv 2508.14318), a total delay of tens of ms already costs most of the
attenuation an ideal BESS would give.

:func:`attenuation_table` sets the formula beside a simulation of
:class:`.bess.Bess` and :class:`.bess_control.BessControlLoop` driven by a
multisine of equal tones in the band; :func:`gpu_smoothing_study` runs the
site model with and without GPU-side smoothing to show what it adds where the
BESS alone cannot meet an oscillation limit. :mod:`.response_plots` draws both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from federates.factory.bess import Bess
from federates.factory.bess_control import BessControlLoop
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig

BAND_HZ = (0.2, 3.0)
"""Band of the training swing [Hz] (arXiv 2508.14318, sec. III-B)."""
OSC_BAND_HZ = (0.1, 20.0)
"""Band of the oscillation limit at the POI [Hz] (qualification test Q1)."""
OSC_LIMIT_FRACTION = 0.02
"""Oscillation limit: POI power RMS in :data:`OSC_BAND_HZ` / BESS rating (qualification Q1)."""
TONE_STEP_HZ = 0.1
"""Spacing of the multisine tones [Hz]; 10 s windows hold whole periods of every tone."""


def residual_ratio(
    f_hz: np.ndarray | float,
    latency_s: float,
    response_tau_s: float,
    control_period_s: float = 0.0,
) -> np.ndarray:
    """Share of a sinusoidal swing the feedforward BESS leaves at the POI.

    Parameters
    ----------
    f_hz : array_like
        Swing frequency [Hz].
    latency_s : float
        Measurement and communication delay L [s].
    response_tau_s : float
        First-order PCS time constant tau [s].
    control_period_s : float
        Sample-and-hold period T [s] (0 = continuous).

    Returns
    -------
    numpy.ndarray
        ``|1 - exp(-j w (L + T/2)) sinc(f T) / (1 + j w tau)|`` [-].
    """
    f = np.asarray(f_hz, dtype=float)
    w = 2.0 * math.pi * f
    h = np.exp(-1j * w * (latency_s + 0.5 * control_period_s)) / (1.0 + 1j * w * response_tau_s)
    if control_period_s > 0:
        h = h * np.sinc(f * control_period_s)
    return np.abs(1.0 - h)


def attenuation_db(
    f_hz: np.ndarray | float,
    latency_s: float,
    response_tau_s: float,
    control_period_s: float = 0.0,
) -> np.ndarray:
    """Attenuation ``-20 log10`` of :func:`residual_ratio` [dB] (same parameters).

    Parameters
    ----------
    f_hz : array_like or float
        Swing frequency [Hz].
    latency_s : float
        Measurement and communication delay [s].
    response_tau_s : float
        First-order PCS time constant [s].
    control_period_s : float, default 0.0
        Sample-and-hold period [s] (0 = continuous).

    Returns
    -------
    numpy.ndarray
        Attenuation at each frequency [dB].
    """
    return -20.0 * np.log10(residual_ratio(f_hz, latency_s, response_tau_s, control_period_s))


def band_tones_hz(band_hz: tuple[float, float] = BAND_HZ) -> np.ndarray:
    """Multisine tones [Hz]: every :data:`TONE_STEP_HZ` from the band's low to its high edge.

    Parameters
    ----------
    band_hz : tuple of (float, float), default BAND_HZ
        Low and high band edges [Hz].

    Returns
    -------
    numpy.ndarray
        Tone frequencies [Hz], ascending.
    """
    lo, hi = band_hz
    k0, k1 = math.ceil(lo / TONE_STEP_HZ - 1e-9), math.floor(hi / TONE_STEP_HZ + 1e-9)
    return np.arange(k0, k1 + 1) * TONE_STEP_HZ


def band_attenuation_db(
    latency_s: float,
    response_tau_s: float,
    control_period_s: float = 0.0,
    band_hz: tuple[float, float] = BAND_HZ,
) -> float:
    """Formula attenuation [dB] of a swing with equal power at the :func:`band_tones_hz`.

    Parameters
    ----------
    latency_s : float
        Measurement and communication delay [s].
    response_tau_s : float
        First-order PCS time constant [s].
    control_period_s : float, default 0.0
        Sample-and-hold period [s] (0 = continuous).
    band_hz : tuple of (float, float), default BAND_HZ
        Low and high band edges [Hz].

    Returns
    -------
    float
        Band attenuation [dB].
    """
    r = residual_ratio(band_tones_hz(band_hz), latency_s, response_tau_s, control_period_s)
    return float(-10.0 * np.log10(np.mean(r * r)))


def multisine_mw(t_s: np.ndarray, tones_hz: np.ndarray, peak_mw: float) -> np.ndarray:
    """Equal tones with Schroeder phases (low crest factor, no randomness), scaled to ``peak_mw``.

    Parameters
    ----------
    t_s : numpy.ndarray
        Instants [s].
    tones_hz : numpy.ndarray
        Tone frequencies [Hz].
    peak_mw : float
        Largest absolute value of the result [MW].

    Returns
    -------
    numpy.ndarray
        The multisine [MW].
    """
    n = len(tones_hz)
    phases = -math.pi * np.arange(n) * (np.arange(n) + 1) / n
    x = np.sum(np.sin(2 * math.pi * np.outer(t_s, tones_hz) + phases), axis=1)
    return x * (peak_mw / np.max(np.abs(x)))


def band_rms_mw(x_mw: np.ndarray, dt_s: float, band_hz: tuple[float, float]) -> float:
    """RMS [MW] of the part of a uniformly sampled series inside ``band_hz`` [Hz] (Parseval).

    Parameters
    ----------
    x_mw : array_like
        Uniformly sampled power [MW].
    dt_s : float
        Sampling interval [s].
    band_hz : tuple of (float, float)
        Low and high band edges [Hz], inclusive.

    Returns
    -------
    float
        RMS of the in-band part, mean removed [MW].
    """
    x = np.asarray(x_mw, dtype=float)
    n = len(x)
    spec = np.fft.rfft(x - x.mean())
    f = np.fft.rfftfreq(n, dt_s)
    sel = (f >= band_hz[0] - 1e-9) & (f <= band_hz[1] + 1e-9)
    return float(math.sqrt(2.0 * np.sum(np.abs(spec[sel]) ** 2)) / n)


def simulate_poi_mw(
    p_site_mw: np.ndarray,
    y_mw: np.ndarray,
    dt_s: float,
    bess: BessConfig,
    interval_s: float = 1.0,
) -> np.ndarray:
    """POI power [MW] when the BESS controller as built holds the POI at ``y_mw``.

    Runs :class:`.bess.Bess` under :class:`.bess_control.BessControlLoop` in grid
    intervals of ``interval_s`` (as the site does), at 1 pu.

    Parameters
    ----------
    p_site_mw, y_mw : numpy.ndarray
        Site load and POI setpoint per internal step [MW].
    dt_s : float
        Internal step [s].
    bess : BessConfig
        The BESS and its controller.
    interval_s : float
        Grid interval [s].

    Returns
    -------
    numpy.ndarray
        POI power per internal step [MW].
    """
    b, loop = Bess(bess), BessControlLoop(bess)
    n = len(p_site_mw)
    t = np.arange(n) * dt_s
    per = max(1, round(interval_s / dt_s))
    m = np.asarray(y_mw) - np.asarray(p_site_mw)
    b.start_at(float(m[0]))
    loop.start_from(0.0, 0.0 if loop.feedback else float(m[0]), b.p_actual_mw)
    out = np.empty(n)
    for k0 in range(0, n, per):
        k1 = min(n, k0 + per)
        a, e = t[k0:k1], t[k0:k1] + dt_s
        d = np.full(k1 - k0, dt_s)
        if loop.feedback:
            blk = loop.run_feedback(b, a, e, d, y_mw[k0:k1], p_site_mw[k0:k1], 0.0, 1.0)
        else:
            blk = b.run(loop.feedforward(a, e, m[k0:k1]), d, 0.0, uniform=True)
        out[k0:k1] = p_site_mw[k0:k1] + blk.p_actual_mw
    return out


def simulate_attenuation_db(
    bess: BessConfig,
    tones_hz: np.ndarray,
    dt_s: float = 0.01,
    peak_mw: float = 30.0,
    settle_s: float = 5.0,
    window_s: float = 10.0,
) -> float:
    """Simulated attenuation [dB] of a multisine site swing by the BESS controller as built.

    The site swings ``peak_mw`` (qualification Q2: +/- 30 MW) around 150 MW and
    the setpoint is the 150 MW mean (an ideal flattening target), so what
    reaches the POI is what the controller and the PCS lag leave.

    Parameters
    ----------
    bess : BessConfig
        The BESS and its controller (energy large enough for the window).
    tones_hz : numpy.ndarray
        Tones [Hz], multiples of ``1 / window_s``.
    dt_s, peak_mw, settle_s, window_s : float
        Internal step [s], swing peak [MW], start-up skipped [s], analysed window [s].

    Returns
    -------
    float
        ``20 log10(site band RMS / POI band RMS)`` over the tones [dB].
    """
    n = round((settle_s + window_s) / dt_s)
    t = np.arange(n) * dt_s
    swing = multisine_mw(t, np.asarray(tones_hz, dtype=float), peak_mw)
    p_site = 150.0 + swing
    poi = simulate_poi_mw(p_site, np.full(n, 150.0), dt_s, bess)
    w = t >= settle_s - 1e-9
    band = (float(np.min(tones_hz)), float(np.max(tones_hz)))
    rms_in = band_rms_mw(p_site[w], dt_s, band)
    rms_out = band_rms_mw(poi[w], dt_s, band)
    return float(20.0 * np.log10(rms_in / max(rms_out, 1e-12)))


@dataclass(frozen=True)
class AttenuationRow:
    """One controller of the attenuation table."""

    latency_s: float  #: measurement and communication delay [s]
    response_tau_s: float  #: PCS time constant [s]
    control_period_s: float  #: control period [s]
    control_mode: str  #: "feedforward" or "feedback"
    formula_db: float  #: band attenuation from :func:`band_attenuation_db` [dB] (feedforward)
    simulated_db: float  #: band attenuation from :func:`simulate_attenuation_db` [dB]


def attenuation_table(
    latencies_s: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25),
    taus_s: tuple[float, ...] = (0.01, 0.03, 0.1),
    control_period_s: float = 0.02,
    control_mode: str = "feedforward",
    band_hz: tuple[float, float] = BAND_HZ,
    dt_s: float = 0.01,
) -> list[AttenuationRow]:
    """Band attenuation [dB] against latency and PCS bandwidth, formula beside simulation.

    Parameters
    ----------
    latencies_s, taus_s : tuple of float
        Delays and PCS time constants to tabulate [s].
    control_period_s : float
        Control period [s].
    control_mode : str
        ``"feedforward"`` or ``"feedback"`` (the formula is the feedforward one).
    band_hz : tuple of float
        Band [Hz] (default 0.2-3 Hz).
    dt_s : float
        Internal step of the simulation [s].

    Returns
    -------
    list of AttenuationRow
        One row per (latency, tau), latencies varying fastest.
    """
    tones = band_tones_hz(band_hz)
    rows = []
    for tau in taus_s:
        for lat in latencies_s:
            cfg = BessConfig(
                e_mwh=1000.0,
                latency_s=lat,
                response_tau_s=tau,
                control_period_s=control_period_s,
                control_mode=control_mode,
            )
            rows.append(
                AttenuationRow(
                    lat,
                    tau,
                    control_period_s,
                    control_mode,
                    band_attenuation_db(lat, tau, control_period_s, band_hz),
                    simulate_attenuation_db(cfg, tones, dt_s=dt_s),
                )
            )
    return rows


@dataclass(frozen=True)
class SmoothingRow:
    """One configuration of :func:`gpu_smoothing_study`."""

    label: str  #: what runs: BESS (as built or ideal), GPU smoothing, both, or neither
    bess_on: bool
    gpu_smoothing: bool
    latency_s: float  #: BESS latency [s] (NaN without BESS)
    site_rms_mw: float  #: site power RMS in the oscillation band [MW]
    poi_rms_mw: float  #: POI power RMS in the oscillation band [MW]
    limit_mw: float  #: the limit: OSC_LIMIT_FRACTION x BESS rating [MW]
    poi_peak_mw: float  #: largest POI power [MW]
    site_peak_mw: float  #: largest site power [MW]

    @property
    def passes(self) -> bool:
        """POI band RMS within the limit."""
        return self.poi_rms_mw <= self.limit_mw


def gpu_smoothing_study(
    factory: FactoryConfig | None = None,
    bess: BessConfig | None = None,
    duration_s: float = 300.0,
    settle_s: float = 100.0,
    dt_s: float = 0.02,
    seed: int = 0,
) -> list[SmoothingRow]:
    """POI oscillation with the BESS as built, an ideal BESS, GPU-side smoothing, and both.

    Runs :class:`.site.FactorySite` with 1 s grid intervals at 1 pu and 60 Hz and
    measures the RMS of POI and site power in :data:`OSC_BAND_HZ` after
    ``settle_s``.

    Parameters
    ----------
    factory, bess : FactoryConfig, BessConfig, optional
        The site and the BESS (defaults: the project defaults).
    duration_s, settle_s, dt_s : float
        Run length, start-up skipped and internal step [s].
    seed : int
        Seed of the load.

    Returns
    -------
    list of SmoothingRow
        No BESS; BESS as built; ideal BESS (no delay, 10 ms lag); GPU smoothing
        alone; GPU smoothing and the BESS as built.
    """
    from federates.factory.site import FactorySite

    fac = factory or FactoryConfig()
    bes = bess or BessConfig()
    ideal = bes.model_copy(
        update={"latency_s": 0.0, "control_period_s": 0.0, "response_tau_s": 0.01}
    )
    smooth = fac.model_copy(
        update={"gpu_smoothing": fac.gpu_smoothing.model_copy(update={"enabled": True})}
    )
    off = bes.model_copy(update={"enabled": False})
    cases = [
        ("no BESS", fac, off),
        ("BESS as built", fac, bes),
        ("ideal BESS", fac, ideal),
        ("GPU smoothing", smooth, off),
        ("GPU smoothing + BESS as built", smooth, bes),
    ]
    band = (OSC_BAND_HZ[0], min(OSC_BAND_HZ[1], 0.5 / dt_s))
    rows = []
    for label, f_cfg, b_cfg in cases:
        site = FactorySite(f_cfg, b_cfg, ControlsConfig(), seed=seed, dt_s=dt_s)
        poi, ps = [], []
        for k in range(round(duration_s)):
            out = site.advance(float(k), k + 1.0, 1.0, 60.0)
            if k >= settle_s:
                poi.append(out.hr["p_mw"])
                ps.append(out.hr["p_site_mw"])
        p, s = np.concatenate(poi), np.concatenate(ps)
        rows.append(
            SmoothingRow(
                label,
                b_cfg.enabled,
                f_cfg.gpu_smoothing.enabled,
                b_cfg.latency_s if b_cfg.enabled else math.nan,
                band_rms_mw(s, dt_s, band),
                band_rms_mw(p, dt_s, band),
                OSC_LIMIT_FRACTION * bes.p_mw,
                float(p.max()),
                float(s.max()),
            )
        )
    return rows
