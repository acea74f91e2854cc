"""Q1, training square wave: 0.5 Hz, 35 <-> 100 % GPU power, 1 h, strong grid.

Pass when the RMS of POI power in 0.1-20 Hz is at most 2 % of the BESS rating
and the POI rapid voltage change at most 3 % (``docs/domain.md``,
"Qualification test profiles", Q1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cosim.metrics import poi as poi_metrics
from cosim.studies.qualify.evidence import Figure, Panel, voltage_figure
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import poi_power, poi_voltage
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
    training_job,
)
from cosim.studies.qualify.tests.needs import need_flat
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, judged_window, reason_of

_ZAHEDI = "Zahedi et al., arXiv 2601.12686"

PARAMS: tuple[Param, ...] = (
    Param(
        "osc_limit_percent",
        2.0,
        "% of BESS rating",
        f"{SUITE_THRESHOLDS} Q1",
        "RMS of POI power in the band",
    ),
    Param(
        "osc_band_hz", (0.1, 20.0), "Hz", f"{SUITE_THRESHOLDS} Q1", "band of the oscillation limit"
    ),
    Param(
        "rvc_limit_percent",
        3.0,
        "%",
        f"Dominion ({_ZAHEDI}); {SUITE_THRESHOLDS} Q1",
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
    stimulus("period_s", 2.0, "s", f"{SUITE} Q1 (0.5 Hz)", "iteration period"),
    stimulus("compute_duty", 0.5, "1", "assumed (a square wave: 50 % duty)", "compute share"),
    stimulus("trough_fraction", 0.35, "1", f"{SUITE} Q1 (35 %)", "trough GPU power / peak"),
    stimulus(
        "factory_dt_s",
        0.02,
        "s",
        "assumed (Nyquist 25 Hz covers the 20 Hz band edge)",
        "factory internal step",
    ),
)


def plan(ctx: Context) -> list[RunPlan]:
    """One run: the synthetic training profile as a square wave, at a fine factory step."""
    job = training_job(
        name="square",
        period_s=ctx.v("period_s"),
        compute_duty=ctx.v("compute_duty"),
        trough_fraction=ctx.v("trough_fraction"),
        checkpoint_duration_s=0.0,
    )
    overrides = {
        "factory.training.jobs": [job],
        "factory.profile": "synthetic",
        "horizon.factory_dt_s": ctx.v("factory_dt_s"),
    }
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    tv, v, _ = poi_voltage(res)
    return flatten(t, p, tv, v, float(res.case.bess.p_mw), ctx.values, p_site=ps)


def flatten(
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
    th : the test's parameters
    p_site : site power before the BESS [MW] on ``t_p`` (for the figure), optional
    """
    t_p, p_poi, t_v, v_poi = arr(t_p), arr(p_poi), arr(t_v), arr(v_poi)
    settle = float(th["settle_s"].value)
    band = tuple(th["osc_band_hz"].value)
    tp, pp_ = judged_window(t_p, p_poi, start_s=settle)
    rms, spec = band_rms_mw(tp, pp_, band)
    limit_mw = float(th["osc_limit_percent"].value) / 100.0 * bess_p_mw
    note = ""
    if spec["truncated"]:
        note = f"band cut at the series' Nyquist frequency {fmt(spec['nyquist_hz'])} Hz"
    c1 = check(
        "osc_rms",
        f"POI power RMS in {band[0]:g}-{band[1]:g} Hz",
        rms,
        th["osc_limit_percent"],
        "<=",
        limit=limit_mw,
        unit="MW",
        note=f"{th['osc_limit_percent'].value:g} % of {bess_p_mw:g} MW. {note}".strip(),
    )
    tv, vv = judged_window(t_v, v_poi, start_s=settle)
    rvc = poi_metrics.rapid_voltage_change(tv, vv, float(th["rvc_window_s"].value))
    c2 = check("rvc", "POI rapid voltage change", rvc["max_percent"], th["rvc_limit_percent"], "<=")
    site_rms = None
    if p_site is not None:
        _, ps = judged_window(t_p, arr(p_site), start_s=settle)
        site_rms, _ = band_rms_mw(tp, ps, band)
    figs = [
        _power_spectrum_figure(t_p, p_poi, p_site, spec, band, limit_mw, rms, settle, site_rms),
        voltage_figure("q1_voltage", "POI voltage", t_v, v_poi, None, settle),
    ]
    return Verdict(
        [c1, c2],
        reason_of([c1, c2]),
        figs,
        measures={
            "osc_rms_mw": rms,
            "site_osc_rms_mw": site_rms,
            "rvc_max_percent": rvc["max_percent"],
        },
    )


def _power_spectrum_figure(
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
        p3.add(f"POI (band RMS {fmt(rms)} MW)", f[sel], psd[sel])
        if p_site is not None:
            fs, pss, _ = poi_metrics.spectrum(*judged_window(t, p_site, start_s=settle))
            if fs.size:
                p3.add(f"site (band RMS {fmt(site_rms)} MW)", fs[fs > 0], pss[fs > 0])
    p3.vspans.append(("judged band", band[0], band[1]))
    cap = f"Band RMS of POI power {fmt(rms)} MW"
    if limit_mw is not None:
        cap += f" vs limit {fmt(limit_mw)} MW"
    return Figure(
        "q1",
        "POI power: time and spectrum",
        [p1, p2, p3],
        cap + "; top: first 20 s of the judged window.",
    )


TEST = QualTest(
    "Q1",
    "Training square wave",
    "training square wave 0.5 Hz, 35 <-> 100 % GPU, strong grid",
    "POI power RMS in 0.1-20 Hz <= 2 % of the BESS rating; POI RVC <= 3 %",
    "strong",
    3600.0,
    100.0,
    PARAMS,
    plan,
    evaluate,
    need_flat,
)
