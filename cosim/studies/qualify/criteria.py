"""Pass/fail of each qualification test: pure functions of time series.

Each ``q<n>_*`` function takes the series a test recorded (numpy arrays; time
``t_s`` in seconds, power in MW with the load convention ``+ = import``,
voltage in pu, frequency in Hz, SOC as a fraction of the energy rating) and the
test's thresholds (:class:`cosim.studies.qualify.params.Value`, with unit and source),
and returns a :class:`Verdict`: one :class:`Check` per condition, a one-line
reason, and the figures that prove it. No I/O, no federation.

A check passes when its value is on the allowed side of the threshold or on it
(``<=`` / ``>=``, relative tolerance 1e-9 for float round-off). A value that
could not be measured makes the check ``passed = None`` (not judged) with a
note; a test whose stimulus did not happen (e.g. no voltage dip at the POI in a
sag test) is ``None`` too, never a silent pass.

The thresholds are listed in :data:`THRESHOLDS` (defaults from
``docs/domain.md``, "Qualification test profiles").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cosim.metrics import events as ev_metrics
from cosim.metrics import poi as poi_metrics
from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value

_SUITE = (
    "docs/domain.md qualification suite (inspired by NVIDIA DSX BESS Self-Qualification Guidelines)"
)
_ZAHEDI = "Zahedi et al., arXiv 2601.12686"
_ERCOT = "ERCOT ride-through proposal (docs/domain.md)"
_RTOL = 1e-9

#: thresholds of every test (stimulus parameters live in :mod:`cosim.studies.qualify.profiles`)
THRESHOLDS: dict[str, list[Param]] = {
    "Q1": [
        Param(
            "osc_limit_percent",
            2.0,
            "% of BESS rating",
            f"{_SUITE} Q1",
            "RMS of POI power in the band",
        ),
        Param("osc_band_hz", (0.1, 20.0), "Hz", f"{_SUITE} Q1", "band of the oscillation limit"),
        Param(
            "rvc_limit_percent",
            3.0,
            "%",
            f"Dominion ({_ZAHEDI}); {_SUITE} Q1",
            "rapid voltage change at the POI",
        ),
        Param(
            "rvc_window_s",
            1.0,
            "s",
            "IEC 61000-4-30 (1 s sliding mean reference)",
            "RVC reference window",
        ),
        Param(
            "settle_s",
            30.0,
            "s",
            "assumed (controller start-up not judged)",
            "start of the judged window",
        ),
    ],
    "Q2": [
        Param(
            "band_hz",
            (0.2, 3.0),
            "Hz",
            f"{_SUITE} Q2; training band of arXiv 2508.14318",
            "attenuation band",
        ),
        Param(
            "min_attenuation_db", 10.0, "dB", f"{_SUITE} Q2", "site-to-POI attenuation in the band"
        ),
        Param(
            "settle_s",
            30.0,
            "s",
            "assumed (controller start-up not judged)",
            "start of the judged window",
        ),
    ],
    "Q3": [
        Param(
            "ramp_limit_mw_per_min",
            20.0,
            "MW/min",
            f"Southern Co ({_ZAHEDI}); {_SUITE} Q3",
            "POI ramp limit (the case's requirements.ramp_max_mw_per_min when it sets one)",
        ),
        Param(
            "ramp_window_s", 60.0, "s", "assumed (1 min window, as the limit's unit)", "ramp window"
        ),
    ],
    "Q4": [
        Param("step_limit_percent", 3.0, "% of BESS rating", f"{_SUITE} Q4", "largest POI step"),
        Param(
            "step_window_s",
            1.0,
            "s",
            "assumed (a step is a change within 1 s)",
            "window a step is measured over",
        ),
    ],
    "Q5": [
        Param("soc_drift_max", 0.05, "1", f"{_SUITE} Q5", "|SOC end - SOC start|"),
        Param(
            "soc_min",
            0.20,
            "1",
            "docs/domain.md BESS SOC window 20-80 % (assumed)",
            "lowest allowed SOC",
        ),
        Param(
            "soc_max",
            0.80,
            "1",
            "docs/domain.md BESS SOC window 20-80 % (assumed)",
            "highest allowed SOC",
        ),
    ],
    "Q6": [
        Param("response_fast_s", 2.0, "s", f"{_SUITE} Q6 (fast call)", "time to reach the target"),
        Param("response_slow_s", 60.0, "s", f"{_SUITE} Q6 (slow call)", "time to reach the target"),
        Param(
            "target_tolerance_percent",
            1.0,
            "% of baseline",
            "assumed",
            "POI may sit this far above the target",
        ),
    ],
    "Q7": [
        Param(
            "load_loss_max_percent",
            10.0,
            "% of pre-event",
            f"{_ERCOT}: >= 90 % of pre-disturbance load",
            "largest POI load loss the grid sees",
        ),
        Param("recovery_time_max_s", 1.0, "s", _ERCOT, "time to 90 % once POI V >= 0.9 pu"),
        Param(
            "v_band_pu",
            (0.9, 1.1),
            "pu",
            "SPP / ERCOT continuous band",
            "band outside which V is a disturbance",
        ),
        Param(
            "window_s",
            10.0,
            "s",
            "assumed",
            "time after a disturbance searched for loss and recovery",
        ),
    ],
    "Q8": [
        Param(
            "load_loss_max_percent",
            10.0,
            "% of pre-event",
            f"{_ERCOT}: >= 90 % of pre-disturbance load",
            "largest POI load loss the grid sees",
        ),
        Param("recovery_time_max_s", 1.0, "s", _ERCOT, "time to 90 % once POI V >= 0.9 pu"),
        Param(
            "v_band_pu",
            (0.9, 1.1),
            "pu",
            "SPP / ERCOT continuous band",
            "band outside which V is a disturbance",
        ),
        Param(
            "window_s",
            10.0,
            "s",
            "assumed",
            "time after a disturbance searched for loss and recovery",
        ),
    ],
    "Q9": [
        Param("v_min_pu", 0.95, "pu", "ANSI C84.1 Range A", "lowest POI voltage"),
        Param("v_max_pu", 1.05, "pu", "ANSI C84.1 Range A", "highest POI voltage"),
        Param(
            "settle_s",
            30.0,
            "s",
            "assumed (controller start-up not judged)",
            "start of the judged window",
        ),
    ],
    "Q10": [
        Param(
            "droop_fraction",
            0.9,
            "1",
            "assumed (90 %, as the ERCOT recovery figure)",
            "share of the droop power delivered",
        ),
        Param("response_s", 1.0, "s", f"{_SUITE} Q10", "delay allowed for the droop response"),
        Param(
            "load_loss_max_percent",
            10.0,
            "% of pre-event",
            f"{_ERCOT}: stays connected",
            "largest POI load loss",
        ),
        Param(
            "f_band_hz",
            (58.8, 61.2),
            "Hz",
            "SPP continuous frequency band",
            "frequency ride-through band",
        ),
        Param(
            "avg_s",
            2.0,
            "s",
            "assumed (one 2 s training iteration)",
            "centred mean removing the swing residual",
        ),
        Param(
            "judge_s",
            15.0,
            "s",
            "assumed (the response, not the governor's recovery)",
            "time after the excursion's start that is judged",
        ),
    ],
    "Q11": [
        Param("v_min_pu", 0.95, "pu", "ANSI C84.1 Range A; NERC TPL-001", "lowest bus voltage"),
        Param("v_max_pu", 1.05, "pu", "ANSI C84.1 Range A; NERC TPL-001", "highest bus voltage"),
        Param("loading_max_percent", 100.0, "%", "NERC TPL-001", "branch loading"),
        Param(
            "added_severity_max_pp",
            0.0,
            "pp",
            "assumed: violations the network has without the site are the grid's, not the site's",
            "worst violation added by the site over the same outage without it",
        ),
    ],
    "Q12": [
        Param(
            "tap_ratio_max",
            1.0,
            "1",
            f"{_SUITE} Q12 (tap operations reduced: ratio strictly below)",
            "tap operations with BESS / without must be below this",
        ),
    ],
}


# ---------------------------------------------------------------- verdict types


@dataclass
class Check:
    """One condition of a test: ``value op threshold``."""

    name: str
    value: float | None
    threshold: float
    unit: str
    source: str
    op: Literal["<=", ">=", "<"]
    passed: bool | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _num(self.value),
            "threshold": _num(self.threshold),
            "op": self.op,
            "unit": self.unit,
            "source": self.source,
            "passed": self.passed,
            "note": self.note,
        }

    @property
    def margin(self) -> float:
        """Relative distance to the threshold, negative when failed (for ranking)."""
        if self.value is None or not math.isfinite(self.value):
            return -math.inf
        scale = max(abs(self.threshold), 1e-12)
        d = (self.value - self.threshold) if self.op == ">=" else (self.threshold - self.value)
        return d / scale


def judge(value: float | None, threshold: float, op: Literal["<=", ">=", "<"]) -> bool | None:
    """``value <= threshold`` (or ``>=``) with a 1e-9 relative tolerance, or strictly ``<``; None when no value."""
    if value is None or not math.isfinite(value):
        return None
    tol = _RTOL * max(abs(threshold), 1.0)
    if op == "<":
        return value < threshold - tol
    return value <= threshold + tol if op == "<=" else value >= threshold - tol


def check(
    name: str,
    value: float | None,
    th: Value,
    op: Literal["<=", ">=", "<"],
    *,
    threshold: float | None = None,
    unit: str | None = None,
    note: str = "",
) -> Check:
    """A :class:`Check` of ``value`` against the parameter ``th`` (or a derived ``threshold``)."""
    limit = float(th.value) if threshold is None else float(threshold)
    v = None if value is None or not math.isfinite(float(value)) else float(value)
    return Check(name, v, limit, unit or th.unit, th.source, op, judge(v, limit, op), note)


@dataclass
class Verdict:
    """The outcome of one test: checks, reason, figures, and what caused a failure.

    ``cause`` is set by a criterion that can tell the failure is not the
    BESS's: ``"grid"`` (the network fails without the site too, or cannot
    carry it) or ``"stimulus"`` (the test could not be applied).
    ``measures`` holds extra figures for the report and the shortfall analysis.
    """

    checks: list[Check]
    reason: str = ""
    figures: list[Figure] = field(default_factory=list)
    cause: str | None = None
    measures: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """False when a check failed; None when one could not be judged; else True."""
        if self.cause == "stimulus":
            return None
        states = [c.passed for c in self.checks]
        if any(s is False for s in states):
            return False
        if not states or any(s is None for s in states):
            return None
        return True

    @property
    def governing(self) -> Check | None:
        """The check that decides: a failed (else unjudged) one, measured before unmeasured, furthest from its
        limit; else the tightest."""
        if not self.checks:
            return None
        return min(
            self.checks,
            key=lambda c: (c.passed is not False, c.passed is not None, c.value is None, c.margin),
        )


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(-1)


def _fmt(x: float | None, nd: int = 3) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{nd}g}"


def _reason(checks: list[Check]) -> str:
    parts = []
    for c in checks:
        state = {True: "ok", False: "FAILS", None: "not judged"}[c.passed]
        parts.append(f"{c.name} {_fmt(c.value)} {c.unit} vs {c.op} {_fmt(c.threshold)} ({state})")
    return "; ".join(parts)


def _after(t: np.ndarray, *xs: np.ndarray, start_s: float) -> tuple[np.ndarray, ...]:
    sel = t >= t[0] + start_s if t.size else np.zeros(0, dtype=bool)
    if t.size and not sel.any():
        sel = np.ones_like(t, dtype=bool)
    return (t[sel], *(x[sel] for x in xs))


# ---------------------------------------------------------------- helpers


def band_rms_mw(
    t_s: np.ndarray, p_mw: np.ndarray, band_hz: tuple[float, float]
) -> tuple[float | None, dict]:
    """RMS [MW] of a power series in ``band_hz`` (Welch PSD, :mod:`cosim.metrics.poi`).

    Returns the RMS and ``{"f_hz", "psd", "nyquist_hz", "truncated"}``;
    ``truncated`` is True when the band reaches above the Nyquist frequency
    of the series (the part above it is not seen).
    """
    f, psd, dt = poi_metrics.spectrum(_arr(t_s), _arr(p_mw))
    if not f.size:
        return None, {"f_hz": f, "psd": psd, "nyquist_hz": None, "truncated": False}
    nyq = 0.5 / dt
    rms = poi_metrics.band_rms(f, psd, band_hz[0], band_hz[1])
    return rms, {
        "f_hz": f,
        "psd": psd,
        "nyquist_hz": nyq,
        "truncated": band_hz[1] > nyq * (1 + 1e-9),
    }


def max_step_mw(
    t_s: np.ndarray, p_mw: np.ndarray, window_s: float
) -> tuple[float | None, float | None]:
    """Largest ``|P(t) - P(t - window_s)|`` [MW] of a step-held series and the time it ends."""
    r = poi_metrics.ramp_rates(_arr(t_s), _arr(p_mw), window_s)
    if r["max_mw_per_s"] is None:
        return None, None
    return r["max_mw_per_s"] * window_s, r["t_max_s"]


def centred_mean(t_s: np.ndarray, x: np.ndarray, width_s: float) -> np.ndarray:
    """Moving mean of ``x`` over ``[t - width/2, t + width/2]`` (time-weighted, step-held samples)."""
    from cosim.metrics._series import window_mean

    t = _arr(t_s)
    return window_mean(t, _arr(x), t - width_s / 2, t + width_s / 2)


def first_order_lowpass(t_s: np.ndarray, x: np.ndarray, tau_s: float) -> np.ndarray:
    """Exact discretisation of ``tau dy/dt = x - y`` for step-held ``x``, ``y(0) = x(0)``."""
    t, v = _arr(t_s), _arr(x)
    if not v.size:
        return v.copy()
    dt = np.diff(t, append=t[-1] + (t[-1] - t[-2] if t.size > 1 else 0.0))
    a = 1.0 - np.exp(-dt / tau_s)
    y = np.empty_like(v)
    y[0] = v[0]
    for k in range(1, v.size):
        y[k] = y[k - 1] + a[k - 1] * (v[k - 1] - y[k - 1])
    return y


def rate_limited(t_s: np.ndarray, x: np.ndarray, mw_per_s: float) -> np.ndarray:
    """``x`` passed through a rate limiter of ``mw_per_s`` [MW/s], starting at ``x(0)``."""
    t, v = _arr(t_s), _arr(x)
    y = np.empty_like(v)
    if not v.size:
        return y
    y[0] = v[0]
    dt = np.diff(t)
    for k in range(1, v.size):
        step = mw_per_s * dt[k - 1]
        y[k] = min(max(v[k], y[k - 1] - step), y[k - 1] + step)
    return y


# ---------------------------------------------------------------- Q1 flatten


def q1_flatten(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    t_v: np.ndarray,
    v_poi: np.ndarray,
    bess_p_mw: float,
    th: Mapping[str, Value],
    p_site: np.ndarray | None = None,
) -> Verdict:
    """Q1: POI power in the oscillation band <= x % of the BESS rating; POI RVC <= 3 %.

    Parameters
    ----------
    t_p, p_poi : POI active power [s], [MW] (finest series: the factory's internal step)
    t_v, v_poi : POI voltage [s], [pu]
    bess_p_mw : BESS rated power [MW] (the rating the limit is a share of)
    p_site : site power before the BESS [MW] on ``t_p`` (for the figure), optional
    """
    t_p, p_poi, t_v, v_poi = _arr(t_p), _arr(p_poi), _arr(t_v), _arr(v_poi)
    settle = float(th["settle_s"].value)
    band = tuple(th["osc_band_hz"].value)
    tp, pp_ = _after(t_p, p_poi, start_s=settle)
    rms, spec = band_rms_mw(tp, pp_, band)
    limit_mw = float(th["osc_limit_percent"].value) / 100.0 * bess_p_mw
    note = ""
    if spec["truncated"]:
        note = f"band cut at the series' Nyquist frequency {_fmt(spec['nyquist_hz'])} Hz"
    c1 = check(
        f"POI power RMS in {band[0]:g}-{band[1]:g} Hz",
        rms,
        th["osc_limit_percent"],
        "<=",
        threshold=limit_mw,
        unit="MW",
        note=f"{th['osc_limit_percent'].value:g} % of {bess_p_mw:g} MW. {note}".strip(),
    )
    tv, vv = _after(t_v, v_poi, start_s=settle)
    rvc = poi_metrics.rapid_voltage_change(tv, vv, float(th["rvc_window_s"].value))
    c2 = check("POI rapid voltage change", rvc["max_percent"], th["rvc_limit_percent"], "<=")
    site_rms = None
    if p_site is not None:
        _, ps = _after(t_p, _arr(p_site), start_s=settle)
        site_rms, _ = band_rms_mw(tp, ps, band)
    figs = [
        _fig_power_spectrum(
            "q1",
            "POI power: time and spectrum",
            t_p,
            p_poi,
            p_site,
            spec,
            band,
            limit_mw,
            rms,
            settle,
            site_rms,
        ),
        _fig_voltage("q1_voltage", "POI voltage", t_v, v_poi, None, settle),
    ]
    return Verdict(
        [c1, c2],
        _reason([c1, c2]),
        figs,
        measures={
            "osc_rms_mw": rms,
            "site_osc_rms_mw": site_rms,
            "rvc_max_percent": rvc["max_percent"],
        },
    )


def _fig_power_spectrum(
    name: str,
    title: str,
    t: np.ndarray,
    p_poi: np.ndarray,
    p_site: np.ndarray | None,
    spec: dict,
    band: tuple[float, float],
    limit_mw: float | None,
    rms: float | None,
    settle: float,
    site_rms: float | None = None,
) -> Figure:
    t0 = t[0] + settle if t.size else 0.0
    zoom = (t0, t0 + 20.0)
    p1 = Panel("P [MW]", xlim=zoom)
    if p_site is not None:
        p1.add("site (before BESS)", t, p_site, window=zoom)
    p1.add("POI", t, p_poi, window=zoom)
    p2 = Panel("P [MW]")
    if p_site is not None:
        p2.add("site", t, p_site)
    p2.add("POI", t, p_poi)
    p2.vspans.append(("not judged (start-up)", float(t[0]) if t.size else 0.0, t0))
    p3 = Panel("PSD [MW²/Hz]", xlabel="f [Hz]", logx=True, logy=True)
    f, psd = spec["f_hz"], spec["psd"]
    if f.size:
        sel = f > 0
        p3.add(f"POI (band RMS {_fmt(rms)} MW)", f[sel], psd[sel])
        if p_site is not None:
            fs, pss, _ = poi_metrics.spectrum(*_after(t, p_site, start_s=settle))
            if fs.size:
                p3.add(f"site (band RMS {_fmt(site_rms)} MW)", fs[fs > 0], pss[fs > 0])
    p3.vspans.append(("judged band", band[0], band[1]))
    cap = f"Band RMS of POI power {_fmt(rms)} MW"
    if limit_mw is not None:
        cap += f" vs limit {_fmt(limit_mw)} MW"
    return Figure(name, title, [p1, p2, p3], cap + "; top: first 20 s of the judged window.")


def _fig_voltage(
    name: str,
    title: str,
    t: np.ndarray,
    v: np.ndarray,
    band: tuple[float, float] | None,
    settle: float = 0.0,
    events: list[dict] | None = None,
) -> Figure:
    p = Panel("V [pu]", band=band)
    p.add("POI voltage", t, v, step=True)
    if t.size and settle > 0:
        p.vspans.append(("not judged (start-up)", float(t[0]), float(t[0]) + settle))
    return Figure(name, title, [p])


# ---------------------------------------------------------------- Q2 attenuation


def q2_attenuation(
    t_p: np.ndarray, p_site: np.ndarray, p_poi: np.ndarray, th: Mapping[str, Value]
) -> Verdict:
    """Q2: ``20 log10(RMS_site / RMS_POI)`` in the band >= 10 dB (chirp stimulus)."""
    t, ps, pp_ = _after(_arr(t_p), _arr(p_site), _arr(p_poi), start_s=float(th["settle_s"].value))
    band = tuple(th["band_hz"].value)
    rms_site, spec_site = band_rms_mw(t, ps, band)
    rms_poi, spec_poi = band_rms_mw(t, pp_, band)
    att = poi_metrics.attenuation_db(rms_site, rms_poi)
    if rms_poi is not None and rms_poi == 0 and rms_site:
        att = math.inf
    cause = None
    note = f"site {_fmt(rms_site)} MW, POI {_fmt(rms_poi)} MW RMS in band"
    if rms_site is None or rms_site < 1e-6:
        cause, note = "stimulus", "no site power in the band: the chirp was not applied"
    c = check(
        f"attenuation in {band[0]:g}-{band[1]:g} Hz", att, th["min_attenuation_db"], ">=", note=note
    )
    if att == math.inf:
        c.passed, c.note = True, note + "; no POI power left in the band"
    p = Panel("PSD [MW²/Hz]", xlabel="f [Hz]", logx=True, logy=True)
    for label, sp in (("site (chirp)", spec_site), ("POI", spec_poi)):
        f = sp["f_hz"]
        if f.size:
            p.add(label, f[f > 0], sp["psd"][f > 0])
    p.vspans.append(("judged band", band[0], band[1]))
    pt = Panel("P [MW]")
    pt.add("site", _arr(t_p), _arr(p_site))
    pt.add("POI", _arr(t_p), _arr(p_poi))
    fig = Figure(
        "q2",
        "Chirp: site vs POI",
        [pt, p],
        f"Attenuation {_fmt(att)} dB in {band[0]:g}-{band[1]:g} Hz.",
    )
    return Verdict(
        [c],
        _reason([c]),
        [fig],
        cause=cause,
        measures={"attenuation_db": att, "site_rms_mw": rms_site, "poi_rms_mw": rms_poi},
    )


# ---------------------------------------------------------------- Q3 ramps


def q3_ramp(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    th: Mapping[str, Value],
    p_site: np.ndarray | None = None,
    marks: list[tuple[str, float]] | None = None,
) -> Verdict:
    """Q3: largest POI ramp over ``ramp_window_s`` <= the ramp limit [MW/min]."""
    t, p = _arr(t_p), _arr(p_poi)
    w = float(th["ramp_window_s"].value)
    r = poi_metrics.ramp_rates(t, p, w)
    c = check(
        f"POI ramp over {w:g} s",
        r["max_mw_per_min"],
        th["ramp_limit_mw_per_min"],
        "<=",
        note=f"at t = {_fmt(r['t_max_s'])} s"
        if r["t_max_s"] is not None
        else "series shorter than the window",
    )
    cause = None
    site_ramp = None
    if p_site is not None:
        site_ramp = poi_metrics.ramp_rates(t, _arr(p_site), w)["max_mw_per_min"]
        if site_ramp is not None and site_ramp <= float(th["ramp_limit_mw_per_min"].value):
            cause = "stimulus"
            c.note += "; the site itself never ramped faster than the limit: no job start/stop seen"
    p1 = Panel("P [MW]")
    if p_site is not None:
        p1.add("site", t, p_site)
    p1.add("POI", t, p)
    for label, x in marks or []:
        p1.vspans.append((label, x, x + 1.0))
    te, rr = poi_metrics.ramp_series(
        t, p, w, dt_s=max(w / 60.0, float(np.median(np.diff(t))) if t.size > 1 else w)
    )
    p2 = Panel("ramp [MW/min]")
    p2.add(f"POI ramp over {w:g} s", te, 60.0 * rr)
    lim = float(th["ramp_limit_mw_per_min"].value)
    p2.band = (-lim, lim)
    fig = Figure(
        "q3",
        "Job start / abort: POI ramp",
        [p1, p2],
        f"Largest POI ramp {_fmt(r['max_mw_per_min'])} MW/min vs {lim:g} MW/min.",
    )
    return Verdict(
        [c],
        _reason([c]),
        [fig],
        cause=cause,
        measures={
            "ramp_max_mw_per_min": r["max_mw_per_min"],
            "site_ramp_max_mw_per_min": site_ramp,
        },
    )


# ---------------------------------------------------------------- Q4 checkpoint steps


def q4_step(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    bess_p_mw: float,
    th: Mapping[str, Value],
    p_site: np.ndarray | None = None,
    dips: list[tuple[float, float]] | None = None,
) -> Verdict:
    """Q4: largest POI change within ``step_window_s`` <= x % of the BESS rating.

    ``dips`` are the checkpoint windows ``(start, end)`` [s] (for the figure and
    the stimulus check: the site must have dipped).
    """
    t, p = _arr(t_p), _arr(p_poi)
    w = float(th["step_window_s"].value)
    step, t_step = max_step_mw(t, p, w)
    limit = float(th["step_limit_percent"].value) / 100.0 * bess_p_mw
    c = check(
        f"largest POI step within {w:g} s",
        step,
        th["step_limit_percent"],
        "<=",
        threshold=limit,
        unit="MW",
        note=f"{th['step_limit_percent'].value:g} % of {bess_p_mw:g} MW; at t = {_fmt(t_step)} s",
    )
    cause = None
    site_step = None
    if p_site is not None:
        site_step, _ = max_step_mw(t, _arr(p_site), w)
        inside = [(a, b) for a, b in (dips or []) if a < (t[-1] if t.size else 0)]
        if not inside:
            cause = "stimulus"
            c.note += "; no checkpoint dip inside the run"
    panels = []
    for k, (a, b) in enumerate((dips or [])[:2]):
        win = (a - 30.0, b + 60.0)
        pn = Panel("P [MW]", xlim=win)
        if p_site is not None:
            pn.add("site", t, p_site, window=win)
        pn.add("POI", t, p, window=win)
        pn.vspans.append((f"checkpoint {k + 1}", a, b))
        panels.append(pn)
    if not panels:
        pn = Panel("P [MW]")
        pn.add("POI", t, p)
        panels.append(pn)
    te, rr = poi_metrics.ramp_series(t, p, w)
    ps = Panel(f"ΔP over {w:g} s [MW]")
    ps.add("POI", te, rr * w)
    ps.band = (-limit, limit)
    panels.append(ps)
    fig = Figure(
        "q4",
        "Checkpoint dips at the POI",
        panels,
        f"Largest POI step {_fmt(step)} MW vs {_fmt(limit)} MW; site step {_fmt(site_step)} MW.",
    )
    return Verdict(
        [c], _reason([c]), [fig], cause=cause, measures={"step_mw": step, "site_step_mw": site_step}
    )


# ---------------------------------------------------------------- Q5 SOC


def q5_soc(
    t_s: np.ndarray, soc: np.ndarray, th: Mapping[str, Value], *, horizon_s: float | None = None
) -> Verdict:
    """Q5: ``|SOC end - SOC start| <= drift`` and SOC always inside [soc_min, soc_max]."""
    t, s = _arr(t_s), _arr(soc)
    ok = np.isfinite(s)
    if not ok.any():
        checks = [
            check("SOC drift", None, th["soc_drift_max"], "<=", note="no SOC recorded (BESS off?)")
        ]
        return Verdict(checks, _reason(checks), cause="stimulus")
    t, s = t[ok], s[ok]
    drift = float(s[-1] - s[0])
    c1 = check(
        "|SOC drift| over the run",
        abs(drift),
        th["soc_drift_max"],
        "<=",
        note=f"{_fmt(s[0])} -> {_fmt(s[-1])}",
    )
    c2 = check("lowest SOC", float(s.min()), th["soc_min"], ">=")
    c3 = check("highest SOC", float(s.max()), th["soc_max"], "<=")
    p = Panel("SOC [1]", band=(float(th["soc_min"].value), float(th["soc_max"].value)))
    p.add("SOC", t, s)
    p.hlines.append(("start ± drift limit", s[0] + float(th["soc_drift_max"].value)))
    p.hlines.append(("", s[0] - float(th["soc_drift_max"].value)))
    span = (t[-1] - t[0]) / 3600.0 if t.size else 0.0
    fig = Figure(
        "q5",
        "State of charge",
        [p],
        f"SOC {_fmt(s.min())}..{_fmt(s.max())}, drift {drift:+.4f} over {span:.2f} h.",
    )
    checks = [c1, c2, c3]
    return Verdict(
        checks,
        _reason(checks),
        [fig],
        measures={"soc_drift": drift, "soc_min": float(s.min()), "soc_max": float(s.max())},
    )


# ---------------------------------------------------------------- Q6 demand response


def response_time_s(
    t_s: np.ndarray, p_mw: np.ndarray, t_start_s: float, t_end_s: float, target_mw: float
) -> float | None:
    """Time from ``t_start_s`` until ``p`` is at or below ``target_mw`` and stays there until ``t_end_s``.

    Step-held samples: the value at ``t[i]`` holds until ``t[i+1]``. 0 when it
    is already there at the start; None when it is still above at the end.
    """
    t, p = _arr(t_s), _arr(p_mw)
    sel = (t >= t_start_s) & (t < t_end_s)
    idx = np.flatnonzero(sel)
    i_prev = np.searchsorted(t, t_start_s, side="right") - 1
    times = np.concatenate([[t_start_s], t[idx]]) if i_prev >= 0 else t[idx]
    vals = np.concatenate([[p[i_prev]], p[idx]]) if i_prev >= 0 else p[idx]
    if not vals.size:
        return None
    above = np.flatnonzero(~(vals <= target_mw + 1e-9 * max(abs(target_mw), 1.0)))
    if above.size == 0:
        return 0.0
    if above[-1] == vals.size - 1:
        return None
    return float(times[above[-1] + 1] - t_start_s)


def q6_demand_response(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    t_call_s: float,
    duration_s: float,
    baseline_mw: float,
    reduction: float,
    speed: str,
    th: Mapping[str, Value],
) -> Verdict:
    """Q6: the POI reaches ``(1 - reduction) x baseline`` within 2 s (fast) / 60 s (slow) and holds it.

    ``baseline_mw`` is the POI mean before the call [MW]; the target may be
    exceeded by ``target_tolerance_percent`` of the baseline.
    """
    t, p = _arr(t_p), _arr(p_poi)
    target = (1.0 - reduction) * baseline_mw
    tol = float(th["target_tolerance_percent"].value) / 100.0 * baseline_mw
    t_end = min(t_call_s + duration_s, t[-1] if t.size else t_call_s)
    rt = response_time_s(t, p, t_call_s, t_end, target + tol)
    key = "response_fast_s" if speed == "fast" else "response_slow_s"
    c = check(
        f"time to reach {100 * reduction:g} % cut ({speed} call)",
        rt,
        th[key],
        "<=",
        note=f"target {_fmt(target)} MW (+{_fmt(tol)} MW) from baseline {_fmt(baseline_mw)} MW"
        + ("" if rt is not None else "; never held the target until the end of the call"),
    )
    win = (t_call_s - 60.0, min(t_call_s + max(120.0, 2 * float(th[key].value)), t_end + 60.0))
    p1 = Panel("P [MW]", xlim=win)
    p1.add("POI", t, p, window=win)
    p1.hlines += [("baseline", baseline_mw), ("target + tolerance", target + tol)]
    p1.vspans.append(
        (f"allowed response ({th[key].value:g} s)", t_call_s, t_call_s + float(th[key].value))
    )
    p2 = Panel("P [MW]")
    p2.add("POI", t, p)
    p2.vspans.append(("call", t_call_s, t_call_s + duration_s))
    p2.hlines.append(("target + tolerance", target + tol))
    fig = Figure(
        "q6",
        "Demand-response call",
        [p1, p2],
        f"Response time {_fmt(rt)} s vs {th[key].value:g} s.",
    )
    return Verdict(
        [c],
        _reason([c]),
        [fig],
        measures={"response_s": rt, "target_mw": target, "baseline_mw": baseline_mw},
    )


# ---------------------------------------------------------------- Q7 / Q8 ride-through


def ride_through(
    t_v: np.ndarray,
    v_poi: np.ndarray,
    t_p: np.ndarray,
    p_poi: np.ndarray,
    th: Mapping[str, Value],
    *,
    expected_events: int,
    name: str,
    on_backup: tuple[np.ndarray, np.ndarray] | None = None,
    p_site: np.ndarray | None = None,
) -> Verdict:
    """Q7 / Q8: the grid sees no load loss (<= 10 % of pre-event) and >= 90 % back within 1 s.

    Disturbances are runs of POI voltage outside ``v_band_pu``
    (:func:`cosim.metrics.events.ride_through`). ``expected_events`` is how
    many the stimulus should cause; fewer means the sag did not reach the POI
    (stimulus not applied).
    """
    tv, v, tp, p = _arr(t_v), _arr(v_poi), _arr(t_p), _arr(p_poi)
    lo, hi = th["v_band_pu"].value
    ok = np.isfinite(v)
    rec_frac = 1.0 - float(th["load_loss_max_percent"].value) / 100.0
    rt = ev_metrics.ride_through(
        tv[ok],
        v[ok],
        tp,
        p,
        lo,
        hi,
        rec_frac,
        float(th["recovery_time_max_s"].value),
        float(th["window_s"].value),
    )
    evs = [e for e in rt["event_list"] if e["mw_lost"] is not None]
    loss_pct = None
    if evs:
        loss_pct = max(
            100.0 * e["mw_lost"] / e["p_pre_mw"] for e in evs if e["p_pre_mw"] and e["p_pre_mw"] > 0
        )
    # recovery: every event judged must recover; the slowest (None = did not recover in the window)
    judged = [e for e in evs if e["recovered"] is not None]
    slowest: float | None
    if not judged:
        slowest = None
    elif any(e["recovery_s"] is None for e in judged):
        slowest = math.inf
    else:
        slowest = max(e["recovery_s"] for e in judged)
    c1 = check(
        "largest POI load loss",
        loss_pct,
        th["load_loss_max_percent"],
        "<=",
        note=f"{len(evs)} disturbance(s); largest loss {_fmt(rt['mw_lost_max'])} MW",
    )
    c2 = check("slowest recovery to 90 %", slowest, th["recovery_time_max_s"], "<=")
    if slowest == math.inf:
        c2.value, c2.passed = None, False
        c2.note = f"a disturbance did not recover within the {th['window_s'].value:g} s window"
    cause = None
    if rt["events"] < expected_events:
        cause = "stimulus"
        c1.note += (
            f"; expected {expected_events} voltage disturbance(s) at the POI, saw {rt['events']}"
        )
    figs = []
    if rt["event_list"]:
        a = rt["event_list"][0]["t_start_s"] - 5.0
        b = rt["event_list"][-1]["t_end_s"] + float(th["window_s"].value) + 20.0
        win = (a, b)
        pv = Panel("V [pu]", band=(lo, hi), xlim=win)
        pv.add("POI voltage", tv, v, step=True, window=win)
        pp_ = Panel("P [MW]", xlim=win)
        if p_site is not None:
            pp_.add("site (before BESS)", tp, p_site, step=True, window=win)
        pp_.add("POI", tp, p, step=True, window=win)
        pre = evs[0]["p_pre_mw"] if evs else None
        if pre is not None:
            pp_.hlines.append((f"{100 * rec_frac:g} % of pre-event", rec_frac * pre))
        panels = [pv, pp_]
        if on_backup is not None:
            pb = Panel("on backup [1]", xlim=win)
            pb.add("site on UPS / backup", on_backup[0], on_backup[1], step=True, window=win)
            panels.append(pb)
        figs.append(
            Figure(
                name,
                "Voltage disturbances and the load the grid sees",
                panels,
                f"{rt['events']} disturbance(s); largest loss {_fmt(loss_pct)} % of pre-event; "
                f"slowest recovery {_fmt(slowest)} s.",
            )
        )
    checks = [c1, c2]
    return Verdict(
        checks,
        _reason(checks),
        figs,
        cause=cause,
        measures={
            "events": rt["events"],
            "mw_lost_max": rt["mw_lost_max"],
            "loss_percent": loss_pct,
            "recovery_s_max": slowest,
            "event_list": rt["event_list"],
        },
    )


# ---------------------------------------------------------------- Q9 weak grid


def q9_voltage(
    t_v: np.ndarray, v_poi: np.ndarray, th: Mapping[str, Value], converged: np.ndarray | None = None
) -> Verdict:
    """Q9: POI voltage inside Range A after start-up, and every power flow converged."""
    t, v = _arr(t_v), _arr(v_poi)
    settle = float(th["settle_s"].value)
    tj, vj = _after(t, v, start_s=settle)
    finite = vj[np.isfinite(vj)]
    vmin = float(finite.min()) if finite.size else None
    vmax = float(finite.max()) if finite.size else None
    n_bad = (
        int((~np.isfinite(vj)).sum())
        if converged is None
        else int((_arr(converged)[t >= t[0] + settle] < 0.5).sum())
    )
    note = f"{n_bad} step(s) without a converged power flow" if n_bad else ""
    c1 = check("lowest POI voltage", vmin, th["v_min_pu"], ">=", note=note)
    c2 = check("highest POI voltage", vmax, th["v_max_pu"], "<=")
    if n_bad:
        c1.passed = False
    band = (float(th["v_min_pu"].value), float(th["v_max_pu"].value))
    fig = _fig_voltage("q9", "POI voltage on the weak grid", t, v, band, settle)
    checks = [c1, c2]
    return Verdict(
        checks,
        _reason(checks),
        [fig],
        measures={"v_min_pu": vmin, "v_max_pu": vmax, "nonconverged": n_bad},
    )


# ---------------------------------------------------------------- Q10 frequency


def droop_mw(
    f_hz: np.ndarray, p_rated_mw: float, droop: float, deadband_hz: float, f_nom_hz: float
) -> np.ndarray:
    """Frequency-watt droop [MW], + = more import (charging): ``(|df| - db) / f_nom / droop x P``, signed."""
    df = _arr(f_hz) - f_nom_hz
    mag = np.clip(np.abs(df) - deadband_hz, 0.0, None)
    return np.sign(df) * mag / f_nom_hz / droop * p_rated_mw


def q10_frequency(
    t_f: np.ndarray,
    f_hz: np.ndarray,
    t_p: np.ndarray,
    p_poi: np.ndarray,
    th: Mapping[str, Value],
    *,
    p_rated_mw: float,
    droop: float,
    deadband_hz: float,
    f_nom_hz: float,
    on_backup: np.ndarray | None = None,
) -> Verdict:
    """Q10: stays connected through the excursion; droop delivered within ``response_s`` (1 s).

    ``expected(t)`` is the droop the frequency calls for (:func:`droop_mw`).
    A response within ``response_s`` must at any time ``t`` have delivered at
    least the smallest call made during ``[t - response_s, t]`` (a perfect
    follower passes while the frequency rises and falls; a slower one falls
    behind while it rises). ``measured`` is the POI import change from its
    pre-excursion trend (a line fitted over the 20 s before, removing the
    controllers' slow settling), both averaged over ``avg_s`` (one training
    iteration). The metric is the smallest ``measured / call`` over
    ``[t0 + response_s, t0 + judge_s]`` where the call is >= 20 % of its peak.
    Load loss: the largest fall of POI import below the trend plus the
    (negative) droop, in % of the pre-excursion import.
    """
    tf, f, tp, p = _arr(t_f), _arr(f_hz), _arr(t_p), _arr(p_poi)
    delay = float(th["response_s"].value)
    judge_s = float(th["judge_s"].value)
    fb = th["f_band_hz"].value
    ok = np.isfinite(f)
    if not ok.any():
        checks = [
            check(
                "droop delivered within the allowed delay",
                None,
                th["droop_fraction"],
                ">=",
                unit="1",
                note="no frequency series (frequency federate off?)",
            )
        ]
        return Verdict(checks, _reason(checks), cause="stimulus")
    tf, f = tf[ok], f[ok]
    exp_f = droop_mw(f, p_rated_mw, droop, deadband_hz, f_nom_hz)
    peak = float(np.max(np.abs(exp_f))) if exp_f.size else 0.0
    dev = np.abs(f - f_nom_hz) > deadband_hz
    if peak <= 0.01 * p_rated_mw or not dev.any():
        checks = [
            check(
                "droop delivered within the allowed delay",
                None,
                th["droop_fraction"],
                ">=",
                unit="1",
                note=f"frequency stayed within the deadband ({_fmt(f.min())}..{_fmt(f.max())} Hz)",
            )
        ]
        return Verdict(
            checks,
            _reason(checks),
            cause="stimulus",
            measures={"f_min_hz": float(f.min()), "f_max_hz": float(f.max())},
        )
    i_pk = int(np.argmax(np.abs(exp_f)))
    t0 = (
        float(tf[np.argmax(dev & (np.abs(exp_f) >= 0.05 * peak))])
        if (np.abs(exp_f) >= 0.05 * peak).any()
        else float(tf[i_pk])
    )
    avg = float(th["avg_s"].value)
    p_avg = centred_mean(tp, p, avg)
    pre = (tp >= t0 - 20.0) & (tp < t0 - avg / 2) & np.isfinite(p_avg)
    if pre.sum() >= 2:
        slope, icpt = np.polyfit(tp[pre], p_avg[pre], 1)
    else:
        slope, icpt = 0.0, float(p[tp < t0][-1]) if (tp < t0).any() else float(p[0])
    trend = icpt + slope * tp
    p_pre = float(icpt + slope * t0)
    meas = p_avg - trend
    # the smallest call over the last `delay` seconds (sign kept)
    lags = np.linspace(0.0, delay, 11)
    cands = np.stack([np.interp(tp - s, tf, exp_f, left=0.0) for s in lags])
    call = np.take_along_axis(cands, np.argmin(np.abs(cands), axis=0)[None, :], axis=0)[0]
    call_avg = centred_mean(tp, call, avg)
    sel = (
        np.isfinite(call_avg)
        & np.isfinite(meas)
        & (np.abs(call_avg) >= 0.2 * peak)
        & (tp >= t0 + delay)
        & (tp <= t0 + judge_s)
    )
    ratio = float(np.min(meas[sel] / call_avg[sel])) if sel.any() else None
    c1 = check(
        f"droop delivered within {delay:g} s (worst share)",
        ratio,
        th["droop_fraction"],
        ">=",
        unit="1",
        note=f"peak droop {_fmt(peak)} MW from f {_fmt(f.min())}..{_fmt(f.max())} Hz, "
        f"{100 * droop:g} % droop, deadband {deadband_hz:g} Hz; judged {judge_s:g} s from t = {t0:g} s",
    )
    after = tp >= t0
    lost = None
    if after.any() and p_pre > 0:
        floor = trend + np.minimum(np.interp(tp, tf, exp_f), 0.0)
        lost = float(max(np.nanmax((floor - p_avg)[after]), 0.0) / p_pre * 100.0)
    note = ""
    if on_backup is not None and np.nanmax(_arr(on_backup)) > 0:
        note = "the site transferred to backup"
    c2 = check("POI load loss beyond the droop", lost, th["load_loss_max_percent"], "<=", note=note)
    inband = bool(fb[0] <= f.min() and f.max() <= fb[1])
    pf = Panel("f [Hz]", band=(float(fb[0]), float(fb[1])))
    pf.add("system frequency", tf, f)
    pp_ = Panel("ΔP [MW]")
    pp_.add("POI import change from its trend (mean over one iteration)", tp, meas)
    pp_.add(f"smallest droop called in the last {delay:g} s", tp, call_avg, style="--")
    pp_.add(
        f"{th['droop_fraction'].value:g} x that",
        tp,
        float(th["droop_fraction"].value) * call_avg,
        style=":",
    )
    pp_.vspans.append(("judged", t0 + delay, t0 + judge_s))
    win = (t0 - 10.0, float(tp[-1]) if tp.size else t0 + 60.0)
    pf.xlim = pp_.xlim = win
    fig = Figure(
        "q10",
        "Frequency excursion and droop response",
        [pf, pp_],
        f"Worst delivered share {_fmt(ratio)}; f {_fmt(f.min())}..{_fmt(f.max())} Hz "
        f"({'inside' if inband else 'outside'} the ride-through band).",
    )
    checks = [c1, c2]
    return Verdict(
        checks,
        _reason(checks),
        [fig],
        measures={
            "f_min_hz": float(f.min()),
            "f_max_hz": float(f.max()),
            "droop_peak_mw": peak,
            "droop_ratio_min": ratio,
            "t_excursion_s": t0,
            "load_loss_percent": lost,
        },
    )


# ---------------------------------------------------------------- Q11 N-1


def q11_n1(with_site: list[dict], without_site: list[dict], th: Mapping[str, Value]) -> Verdict:
    """Q11: no N-1 violation added by the site (at swing peak and trough).

    Parameters
    ----------
    with_site : rows of :func:`cosim.metrics.grid_strength.n1_screening` for the
        site snapshots (keys ``snapshot``, ``outage``, ``severity`` [pp] ...)
    without_site : the same screening with the site at 0 MW (``snapshot`` any)

    The severity of a row is its largest excess over a limit (voltage in % of
    1 pu, loading in % of rating; inf when diverged / POI isolated). The added
    severity of an outage is ``severity(with site) - severity(without)``.
    """
    base = {r["outage"]: float(r["severity"]) for r in without_site}
    worst_add, worst_row = -math.inf, None
    worst_abs = 0.0
    for r in with_site:
        sev = float(r["severity"])
        add = sev - base.get(r["outage"], 0.0)
        if not math.isfinite(sev) and not math.isfinite(base.get(r["outage"], 0.0)):
            add = 0.0  # diverges without the site too
        worst_abs = max(worst_abs, sev)
        if add > worst_add:
            worst_add, worst_row = add, r
    pre = sorted(((o, s) for o, s in base.items() if s > 0), key=lambda x: -x[1])
    note = f"worst: {worst_row['outage']} at {worst_row['snapshot']}" if worst_row else "no rows"
    c1 = check(
        "N-1 severity added by the site",
        worst_add if worst_row else None,
        th["added_severity_max_pp"],
        "<=",
        note=note + f"; {len(pre)} outage(s) violate limits without the site",
    )
    if worst_row is not None and worst_add == math.inf:
        c1.passed = False
        c1.note += (
            "; the power flow diverges (or the POI is cut off) with the site but not without it"
        )
    cause = None
    strict = worst_abs
    if worst_row is not None and c1.passed and strict > 0:
        c1.note += f"; strict limits fail (worst {_fmt(strict)} pp) for reasons the network has without the site"
    rows = sorted(
        with_site,
        key=lambda r: -float(r["severity"]) if math.isfinite(float(r["severity"])) else -1e9,
    )[:12]
    p = Panel("severity [pp]", xlabel="outage rank")
    xs = np.arange(len(rows), dtype=float)
    p.add("with site", xs, [min(float(r["severity"]), 50.0) for r in rows], style="o")
    p.add(
        "same outage without site",
        xs,
        [min(base.get(r["outage"], 0.0), 50.0) for r in rows],
        style="x",
    )
    p.hlines.append(("allowed added severity", float(th["added_severity_max_pp"].value)))
    fig = Figure(
        "q11",
        "N-1 screening at swing peak and trough",
        [p],
        "Worst outages ranked: " + ", ".join(f"{r['outage']}@{r['snapshot']}" for r in rows[:6]),
    )
    return Verdict(
        [c1],
        _reason([c1]),
        [fig],
        cause=cause,
        measures={
            "added_severity_pp": worst_add if worst_row else None,
            "strict_severity_pp": strict,
            "preexisting": [{"outage": o, "severity": s} for o, s in pre[:20]],
            "ranking": [
                {k: r[k] for k in ("snapshot", "outage", "severity", "violations")} for r in rows
            ],
        },
    )


# ---------------------------------------------------------------- Q12 taps


def q12_taps(
    taps_with: int | None,
    taps_without: int | None,
    th: Mapping[str, Value],
    series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Verdict:
    """Q12: OLTC tap operations with the BESS / without < ``tap_ratio_max`` (1: reduced).

    Not judged when the network records no taps or when, without the BESS,
    no tap moved (nothing to reduce).
    """
    ratio: float | None = None
    cause = None
    note = f"{taps_with} with BESS, {taps_without} without"
    if taps_with is None or taps_without is None:
        cause, note = "stimulus", "the network records no tap positions (no OLTC in the case)"
    elif taps_without == 0:
        cause, note = "stimulus", "no tap operation without the BESS: nothing to reduce"
    else:
        ratio = taps_with / taps_without
    c = check("tap operations with / without BESS", ratio, th["tap_ratio_max"], "<", note=note)
    figs = []
    if series:
        p = Panel("tap position", xlabel="t [h]")
        for label, (t, x) in series.items():
            p.add(label, _arr(t) / 3600.0, x, step=True)
        figs.append(
            Figure("q12", "OLTC tap position", [p], f"Tap operations: {note}; ratio {_fmt(ratio)}.")
        )
    return Verdict(
        [c],
        _reason([c]),
        figs,
        cause=cause,
        measures={"taps_with": taps_with, "taps_without": taps_without, "ratio": ratio},
    )
