"""The interconnection checks, declared as a table, and how a row becomes a :class:`Check`.

Each :class:`CheckRow` names its id, its name, the summary path of its value,
the requirements field of its limit, the comparison, the rule for its basis and
the rule for its note. A rule is a constant or a function of the
:class:`CheckInputs` (the summary so far, the requirements, the case); the few
checks whose judgement is not ``value op limit`` (the run status, the SOC
window) give their own ``passed`` rule. :func:`build_checks` evaluates the
table in order; a row whose ``when`` rule is false is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cosim.analysis import check_rules as rules
from cosim.analysis.check_rules import CheckInputs
from cosim.analysis.checks import Check, Op, judge
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics._series import finite_or_none

#: a rule: a constant, or a function of the inputs
Rule = Any
Fn = rules.Fn


def _eval(rule: Rule, x: CheckInputs) -> Any:
    return rule(x) if callable(rule) else rule


@dataclass(frozen=True)
class CheckRow:
    """One declared check.

    Attributes
    ----------
    id : check id (:data:`cosim.analysis.requirements.CHECK_IDS`)
    name : what is judged (text or rule)
    value : summary path of the judged value, or a rule
    limit_field : the requirements field of the limit (value, unit and source)
    op : the comparison
    basis : ``"assessed"`` / ``"screening"`` / ``"not assessed"`` (text or rule)
    note : one line: how it was judged, or why not (text or rule)
    where, t_s : summary paths (or rules) of the element and instant of the value
    limit, unit, source : explicit limit, unit, source (rules), instead of the field's
    passed : a rule for checks not judged as ``value op limit``
    kind : ``"limit"`` or ``"info"`` (rule); ``requirements.informational`` makes it info
    when : the row applies (rule; default always)
    """

    id: str
    name: Rule
    value: str | Fn
    limit_field: str | None = None
    op: Op = "<="
    basis: Rule = "assessed"
    note: Rule = ""
    where: str | Fn | None = None
    t_s: str | Fn | None = None
    limit: Rule = None
    unit: Rule = None
    source: Rule = None
    passed: Fn | None = None
    kind: Rule = "limit"
    when: Rule = True


def _value(spec: str | Fn | None, x: CheckInputs) -> Any:
    if spec is None or callable(spec):
        return _eval(spec, x)
    return x.get(spec)


def evaluate(row: CheckRow, x: CheckInputs) -> Check:
    """The :class:`Check` of one row."""
    value = _value(row.value, x)
    limit, unit, source = (_eval(r, x) for r in (row.limit, row.unit, row.source))
    if row.limit_field is not None:
        lim = x.req.limit(row.limit_field)
        limit = lim.value if limit is None else limit
        unit = lim.unit if unit is None else unit
        source = lim.source if source is None else source
    if row.passed is not None:
        passed = row.passed(x)
    else:
        passed = judge(value, limit, row.op) if isinstance(value, int | float) else None
    note = str(_eval(row.note, x) or "")
    if value is None and passed is None and not note:
        note = "not applicable: no data"
    kind = "info" if row.id in x.req.informational else _eval(row.kind, x)
    return Check(
        id=row.id,
        name=str(_eval(row.name, x)),
        value=value,
        limit=list(limit) if isinstance(limit, tuple) else limit,
        unit=unit or "",
        source=source or "",
        passed=None if passed is None else bool(passed),
        op=row.op,
        kind=kind,
        basis=_eval(row.basis, x),
        note=note,
        where=_value(row.where, x) if value is not None else None,
        t_s=finite_or_none(_value(row.t_s, x)) if value is not None else None,
    )


def build_checks(s: dict[str, Any], req: RequirementsConfig, case: Any) -> list[Check]:
    """Every applicable check of :data:`CHECK_TABLE`, in table order."""
    x = CheckInputs(s, req, case)
    return [evaluate(row, x) for row in CHECK_TABLE if _eval(row.when, x)]


def basis_counts(checks: list[Check]) -> dict[str, int]:
    """How many checks rest on each basis.

    Returns
    -------
    dict
        ``assessed`` (assessed and judged), ``screening``, ``not_assessed`` and
        ``not_applicable`` (assessed, but nothing to judge: no leading sample,
        no disturbance, BESS disabled ...).
    """
    return {
        "assessed": sum(c.basis == "assessed" and c.passed is not None for c in checks),
        "screening": sum(c.basis == "screening" for c in checks),
        "not_assessed": sum(c.basis == "not assessed" for c in checks),
        "not_applicable": sum(c.basis == "assessed" and c.passed is None for c in checks),
    }


def _range_rows(letter: str, side: str) -> CheckRow:
    """A Range A / B minimum (``side="low"``) or maximum check."""
    key, nm = f"range_{letter.lower()}", ("min" if side == "low" else "max")
    cid = f"v_range_{letter.lower()}_{nm}"

    def worst(x: CheckInputs) -> dict | None:
        eps = [e for e in x.get(f"grid.{key}.episodes") or [] if e["kind"] == side]
        return eps[0] if eps else None

    def note(x: CheckInputs) -> str:
        if x.get(f"grid.{key}.v_{nm}_pu") is None:
            return ""
        n, dur = x.get(f"grid.{key}.count_{side}") or 0, x.get(f"grid.{key}.duration_{side}_s")
        w = worst(x)
        extra = f"; worst {w['element']}" if w else ""
        where = "below" if side == "low" else "above"
        return f"{n} episodes, {dur or 0.0:.1f} bus-s {where}{extra}"

    def where(x: CheckInputs) -> Any:
        w = worst(x)  # the worst episode; without one, the extreme over the judged buses
        return w["element"] if w else x.get(f"grid.{key}.v_{nm}_bus")

    def t_at(x: CheckInputs) -> Any:
        w = worst(x)
        return w["t_worst_s"] if w else x.get(f"grid.{key}.v_{nm}_t_s")

    def kind(x: CheckInputs) -> str:  # the other range is reported, the chosen one decides
        return "limit" if letter == x.req.voltage_range else "info"

    return CheckRow(
        cid,
        lambda x: f"Bus voltage {nm}, ANSI Range {letter} ({rules.voltage_scope(x)})",
        f"grid.{key}.v_{nm}_pu",
        f"v_range_{letter.lower()}_{nm}_pu",
        ">=" if side == "low" else "<=",
        note=note,
        where=where,
        t_s=t_at,
        kind=kind,
    )


# ---------------------------------------------------------------- the table

CHECK_TABLE: tuple[CheckRow, ...] = (
    CheckRow(
        "run",
        "Run completed",
        "status",
        limit="ok",
        unit="-",
        source="cosim",
        passed=lambda x: x.s["status"] == "ok",
        note=lambda x: str(x.s.get("error") or "the federation completed"),
    ),
    CheckRow(
        "converged",
        "Power flow converged at every step",
        rules.nonconverged,
        limit=0,
        unit="steps",
        source="cosim",
        note=lambda x: (
            ", ".join(f"{n}: {k}" for n, k in x.get("grid.nonconverged_steps").items() if k)
            or "all converged"
        ),
        when=lambda x: x.get("grid.nonconverged_steps") is not None,
    ),
    CheckRow(
        "ramp",
        lambda x: f"POI ramp over {x.req.ramp_window_s:g} s",
        "poi.ramp_max_mw_per_min",
        "ramp_max_mw_per_min",
        note=rules.power_note,
        where=lambda x: "POI",
        t_s="poi.ramp_max_t_s",
    ),
    CheckRow(
        "rvc",
        "POI rapid voltage change",
        "poi.rvc_max_percent",
        "rvc_max_percent",
        basis=lambda x: x.get("poi.rvc_basis") or "not assessed",
        note=lambda x: x.get("poi.rvc_note") or "not assessed: no POI voltage",
        where=lambda x: "POI",
        t_s="poi.rvc_max_t_s",
    ),
    CheckRow(
        "pf_lag",
        "POI power factor, lagging (min)",
        "poi.pf_min_lag",
        "pf_lag_min",
        ">=",
        note=rules.pf_note("lag", "lagging"),
    ),
    CheckRow(
        "pf_lead",
        "POI power factor, leading (min)",
        "poi.pf_min_lead",
        "pf_lead_min",
        ">=",
        note=rules.pf_note("lead", "leading"),
    ),
    *(_range_rows(letter, side) for letter in "AB" for side in ("low", "high")),
    CheckRow(
        "v_preexisting",
        lambda x: f"Worsening at pre-existing Range {x.req.voltage_range} violations",
        lambda x: rules.preexisting(x).get("worsening_pu"),
        "voltage_worsening_max_pu",
        note=lambda x: (
            f"{len(rules.preexisting(x)['buses'])} buses outside the band before the "
            f"site connects; worst bus {rules.preexisting(x).get('bus')}"
        ),
        where=lambda x: rules.preexisting(x).get("bus"),
        when=lambda x: rules.preexisting(x) is not None,
    ),
    CheckRow(
        "thermal",
        "Branch loading (max)",
        "grid.thermal_loading_max_percent",
        "thermal_max_percent",
        basis=rules.ratings_basis,
        passed=lambda x: rules.thermal_passed(
            x, "grid.thermal_loading_max_percent", "thermal_max_percent"
        ),
        note=rules.thermal_note,
        where="grid.thermal_loading_max_branch",
        t_s="grid.thermal_loading_max_t_s",
        when=rules.thermal_single,
    ),
    CheckRow(
        "thermal",
        "Longest time above normal rating",
        lambda x: (
            x.get("grid.thermal.max_episode_s")
            if x.get("grid.thermal_loading_max_percent") is not None
            else None
        ),
        "thermal_emergency_max_s",
        basis=rules.ratings_basis,
        passed=lambda x: (
            rules.thermal_passed(x, "grid.thermal.max_episode_s", "thermal_emergency_max_s")
            if x.get("grid.thermal_loading_max_percent") is not None
            else None
        ),
        note=lambda x: f"normal rating {x.req.thermal_max_percent:g} %; {rules.thermal_note(x)}",
        when=lambda x: not rules.thermal_single(x),
    ),
    CheckRow(
        "thermal_emergency",
        "Branch loading vs emergency rating",
        "grid.thermal_loading_max_percent",
        "thermal_emergency_percent",
        basis=rules.ratings_basis,
        passed=lambda x: rules.thermal_passed(
            x, "grid.thermal_loading_max_percent", "thermal_emergency_percent"
        ),
        note=rules.thermal_note,
        where="grid.thermal_loading_max_branch",
        t_s="grid.thermal_loading_max_t_s",
        when=lambda x: not rules.thermal_single(x),
    ),
    CheckRow(
        "thermal_preexisting",
        "Extra loading on branches over their rating before the site connects",
        lambda x: rules.thermal_pre(x).get("worsening_percent"),
        "thermal_worsening_max_percent",
        basis=rules.ratings_basis,
        passed=rules.thermal_pre_passed,
        note=rules.thermal_pre_note,
        where=lambda x: rules.thermal_pre(x).get("branch"),
        t_s=lambda x: rules.thermal_pre(x).get("t_s"),
        when=lambda x: rules.thermal_pre(x) is not None,
    ),
    CheckRow(
        "pst",
        "Flicker Pst (max)",
        "poi.pst_max",
        "pst_max",
        basis=rules.flicker_basis("pst_basis"),
        note=rules.flicker_note,
        where=lambda x: "POI",
    ),
    CheckRow(
        "plt",
        "Flicker Plt",
        "poi.plt",
        "plt_max",
        basis=rules.flicker_basis("plt_basis"),
        note=rules.plt_note,
    ),
    CheckRow(
        "ride_through_recovery",
        lambda x: f"Recovery to {100 * x.req.recovery_fraction:g} % of pre-disturbance load",
        "ride_through.recovery_s_max",
        "recovery_time_max_s",
        passed=lambda x: x.get("ride_through.all_recovered"),
        basis=rules.rt_basis,
        note=rules.rt_event_note,
        when=rules.rt_events,
    ),
    CheckRow(
        "ride_through_recovery",
        "Recovery after a disturbance",
        lambda x: None,
        "recovery_time_max_s",
        passed=lambda x: None,
        basis=rules.rt_basis,
        note=lambda x: (
            "not applicable: no voltage disturbance" if x.get("ride_through.events") == 0 else ""
        ),
        when=lambda x: not rules.rt_events(x),
    ),
    CheckRow(
        "f_min",
        "Frequency nadir",
        "frequency.nadir_hz",
        "f_min_hz",
        ">=",
        basis=rules.f_basis("frequency.nadir_hz"),
        note=rules.f_note("frequency.nadir_hz"),
    ),
    CheckRow(
        "f_max",
        "Frequency zenith",
        "frequency.zenith_hz",
        "f_max_hz",
        basis=rules.f_basis("frequency.zenith_hz"),
        note=rules.f_note("frequency.zenith_hz"),
    ),
    CheckRow(
        "osc",
        lambda x: f"POI power RMS in {x.req.osc_band_hz[0]:g}-{x.req.osc_band_hz[1]:g} Hz",
        rules.osc_value,
        limit=lambda x: rules.osc_limit(x)[0],
        unit="MW",
        source=lambda x: rules.osc_limit(x)[1],
        basis=rules.osc_basis,
        note=rules.osc_note,
        where=lambda x: "POI",
    ),
    CheckRow(
        "soc_window",
        "BESS SOC inside its window",
        lambda x: [x.s["bess"]["soc_min"], x.s["bess"]["soc_max"]],
        limit=lambda x: [x.case.bess.soc_min, x.case.bess.soc_max],
        unit="1",
        source="case bess.soc_min / bess.soc_max (docs/domain.md 20-80 %)",
        passed=rules.soc_inside,
        note=rules.soc_note,
        when=rules.bess_judged,
    ),
    CheckRow(
        "soc_drift",
        "BESS SOC drift |end - start|",
        lambda x: abs(x.s["bess"]["soc_drift"]),
        "soc_drift_max",
        note=rules.soc_drift_note,
        when=rules.bess_judged,
    ),
    CheckRow(
        "soc_window",
        "BESS SOC inside its window",
        lambda x: None,
        unit="1",
        source="case bess.soc_min / bess.soc_max",
        passed=lambda x: None,
        note=rules.bess_off_note,
        when=lambda x: not rules.bess_judged(x),
    ),
    CheckRow(
        "soc_drift",
        "BESS SOC drift |end - start|",
        lambda x: None,
        "soc_drift_max",
        passed=lambda x: None,
        note=rules.bess_off_note,
        when=lambda x: not rules.bess_judged(x),
    ),
    CheckRow(
        "scr",
        "Short-circuit ratio at the POI",
        "poi.scr",
        "scr_weak",
        ">=",
        basis=rules.scr_basis,
        note=rules.scr_note,
    ),
    CheckRow(
        "n1",
        "N-1 outages with violations",
        rules.n1_value,
        limit=0,
        unit="outages",
        source=rules.n1_source,
        passed=lambda x: None if rules.n1_value(x) is None else rules.n1_value(x) == 0,
        basis=lambda x: "screening" if rules.n1_value(x) is not None else "not assessed",
        note=rules.n1_note,
        when=lambda x: x.req.n1_screening,
    ),
)
