"""Q4, checkpoint dips: 60 s at 15 % GPU power every 30 min during training.

Pass when the largest POI change within 1 s is at most 3 % of the BESS rating
(``docs/domain.md``, "Qualification test profiles", Q4).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cosim.metrics import poi as poi_metrics
from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import poi_power
from cosim.studies.qualify.signals import max_step_mw
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
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, reason_of

PARAMS: tuple[Param, ...] = (
    Param(
        "step_limit_percent", 3.0, "% of BESS rating", f"{SUITE_THRESHOLDS} Q4", "largest POI step"
    ),
    Param(
        "step_window_s",
        1.0,
        "s",
        "assumed (a step is a change within 1 s)",
        "window a step is measured over",
    ),
    stimulus("dip_s", 60.0, "s", f"{SUITE} Q4", "checkpoint length"),
    stimulus("dip_fraction", 0.15, "1", f"{SUITE} Q4", "GPU power during a checkpoint"),
    stimulus("interval_s", 1800.0, "s", f"{SUITE} Q4", "checkpoint interval"),
    stimulus("first_s", 600.0, "s", "assumed", "first checkpoint"),
)


def dips(ctx: Context) -> tuple[float, float, list[tuple[float, float]]]:
    """First checkpoint [s], interval [s] and every dip ``(start, end)`` [s] inside the run.

    A run too short for two dips at the full timing (a shortened one) gets two
    dips, at a quarter and three quarters of its duration.
    """
    d = ctx.duration_s
    first, interval = ctx.v("first_s"), ctx.v("interval_s")
    if d < ctx.v("first_s") + ctx.v("interval_s") + ctx.v("dip_s"):
        first, interval = 0.25 * d, 0.5 * d
    out = []
    t = first
    while t < d:
        out.append((t, t + ctx.v("dip_s")))
        t += interval
    return first, interval, out


def plan(ctx: Context) -> list[RunPlan]:
    """One run: synthetic training with checkpoints at the dips' times."""
    first, interval, windows = dips(ctx)
    ctx.info["dips"] = windows
    job = training_job(
        name="train",
        checkpoint_interval_s=interval,
        checkpoint_duration_s=ctx.v("dip_s"),
        checkpoint_fraction=ctx.v("dip_fraction"),
        checkpoint_offset_s=first,
    )
    overrides = {"factory.training.jobs": [job], "factory.profile": "synthetic"}
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    return largest_step(t, p, float(res.case.bess.p_mw), ctx.values, p_site=ps, dips=dips(ctx)[2])


def largest_step(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    bess_p_mw: float,
    th: Mapping[str, Value],
    p_site: np.ndarray | None = None,
    dips: list[tuple[float, float]] | None = None,
) -> Verdict:
    """Q4: largest POI change within ``step_window_s`` <= x % of the BESS rating.

    Parameters
    ----------
    t_p, p_poi : POI import [s], [MW]
    bess_p_mw : BESS rated power [MW]
    th : the test's parameters
    p_site : site power before the BESS [MW] (the stimulus check and the figure)
    dips : the checkpoint windows ``(start, end)`` [s] (for the figure and the
        stimulus check: the site must have dipped)
    """
    t, p = arr(t_p), arr(p_poi)
    w = float(th["step_window_s"].value)
    step_mw, t_step = max_step_mw(t, p, w)
    limit = float(th["step_limit_percent"].value) / 100.0 * bess_p_mw
    c = check(
        "step",
        f"largest POI step within {w:g} s",
        step_mw,
        th["step_limit_percent"],
        "<=",
        limit=limit,
        unit="MW",
        note=f"{th['step_limit_percent'].value:g} % of {bess_p_mw:g} MW; at t = {fmt(t_step)} s",
    )
    cause = None
    site_step = None
    if p_site is not None:
        site_step, _ = max_step_mw(t, arr(p_site), w)
        inside = [(a, b) for a, b in (dips or []) if a < (t[-1] if t.size else 0)]
        if not inside:
            cause = "stimulus"
            c = c.with_(note=c.note + "; no checkpoint dip inside the run")
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
        f"Largest POI step {fmt(step_mw)} MW vs {fmt(limit)} MW; site step {fmt(site_step)} MW.",
    )
    return Verdict(
        [c],
        reason_of([c]),
        [fig],
        cause=cause,
        measures={"step_mw": step_mw, "site_step_mw": site_step},
    )


TEST = QualTest(
    "Q4",
    "Checkpoint dips",
    "checkpoint dips 60 s at 15 % every 30 min during training, strong grid",
    "largest POI step within 1 s <= 3 % of the BESS rating",
    "strong",
    3600.0,
    240.0,
    PARAMS,
    plan,
    evaluate,
    # target: the low-passed site power (a flat POI through each dip)
    need_flat,
)
