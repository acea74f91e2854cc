"""Q11, N-1 at the swing's peak and trough: line and transformer outages near the POI.

The network is re-solved for every single outage at the POI import's peak and
trough (and at its mean, to tell the swing from the site's size). Pass when
the site adds no N-1 violation (all buses 0.95-1.05 pu, branches <= 100 %)
over the same outage without it (``docs/domain.md``, "Qualification test
profiles", Q11).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.series import poi_power
from cosim.studies.qualify.tests.base import Context, Frames, QualTest, RunPlan, common_overrides
from cosim.studies.qualify.verdict import Verdict, check, fmt, reason_of

_TPL = "ANSI C84.1 Range A; NERC TPL-001"

PARAMS: tuple[Param, ...] = (
    Param("v_min_pu", 0.95, "pu", _TPL, "lowest bus voltage"),
    Param("v_max_pu", 1.05, "pu", _TPL, "highest bus voltage"),
    Param("loading_max_percent", 100.0, "%", "NERC TPL-001", "branch loading"),
    Param(
        "added_severity_max_pp",
        0.0,
        "pp",
        "assumed: violations the network has without the site are the grid's, not the site's",
        "worst violation added by the site over the same outage without it",
    ),
)

#: start-up not used for the snapshots [s] (at most a quarter of the run)
SETTLE_S = 30.0


def plan(ctx: Context) -> list[RunPlan]:
    """One run of the spec's site; the screening re-solves the network afterwards."""
    return [RunPlan("main", common_overrides(ctx))]


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    """Screen N-1 at the swing's peak and trough, without the site, and at the mean import."""
    from cosim.metrics.grid_strength import n1_screening
    from federates.grid.network import load_network

    res = runs["main"]
    case = res.case
    t, p, _, _ = poi_power(res)
    sel = t >= t[0] + min(SETTLE_S, 0.25 * (t[-1] - t[0])) if t.size else np.zeros(0, dtype=bool)
    tan_phi = math.tan(math.acos(case.factory.power_factor))
    pk, tr, mean = float(np.nanmax(p[sel])), float(np.nanmin(p[sel])), float(np.nanmean(p[sel]))
    snaps = [("swing peak", pk, pk * tan_phi), ("swing trough", tr, tr * tan_phi)]
    lo, hi = float(ctx.v("v_min_pu")), float(ctx.v("v_max_pu"))
    lim = float(ctx.v("loading_max_percent"))
    net = load_network(case.grid.network, case.base_dir)
    bus = int(case.factory.poi_bus)

    def screen(snapshots: list[tuple[str, float, float]]) -> list[dict]:
        return n1_screening(net, bus, snapshots, lo, hi, lim).to_dict("records")

    with_site = screen(snaps)
    without = screen([("no site", 0.0, 0.0)])
    at_mean = screen([("mean import", mean, mean * tan_phi)])
    verdict = added_violations(with_site, without, ctx.values)
    mean_verdict = added_violations(at_mean, without, ctx.values)
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


def added_violations(
    with_site: list[dict], without_site: list[dict], th: Mapping[str, Value]
) -> Verdict:
    """Q11: no N-1 violation added by the site (at swing peak and trough).

    Parameters
    ----------
    with_site : rows of :func:`cosim.metrics.grid_strength.n1_screening` for the
        site snapshots (keys ``snapshot``, ``outage``, ``severity`` [pp] ...)
    without_site : the same screening with the site at 0 MW (``snapshot`` any)
    th : the test's parameters

    The severity of a row is its largest excess over a limit (voltage in % of
    1 pu, loading in % of rating; inf when diverged / POI isolated). The added
    severity of an outage is ``severity(with site) - severity(without)``.
    """
    base = {r["outage"]: float(r["severity"]) for r in without_site}
    worst_add, worst_row = -math.inf, None
    worst_abs = 0.0
    for r in with_site:
        sev = float(r["severity"])
        add = sev - base.get(r["outage"], 0.0)
        if not math.isfinite(sev) and not math.isfinite(base.get(r["outage"], 0.0)):
            add = 0.0  # diverges without the site too
        worst_abs = max(worst_abs, sev)
        if add > worst_add:
            worst_add, worst_row = add, r
    pre = sorted(((o, s) for o, s in base.items() if s > 0), key=lambda x: -x[1])
    note = f"worst: {worst_row['outage']} at {worst_row['snapshot']}" if worst_row else "no rows"
    c1 = check(
        "added_severity",
        "N-1 severity added by the site",
        worst_add if worst_row else None,
        th["added_severity_max_pp"],
        "<=",
        note=note + f"; {len(pre)} outage(s) violate limits without the site",
    )
    if worst_row is not None and worst_add == math.inf:
        c1 = c1.with_(
            passed=False,
            note=c1.note
            + "; the power flow diverges (or the POI is cut off) with the site but not without it",
        )
    strict = worst_abs
    if worst_row is not None and c1.passed and strict > 0:
        c1 = c1.with_(
            note=c1.note + f"; strict limits fail (worst {fmt(strict)} pp) for reasons the "
            "network has without the site"
        )
    rows = sorted(
        with_site,
        key=lambda r: -float(r["severity"]) if math.isfinite(float(r["severity"])) else -1e9,
    )[:12]
    p = Panel("severity [pp]", xlabel="outage rank")
    xs = np.arange(len(rows), dtype=float)
    p.add("with site", xs, [min(float(r["severity"]), 50.0) for r in rows], style="o")
    p.add(
        "same outage without site",
        xs,
        [min(base.get(r["outage"], 0.0), 50.0) for r in rows],
        style="x",
    )
    p.hlines.append(("allowed added severity", float(th["added_severity_max_pp"].value)))
    fig = Figure(
        "q11",
        "N-1 screening at swing peak and trough",
        [p],
        "Worst outages ranked: " + ", ".join(f"{r['outage']}@{r['snapshot']}" for r in rows[:6]),
    )
    return Verdict(
        [c1],
        reason_of([c1]),
        [fig],
        measures={
            "added_severity_pp": worst_add if worst_row else None,
            "strict_severity_pp": strict,
            "preexisting": [{"outage": o, "severity": s} for o, s in pre[:20]],
            "ranking": [
                {k: r[k] for k in ("snapshot", "outage", "severity", "violations")} for r in rows
            ],
        },
    )


TEST = QualTest(
    "Q11",
    "N-1 at swing peak and trough",
    "training site, N-1 line/trafo outages at the POI import's peak and trough",
    "no N-1 violation (0.95-1.05 pu, <= 100 %) added by the site",
    "strong",
    300.0,
    120.0,
    PARAMS,
    plan,
    evaluate,
    None,
)
