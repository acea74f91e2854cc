"""The test profiles Q1-Q12 as case overrides on the reference case, and how each is judged.

Each :class:`Profile` says what stimulus it applies (``plan``: one or more
federations, each a set of dotted-key overrides on the spec's case), how the
recorded series are judged (``evaluate``: a :mod:`cosim.studies.qualify.criteria`
function) and what POI trajectory would have passed (``need``: for
:mod:`cosim.studies.qualify.shortfall`). Stimulus figures are :class:`Param` s with
their source and can be changed under ``[qualify.Q<n>]`` like thresholds.

Durations: each test has its full duration (docs/domain.md: 1 h, 24 h, ...), the
default. ``duration_scale`` (``cosim qualify --duration-scale``) multiplies it
for CI, never below the test's minimum (the stimulus must still fit: a
checkpoint dip, the six-fault train, the chirp band); stimulus times are placed
relative to the duration, so a shortened test applies the same stimulus, only
with less time around it. Shortened runs are marked in the report.

Grids: the strong grid is the reference case's network; the weak grid (Q9) is
:mod:`cosim.studies.qualify.weakgrid`. Series used: ``factory_hr`` (POI power at the
factory's internal step) when recorded, else ``factory``; POI voltage from
``transmission.poi_vm_pu`` (else ``factory.vm_pu``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosim.studies.qualify import criteria as C
from cosim.studies.qualify.criteria import THRESHOLDS, Verdict
from cosim.studies.qualify.params import Param, Value, resolve
from cosim.studies.qualify.shortfall import Need, required_rating
from cosim.studies.qualify.spec import QualifySpec

_SUITE = "docs/domain.md qualification suite"


class NotAvailable(Exception):
    """The models lack something a test needs (e.g. no frequency federate); the test is not run."""


@dataclass
class RunPlan:
    """One federation of a test: a name (``main``, ``baseline``) and dotted-key overrides."""

    name: str
    overrides: dict[str, Any]


@dataclass
class Context:
    """Everything a profile needs to plan and judge one test."""

    spec: QualifySpec
    test_id: str
    out_dir: Path
    duration_scale: float
    values: dict[str, Value]
    duration_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def v(self, name: str) -> Any:
        return self.values[name].value

    @property
    def shortened(self) -> bool:
        return self.duration_scale < 1.0


Frames = dict[str, Any]  # run name -> cosim.engine.results.Results


@dataclass(frozen=True)
class Profile:
    """A qualification test."""

    id: str
    name: str
    stimulus: str
    criterion: str
    grid: str  # "strong" or "weak"
    full_duration_s: float
    min_duration_s: float
    params: tuple[Param, ...]
    plan: Callable[[Context], list[RunPlan]]
    evaluate: Callable[[Context, Frames], Verdict]
    need: Callable[[Context, Frames], Need | None] | None = None

    def duration(self, scale: float) -> float:
        return (
            max(self.full_duration_s * scale, self.min_duration_s)
            if scale < 1
            else self.full_duration_s * scale
        )


def params_of(test_id: str) -> list[Param]:
    """Thresholds and stimulus parameters of a test."""
    return [*THRESHOLDS.get(test_id, []), *PROFILES[test_id].params]


def resolve_values(spec: QualifySpec, test_id: str) -> dict[str, Value]:
    """Every parameter of a test with the spec's overrides, and the case's own limits where they apply."""
    values = resolve(test_id, params_of(test_id), spec.test_table(test_id))
    if test_id == "Q3" and not values["ramp_limit_mw_per_min"].overridden:
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


# ---------------------------------------------------------------- series


def poi_power(res: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """``(t_s, p_poi_mw, p_site_mw, series name)``: the finest POI power series of a run."""
    hr = res.frame("factory_hr")
    if len(hr) and "p_mw" in hr:
        hr = hr.sort_values("t_s").drop_duplicates("t_s", keep="last")
        ps = hr["p_site_mw"].to_numpy(float) if "p_site_mw" in hr else None
        return hr["t_s"].to_numpy(float), hr["p_mw"].to_numpy(float), ps, "factory_hr"
    f = _factory(res)
    ps = f["p_site_mw"].to_numpy(float) if "p_site_mw" in f else None
    return f["t_s"].to_numpy(float), f["p_mw"].to_numpy(float), ps, "factory"


def _factory(res: Any) -> pd.DataFrame:
    f = res.frame("factory")
    if not len(f):
        return pd.DataFrame({"t_s": [], "p_mw": []})
    return f.sort_values("t_s").drop_duplicates("t_s", keep="last").reset_index(drop=True)


def poi_voltage(res: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(t_s, v_pu, converged)`` at the POI from the network federate (else what the factory saw)."""
    for name in ("distribution", "transmission"):
        df = res.frame(name)
        if len(df) and "poi_vm_pu" in df:
            df = df.sort_values("t_s").drop_duplicates("t_s", keep="last")
            conv = df["converged"].to_numpy(float) if "converged" in df else None
            return df["t_s"].to_numpy(float), df["poi_vm_pu"].to_numpy(float), conv
    f = _factory(res)
    v = f["vm_pu"].to_numpy(float) if "vm_pu" in f else np.full(len(f), np.nan)
    return f["t_s"].to_numpy(float), v, None


def factory_col(res: Any, col: str) -> tuple[np.ndarray, np.ndarray] | None:
    f = _factory(res)
    if col not in f:
        return None
    return f["t_s"].to_numpy(float), f[col].to_numpy(float)


def hr_col(res: Any, col: str) -> tuple[np.ndarray, np.ndarray] | None:
    hr = res.frame("factory_hr")
    if len(hr) and col in hr:
        hr = hr.sort_values("t_s").drop_duplicates("t_s", keep="last")
        return hr["t_s"].to_numpy(float), hr[col].to_numpy(float)
    return factory_col(res, col)


def _need(
    ctx: Context, res: Any, t: np.ndarray, p_site: np.ndarray | None, target: np.ndarray, basis: str
) -> Need | None:
    if p_site is None:
        return None
    b = res.case.bess
    eta_c, eta_d = b.efficiencies
    return required_rating(
        t,
        p_site,
        target,
        eta_charge=eta_c,
        eta_discharge=eta_d,
        soc_init=b.soc_init,
        soc_min=b.soc_min,
        soc_max=b.soc_max,
        basis=basis,
    )


def _smoothing_tau(res: Any) -> float:
    sm = res.case.controls.smoothing
    return float(sm.tau_s) if sm.enabled else 60.0


def _need_flat(ctx: Context, runs: Frames) -> Need | None:
    """Target: the site's power through the spec's low-pass (60 s when smoothing is off)."""
    res = runs["main"]
    t, _, ps, _ = poi_power(res)
    if ps is None or not t.size:
        return None
    tau = _smoothing_tau(res)
    target = C.first_order_lowpass(t, ps, tau)
    return _need(ctx, res, t, ps, target, f"POI = site power low-passed with tau {tau:g} s")


def _common(ctx: Context, **extra: Any) -> dict[str, Any]:
    spec = ctx.spec
    o: dict[str, Any] = {
        "name": f"{spec.name}-{ctx.test_id}",
        "horizon.duration_s": ctx.duration_s,
        "outputs.report": False,
        "events": [],
        "controls.demand_response.calls": [],
        "grid.record_buses": "poi",  # the criteria need the POI only; N-1 (Q11) re-solves the network itself
    }
    if spec.options.wall_limit_s is not None:
        o["run.wall_limit_s"] = spec.options.wall_limit_s
    o.update(extra)
    return o


def _job(**kw: Any) -> dict[str, Any]:
    return {"name": kw.pop("name", "qualify"), "share": kw.pop("share", 1.0), **kw}


def _poi_bus(ctx: Context) -> int:
    return int(ctx.spec.case().factory.poi_bus)


# ---------------------------------------------------------------- Q1


def _plan_q1(ctx: Context) -> list[RunPlan]:
    job = _job(
        name="square",
        period_s=ctx.v("period_s"),
        compute_duty=ctx.v("compute_duty"),
        trough_fraction=ctx.v("trough_fraction"),
        checkpoint_duration_s=0.0,
    )
    return [
        RunPlan(
            "main",
            _common(
                ctx,
                **{
                    "factory.training.jobs": [job],
                    "factory.profile": "synthetic",
                    "horizon.factory_dt_s": ctx.v("factory_dt_s"),
                },
            ),
        )
    ]


def _eval_q1(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    tv, v, _ = poi_voltage(res)
    return C.q1_flatten(t, p, tv, v, float(res.case.bess.p_mw), ctx.values, p_site=ps)


# ---------------------------------------------------------------- Q2


def chirp(t_s: np.ndarray, f0_hz: float, f1_hz: float, t1_s: float) -> np.ndarray:
    """Logarithmic sine sweep from ``f0_hz`` at t = 0 to ``f1_hz`` at ``t1_s`` (unit amplitude)."""
    k = math.log(f1_hz / f0_hz)
    phase = 2 * math.pi * f0_hz * t1_s / k * (np.exp(k * np.asarray(t_s) / t1_s) - 1.0)
    return np.sin(phase)


def _plan_q2(ctx: Context) -> list[RunPlan]:
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
    return [
        RunPlan(
            "main",
            _common(
                ctx,
                **{
                    "factory.profile": "trace",
                    "factory.trace": trace,
                    "horizon.factory_dt_s": ctx.v("factory_dt_s"),
                },
            ),
        )
    ]


def _eval_q2(ctx: Context, runs: Frames) -> Verdict:
    t, p, ps, _ = poi_power(runs["main"])
    if ps is None:
        ps = np.full_like(p, np.nan)
    return C.q2_attenuation(t, ps, p, ctx.values)


# ---------------------------------------------------------------- Q3


def _q3_times(ctx: Context) -> tuple[float, float]:
    d = ctx.duration_s
    return ctx.v("start_at") * d, ctx.v("stop_at") * d


def _plan_q3(ctx: Context) -> list[RunPlan]:
    t0, t1 = _q3_times(ctx)
    ctx.info.update(start_s=t0, stop_s=t1)
    job = _job(
        name="job",
        share=ctx.v("job_share"),
        start_s=t0,
        stop_s=t1,
        start_ramp_s=ctx.v("ramp_s"),
        stop_ramp_s=ctx.v("ramp_s"),
        idle_fraction=0.0,
        checkpoint_duration_s=0.0,
    )
    return [
        RunPlan(
            "main", _common(ctx, **{"factory.training.jobs": [job], "factory.profile": "synthetic"})
        )
    ]


def _eval_q3(ctx: Context, runs: Frames) -> Verdict:
    t, p, ps, _ = poi_power(runs["main"])
    t0, t1 = _q3_times(ctx)
    return C.q3_ramp(t, p, ctx.values, p_site=ps, marks=[("job start", t0), ("job abort", t1)])


def _need_q3(ctx: Context, runs: Frames) -> Need | None:
    res = runs["main"]
    t, _, ps, _ = poi_power(res)
    if ps is None:
        return None
    lim = float(ctx.v("ramp_limit_mw_per_min"))
    target = C.rate_limited(t, ps, lim / 60.0)
    return _need(ctx, res, t, ps, target, f"POI = site power rate-limited to {lim:g} MW/min")


# ---------------------------------------------------------------- Q4


def _q4_dips(ctx: Context) -> tuple[float, float, list[tuple[float, float]]]:
    d = ctx.duration_s
    first, interval = ctx.v("first_s"), ctx.v("interval_s")
    if d < ctx.v("first_s") + ctx.v("interval_s") + ctx.v(
        "dip_s"
    ):  # shortened: two dips in the run
        first, interval = 0.25 * d, 0.5 * d
    dips = []
    t = first
    while t < d:
        dips.append((t, t + ctx.v("dip_s")))
        t += interval
    return first, interval, dips


def _plan_q4(ctx: Context) -> list[RunPlan]:
    first, interval, dips = _q4_dips(ctx)
    ctx.info["dips"] = dips
    job = _job(
        name="train",
        checkpoint_interval_s=interval,
        checkpoint_duration_s=ctx.v("dip_s"),
        checkpoint_fraction=ctx.v("dip_fraction"),
        checkpoint_offset_s=first,
    )
    return [
        RunPlan(
            "main", _common(ctx, **{"factory.training.jobs": [job], "factory.profile": "synthetic"})
        )
    ]


def _eval_q4(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    return C.q4_step(t, p, float(res.case.bess.p_mw), ctx.values, p_site=ps, dips=_q4_dips(ctx)[2])


def _need_q4(ctx: Context, runs: Frames) -> Need | None:
    """Target: the low-passed site power, with steps no larger than the limit (a flat POI through each dip)."""
    return _need_flat(ctx, runs)


# ---------------------------------------------------------------- Q5


def _plan_q5(ctx: Context) -> list[RunPlan]:
    return [
        RunPlan(
            "main",
            _common(ctx, **{"horizon.grid_dt_s": ctx.v("grid_dt_s"), "outputs.high_rate": False}),
        )
    ]


def _eval_q5(ctx: Context, runs: Frames) -> Verdict:
    s = factory_col(runs["main"], "soc")
    if s is None:
        return C.q5_soc(np.empty(0), np.empty(0), ctx.values)
    return C.q5_soc(s[0], s[1], ctx.values)


def _need_q5(ctx: Context, runs: Frames) -> Need | None:
    """The BESS's own run plus what it had to clip: power = max(|p_bess| + clipped), energy from its trajectory.

    Over a day the SOC is held by the slow restoration loop, so the energy
    the BESS needs is its own excursion; a BESS that clipped (was saturated
    by the swing) had no headroom left to restore its SOC.
    """
    res = runs["main"]
    ps, pb = factory_col(res, "p_site_mw"), factory_col(res, "p_bess_mw")
    if ps is None or pb is None:
        return None
    cl = factory_col(res, "clipped_mw")
    clipped = np.nan_to_num(cl[1]) if cl is not None else np.zeros_like(pb[1])
    n = _need(
        ctx,
        res,
        ps[0],
        ps[1],
        ps[1] + pb[1],
        "the BESS's own run (SOC excursion) plus the power it clipped",
    )
    if n is None:
        return None
    return Need(
        float(np.max(np.abs(pb[1]) + np.abs(clipped))),
        n.e_mwh,
        n.discharge_mwh,
        n.charge_mwh,
        n.basis,
    )


# ---------------------------------------------------------------- Q6


def _q6_call(ctx: Context) -> tuple[float, float]:
    d = ctx.duration_s
    call = ctx.v("call_duration_s")
    if d < ctx.v("call_at_s") + call + 60.0:  # shortened
        return 0.25 * d, 0.5 * d
    return ctx.v("call_at_s"), call


def _plan_q6(ctx: Context) -> list[RunPlan]:
    t_call, dur = _q6_call(ctx)
    ctx.info.update(call_s=t_call, call_duration_s=dur)
    call = {
        "t_s": t_call,
        "notice_s": 0.0,
        "duration_s": dur,
        "reduction": ctx.v("reduction"),
        "speed": ctx.v("speed"),
        "resource": ctx.v("resource"),
    }
    return [
        RunPlan(
            "main",
            _common(
                ctx,
                **{
                    "controls.demand_response.enabled": True,
                    "controls.demand_response.calls": [call],
                },
            ),
        )
    ]


def _q6_baseline(ctx: Context, res: Any, t_call: float) -> float:
    f = _factory(res)
    w = res.case.controls.demand_response.baseline_window_s
    sel = (f["t_s"] >= t_call - w) & (f["t_s"] < t_call)
    return float(f.loc[sel, "p_mw"].mean()) if sel.any() else float("nan")


def _eval_q6(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, _, _ = poi_power(res)
    t_call, dur = _q6_call(ctx)
    base = _q6_baseline(ctx, res, t_call)
    return C.q6_demand_response(
        t, p, t_call, dur, base, float(ctx.v("reduction")), str(ctx.v("speed")), ctx.values
    )


def _need_q6(ctx: Context, runs: Frames) -> Need | None:
    res = runs["main"]
    t, _, ps, _ = poi_power(res)
    if ps is None:
        return None
    t_call, dur = _q6_call(ctx)
    target_mw = (1.0 - float(ctx.v("reduction"))) * _q6_baseline(ctx, res, t_call)
    key = "response_fast_s" if ctx.v("speed") == "fast" else "response_slow_s"
    inside = (t >= t_call + float(ctx.v(key))) & (t < t_call + dur)
    target = np.where(inside, np.minimum(ps, target_mw), ps)
    return _need(
        ctx, res, t, ps, target, f"POI <= {target_mw:.1f} MW during the call (site as curtailed)"
    )


# ---------------------------------------------------------------- Q7 / Q8


#: the July 2024 train (NERC review): six faults 0.25-0.40 pu, 42-66 ms, within 82 s.
#: Offsets, depths and lengths inside those ranges are assumed (the review gives ranges only).
#: Lengths are whole multiples of the 2 ms event step (the grid federate applies a sag to whole steps).
JULY_2024_TRAIN: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.25, 0.042),
    (6.5, 0.40, 0.066),
    (19.8, 0.30, 0.050),
    (37.2, 0.35, 0.058),
    (58.9, 0.28, 0.044),
    (82.0, 0.38, 0.062),
)


def _sag_bus(ctx: Context) -> int:
    b = ctx.v("sag_bus")
    return _poi_bus(ctx) if b is None or b < 0 else int(b)


def _plan_q7(ctx: Context) -> list[RunPlan]:
    t0 = ctx.v("train_at_s")
    bus = _sag_bus(ctx)
    evs = [
        {"kind": "sag", "t_s": t0 + dt, "duration_s": dur, "bus": bus, "vm_pu": vm}
        for dt, vm, dur in JULY_2024_TRAIN
    ]
    ctx.info["events"] = evs
    return [
        RunPlan(
            "main",
            _common(
                ctx,
                events=evs,
                **{
                    "horizon.event_margin_s": ctx.v("event_margin_s"),
                    "horizon.event_dt_s": ctx.v("event_dt_s"),
                },
            ),
        )
    ]


def _plan_q8(ctx: Context) -> list[RunPlan]:
    ev = {
        "kind": "sag",
        "t_s": ctx.v("sag_at_s"),
        "duration_s": ctx.v("sag_duration_s"),
        "bus": _sag_bus(ctx),
        "vm_pu": ctx.v("sag_vm_pu"),
    }
    ctx.info["events"] = [ev]
    return [
        RunPlan(
            "main", _common(ctx, events=[ev], **{"horizon.event_margin_s": ctx.v("event_margin_s")})
        )
    ]


def _eval_rt(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    t, p, ps, _ = poi_power(res)
    tv, v, _ = poi_voltage(res)
    ob = hr_col(res, "on_backup")
    n = len(ctx.info.get("events") or [])
    return C.ride_through(
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


def _need_rt(ctx: Context, runs: Frames) -> Need | None:
    """Target: the POI import before the first disturbance, held while V is out of band or the site is off."""
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
    return _need(
        ctx,
        res,
        t,
        ps,
        target,
        f"POI held at its pre-event {p_pre:.1f} MW while V is out of band or the site is on backup",
    )


# ---------------------------------------------------------------- Q9


def site_import_mw(spec: QualifySpec, seconds: float = 300.0) -> np.ndarray:
    """Site import [MW] per second of the spec's site without BESS (pure site model, no federation)."""
    from federates.factory.site import FactorySite

    case = spec.case({"bess.enabled": False})
    site = FactorySite(
        case.factory,
        case.bess,
        case.controls,
        seed=case.seed,
        dt_s=case.horizon.factory_dt_s,
        base_dir=case.base_dir,
    )
    p, t = [], 0.0
    while t < seconds - 1e-9:
        p.append(site.advance(t, t + 1.0, 1.0, 60.0).p_mw)
        t += 1.0
    return np.asarray(p)


def _plan_q9(ctx: Context) -> list[RunPlan]:
    from cosim.studies.qualify.weakgrid import size_switched_compensation, write_weak_grid

    wg = ctx.spec.options.weak_grid
    extra: dict[str, Any] = {}
    if wg.network is not None:
        if wg.poi_bus is None:
            raise NotAvailable("qualify.weak_grid.network needs qualify.weak_grid.poi_bus")
        path = ctx.spec.case().resolve(wg.network)
        ctx.info["weak_grid"] = {"network": str(path), "poi_bus": wg.poi_bus}
        bus = wg.poi_bus
    else:
        case = ctx.spec.case()
        tan_phi = math.tan(math.acos(case.factory.power_factor))
        p = site_import_mw(ctx.spec, min(300.0, ctx.duration_s))
        slow = np.convolve(p, np.ones(10) / 10, mode="valid") if p.size >= 10 else p
        # the POI starts at the site's first grid-step import (the BESS filters start from it), then settles
        p_start = float(p[0])
        p_lo, p_hi = float(min(slow.min(), p_start)), float(max(slow.max(), p_start))
        try:
            comp = None
            if wg.compensate:
                comp = size_switched_compensation(
                    wg.scr,
                    wg.rx_ratio,
                    case.factory.site_peak_mw,
                    tan_phi,
                    p_lo,
                    p_hi,
                    p_start,
                    wg.bank_step_mvar,
                    wg.v_target_pu,
                    wg.vn_kv,
                    wg.v_source_pu,
                )
            g = write_weak_grid(
                ctx.out_dir / "weak_grid.json",
                scr=wg.scr,
                rx_ratio=wg.rx_ratio,
                p_base_mw=case.factory.site_peak_mw,
                p_comp_mw=p_lo,
                q_comp_mvar=p_lo * tan_phi,
                compensate=wg.compensate,
                v_target_pu=wg.v_target_pu,
                vn_kv=wg.vn_kv,
                v_source_pu=wg.v_source_pu,
            )
        except ValueError as exc:
            raise GridInfeasible(str(exc)) from None
        info = {
            "network": str(g.path),
            "poi_bus": g.poi_bus,
            "scr": g.scr,
            "rx_ratio": g.rx_ratio,
            "s_sc_mva": g.s_sc_mva,
            "site_peak_mw": g.p_base_mw,
            "fixed_mvar": g.shunt_mvar,
            "site_slow_import_mw": [p_lo, p_hi],
            "site_start_import_mw": p_start,
            "max_import_fixed_only_mw": g.p_max_mw,
        }
        if comp is not None:
            lo, hi = wg.bank_v_band_pu
            extra["grid.shunts"] = [
                {
                    "bus": "poi",
                    "q_step_mvar": comp.step_mvar,
                    "steps": comp.steps,
                    "steps_on": comp.steps_on,
                    "v_low_pu": lo,
                    "v_high_pu": hi,
                    "delay_s": wg.bank_delay_s,
                    "controlled": True,
                }
            ]
            info.update(
                bank_step_mvar=comp.step_mvar, bank_steps=comp.steps, bank_steps_on=comp.steps_on
            )
        ctx.info["weak_grid"] = info
        path, bus = g.path, g.poi_bus
    return [
        RunPlan(
            "main",
            _common(
                ctx,
                **{
                    "grid.network": str(path),
                    "factory.poi_bus": bus,
                    "grid.on_nonconvergence": "stop",
                    **extra,
                },
            ),
        )
    ]


class GridInfeasible(Exception):
    """The grid of a test cannot carry the site at all (no BESS can change that)."""


def _eval_q9(ctx: Context, runs: Frames) -> Verdict:
    res = runs["main"]
    tv, v, conv = poi_voltage(res)
    verdict = C.q9_voltage(tv, v, ctx.values, converged=conv)
    # what moves the voltage: the POI's P and Q step to step (the grid sees interval means)
    f = _factory(res)
    settle = float(ctx.v("settle_s"))
    if len(f) > 2 and "q_mvar" in f:
        j = f[f["t_s"] >= f["t_s"].iloc[0] + min(settle, 0.25 * f["t_s"].iloc[-1])]
        dq = float(np.nanmax(np.abs(np.diff(j["q_mvar"].to_numpy(float))))) if len(j) > 1 else None
        dp = float(np.nanmax(np.abs(np.diff(j["p_mw"].to_numpy(float))))) if len(j) > 1 else None
        verdict.measures.update(poi_q_step_max_mvar=dq, poi_p_step_max_mw=dp)
        if dq is not None and dp is not None:
            q_smoothed = ctx.spec.case().controls.q_smoothing.enabled
            why = (
                "the BESS smooths P and Q"
                if q_smoothed
                else "the site's Q follows its P at constant PF; the BESS controls smooth P, not Q "
                "(controls.q_smoothing)"
            )
            verdict.reason += (
                f"; step to step the POI moved up to {dp:.1f} MW and {dq:.1f} Mvar ({why})"
            )
    return verdict


def _need_q9(ctx: Context, runs: Frames) -> Need | None:
    """Target: the site's power low-passed (the switched bank follows slow changes, the BESS the fast swing)."""
    return _need_flat(ctx, runs)


# ---------------------------------------------------------------- Q10


def _frequency_fields() -> set[str]:
    from federates.grid.config import FrequencyConfig

    return set(FrequencyConfig.model_fields)


def nearby_load_loss(net: Any, poi_bus: int, total_mw: float) -> list[tuple[int, float]]:
    """Loads to drop, nearest the POI first (by bus hops), until ``total_mw`` is lost: ``[(bus, MW)]``.

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
    """System base [MVA] at which a step ``dp_mw`` (+ = load increase) drives the SFR model to ``f_peak_hz``.

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


def _plan_q10(ctx: Context) -> list[RunPlan]:
    fields = _frequency_fields()
    if fields <= {"enabled"}:
        raise NotAvailable(
            "the frequency federate has no system model yet (federates.grid.config.FrequencyConfig "
            "only has 'enabled'); Q10 needs inertia/governor keys and a load_step event"
        )
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
    plans.append(
        RunPlan(
            "over",
            _common(
                ctx, **{"frequency.enabled": True, "frequency.s_base_mva": s_over, "events": over}
            ),
        )
    )
    info["over"] = {
        "load_lost_mw": lost,
        "buses": [b for b, _ in drops],
        "s_base_mva": s_over,
        "target_hz": ctx.v("f_over_hz"),
    }
    if big is not None:
        s_under = s_base_for_peak(case.frequency, loss, ctx.v("f_under_hz"))
        under = [{"kind": "gen_trip", "t_s": t0, "element": big, "delta_mw": loss}]
        plans.append(
            RunPlan(
                "under",
                _common(
                    ctx,
                    **{"frequency.enabled": True, "frequency.s_base_mva": s_under, "events": under},
                ),
            )
        )
        info["under"] = {
            "gen_tripped": big,
            "generation_lost_mw_seen_by_frequency": loss,
            "s_base_mva": s_under,
            "target_hz": ctx.v("f_under_hz"),
        }
    ctx.info.update(info)
    return plans


def _eval_q10(ctx: Context, runs: Frames) -> Verdict:
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
        v = C.q10_frequency(
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
        for c in v.checks:
            c.name = f"{name}-frequency: {c.name}"
        for fig in v.figures:
            fig.name, fig.title = f"q10_{name}", f"{fig.title} ({name}-frequency)"
        checks += v.checks
        figures += v.figures
        measures[name] = v.measures
        causes.append(v.cause)
    cause = "stimulus" if causes and all(c == "stimulus" for c in causes) else None
    return Verdict(checks, C._reason(checks), figures, cause=cause, measures=measures)


def _need_q10(ctx: Context, runs: Frames) -> Need | None:
    """Target: the site's power low-passed plus the droop the frequency calls for (both runs; the larger need)."""
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
        d = C.droop_mw(
            np.interp(t, fr["t_s"].to_numpy(float), fr["f_hz"].to_numpy(float)),
            float(res.case.bess.p_mw),
            fw.droop,
            fw.deadband_hz,
            fw.f_nom_hz,
        )
        target = C.first_order_lowpass(t, ps, _smoothing_tau(res)) + d
        n = _need(
            ctx,
            res,
            t,
            ps,
            target,
            f"POI = site power low-passed plus the droop ({name}-frequency)",
        )
        if n is not None:
            needs.append(n)
    return max(needs, key=lambda n: (n.p_mw, n.e_mwh)) if needs else None


# ---------------------------------------------------------------- Q11


def _plan_q11(ctx: Context) -> list[RunPlan]:
    return [RunPlan("main", _common(ctx))]


def _eval_q11(ctx: Context, runs: Frames) -> Verdict:
    from cosim.metrics.grid_strength import n1_screening
    from federates.grid.network import load_network

    res = runs["main"]
    case = res.case
    t, p, _, _ = poi_power(res)
    settle = 30.0
    sel = t >= t[0] + min(settle, 0.25 * (t[-1] - t[0])) if t.size else np.zeros(0, dtype=bool)
    tan_phi = math.tan(math.acos(case.factory.power_factor))
    pk, tr, mean = float(np.nanmax(p[sel])), float(np.nanmin(p[sel])), float(np.nanmean(p[sel]))
    snaps = [("swing peak", pk, pk * tan_phi), ("swing trough", tr, tr * tan_phi)]
    lo, hi = float(ctx.v("v_min_pu")), float(ctx.v("v_max_pu"))
    lim = float(ctx.v("loading_max_percent"))
    net = load_network(case.grid.network, case.base_dir)
    bus = int(case.factory.poi_bus)
    with_site = n1_screening(net, bus, snaps, lo, hi, lim).to_dict("records")
    without = n1_screening(net, bus, [("no site", 0.0, 0.0)], lo, hi, lim).to_dict("records")
    at_mean = n1_screening(net, bus, [("mean import", mean, mean * tan_phi)], lo, hi, lim).to_dict(
        "records"
    )
    verdict = C.q11_n1(with_site, without, ctx.values)
    mean_verdict = C.q11_n1(at_mean, without, ctx.values)
    verdict.measures.update(
        p_peak_mw=pk,
        p_trough_mw=tr,
        p_mean_mw=mean,
        added_severity_at_mean_pp=mean_verdict.measures["added_severity_pp"],
    )
    if verdict.passed is False and mean_verdict.passed is False:
        verdict.cause = "site"
        verdict.reason += (
            f"; even a perfectly flat POI at the site's mean import ({mean:.1f} MW) adds "
            f"{mean_verdict.measures['added_severity_pp']:.2f} pp: the site's size, not its swing, "
            "causes it"
        )
    return verdict


# ---------------------------------------------------------------- Q12


def _oltc_available() -> bool:
    from federates.grid.config import PoiTransformerConfig

    return "oltc" in PoiTransformerConfig.model_fields


def _plan_q12(ctx: Context) -> list[RunPlan]:
    if not _oltc_available():
        raise NotAvailable(
            "the grid model has no OLTC yet (no grid.poi_transformer.oltc in federates.grid.config); "
            "Q12 needs tap positions recorded as tap_pos.* columns"
        )
    case = ctx.spec.case()
    extra: dict[str, Any] = {"horizon.grid_dt_s": ctx.v("grid_dt_s"), "outputs.high_rate": False}
    if case.grid.poi_transformer is None or case.grid.poi_transformer.oltc is None:
        # the site behind its own step-down transformer with an OLTC (grid defaults), unless the spec has one
        extra["grid.poi_transformer"] = {"oltc": {"trafo": "poi"}}
        ctx.info["oltc"] = "POI step-down transformer added with the grid model's default OLTC"
    return [
        RunPlan("main", _common(ctx, **extra)),
        RunPlan("baseline", _common(ctx, **extra, **{"bess.enabled": False})),
    ]


def _taps(
    res: Any, settle_s: float = 0.0
) -> tuple[int | None, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Tap operations after ``settle_s`` (the first moves from the initial tap are set-up, not wear)."""
    from cosim.metrics.wear import tap_operations

    total, series = None, {}
    for name in ("transmission", "distribution"):
        df = res.frame(name)
        if not len(df):
            continue
        df = df[df["t_s"] >= df["t_s"].iloc[0] + settle_s]
        r = tap_operations(df)
        if r["tap_ops"] is not None:
            total = (total or 0) + r["tap_ops"]
            for col in [c for c in df.columns if str(c).startswith("tap_pos.")][:2]:
                series[f"{name} {col}"] = (df["t_s"].to_numpy(float), df[col].to_numpy(float))
    return total, series


def _eval_q12(ctx: Context, runs: Frames) -> Verdict:
    settle = float(ctx.v("settle_s"))
    w, sw = _taps(runs["main"], settle)
    wo, swo = _taps(runs["baseline"], settle)
    series = {f"with BESS: {k}": v for k, v in sw.items()} | {
        f"without: {k}": v for k, v in swo.items()
    }
    return C.q12_taps(w, wo, ctx.values, series)


# ---------------------------------------------------------------- catalogue


def _p(name: str, default: Any, unit: str, source: str, description: str) -> Param:
    return Param(name, default, unit, source, description, kind="stimulus")


PROFILES: dict[str, Profile] = {
    p.id: p
    for p in (
        Profile(
            "Q1",
            "Training square wave",
            "training square wave 0.5 Hz, 35 <-> 100 % GPU, strong grid",
            "POI power RMS in 0.1-20 Hz <= 2 % of the BESS rating; POI RVC <= 3 %",
            "strong",
            3600.0,
            100.0,
            (
                _p("period_s", 2.0, "s", f"{_SUITE} Q1 (0.5 Hz)", "iteration period"),
                _p("compute_duty", 0.5, "1", "assumed (a square wave: 50 % duty)", "compute share"),
                _p("trough_fraction", 0.35, "1", f"{_SUITE} Q1 (35 %)", "trough GPU power / peak"),
                _p(
                    "factory_dt_s",
                    0.02,
                    "s",
                    "assumed (Nyquist 25 Hz covers the 20 Hz band edge)",
                    "factory internal step",
                ),
            ),
            _plan_q1,
            _eval_q1,
            _need_flat,
        ),
        Profile(
            "Q2",
            "Load chirp",
            "site load chirp 0.05-30 Hz, +/- 30 MW (log sweep over the run), strong grid",
            ">= 10 dB attenuation site -> POI in 0.2-3 Hz",
            "strong",
            600.0,
            120.0,
            (
                _p("f_start_hz", 0.05, "Hz", f"{_SUITE} Q2", "sweep start"),
                _p("f_stop_hz", 30.0, "Hz", f"{_SUITE} Q2", "sweep end"),
                _p("amplitude_mw", 30.0, "MW", f"{_SUITE} Q2", "chirp amplitude"),
                _p("base_fraction", 0.7, "1", "assumed", "mean site load / site peak"),
                _p(
                    "trace_dt_s",
                    0.005,
                    "s",
                    "assumed (>= 6 samples per period at 30 Hz)",
                    "chirp trace step",
                ),
                _p("factory_dt_s", 0.01, "s", "assumed (Nyquist 50 Hz)", "factory internal step"),
            ),
            _plan_q2,
            _eval_q2,
            _need_flat,
        ),
        Profile(
            "Q3",
            "Job start and abort",
            "training job 0 -> 100 % in 1 s, later 100 -> 0 %, strong grid",
            "POI ramp <= 20 MW/min (or the case's limit) over 1 min",
            "strong",
            1800.0,
            300.0,
            (
                _p(
                    "job_share",
                    1.0,
                    "1",
                    "assumed (all training GPUs start together)",
                    "share of training GPUs",
                ),
                _p("ramp_s", 1.0, "s", f"{_SUITE} Q3; arXiv 2508.14318", "start / stop ramp"),
                _p("start_at", 0.1, "1", "assumed", "job start / duration"),
                _p("stop_at", 0.55, "1", "assumed", "job abort / duration"),
            ),
            _plan_q3,
            _eval_q3,
            _need_q3,
        ),
        Profile(
            "Q4",
            "Checkpoint dips",
            "checkpoint dips 60 s at 15 % every 30 min during training, strong grid",
            "largest POI step within 1 s <= 3 % of the BESS rating",
            "strong",
            3600.0,
            240.0,
            (
                _p("dip_s", 60.0, "s", f"{_SUITE} Q4", "checkpoint length"),
                _p("dip_fraction", 0.15, "1", f"{_SUITE} Q4", "GPU power during a checkpoint"),
                _p("interval_s", 1800.0, "s", f"{_SUITE} Q4", "checkpoint interval"),
                _p("first_s", 600.0, "s", "assumed", "first checkpoint"),
            ),
            _plan_q4,
            _eval_q4,
            _need_q4,
        ),
        Profile(
            "Q5",
            "24 h state of charge",
            "24 h of training with checkpoints + diurnal inference, strong grid",
            "|SOC drift| <= 5 % over the run; SOC always in 20-80 %",
            "strong",
            86400.0,
            1800.0,
            (
                _p(
                    "grid_dt_s",
                    10.0,
                    "s",
                    "assumed (SOC drift needs no 1 s grid steps)",
                    "grid step",
                ),
            ),
            _plan_q5,
            _eval_q5,
            _need_q5,
        ),
        Profile(
            "Q6",
            "Demand-response call",
            "curtailment call -30 % of POI import for 1 h, strong grid",
            "POI at the target within 2 s (fast) / 60 s (slow) and held",
            "strong",
            4800.0,
            300.0,
            (
                _p("reduction", 0.3, "1", f"{_SUITE} Q6", "cut / baseline"),
                _p("call_duration_s", 3600.0, "s", f"{_SUITE} Q6", "call length"),
                _p("call_at_s", 600.0, "s", "assumed", "call time"),
                _p("speed", "fast", "-", f"{_SUITE} Q6", "fast (2 s) or slow (60 s)"),
                _p("resource", "both", "-", "Texas SB 6 (load curtailment) + BESS", "who curtails"),
            ),
            _plan_q6,
            _eval_q6,
            _need_q6,
        ),
        Profile(
            "Q7",
            "July 2024 fault train",
            "six sags 0.25-0.40 pu, 42-66 ms, within 82 s at the POI (NERC 2025)",
            "POI load loss <= 10 % of pre-event; >= 90 % back within 1 s once V >= 0.9 pu",
            "strong",
            600.0,
            130.0,
            (
                _p("train_at_s", 30.0, "s", "assumed", "first fault"),
                _p(
                    "event_margin_s",
                    0.1,
                    "s",
                    "assumed (fine grid steps 0.1 s around each fault)",
                    "refined time around each fault",
                ),
                _p(
                    "event_dt_s",
                    0.002,
                    "s",
                    "assumed (fault lengths are multiples of 2 ms)",
                    "grid step inside the fault windows",
                ),
                _p("sag_bus", -1, "-", "assumed (-1 = the POI bus)", "bus the sags are applied at"),
            ),
            _plan_q7,
            _eval_rt,
            _need_rt,
        ),
        Profile(
            "Q8",
            "Deep sag",
            "one sag to 0.20 pu for 150 ms at the POI",
            "POI load loss <= 10 % of pre-event; >= 90 % back within 1 s",
            "strong",
            300.0,
            90.0,
            (
                _p("sag_vm_pu", 0.20, "pu", "ERCOT NOGRR 282 (secondary)", "retained voltage"),
                _p("sag_duration_s", 0.15, "s", "SPP short ride-through (0.15 s)", "sag length"),
                _p("sag_at_s", 30.0, "s", "assumed", "sag time"),
                _p(
                    "event_margin_s",
                    0.2,
                    "s",
                    "assumed (10 ms grid steps 0.2 s around the sag)",
                    "refined time around the sag",
                ),
                _p("sag_bus", -1, "-", "assumed (-1 = the POI bus)", "bus the sag is applied at"),
            ),
            _plan_q8,
            _eval_rt,
            _need_rt,
        ),
        Profile(
            "Q9",
            "Weak grid",
            "the spec's training site on a weak grid: SCR 2.0, R/X 0.5, fixed + switched POI capacitors",
            "POI voltage within ANSI Range A; every power flow converges",
            "weak",
            3600.0,
            120.0,
            (),
            _plan_q9,
            _eval_q9,
            _need_q9,
        ),
        Profile(
            "Q10",
            "Frequency excursion",
            "nearby 1.5 GW load loss (to 61.2 Hz) and 1.5 GW generation loss (to "
            "58.8 Hz); the system base is set so that the frequency model peaks at those values",
            "stays connected; droop delivered within 1 s",
            "strong",
            300.0,
            120.0,
            (
                _p(
                    "load_loss_mw",
                    1500.0,
                    "MW",
                    f"{_SUITE} Q10",
                    "nearby load lost (and generation lost)",
                ),
                _p(
                    "f_over_hz",
                    61.2,
                    "Hz",
                    f"{_SUITE} Q10; SPP continuous band edge",
                    "zenith of the over-frequency run",
                ),
                _p(
                    "f_under_hz",
                    58.8,
                    "Hz",
                    f"{_SUITE} Q10; SPP continuous band edge",
                    "nadir of the under-frequency run",
                ),
                _p("event_at_s", 60.0, "s", "assumed", "event time"),
            ),
            _plan_q10,
            _eval_q10,
            _need_q10,
        ),
        Profile(
            "Q11",
            "N-1 at swing peak and trough",
            "training site, N-1 line/trafo outages at the POI import's peak and trough",
            "no N-1 violation (0.95-1.05 pu, <= 100 %) added by the site",
            "strong",
            300.0,
            120.0,
            (),
            _plan_q11,
            _eval_q11,
            None,
        ),
        Profile(
            "Q12",
            "OLTC wear",
            "24 h with OLTC, with vs without the BESS",
            "tap operations with / without < 1 (reduced)",
            "strong",
            86400.0,
            1800.0,
            (
                _p("grid_dt_s", 5.0, "s", "assumed (OLTC delays are tens of seconds)", "grid step"),
                _p(
                    "settle_s",
                    300.0,
                    "s",
                    "assumed (the OLTC's first moves from its initial tap are set-up)",
                    "tap operations before this are not counted",
                ),
            ),
            _plan_q12,
            _eval_q12,
            None,
        ),
    )
}
