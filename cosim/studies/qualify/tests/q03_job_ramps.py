"""Q3, job start and abort: a training job 0 -> 100 % in 1 s, later 100 -> 0 %.

Pass when the POI ramp over 1 min is at most 20 MW/min, or the case's own
``requirements.ramp_max_mw_per_min`` (``docs/domain.md``, "Qualification test
profiles", Q3).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cosim.metrics import poi as poi_metrics
from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import poi_power
from cosim.studies.qualify.shortfall import Need
from cosim.studies.qualify.signals import rate_limited
from cosim.studies.qualify.spec import QualifySpec
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
from cosim.studies.qualify.tests.needs import need_for
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, reason_of

_ZAHEDI = "Zahedi et al., arXiv 2601.12686"

PARAMS: tuple[Param, ...] = (
    Param(
        "ramp_limit_mw_per_min",
        20.0,
        "MW/min",
        f"Southern Co ({_ZAHEDI}); {SUITE_THRESHOLDS} Q3",
        "POI ramp limit (the case's requirements.ramp_max_mw_per_min when it sets one)",
    ),
    Param("ramp_window_s", 60.0, "s", "assumed (1 min window, as the limit's unit)", "ramp window"),
    stimulus(
        "job_share",
        1.0,
        "1",
        "assumed (all training GPUs start together)",
        "share of training GPUs",
    ),
    stimulus("ramp_s", 1.0, "s", f"{SUITE} Q3; arXiv 2508.14318", "start / stop ramp"),
    stimulus("start_at", 0.1, "1", "assumed", "job start / duration"),
    stimulus("stop_at", 0.55, "1", "assumed", "job abort / duration"),
)


def adjust(spec: QualifySpec, values: dict[str, Value]) -> dict[str, Value]:
    """The case's own ramp limit, unless the spec overrides the test's."""
    if values["ramp_limit_mw_per_min"].overridden:
        return values
    lim = spec.case().requirements.limit("ramp_max_mw_per_min")
    if lim.value != values["ramp_limit_mw_per_min"].value:
        values["ramp_limit_mw_per_min"] = Value(
            "ramp_limit_mw_per_min",
            float(lim.value),
            lim.unit,
            f"the case's requirements.ramp_max_mw_per_min ({lim.source})",
            True,
        )
    return values


def _times(ctx: Context) -> tuple[float, float]:
    """Job start and abort [s]."""
    d = ctx.duration_s
    return ctx.v("start_at") * d, ctx.v("stop_at") * d


def plan(ctx: Context) -> list[RunPlan]:
    """One run: one training job started and aborted with a short ramp."""
    t0, t1 = _times(ctx)
    ctx.info.update(start_s=t0, stop_s=t1)
    job = training_job(
        name="job",
        share=ctx.v("job_share"),
        start_s=t0,
        stop_s=t1,
        start_ramp_s=ctx.v("ramp_s"),
        stop_ramp_s=ctx.v("ramp_s"),
        idle_fraction=0.0,
        checkpoint_duration_s=0.0,
    )
    overrides = {"factory.training.jobs": [job], "factory.profile": "synthetic"}
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    t, p, ps, _ = poi_power(runs["main"])
    t0, t1 = _times(ctx)
    return largest_ramp(t, p, ctx.values, p_site=ps, marks=[("job start", t0), ("job abort", t1)])


def need(ctx: Context, runs: Frames) -> Need | None:
    """Target: the site's power rate-limited to the ramp limit."""
    res = runs["main"]
    t, _, ps, _ = poi_power(res)
    if ps is None:
        return None
    lim = float(ctx.v("ramp_limit_mw_per_min"))
    target = rate_limited(t, ps, lim / 60.0)
    return need_for(res, t, ps, target, f"POI = site power rate-limited to {lim:g} MW/min")


def largest_ramp(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    th: Mapping[str, Value],
    p_site: np.ndarray | None = None,
    marks: list[tuple[str, float]] | None = None,
) -> Verdict:
    """Q3: largest POI ramp over ``ramp_window_s`` <= the ramp limit [MW/min].

    Parameters
    ----------
    t_p, p_poi : POI import [s], [MW]
    th : the test's parameters
    p_site : site power before the BESS [MW] (the stimulus check and the figure)
    marks : labelled instants [s] drawn on the figure
    """
    t, p = arr(t_p), arr(p_poi)
    w = float(th["ramp_window_s"].value)
    r = poi_metrics.ramp_rates(t, p, w)
    c = check(
        "ramp",
        f"POI ramp over {w:g} s",
        r["max_mw_per_min"],
        th["ramp_limit_mw_per_min"],
        "<=",
        note=f"at t = {fmt(r['t_max_s'])} s"
        if r["t_max_s"] is not None
        else "series shorter than the window",
    )
    cause = None
    site_ramp = None
    if p_site is not None:
        site_ramp = poi_metrics.ramp_rates(t, arr(p_site), w)["max_mw_per_min"]
        if site_ramp is not None and site_ramp <= float(th["ramp_limit_mw_per_min"].value):
            cause = "stimulus"
            c = c.with_(
                note=c.note
                + "; the site itself never ramped faster than the limit: no job start/stop seen"
            )
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
        f"Largest POI ramp {fmt(r['max_mw_per_min'])} MW/min vs {lim:g} MW/min.",
    )
    return Verdict(
        [c],
        reason_of([c]),
        [fig],
        cause=cause,
        measures={
            "ramp_max_mw_per_min": r["max_mw_per_min"],
            "site_ramp_max_mw_per_min": site_ramp,
        },
    )


TEST = QualTest(
    "Q3",
    "Job start and abort",
    "training job 0 -> 100 % in 1 s, later 100 -> 0 %, strong grid",
    "POI ramp <= 20 MW/min (or the case's limit) over 1 min",
    "strong",
    1800.0,
    300.0,
    PARAMS,
    plan,
    evaluate,
    need,
    adjust,
)
