"""Q6, demand-response call: cut the POI import by 30 % for 1 h.

Pass when the POI reaches the target within 2 s (fast call) or 60 s (slow
call) and holds it (``docs/domain.md``, "Qualification test profiles", Q6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import factory_frame, poi_power
from cosim.studies.qualify.shortfall import Need
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
from cosim.studies.qualify.tests.needs import need_for
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, reason_of

PARAMS: tuple[Param, ...] = (
    Param(
        "response_fast_s",
        2.0,
        "s",
        f"{SUITE_THRESHOLDS} Q6 (fast call)",
        "time to reach the target",
    ),
    Param(
        "response_slow_s",
        60.0,
        "s",
        f"{SUITE_THRESHOLDS} Q6 (slow call)",
        "time to reach the target",
    ),
    Param(
        "target_tolerance_percent",
        1.0,
        "% of baseline",
        "assumed",
        "POI may sit this far above the target",
    ),
    stimulus("reduction", 0.3, "1", f"{SUITE} Q6", "cut / baseline"),
    stimulus("call_duration_s", 3600.0, "s", f"{SUITE} Q6", "call length"),
    stimulus("call_at_s", 600.0, "s", "assumed", "call time"),
    stimulus("speed", "fast", "-", f"{SUITE} Q6", "fast (2 s) or slow (60 s)"),
    stimulus("resource", "both", "-", "Texas SB 6 (load curtailment) + BESS", "who curtails"),
)


def call_window(ctx: Context) -> tuple[float, float]:
    """Call time [s] and length [s]; a quarter and a half of a shortened run."""
    d = ctx.duration_s
    call = ctx.v("call_duration_s")
    if d < ctx.v("call_at_s") + call + 60.0:
        return 0.25 * d, 0.5 * d
    return ctx.v("call_at_s"), call


def plan(ctx: Context) -> list[RunPlan]:
    """One run with demand response on and one call, without notice."""
    t_call, dur = call_window(ctx)
    ctx.info.update(call_s=t_call, call_duration_s=dur)
    call = {
        "t_s": t_call,
        "notice_s": 0.0,
        "duration_s": dur,
        "reduction": ctx.v("reduction"),
        "speed": ctx.v("speed"),
        "resource": ctx.v("resource"),
    }
    overrides = {
        "controls.demand_response.enabled": True,
        "controls.demand_response.calls": [call],
    }
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def baseline_mw(res: Any, t_call_s: float) -> float:
    """Mean POI import [MW] over the case's baseline window before the call."""
    f = factory_frame(res)
    w = res.case.controls.demand_response.baseline_window_s
    sel = (f["t_s"] >= t_call_s - w) & (f["t_s"] < t_call_s)
    return float(f.loc[sel, "p_mw"].mean()) if sel.any() else float("nan")


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, _, _ = poi_power(res)
    t_call, dur = call_window(ctx)
    base = baseline_mw(res, t_call)
    return demand_response(
        t, p, t_call, dur, base, float(ctx.v("reduction")), str(ctx.v("speed")), ctx.values
    )


def need(ctx: Context, runs: Frames) -> Need | None:
    """Target: the POI at most the call's target once the allowed response time has passed."""
    res = runs["main"]
    t, _, ps, _ = poi_power(res)
    if ps is None:
        return None
    t_call, dur = call_window(ctx)
    target_mw = (1.0 - float(ctx.v("reduction"))) * baseline_mw(res, t_call)
    key = "response_fast_s" if ctx.v("speed") == "fast" else "response_slow_s"
    inside = (t >= t_call + float(ctx.v(key))) & (t < t_call + dur)
    target = np.where(inside, np.minimum(ps, target_mw), ps)
    return need_for(
        res, t, ps, target, f"POI <= {target_mw:.1f} MW during the call (site as curtailed)"
    )


def response_time_s(
    t_s: np.ndarray, p_mw: np.ndarray, t_start_s: float, t_end_s: float, target_mw: float
) -> float | None:
    """Time [s] from ``t_start_s`` until ``p_mw`` is at or below ``target_mw`` and stays there
    until ``t_end_s``.

    Step-held samples: the value at ``t[i]`` holds until ``t[i+1]``. 0 when it
    is already there at the start; None when it is still above at the end.
    """
    t, p = arr(t_s), arr(p_mw)
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


def demand_response(
    t_p: np.ndarray,
    p_poi: np.ndarray,
    t_call_s: float,
    duration_s: float,
    baseline_mw: float,
    reduction: float,
    speed: str,
    th: Mapping[str, Value],
) -> Verdict:
    """Q6: the POI reaches ``(1 - reduction) x baseline`` within 2 s (fast) / 60 s (slow) and
    holds it.

    Parameters
    ----------
    t_p, p_poi : POI import [s], [MW]
    t_call_s, duration_s : call time and length [s]
    baseline_mw : the POI mean before the call [MW]; the target may be exceeded
        by ``target_tolerance_percent`` of it
    reduction : cut [fraction of the baseline]
    speed : ``"fast"`` or ``"slow"``
    th : the test's parameters
    """
    t, p = arr(t_p), arr(p_poi)
    target = (1.0 - reduction) * baseline_mw
    tol = float(th["target_tolerance_percent"].value) / 100.0 * baseline_mw
    t_end = min(t_call_s + duration_s, t[-1] if t.size else t_call_s)
    rt = response_time_s(t, p, t_call_s, t_end, target + tol)
    key = "response_fast_s" if speed == "fast" else "response_slow_s"
    c = check(
        "response",
        f"time to reach {100 * reduction:g} % cut ({speed} call)",
        rt,
        th[key],
        "<=",
        note=f"target {fmt(target)} MW (+{fmt(tol)} MW) from baseline {fmt(baseline_mw)} MW"
        + ("" if rt is not None else "; never held the target until the end of the call"),
    )
    allowed_s = float(th[key].value)
    win = (t_call_s - 60.0, min(t_call_s + max(120.0, 2 * allowed_s), t_end + 60.0))
    p1 = Panel("P [MW]", xlim=win)
    p1.add("POI", t, p, window=win)
    p1.hlines += [("baseline", baseline_mw), ("target + tolerance", target + tol)]
    p1.vspans.append((f"allowed response ({th[key].value:g} s)", t_call_s, t_call_s + allowed_s))
    p2 = Panel("P [MW]")
    p2.add("POI", t, p)
    p2.vspans.append(("call", t_call_s, t_call_s + duration_s))
    p2.hlines.append(("target + tolerance", target + tol))
    fig = Figure(
        "q6",
        "Demand-response call",
        [p1, p2],
        f"Response time {fmt(rt)} s vs {th[key].value:g} s.",
    )
    return Verdict(
        [c],
        reason_of([c]),
        [fig],
        measures={"response_s": rt, "target_mw": target, "baseline_mw": baseline_mw},
    )


TEST = QualTest(
    "Q6",
    "Demand-response call",
    "curtailment call -30 % of POI import for 1 h, strong grid",
    "POI at the target within 2 s (fast) / 60 s (slow) and held",
    "strong",
    4800.0,
    300.0,
    PARAMS,
    plan,
    evaluate,
    need,
)
