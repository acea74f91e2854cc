"""Q9, weak grid: the spec's training site on a grid of SCR 2.0 and R/X 0.5.

The grid is :mod:`cosim.studies.qualify.weakgrid` (a Thevenin source with
fixed and switched POI capacitors sized for the site) unless the spec names a
network. Pass when the POI voltage stays within ANSI C84.1 Range A and every
power flow converges (``docs/domain.md``, "Qualification test profiles", Q9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from cosim.studies.qualify.evidence import voltage_figure
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import factory_frame, poi_voltage
from cosim.studies.qualify.spec import QualifySpec
from cosim.studies.qualify.tests.base import (
    Context,
    Frames,
    GridInfeasible,
    NotAvailable,
    QualTest,
    RunPlan,
    common_overrides,
)
from cosim.studies.qualify.tests.needs import need_flat
from cosim.studies.qualify.verdict import Verdict, arr, check, judged_window, reason_of

PARAMS: tuple[Param, ...] = (
    Param("v_min_pu", 0.95, "pu", "ANSI C84.1 Range A", "lowest POI voltage"),
    Param("v_max_pu", 1.05, "pu", "ANSI C84.1 Range A", "highest POI voltage"),
    Param(
        "settle_s",
        30.0,
        "s",
        "assumed (controller start-up not judged)",
        "start of the judged window",
    ),
)


def site_import_mw(spec: QualifySpec, seconds: float = 300.0) -> np.ndarray:
    """Site import [MW] per second of the spec's site without BESS (pure site model)."""
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


def plan(ctx: Context) -> list[RunPlan]:
    """One run on the weak grid (written to ``weak_grid.json``), or on the spec's own network.

    Raises
    ------
    NotAvailable
        a spec network without its POI bus.
    GridInfeasible
        the weak grid cannot carry the site at all.
    """
    wg = ctx.spec.options.weak_grid
    extra: dict[str, Any] = {}
    if wg.network is not None:
        if wg.poi_bus is None:
            raise NotAvailable("qualify.weak_grid.network needs qualify.weak_grid.poi_bus")
        path = ctx.spec.case().resolve(wg.network)
        ctx.info["weak_grid"] = {"network": str(path), "poi_bus": wg.poi_bus}
        bus = wg.poi_bus
    else:
        path, bus = _write_weak_grid(ctx, extra)
    overrides = {
        "grid.network": str(path),
        "factory.poi_bus": bus,
        "grid.on_nonconvergence": "stop",
        **extra,
    }
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def _write_weak_grid(ctx: Context, extra: dict[str, Any]) -> tuple[Any, int]:
    """Write the weak grid sized for the site; the switched bank goes into ``extra``."""
    from cosim.studies.qualify.weakgrid import size_switched_compensation, write_weak_grid

    wg = ctx.spec.options.weak_grid
    case = ctx.spec.case()
    tan_phi = math.tan(math.acos(case.factory.power_factor))
    p = site_import_mw(ctx.spec, min(300.0, ctx.duration_s))
    slow = np.convolve(p, np.ones(10) / 10, mode="valid") if p.size >= 10 else p
    # the POI starts at the site's first grid-step import (the BESS filters start from it)
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
    return g.path, g.poi_bus


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    """The voltage verdict, with the largest POI P and Q steps that moved the voltage."""
    res = runs["main"]
    tv, v, conv = poi_voltage(res)
    verdict = voltage_range(tv, v, ctx.values, converged=conv)
    # what moves the voltage: the POI's P and Q step to step (the grid sees interval means)
    f = factory_frame(res)
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


def voltage_range(
    t_v: np.ndarray,
    v_poi: np.ndarray,
    th: Mapping[str, Value],
    converged: np.ndarray | None = None,
) -> Verdict:
    """Q9: POI voltage inside Range A after start-up, and every power flow converged.

    Parameters
    ----------
    t_v, v_poi : POI voltage [s], [pu]
    th : the test's parameters
    converged : 1/0 per power flow on ``t_v`` (else a non-finite voltage counts as not converged)
    """
    t, v = arr(t_v), arr(v_poi)
    settle = float(th["settle_s"].value)
    _, vj = judged_window(t, v, start_s=settle)
    finite = vj[np.isfinite(vj)]
    vmin = float(finite.min()) if finite.size else None
    vmax = float(finite.max()) if finite.size else None
    n_bad = (
        int((~np.isfinite(vj)).sum())
        if converged is None
        else int((arr(converged)[t >= t[0] + settle] < 0.5).sum())
    )
    note = f"{n_bad} step(s) without a converged power flow" if n_bad else ""
    c1 = check("v_min", "lowest POI voltage", vmin, th["v_min_pu"], ">=", note=note)
    c2 = check("v_max", "highest POI voltage", vmax, th["v_max_pu"], "<=")
    if n_bad:
        c1 = c1.with_(passed=False)
    band = (float(th["v_min_pu"].value), float(th["v_max_pu"].value))
    fig = voltage_figure("q9", "POI voltage on the weak grid", t, v, band, settle)
    checks = [c1, c2]
    return Verdict(
        checks,
        reason_of(checks),
        [fig],
        measures={"v_min_pu": vmin, "v_max_pu": vmax, "nonconverged": n_bad},
    )


TEST = QualTest(
    "Q9",
    "Weak grid",
    "the spec's training site on a weak grid: SCR 2.0, R/X 0.5, fixed + switched POI capacitors",
    "POI voltage within ANSI Range A; every power flow converges",
    "weak",
    3600.0,
    120.0,
    PARAMS,
    plan,
    evaluate,
    # target: the site's power low-passed (the switched bank follows slow changes, the BESS
    # the fast swing)
    need_flat,
)
