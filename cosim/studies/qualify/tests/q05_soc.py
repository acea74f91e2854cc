"""Q5, state of charge over a day: 24 h of training with checkpoints and diurnal inference.

Pass when the SOC drifts by at most 5 % over the run and stays inside 20-80 %
(``docs/domain.md``, "Qualification test profiles", Q5).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import factory_col
from cosim.studies.qualify.shortfall import Need
from cosim.studies.qualify.tests.base import (
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

_SOC_WINDOW = "docs/domain.md BESS SOC window 20-80 % (assumed)"

PARAMS: tuple[Param, ...] = (
    Param("soc_drift_max", 0.05, "1", f"{SUITE_THRESHOLDS} Q5", "|SOC end - SOC start|"),
    Param("soc_min", 0.20, "1", _SOC_WINDOW, "lowest allowed SOC"),
    Param("soc_max", 0.80, "1", _SOC_WINDOW, "highest allowed SOC"),
    stimulus("grid_dt_s", 10.0, "s", "assumed (SOC drift needs no 1 s grid steps)", "grid step"),
)


def plan(ctx: Context) -> list[RunPlan]:
    """One run: the reference site's own profile at a coarse grid step, no high-rate output."""
    overrides = {"horizon.grid_dt_s": ctx.v("grid_dt_s"), "outputs.high_rate": False}
    return [RunPlan("main", common_overrides(ctx, **overrides))]


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    s = factory_col(runs["main"], "soc")
    if s is None:
        return soc_window(np.empty(0), np.empty(0), ctx.values)
    return soc_window(s[0], s[1], ctx.values)


def need(ctx: Context, runs: Frames) -> Need | None:
    """The BESS's own run plus what it had to clip: power = max(|p_bess| + clipped), energy from
    its trajectory.

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
    n = need_for(
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


def soc_window(t_s: np.ndarray, soc: np.ndarray, th: Mapping[str, Value]) -> Verdict:
    """Q5: ``|SOC end - SOC start| <= drift`` and SOC always inside [soc_min, soc_max].

    Parameters
    ----------
    t_s : instants [s]
    soc : state of charge [fraction of the energy rating]
    th : the test's parameters
    """
    t, s = arr(t_s), arr(soc)
    ok = np.isfinite(s)
    if not ok.any():
        checks = [
            check(
                "soc_drift",
                "SOC drift",
                None,
                th["soc_drift_max"],
                "<=",
                note="no SOC recorded (BESS off?)",
            )
        ]
        return Verdict(checks, reason_of(checks), cause="stimulus")
    t, s = t[ok], s[ok]
    drift = float(s[-1] - s[0])
    c1 = check(
        "soc_drift",
        "|SOC drift| over the run",
        abs(drift),
        th["soc_drift_max"],
        "<=",
        note=f"{fmt(s[0])} -> {fmt(s[-1])}",
    )
    c2 = check("soc_min", "lowest SOC", float(s.min()), th["soc_min"], ">=")
    c3 = check("soc_max", "highest SOC", float(s.max()), th["soc_max"], "<=")
    p = Panel("SOC [1]", band=(float(th["soc_min"].value), float(th["soc_max"].value)))
    p.add("SOC", t, s)
    p.hlines.append(("start ± drift limit", s[0] + float(th["soc_drift_max"].value)))
    p.hlines.append(("", s[0] - float(th["soc_drift_max"].value)))
    span = (t[-1] - t[0]) / 3600.0 if t.size else 0.0
    fig = Figure(
        "q5",
        "State of charge",
        [p],
        f"SOC {fmt(s.min())}..{fmt(s.max())}, drift {drift:+.4f} over {span:.2f} h.",
    )
    checks = [c1, c2, c3]
    return Verdict(
        checks,
        reason_of(checks),
        [fig],
        measures={"soc_drift": drift, "soc_min": float(s.min()), "soc_max": float(s.max())},
    )


TEST = QualTest(
    "Q5",
    "24 h state of charge",
    "24 h of training with checkpoints + diurnal inference, strong grid",
    "|SOC drift| <= 5 % over the run; SOC always in 20-80 %",
    "strong",
    86400.0,
    1800.0,
    PARAMS,
    plan,
    evaluate,
    need,
)
