"""Voltage ride-through, shared by Q7 (the July 2024 fault train) and Q8 (a deep sag).

Pass when the grid sees no load loss (the POI import stays >= 90 % of its
pre-disturbance value) and >= 90 % is back within 1 s once the POI voltage is
back at >= 0.9 pu (``docs/domain.md``, "Qualification test profiles", Q7 and
Q8; the 90 % and 1 s from the ERCOT ride-through proposal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cosim.metrics import events as ev_metrics
from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import hr_col, poi_power, poi_voltage
from cosim.studies.qualify.shortfall import Need
from cosim.studies.qualify.tests.base import Context, Frames, poi_bus
from cosim.studies.qualify.tests.needs import need_for
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, reason_of

_ERCOT = "ERCOT ride-through proposal (docs/domain.md)"

#: thresholds of Q7 and Q8
THRESHOLDS: tuple[Param, ...] = (
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
)


def sag_bus(ctx: Context) -> int:
    """The bus the sags are applied at: ``sag_bus``, or the POI when it is negative."""
    b = ctx.v("sag_bus")
    return poi_bus(ctx) if b is None or b < 0 else int(b)


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    """The ride-through verdict of the run ``main`` against the sags in ``ctx.info["events"]``."""
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    tv, v, _ = poi_voltage(res)
    ob = hr_col(res, "on_backup")
    n = len(ctx.info.get("events") or [])
    return ride_through(
        tv,
        v,
        t,
        p,
        ctx.values,
        expected_events=n,
        name=ctx.test_id.lower(),
        on_backup=ob,
        p_site=ps,
    )


def need(ctx: Context, runs: Frames) -> Need | None:
    """Target: the POI import before the first disturbance, held while V is out of band or the
    site is on backup."""
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    if ps is None:
        return None
    evs = ctx.info.get("events") or []
    if not evs:
        return None
    t0 = min(e["t_s"] for e in evs)
    pre = p[(t >= t0 - 1.0) & (t < t0)]
    if not pre.size:
        return None
    p_pre = float(pre.mean())
    ob = hr_col(res, "on_backup")
    off = np.zeros_like(t, dtype=bool)
    if ob is not None:
        off = np.interp(t, ob[0], ob[1]) > 1e-6
    tv, v, _ = poi_voltage(res)
    lo, hi = ctx.v("v_band_pu")
    vt = np.interp(t, tv, np.nan_to_num(v, nan=1.0))
    out = (vt < lo) | (vt > hi)
    hold = (t >= t0) & (off | out)
    target = np.where(hold, p_pre, ps)
    return need_for(
        res,
        t,
        ps,
        target,
        f"POI held at its pre-event {p_pre:.1f} MW while V is out of band or the site is on backup",
    )


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
    (:func:`cosim.metrics.events.ride_through`).

    Parameters
    ----------
    t_v, v_poi : POI voltage [s], [pu]
    t_p, p_poi : POI import [s], [MW]
    th : the test's parameters
    expected_events : how many disturbances the stimulus should cause; fewer
        means the sag did not reach the POI (stimulus not applied)
    name : figure name
    on_backup : ``(t_s, 1/0)``: the site on UPS / backup, for the figure
    p_site : site power before the BESS [MW] on ``t_p``, for the figure
    """
    tv, v, tp, p = arr(t_v), arr(v_poi), arr(t_p), arr(p_poi)
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
        "load_loss",
        "largest POI load loss",
        loss_pct,
        th["load_loss_max_percent"],
        "<=",
        note=f"{len(evs)} disturbance(s); largest loss {fmt(rt['mw_lost_max'])} MW",
    )
    c2 = check("recovery", "slowest recovery to 90 %", slowest, th["recovery_time_max_s"], "<=")
    if slowest == math.inf:
        c2 = c2.with_(
            value=None,
            passed=False,
            note=f"a disturbance did not recover within the {th['window_s'].value:g} s window",
        )
    cause = None
    if rt["events"] < expected_events:
        cause = "stimulus"
        c1 = c1.with_(
            note=c1.note
            + f"; expected {expected_events} voltage disturbance(s) at the POI, saw {rt['events']}"
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
                f"{rt['events']} disturbance(s); largest loss {fmt(loss_pct)} % of pre-event; "
                f"slowest recovery {fmt(slowest)} s.",
            )
        )
    checks = [c1, c2]
    return Verdict(
        checks,
        reason_of(checks),
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
