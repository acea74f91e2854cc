"""Forced-oscillation sweep of a dynamic case (``cosim oscillation``).

For each forcing frequency ``f_hz`` the site swings at ``f_hz`` and the dynamic
grid's response is measured once it is periodic:

* the **training swing** (default): the case's factory model
  (:class:`federates.factory.site.FactorySite`, every training job's iteration period
  set to ``1 / f_hz``, no jitter) drives the dynamic grid
  (:class:`federates.dynamics.model.DynamicGrid`) at the exchange step
  ``horizon.grid_dt_s``, the POI voltage fed back to the factory each step: the
  federation's coupling, run in one process without HELICS (a federation per point
  costs a broker and three processes; the physics is the same). Each point runs
  with the case's BESS and without it (``bess.enabled = false``);
* a **sine** of ``amplitude_mw`` [MW] around the site's initial power (constant
  power factor) applied to the grid directly: the factory model is bypassed, so
  there is no BESS comparison.

A point runs ``settle_s`` [s] to let the transient decay, then measures over
``max(measure_s, 5 periods)``: peak-to-peak generator speed deviation (linear trend
removed, max over generators) [mHz], peak-to-peak branch active power (max over
branches) [MW] and peak-to-peak POI voltage over its mean [%].

Resonance: a spectral line of the site's load (at least 5 % of the largest) inside
a mode's half-power band ``f_n (1 +/- zeta)`` (``f_n`` the undamped natural
frequency) is flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cosim.case import Case
from cosim.studies.modes import dynamic_grid
from federates.dynamics.modes import Mode
from federates.factory.config import FactoryConfig

SETTLE_S = 10.0
MEASURE_S = 10.0
LINE_SHARE = 0.05  # spectral lines of at least this share of the largest one count


@dataclass(frozen=True)
class Response:
    """The grid's response over the measurement window.

    Attributes
    ----------
    speed_dev_pp_max_mhz : peak-to-peak speed deviation, detrended, max over generators [mHz]
    branch_osc_max_mw : peak-to-peak branch active power, max over branches [MW]
    poi_v_osc_percent : peak-to-peak POI voltage over its mean [%]
    site_p_pp_mw : peak-to-peak site power drawn [MW]
    lines_hz : spectral lines of the site's power [Hz] (largest first)
    """

    speed_dev_pp_max_mhz: float
    branch_osc_max_mw: float
    poi_v_osc_percent: float
    site_p_pp_mw: float
    lines_hz: list[float]


def half_power_band_hz(m: Mode) -> tuple[float, float]:
    """A mode's half-power band ``f_n (1 -/+ zeta)`` [Hz]."""
    z = min(m.damping_ratio, 0.99)
    f_n = m.freq_hz / math.sqrt(1 - z * z)
    return f_n * (1 - z), f_n * (1 + z)


def resonances(lines_hz: list[float], found: list[Mode]) -> list[dict[str, Any]]:
    """Lines of the site's load inside an electromechanical mode's half-power band."""
    out = []
    for m in found:
        if m.kind == "control":
            continue
        lo, hi = half_power_band_hz(m)
        out += [
            {"line_hz": f, "mode_hz": m.freq_hz, "kind": m.kind, "band_hz": [lo, hi]}
            for f in lines_hz
            if lo <= f <= hi
        ]
    return out


def _lines_hz(t_s: np.ndarray, p_mw: np.ndarray) -> list[float]:
    """Spectral lines of a periodic series (local maxima >= LINE_SHARE of the largest) [Hz]."""
    x = p_mw - p_mw.mean()
    n = len(x)
    if n < 8:
        return []
    amp = np.abs(np.fft.rfft(x * np.hanning(n)))
    f = np.fft.rfftfreq(n, float(np.mean(np.diff(t_s))))
    top = amp.max()
    if not top > 0:
        return []
    peaks = [
        k
        for k in range(1, len(amp) - 1)
        if amp[k] >= LINE_SHARE * top and amp[k] >= amp[k - 1] and amp[k] >= amp[k + 1]
    ]
    return [float(f[k]) for k in sorted(peaks, key=lambda k: -amp[k])][:10]


def _detrended_ptp(t_s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Peak-to-peak of each column after removing its linear trend."""
    a = np.vstack([t_s - t_s.mean(), np.ones_like(t_s)]).T
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    return np.ptp(y - a @ coef, axis=0)


def _response(t_s: np.ndarray, rows: dict[str, np.ndarray]) -> Response:
    v = rows["poi_vm_pu"]
    return Response(
        speed_dev_pp_max_mhz=float(_detrended_ptp(t_s, rows["speed_hz"]).max() * 1e3),
        branch_osc_max_mw=float(np.ptp(rows["branch_mw"], axis=0).max()),
        poi_v_osc_percent=float(100 * np.ptp(v) / np.mean(v)),
        site_p_pp_mw=float(np.ptp(rows["p_mw"])),
        lines_hz=_lines_hz(t_s, rows["p_mw"]),
    )


def training_factory(factory: FactoryConfig, f_hz: float) -> FactoryConfig:
    """The case's factory with every training job iterating at ``f_hz`` (no jitter)."""
    data = factory.model_dump(mode="json")
    for job in data["training"]["jobs"]:
        period_s = 1.0 / f_hz
        job["period_s"] = period_s
        job["jitter_fraction"] = 0.0
        job["rise_time_s"] = min(job["rise_time_s"], 0.25 * (1 - job["compute_duty"]) * period_s)
    return FactoryConfig.model_validate(data)


def _window(f_hz: float, settle_s: float, measure_s: float, dt_s: float) -> tuple[int, int]:
    """(steps in total, first measured step): a whole number of periods measured."""
    periods = max(5, math.ceil(measure_s * f_hz))
    n_meas = int(round(periods / f_hz / dt_s))
    return int(round(settle_s / dt_s)) + n_meas, int(round(settle_s / dt_s))


def _record(rows: dict[str, list], r: Any) -> None:
    rows["speed_hz"].append(r.speed_dev_hz)
    rows["branch_mw"].append(r.branch_p_mw)
    rows["poi_vm_pu"].append(r.poi_vm_pu)
    rows["p_mw"].append(r.p_site_mw)


def _finish(rows: dict[str, list], t_s: np.ndarray, k0: int) -> Response:
    arr = {k: np.asarray(v)[k0:] for k, v in rows.items()}
    return _response(t_s[k0:], arr)


def training_point(
    case: Case, f_hz: float, *, bess: bool, settle_s: float = SETTLE_S, measure_s: float = MEASURE_S
) -> Response:
    """The grid's response to the factory's training swing at ``f_hz`` [Hz], BESS on or off."""
    from federates.factory.site import FactorySite

    dt_s = case.horizon.grid_dt_s
    n, k0 = _window(f_hz, settle_s, measure_s, dt_s)
    c = case.model_copy(deep=True)
    c.factory = training_factory(case.factory, f_hz)
    c.bess = case.bess.model_copy(update={"enabled": bess and case.bess.enabled})
    c.horizon.duration_s = max(c.horizon.duration_s, n * dt_s + 1.0)
    assert c.dynamics is not None
    c.dynamics = c.dynamics.model_copy(update={"p_site0_mw": None, "q_site0_mvar": None})
    grid = dynamic_grid(c)
    site = FactorySite(
        c.factory, c.bess, c.controls, seed=c.seed, dt_s=c.horizon.factory_dt_s, base_dir=c.base_dir
    )
    rows: dict[str, list] = {"speed_hz": [], "branch_mw": [], "poi_vm_pu": [], "p_mw": []}
    vm_pu = 1.0
    t_s = dt_s * np.arange(n)
    for t in t_s:
        out = site.advance(float(t), float(t) + dt_s, vm_pu, 60.0)
        r = grid.step(float(t), dt_s, out.p_mw, out.q_mvar)
        vm_pu = r.poi_vm_pu
        _record(rows, r)
    return _finish(rows, t_s, k0)


def sine_point(
    case: Case,
    f_hz: float,
    amplitude_mw: float,
    *,
    settle_s: float = SETTLE_S,
    measure_s: float = MEASURE_S,
) -> Response:
    """The grid's response to a sine of ``amplitude_mw`` [MW] at ``f_hz`` [Hz] (no factory)."""
    dt_s = case.horizon.grid_dt_s
    n, k0 = _window(f_hz, settle_s, measure_s, dt_s)
    grid = dynamic_grid(case)
    p0 = grid.s_site0_pu.real * grid.s_base_mva
    q0 = grid.s_site0_pu.imag * grid.s_base_mva
    t_s = dt_s * np.arange(n)
    p = p0 + amplitude_mw * np.sin(2 * np.pi * f_hz * (t_s + 0.5 * dt_s))
    q = p * (q0 / p0) if p0 else np.full_like(p, q0)
    r = grid.run_block(t_s + dt_s, p, q)
    rows = {
        "speed_hz": r.speed_dev_hz,
        "branch_mw": r.branch_p_mw,
        "poi_vm_pu": r.poi_vm_pu,
        "p_mw": r.p_site_mw,
    }
    return _finish({k: list(v) for k, v in rows.items()}, t_s, k0)


def sweep(
    case: Case,
    freqs_hz: list[float],
    found: list[Mode],
    *,
    amplitude_mw: float | None = None,
    settle_s: float = SETTLE_S,
    measure_s: float = MEASURE_S,
) -> list[dict[str, Any]]:
    """One point per frequency: the response (with BESS, and without for the training swing)."""
    points = []
    for f in freqs_hz:
        kw = {"settle_s": settle_s, "measure_s": measure_s}
        if amplitude_mw is None:
            on = training_point(case, f, bess=True, **kw)
            off = training_point(case, f, bess=False, **kw)
        else:
            on, off = sine_point(case, f, amplitude_mw, **kw), None
        point: dict[str, Any] = {
            "f_hz": f,
            "forcing": "training swing" if amplitude_mw is None else f"sine {amplitude_mw:g} MW",
            "speed_dev_pp_max_mhz": on.speed_dev_pp_max_mhz,
            "branch_osc_max_mw": on.branch_osc_max_mw,
            "poi_v_osc_percent": on.poi_v_osc_percent,
            "site_p_pp_mw": on.site_p_pp_mw,
            "site_lines_hz": on.lines_hz,
            "resonance": resonances(on.lines_hz, found),
        }
        if off is not None:
            point["no_bess"] = {
                "speed_dev_pp_max_mhz": off.speed_dev_pp_max_mhz,
                "branch_osc_max_mw": off.branch_osc_max_mw,
                "poi_v_osc_percent": off.poi_v_osc_percent,
                "site_p_pp_mw": off.site_p_pp_mw,
                "site_lines_hz": off.lines_hz,
                "resonance": resonances(off.lines_hz, found),
            }
        points.append(point)
    return points
