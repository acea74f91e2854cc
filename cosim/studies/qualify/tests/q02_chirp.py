"""Q2, load chirp: the site load swept 0.05-30 Hz at +/- 30 MW (log sweep over the run).

Pass when the BESS attenuates the swing site -> POI by at least 10 dB in
0.2-3 Hz (``docs/domain.md``, "Qualification test profiles", Q2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cosim.metrics import poi as poi_metrics
from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import poi_power
from cosim.studies.qualify.signals import band_rms_mw
from cosim.studies.qualify.tests.base import (
    SUITE,
    SUITE_THRESHOLDS,
    Context,
    Frames,
    QualTest,
    RunPlan,
    common_overrides,
    stimulus,
)
from cosim.studies.qualify.tests.needs import need_flat
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, judged_window, reason_of

PARAMS: tuple[Param, ...] = (
    Param(
        "band_hz",
        (0.2, 3.0),
        "Hz",
        f"{SUITE_THRESHOLDS} Q2; training band of arXiv 2508.14318",
        "attenuation band",
    ),
    Param(
        "min_attenuation_db",
        10.0,
        "dB",
        f"{SUITE_THRESHOLDS} Q2",
        "site-to-POI attenuation in the band",
    ),
    Param(
        "settle_s",
        30.0,
        "s",
        "assumed (controller start-up not judged)",
        "start of the judged window",
    ),
    stimulus("f_start_hz", 0.05, "Hz", f"{SUITE} Q2", "sweep start"),
    stimulus("f_stop_hz", 30.0, "Hz", f"{SUITE} Q2", "sweep end"),
    stimulus("amplitude_mw", 30.0, "MW", f"{SUITE} Q2", "chirp amplitude"),
    stimulus("base_fraction", 0.7, "1", "assumed", "mean site load / site peak"),
    stimulus(
        "trace_dt_s",
        0.005,
        "s",
        "assumed (>= 6 samples per period at 30 Hz)",
        "chirp trace step",
    ),
    stimulus("factory_dt_s", 0.01, "s", "assumed (Nyquist 50 Hz)", "factory internal step"),
)


def chirp(t_s: np.ndarray, f0_hz: float, f1_hz: float, t1_s: float) -> np.ndarray:
    """Logarithmic sine sweep from ``f0_hz`` at t = 0 to ``f1_hz`` at ``t1_s`` (unit amplitude)."""
    k = math.log(f1_hz / f0_hz)
    phase = 2 * math.pi * f0_hz * t1_s / k * (np.exp(k * np.asarray(t_s) / t1_s) - 1.0)
    return np.sin(phase)


def plan(ctx: Context) -> list[RunPlan]:
    """One run: the site follows a chirp trace written to ``chirp_trace.csv``."""
    case = ctx.spec.case()
    base = ctx.v("base_fraction") * case.factory.site_peak_mw
    amp = ctx.v("amplitude_mw")
    dt = ctx.v("trace_dt_s")
    t = np.arange(0.0, ctx.duration_s + 2 * dt, dt)
    p = base + amp * chirp(t, ctx.v("f_start_hz"), ctx.v("f_stop_hz"), ctx.duration_s)
    path = ctx.out_dir / "chirp_trace.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"t_s": np.round(t, 6), "p_mw": np.round(p, 6)}).to_csv(path, index=False)
    ctx.info["trace"] = str(path)
    trace = {
        "path": str(path.resolve()),
        "time_column": "t_s",
        "power_column": "p_mw",
        "unit": "mw",
        "applies_to": "site",
        "repeat": False,
    }
    overrides = {
        "factory.profile": "trace",
        "factory.trace": trace,
        "horizon.factory_dt_s": ctx.v("factory_dt_s"),
    }
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    t, p, ps, _ = poi_power(runs["main"])
    if ps is None:
        ps = np.full_like(p, np.nan)
    return attenuation(t, ps, p, ctx.values)


def attenuation(
    t_p: np.ndarray, p_site: np.ndarray, p_poi: np.ndarray, th: Mapping[str, Value]
) -> Verdict:
    """Q2: ``20 log10(RMS_site / RMS_POI)`` in the band >= 10 dB (chirp stimulus).

    Parameters
    ----------
    t_p : instants [s]
    p_site, p_poi : site power before the BESS and POI import [MW]
    th : the test's parameters
    """
    t, ps, pp_ = judged_window(
        arr(t_p), arr(p_site), arr(p_poi), start_s=float(th["settle_s"].value)
    )
    band = tuple(th["band_hz"].value)
    rms_site, spec_site = band_rms_mw(t, ps, band)
    rms_poi, spec_poi = band_rms_mw(t, pp_, band)
    att = poi_metrics.attenuation_db(rms_site, rms_poi)
    if rms_poi is not None and rms_poi == 0 and rms_site:
        att = math.inf
    cause = None
    note = f"site {fmt(rms_site)} MW, POI {fmt(rms_poi)} MW RMS in band"
    if rms_site is None or rms_site < 1e-6:
        cause, note = "stimulus", "no site power in the band: the chirp was not applied"
    c = check(
        "attenuation",
        f"attenuation in {band[0]:g}-{band[1]:g} Hz",
        att,
        th["min_attenuation_db"],
        ">=",
        note=note,
    )
    if att == math.inf:
        c = c.with_(passed=True, note=note + "; no POI power left in the band")
    p = Panel("PSD [MW²/Hz]", xlabel="f [Hz]", logx=True, logy=True)
    for label, sp in (("site (chirp)", spec_site), ("POI", spec_poi)):
        f = sp["f_hz"]
        if f.size:
            p.add(label, f[f > 0], sp["psd"][f > 0])
    p.vspans.append(("judged band", band[0], band[1]))
    pt = Panel("P [MW]")
    pt.add("site", arr(t_p), arr(p_site))
    pt.add("POI", arr(t_p), arr(p_poi))
    fig = Figure(
        "q2",
        "Chirp: site vs POI",
        [pt, p],
        f"Attenuation {fmt(att)} dB in {band[0]:g}-{band[1]:g} Hz.",
    )
    return Verdict(
        [c],
        reason_of([c]),
        [fig],
        cause=cause,
        measures={"attenuation_db": att, "site_rms_mw": rms_site, "poi_rms_mw": rms_poi},
    )


TEST = QualTest(
    "Q2",
    "Load chirp",
    "site load chirp 0.05-30 Hz, +/- 30 MW (log sweep over the run), strong grid",
    ">= 10 dB attenuation site -> POI in 0.2-3 Hz",
    "strong",
    600.0,
    120.0,
    PARAMS,
    plan,
    evaluate,
    need_flat,
)
