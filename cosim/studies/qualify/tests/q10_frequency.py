"""Q10, frequency excursion: a nearby 1.5 GW load loss (to 61.2 Hz) and a 1.5 GW generation
loss (to 58.8 Hz).

Two runs with the aggregate frequency model on; the system base of each is
set so that the model peaks at those frequencies. Pass when the site stays
connected and the BESS delivers its droop within 1 s (``docs/domain.md``,
"Qualification test profiles", Q10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import factory_col, hr_col, poi_power
from cosim.studies.qualify.shortfall import Need
from cosim.studies.qualify.signals import centred_mean, first_order_lowpass
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
from cosim.studies.qualify.tests.needs import need_for, smoothing_tau_s
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, reason_of

_ERCOT = "ERCOT ride-through proposal (docs/domain.md)"

PARAMS: tuple[Param, ...] = (
    Param(
        "droop_fraction",
        0.9,
        "1",
        "assumed (90 %, as the ERCOT recovery figure)",
        "share of the droop power delivered",
    ),
    Param(
        "response_s", 1.0, "s", f"{SUITE_THRESHOLDS} Q10", "delay allowed for the droop response"
    ),
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
    stimulus(
        "load_loss_mw", 1500.0, "MW", f"{SUITE} Q10", "nearby load lost (and generation lost)"
    ),
    stimulus(
        "f_over_hz",
        61.2,
        "Hz",
        f"{SUITE} Q10; SPP continuous band edge",
        "zenith of the over-frequency run",
    ),
    stimulus(
        "f_under_hz",
        58.8,
        "Hz",
        f"{SUITE} Q10; SPP continuous band edge",
        "nadir of the under-frequency run",
    ),
    stimulus("event_at_s", 60.0, "s", "assumed", "event time"),
)


def nearby_load_loss(net: Any, poi_bus: int, total_mw: float) -> list[tuple[int, float]]:
    """Loads to drop ``[(bus, MW)]``, nearest first (bus hops), until ``total_mw`` is lost.

    Each bus loses at most its own in-service load, so the power flow stays a
    load loss (no negative loads); fewer MW are returned when the network has less.
    """
    import networkx as nx
    import pandapower.topology as top

    g = top.create_nxgraph(net, respect_switches=True)
    hops = nx.single_source_shortest_path_length(g, poi_bus)
    loads = net.load[net.load.in_service].groupby("bus")["p_mw"].sum()
    order = sorted(
        (b for b in loads.index if loads[b] > 0 and b in hops), key=lambda b: (hops[b], -loads[b])
    )
    out, left = [], float(total_mw)
    for b in order:
        if left <= 1e-9:
            break
        take = min(float(loads[b]), left)
        out.append((int(b), take))
        left -= take
    return out


def s_base_for_peak(
    freq_cfg: Any, dp_mw: float, f_peak_hz: float, horizon_s: float = 30.0
) -> float:
    """System base [MVA] at which a step ``dp_mw`` (+ = load increase) drives the SFR model to
    ``f_peak_hz``.

    Bisection on ``log(S_base)`` with the pure model
    (:class:`federates.grid.frequency.SystemFrequency`); the peak deviation
    falls monotonically with the system size.
    """
    from federates.grid.frequency import SystemFrequency

    target = abs(f_peak_hz - freq_cfg.f_nom_hz)

    def peak(s_mva: float) -> float:
        m = SystemFrequency(freq_cfg, s_mva)
        m.advance(0.0, horizon_s, dp_mw)
        return max(abs(m.zenith_hz - freq_cfg.f_nom_hz), abs(m.nadir_hz - freq_cfg.f_nom_hz))

    lo, hi = math.log(abs(dp_mw) / 10.0), math.log(abs(dp_mw) * 1e4)
    for _ in range(36):
        mid = 0.5 * (lo + hi)
        if peak(math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp(hi)


def plan(ctx: Context) -> list[RunPlan]:
    """Runs ``over`` (nearby loads dropped) and ``under`` (the largest generator tripped)."""
    from federates.grid.network import load_network

    case = ctx.spec.case({"frequency.enabled": True})
    net = load_network(case.grid.network, case.base_dir)
    loss = abs(float(ctx.v("load_loss_mw")))
    t0 = ctx.v("event_at_s")
    drops = nearby_load_loss(net, int(case.factory.poi_bus), loss)
    over = [{"kind": "load_step", "t_s": t0, "bus": b, "delta_mw": -mw} for b, mw in drops]
    lost = sum(mw for _, mw in drops)
    big = int(net.gen.p_mw.idxmax()) if len(net.gen) else None
    plans, info = [], {}
    s_over = s_base_for_peak(case.frequency, -lost, ctx.v("f_over_hz"))
    over_overrides = {"frequency.enabled": True, "frequency.s_base_mva": s_over, "events": over}
    plans.append(RunPlan("over", common_overrides(ctx, **over_overrides)))
    info["over"] = {
        "load_lost_mw": lost,
        "buses": [b for b, _ in drops],
        "s_base_mva": s_over,
        "target_hz": ctx.v("f_over_hz"),
    }
    if big is not None:
        s_under = s_base_for_peak(case.frequency, loss, ctx.v("f_under_hz"))
        under = [{"kind": "gen_trip", "t_s": t0, "element": big, "delta_mw": loss}]
        under_overrides = {
            "frequency.enabled": True,
            "frequency.s_base_mva": s_under,
            "events": under,
        }
        plans.append(RunPlan("under", common_overrides(ctx, **under_overrides)))
        info["under"] = {
            "gen_tripped": big,
            "generation_lost_mw_seen_by_frequency": loss,
            "s_base_mva": s_under,
            "target_hz": ctx.v("f_under_hz"),
        }
    ctx.info.update(info)
    return plans


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    """Both runs judged; the checks and figures of each named after its run."""
    checks, figures, measures, causes = [], [], {}, []
    for name in ("over", "under"):
        if name not in runs:
            continue
        res = runs[name]
        t, p, _, _ = poi_power(res)
        fr = res.frame("frequency")
        if len(fr) and "f_hz" in fr:
            tf, f = fr["t_s"].to_numpy(float), fr["f_hz"].to_numpy(float)
        else:
            fc = factory_col(res, "f_hz")
            tf, f = fc if fc is not None else (np.empty(0), np.empty(0))
        fw = res.case.controls.freq_watt
        ob = hr_col(res, "on_backup")
        v = frequency_response(
            tf,
            f,
            t,
            p,
            ctx.values,
            p_rated_mw=float(res.case.bess.p_mw),
            droop=fw.droop,
            deadband_hz=fw.deadband_hz,
            f_nom_hz=fw.f_nom_hz,
            on_backup=ob[1] if ob is not None else None,
        )
        for fig in v.figures:
            fig.name, fig.title = f"q10_{name}", f"{fig.title} ({name}-frequency)"
        checks += [
            c.with_(id=f"{name}.{c.id}", name=f"{name}-frequency: {c.name}") for c in v.checks
        ]
        figures += v.figures
        measures[name] = v.measures
        causes.append(v.cause)
    cause = "stimulus" if causes and all(c == "stimulus" for c in causes) else None
    return Verdict(checks, reason_of(checks), figures, cause=cause, measures=measures)


def need(ctx: Context, runs: Frames) -> Need | None:
    """Target: the site's power low-passed plus the droop the frequency calls for (both runs;
    the larger need)."""
    needs = []
    for name in ("over", "under"):
        if name not in runs:
            continue
        res = runs[name]
        t, _, ps, _ = poi_power(res)
        fr = res.frame("frequency")
        if ps is None or not len(fr) or "f_hz" not in fr:
            continue
        fw = res.case.controls.freq_watt
        d = droop_mw(
            np.interp(t, fr["t_s"].to_numpy(float), fr["f_hz"].to_numpy(float)),
            float(res.case.bess.p_mw),
            fw.droop,
            fw.deadband_hz,
            fw.f_nom_hz,
        )
        target = first_order_lowpass(t, ps, smoothing_tau_s(res)) + d
        n = need_for(
            res, t, ps, target, f"POI = site power low-passed plus the droop ({name}-frequency)"
        )
        if n is not None:
            needs.append(n)
    return max(needs, key=lambda n: (n.p_mw, n.e_mwh)) if needs else None


def droop_mw(
    f_hz: np.ndarray, p_rated_mw: float, droop: float, deadband_hz: float, f_nom_hz: float
) -> np.ndarray:
    """Frequency-watt droop [MW], + = more import (charging):
    ``(|df| - db) / f_nom / droop x P``, signed."""
    df = arr(f_hz) - f_nom_hz
    mag = np.clip(np.abs(df) - deadband_hz, 0.0, None)
    return np.sign(df) * mag / f_nom_hz / droop * p_rated_mw


def _no_excursion(th: Mapping[str, Value], note: str, **measures: float) -> Verdict:
    checks = [
        check(
            "droop",
            "droop delivered within the allowed delay",
            None,
            th["droop_fraction"],
            ">=",
            unit="1",
            note=note,
        )
    ]
    return Verdict(checks, reason_of(checks), cause="stimulus", measures=dict(measures))


def frequency_response(
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

    Parameters
    ----------
    t_f, f_hz : system frequency [s], [Hz]
    t_p, p_poi : POI import [s], [MW]
    th : the test's parameters
    p_rated_mw : BESS rated power [MW]
    droop : droop [fraction], deadband_hz : deadband [Hz], f_nom_hz : nominal frequency [Hz]
    on_backup : 1/0 per sample of ``t_p``: the site on UPS / backup
    """
    tf, f, tp, p = arr(t_f), arr(f_hz), arr(t_p), arr(p_poi)
    delay = float(th["response_s"].value)
    judge_s = float(th["judge_s"].value)
    fb = th["f_band_hz"].value
    ok = np.isfinite(f)
    if not ok.any():
        return _no_excursion(th, "no frequency series (frequency federate off?)")
    tf, f = tf[ok], f[ok]
    exp_f = droop_mw(f, p_rated_mw, droop, deadband_hz, f_nom_hz)
    peak = float(np.max(np.abs(exp_f))) if exp_f.size else 0.0
    dev = np.abs(f - f_nom_hz) > deadband_hz
    if peak <= 0.01 * p_rated_mw or not dev.any():
        return _no_excursion(
            th,
            f"frequency stayed within the deadband ({fmt(f.min())}..{fmt(f.max())} Hz)",
            f_min_hz=float(f.min()),
            f_max_hz=float(f.max()),
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
        "droop",
        f"droop delivered within {delay:g} s (worst share)",
        ratio,
        th["droop_fraction"],
        ">=",
        unit="1",
        note=f"peak droop {fmt(peak)} MW from f {fmt(f.min())}..{fmt(f.max())} Hz, "
        f"{100 * droop:g} % droop, deadband {deadband_hz:g} Hz; "
        f"judged {judge_s:g} s from t = {t0:g} s",
    )
    after = tp >= t0
    lost = None
    if after.any() and p_pre > 0:
        floor = trend + np.minimum(np.interp(tp, tf, exp_f), 0.0)
        lost = float(max(np.nanmax((floor - p_avg)[after]), 0.0) / p_pre * 100.0)
    note = ""
    if on_backup is not None and np.nanmax(arr(on_backup)) > 0:
        note = "the site transferred to backup"
    c2 = check(
        "load_loss",
        "POI load loss beyond the droop",
        lost,
        th["load_loss_max_percent"],
        "<=",
        note=note,
    )
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
        f"Worst delivered share {fmt(ratio)}; f {fmt(f.min())}..{fmt(f.max())} Hz "
        f"({'inside' if inband else 'outside'} the ride-through band).",
    )
    checks = [c1, c2]
    return Verdict(
        checks,
        reason_of(checks),
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


TEST = QualTest(
    "Q10",
    "Frequency excursion",
    "nearby 1.5 GW load loss (to 61.2 Hz) and 1.5 GW generation loss (to "
    "58.8 Hz); the system base is set so that the frequency model peaks at those values",
    "stays connected; droop delivered within 1 s",
    "strong",
    300.0,
    120.0,
    PARAMS,
    plan,
    evaluate,
    need,
)
