"""summary.json: every metric of a run, the limits it is judged against, and the verdict.

:func:`build_summary` reads the frames of a :class:`cosim.engine.results.Results`
(``factory``, ``factory_hr``, ``transmission``, ``distribution``, ``frequency``)
and fills the summary's sections through the pure functions of
:mod:`cosim.metrics` (:mod:`cosim.analysis.sections_poi`,
:mod:`cosim.analysis.sections_grid`), then judges it against the requirements
(:mod:`cosim.analysis.check_table`). Which series feeds which metric:

* POI power: ``factory_hr`` (internal step) when recorded, else ``factory``
  (grid step) for extremes, ramps and the spectrum; ``factory`` interval means
  for the power factor and N-1 snapshots.
* POI voltage: ``distribution.poi_vm_pu``, else ``transmission.poi_vm_pu``,
  else the voltage the factory saw (``factory.vm_pu``).
* Bus voltages, loadings, losses, taps: every network frame (converged rows only).
* What the network has before the site connects, and the SCR:
  :func:`cosim.analysis.context.network_context`.

A metric whose data is absent is ``null`` and its check is reported with
``passed: null`` ("not applicable"), never with an invented number. A metric
that fails to compute is ``null`` with a line in ``notes``; a partial (failed)
run is summarised from whatever it recorded and its verdict is "fail".

Each check is ``{id, name, value, limit, unit, source, passed, kind, basis,
note, where, t_s}`` (:class:`cosim.analysis.checks.Check`); ``kind`` is
"limit" or "info" (see ``requirements.informational``) and ``basis`` is
"assessed", "screening" or "not assessed" (``docs/verdicts.md``). The verdict
counts only the assessed limits; ``verdict_basis`` says how many limits rest
on each basis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cosim.analysis import sections_grid, sections_poi
from cosim.analysis.check_table import basis_counts, build_checks
from cosim.analysis.checks import Check
from cosim.analysis.context import RATINGS_ORDER, NetworkContext, network_context
from cosim.analysis.frames import (
    NETWORKS,
    Sections,
    federate_info,
    frame,
    poi_voltage,
    site_rating_mw,
    times,
)
from cosim.analysis.jsonio import jsonable, write_json
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics._series import finite_or_none

__all__ = [
    "NetworkContext",
    "build_summary",
    "jsonable",
    "network_context",
    "verdict_line",
    "write_summary_json",
]


def write_summary_json(summary: dict[str, Any], path: Path | str) -> Path:
    """Write a summary as indented JSON (NaN/inf as null)."""
    return write_json(summary, path)


def build_summary(
    results: Any, case: Any = None, *, net: Any = None, context: NetworkContext | None = None
) -> dict[str, Any]:
    """The content of summary.json for a run.

    Parameters
    ----------
    results : :class:`cosim.engine.results.Results` (``.frame(name)``, ``.info``,
        ``.federate_info(name)``, ``.case``); a failed run's partial results too
    case : the run's :class:`cosim.case.Case` (default ``results.case``)
    net : the transmission network without the site, for the SCR and the N-1
        screening (default: loaded from ``case.grid.network``; when that fails
        both are null with a note)
    context : a :func:`network_context` of ``case`` computed beforehand (then
        ``net`` is ignored)

    Returns
    -------
    dict
        ``status``, ``steps``, ``wall_s``, ``verdict``, ``case``, ``poi``,
        ``site``, ``bess``, ``grid``, ``ride_through``, ``frequency``, ``oltc``,
        ``n1``, ``checks``, ``requirements`` (every limit with its unit and
        source) and ``notes``, as plain JSON data.
    """
    case = case if case is not None else getattr(results, "case", None)
    req: RequirementsConfig = case.requirements if case is not None else RequirementsConfig()
    info = dict(getattr(results, "info", None) or {})
    status = str(info.get("status", "unknown"))
    t_end = float(case.horizon.duration_s) if case is not None and status == "ok" else None

    fac, hr = frame(results, "factory"), frame(results, "factory_hr")
    nets = {n: frame(results, n) for n in NETWORKS}
    nets = {n: df for n, df in nets.items() if len(df)}
    freq = frame(results, "frequency")
    fac_info = federate_info(results, "factory")

    s: dict[str, Any] = {
        "status": status,
        "steps": _steps(info, results, fac, nets),
        "wall_s": finite_or_none(info.get("wall_s")),
        "verdict": None,
        "case": _case_info(case),
        "poi": {},
        "site": {},
        "bess": {},
        "grid": {},
        "ride_through": {},
        "frequency": {},
        "oltc": {},
        "n1": None,
        "checks": [],
        "requirements": req.table(),
        "notes": [],
    }
    if info.get("error") or info.get("reason"):
        s["error"] = info.get("error") or info.get("reason")
    sec = Sections()
    p_src = hr if "p_mw" in hr else fac  # finest POI power series
    s["poi"]["power_series"] = (
        "factory_hr" if p_src is hr and len(hr) else ("factory" if len(fac) else None)
    )
    v_t, v_pu, v_name = poi_voltage(fac, nets)
    s["poi"]["voltage_series"] = v_name

    # a dynamic case's transmission federate is the RMS dynamic grid (POI voltage at its step)
    dynamic_case = bool(getattr(case, "dynamic", False))
    dyn = nets.get("transmission", pd.DataFrame()) if dynamic_case else frame(results, "dynamics")
    dynamic_v = "poi_vm_pu" in dyn and dyn["poi_vm_pu"].notna().any()
    if dynamic_v:  # a dynamic grid federate's POI voltage is finer than any power flow's
        frame_name = "transmission" if dynamic_case else "dynamics"
        v_t, v_pu = times(dyn), dyn["poi_vm_pu"].to_numpy(dtype=float)
        v_name = f"{frame_name}.poi_vm_pu"
        s["poi"]["voltage_series"] = v_name

    sec.run("poi power", lambda: sections_poi.poi_power(s, req, case, fac, p_src, t_end))
    sec.run(
        "poi voltage",
        lambda: sections_poi.poi_voltage_quality(
            s, req, case, v_t, v_pu, t_end, v_name, dynamic=bool(dynamic_v)
        ),
    )
    sec.run("spectrum", lambda: sections_poi.spectrum(s, req, p_src, t_end))
    sec.run("site", lambda: sections_poi.site(s, req, p_src, t_end))
    sec.run("bess", lambda: sections_poi.bess(s, case, fac, hr, fac_info, t_end))
    if len(dyn):
        sec.run("dynamics", lambda: sections_poi.dynamics(s, req, dyn, t_end))
    if dynamic_case:
        from cosim.analysis.dynamics import dynamics_section

        def _dyn() -> None:
            s.setdefault("dynamics", {}).update(dynamics_section(case, dyn))

        sec.run("dynamic grid", _dyn)
    ctx = context if context is not None else network_context(case, net)
    sec.notes += ctx.notes + ctx.remarks
    _ratings(s, ctx, nets)
    unrated = {n: r.unrated for n, r in ctx.ratings.items()}
    v_pre, l_pre = ctx.v_pre_by_network, ctx.loading_pre_percent
    sec.run("grid voltage", lambda: sections_grid.grid_voltage(s, req, case, nets, t_end, v_pre))
    sec.run(
        "grid thermal",
        lambda: sections_grid.grid_thermal(s, req, nets, t_end, l_pre, unrated),
    )
    sec.run("grid losses", lambda: sections_grid.grid_losses(s, nets, t_end))
    sec.run(
        "ride-through",
        lambda: sections_poi.ride_through(s, req, v_t, v_pu, p_src, fac, t_end),
    )
    sec.run("frequency", lambda: sections_poi.frequency(s, req, case, freq))
    sec.run("oltc", lambda: sections_grid.oltc(s, nets))
    if (ctx.net is not None or ctx.loaded) and case is not None:
        if ctx.scr is not None:
            sections_grid.scr(s, case, ctx.scr, ctx.interaction)
        if req.n1_screening and ctx.net is not None:
            sec.run("n1", lambda: sections_grid.n1(s, req, case, ctx.net, fac))
    s.setdefault("poi", {}).setdefault("scr", None)
    s["notes"] = sec.notes + s["notes"]
    checks = build_checks(s, req, case)
    if s.get("dynamics") and dynamic_case:
        from cosim.analysis.dynamics import dynamics_checks

        checks += dynamics_checks(s["dynamics"], req)
    s["checks"] = [c.as_dict() for c in checks]
    s.update(_verdict(status, checks))
    return jsonable(s)


def _ratings(s: dict[str, Any], ctx: NetworkContext, nets: dict[str, pd.DataFrame]) -> None:
    """``grid.ratings``: the worst ratings status of the recorded networks, and why."""
    known = {n: r for n, r in ctx.ratings.items() if n in nets or not nets}
    if not known:
        s["grid"].update(ratings=None, ratings_reason="network not loaded")
        return
    worst = max(known.values(), key=lambda r: RATINGS_ORDER.index(r.status))
    unrated = [f"{n}:{b}" for n, r in known.items() for b in r.unrated]
    s["grid"].update(
        ratings=worst.status,
        ratings_reason=worst.reason,
        ratings_by_network={n: r.status for n, r in known.items()},
        unrated_branches=unrated[:100],
        unrated_branch_count=len(unrated),
    )


def _verdict(status: str, checks: list[Check]) -> dict[str, Any]:
    """The verdict over the assessed limits, and how many other checks there were.

    ``verdict`` is "fail" when the run failed or an assessed limit failed, else
    "pass"; a screening or not-assessed check never decides it, but a failed
    screening check is listed (``screening_failed``) so that a reader sees it.
    """
    limits = [c for c in checks if c.kind == "limit"]
    failed = [c.id for c in limits if c.decides and c.passed is False]
    return {
        "verdict": "pass" if status == "ok" and not failed else "fail",
        "verdict_basis": basis_counts(limits),
        "verdict_failed": failed,
        "screening_failed": [c.id for c in limits if c.basis == "screening" and c.passed is False],
    }


def verdict_line(summary: dict[str, Any]) -> str:
    """One line: ``"N assessed checks pass; M screening, K not assessed"`` (and the failures).

    Parameters
    ----------
    summary : a summary (``checks``, ``verdict_basis``)

    Returns
    -------
    str
    """
    limits = [c for c in summary.get("checks") or [] if c.get("kind") == "limit"]
    assessed = [c for c in limits if c.get("basis", "assessed") == "assessed"]
    judged = [c for c in assessed if c.get("passed") is not None]
    failed = [c for c in judged if c.get("passed") is False]
    n_scr = sum(c.get("basis") == "screening" for c in limits)
    n_not = sum(c.get("basis") == "not assessed" for c in limits)
    scr_failed = [c for c in limits if c.get("basis") == "screening" and c.get("passed") is False]
    line = f"{len(judged) - len(failed)} assessed checks pass"
    if failed:
        line += f", {len(failed)} fail"
    line += f"; {n_scr} screening, {n_not} not assessed"
    if scr_failed:
        line += f" ({len(scr_failed)} screening check(s) fail, not counted)"
    return line


def _steps(
    info: dict[str, Any], results: Any, fac: pd.DataFrame, nets: dict[str, pd.DataFrame]
) -> int | None:
    if info.get("steps") is not None:
        return int(info["steps"])
    for name in ("transmission", "factory"):
        st = federate_info(results, name).get("steps")
        if st is not None:
            return int(st)
    frames = [df for df in (fac, *nets.values()) if len(df)]
    return max(len(df) for df in frames) if frames else 0


def _case_info(case: Any) -> dict[str, Any]:
    if case is None:
        return {}
    return {
        "name": case.name,
        "bess_enabled": bool(case.bess.enabled),
        "bess_p_mw": float(case.bess.p_mw),
        "bess_e_mwh": float(case.bess.e_mwh),
        "site_rating_mw": site_rating_mw(case),
        "poi_bus": int(case.factory.poi_bus),
        "network": case.grid.network,
        "duration_s": float(case.horizon.duration_s),
    }
