"""Spectrum of a power series: Welch PSD, band RMS, oscillation bands, attenuation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from cosim.metrics._result import MetricResult
from cosim.metrics._series import as_array, finite_or_none, is_uniform, uniform

#: the oscillation bands reported in the summary: key suffix -> (low, high) [Hz]
OSC_BANDS_HZ: dict[str, tuple[float, float]] = {
    "0p1_2hz": (0.1, 2.0),
    "0p2_3hz": (0.2, 3.0),
    "3_30hz": (3.0, 30.0),
}


def spectrum(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    segment_s: float = 100.0,
    t_end_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Welch power spectral density of a power series.

    Non-uniform series are resampled (step-held) to their smallest step.
    Segments of ``segment_s`` (0.01 Hz resolution by default, fewer samples
    when the series is shorter), Hann window, linear detrend.

    Parameters
    ----------
    t_s : instants [s]
    p_mw : power [MW]
    segment_s : Welch segment length [s]
    t_end_s : end of the last interval [s]

    Returns
    -------
    f_hz : frequencies [Hz]
    psd_mw2_per_hz : power spectral density [MW^2/Hz]
    dt_s : sampling step used [s]; empty arrays and NaN when fewer than 8 samples
    """
    t, p = as_array(t_s), as_array(p_mw)
    ok = np.isfinite(p)
    if ok.sum() < 8:
        return np.empty(0), np.empty(0), float("nan")
    t, p = t[ok], p[ok]
    if is_uniform(t):
        dt = float(t[1] - t[0])
    else:
        dt = float(np.min(np.diff(t)))
        t, p = uniform(t, p, dt, t_end_s)
    nper = int(min(p.size, max(8, round(segment_s / dt))))
    f, pxx = signal.welch(
        p, fs=1.0 / dt, window="hann", nperseg=nper, detrend="linear", scaling="density"
    )
    return f, pxx, dt


def band_rms(f_hz: np.ndarray, psd: np.ndarray, lo_hz: float, hi_hz: float) -> float | None:
    """RMS [MW] of the part of a signal in ``[lo_hz, hi_hz]`` from its PSD.

    ``sqrt(sum PSD df)`` over the bins inside the band. None when the band
    lies wholly above the Nyquist frequency (no data); a band cut by Nyquist
    covers only the part below it.

    Parameters
    ----------
    f_hz : frequencies [Hz] (uniform)
    psd : power spectral density [MW^2/Hz]
    lo_hz, hi_hz : band edges [Hz]

    Returns
    -------
    float or None
        RMS in the band [MW].
    """
    f, s = as_array(f_hz), as_array(psd)
    if f.size < 2 or lo_hz >= f[-1]:
        return None
    df = float(f[1] - f[0])
    sel = (f >= lo_hz) & (f <= hi_hz)
    return float(np.sqrt(np.sum(s[sel]) * df))


@dataclass(frozen=True)
class OscillationBands(MetricResult):
    """RMS of a power series in frequency bands.

    Attributes
    ----------
    rms_mw : band key -> RMS in the band [MW] (None when the band lies above Nyquist)
    nyquist_hz : Nyquist frequency of the series [Hz]
    bands_truncated : keys of bands cut by the Nyquist frequency
    """

    rms_mw: dict[str, float | None] = field(default_factory=dict)
    nyquist_hz: float | None = None
    bands_truncated: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """``{"osc_rms_<key>_mw": ..., "nyquist_hz": ..., "bands_truncated": [...]}``."""
        out: dict[str, object] = {f"osc_rms_{k}_mw": v for k, v in self.rms_mw.items()}
        out.update(nyquist_hz=self.nyquist_hz, bands_truncated=list(self.bands_truncated))
        return out

    def __getitem__(self, key: str) -> object:
        flat = self.as_dict()
        if key not in flat:
            raise KeyError(f"OscillationBands has no {key!r}")
        return flat[key]


def oscillation_bands(
    t_s: np.ndarray,
    p_mw: np.ndarray,
    bands_hz: dict[str, tuple[float, float]] | None = None,
    t_end_s: float | None = None,
) -> OscillationBands:
    """RMS of POI power in each band (Welch), plus the Nyquist frequency.

    Parameters
    ----------
    t_s : instants [s]
    p_mw : power [MW]
    bands_hz : band key -> ``(low, high)`` [Hz] (default :data:`OSC_BANDS_HZ`)
    t_end_s : end of the last interval [s]

    Returns
    -------
    OscillationBands
    """
    bands = OSC_BANDS_HZ if bands_hz is None else bands_hz
    f, pxx, dt = spectrum(t_s, p_mw, t_end_s=t_end_s)
    nyq = 0.5 / dt if f.size else None
    rms = {key: band_rms(f, pxx, lo, hi) if f.size else None for key, (lo, hi) in bands.items()}
    truncated = tuple(k for k, (lo, hi) in bands.items() if nyq is not None and lo < nyq < hi)
    return OscillationBands(rms, finite_or_none(nyq), truncated)


def attenuation_db(rms_in: float | None, rms_out: float | None) -> float | None:
    """``20 log10(rms_in / rms_out)`` [dB]; None when either is missing or zero.

    Parameters
    ----------
    rms_in : RMS before the BESS [MW]
    rms_out : RMS after it [MW]

    Returns
    -------
    float or None
        attenuation [dB].
    """
    if not rms_in or not rms_out or rms_in <= 0 or rms_out <= 0:
        return None
    return float(20.0 * np.log10(rms_in / rms_out))
