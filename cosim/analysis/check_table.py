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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cosim.analysis.checks import Basis, Check, Op, judge
from cosim.analysis.frames import dig, site_rating_mw
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics._series import finite_or_none


@dataclass(frozen=True)
class CheckInputs:
    """What the rules of the table read: the summary's sections, the requirements, the case."""

    s: dict[str, Any]
    req: RequirementsConfig
    case: Any

    def get(self, path: str) -> Any:
        """The summary value at a dotted path (None when absent)."""
        return dig(self.s, path)


#: a rule: a constant, or a function of the inputs
Rule = Any
Fn = Callable[[CheckInputs], Any]


def _eval(rule: Rule, x: CheckInputs) -> Any:
    return rule(x) if callable(rule) else rule


def _path(path: str | None) -> Fn:
    return (lambda x: None) if path is None else (lambda x: x.get(path))


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
    """How many checks rest on each basis: ``{"assessed": n, "screening": n, "not_assessed": n}``."""
    bases: tuple[Basis, ...] = ("assessed", "screening", "not assessed")
    return {b.replace(" ", "_"): sum(c.basis == b for c in checks) for b in bases}


# ---------------------------------------------------------------- rules


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def _nonconverged(x: CheckInputs) -> int | None:
    steps = x.get("grid.nonconverged_steps")
    return None if steps is None else sum(steps.values())


def _voltage_scope(x: CheckInputs) -> str:
    vb = x.req.voltage_buses
    if isinstance(vb, str):
        return {"all": "all recorded buses", "poi": "POI bus"}.get(vb, "listed buses")
    return "listed buses"


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
        lambda x: f"Bus voltage {nm}, ANSI Range {letter} ({_voltage_scope(x)})",
        f"grid.{key}.v_{nm}_pu",
        f"v_range_{letter.lower()}_{nm}_pu",
        ">=" if side == "low" else "<=",
        note=note,
        where=where,
        t_s=t_at,
        kind=kind,
    )


def _preexisting(x: CheckInputs) -> dict | None:
    return x.get(f"grid.range_{x.req.voltage_range.lower()}_preexisting") or None


def _thermal_single(x: CheckInputs) -> bool:
    return x.req.thermal_emergency_percent is None


def _rt_events(x: CheckInputs) -> bool:
    return bool(x.get("ride_through.events"))


def _rt_note(x: CheckInputs) -> str:
    rt = x.s["ride_through"]
    rec, passed = rt.get("recovery_s_max"), rt.get("all_recovered")
    cut = "" if rec is not None or passed is None else "; not recovered within the window"
    return f"{rt['events']} disturbance(s), max {_fmt(rt.get('mw_lost_max'))} MW lost{cut}"


def _no_frequency(path: str) -> Fn:
    return lambda x: "" if x.get(path) is not None else "not applicable: no frequency federate"


def _osc_limit(x: CheckInputs) -> tuple[float, str]:
    req, case = x.req, x.case
    if req.osc_limit_mw is not None:
        return req.osc_limit_mw, req.limit("osc_limit_mw").source
    has_bess = case is not None and case.bess.p_mw > 0
    ref = float(case.bess.p_mw) if has_bess else (site_rating_mw(case) or 0.0)
    src = req.limit("osc_limit_percent_of_bess").source
    return req.osc_limit_percent_of_bess / 100.0 * ref, (
        f"{req.osc_limit_percent_of_bess:g} % of {ref:g} MW; {src}"
    )


def _osc_note(x: CheckInputs) -> str:
    lo_hz, hi_hz = x.req.osc_band_hz
    nyq = x.get("poi.spectrum_nyquist_hz")
    return f"band cut at Nyquist {nyq:g} Hz" if nyq is not None and lo_hz < nyq < hi_hz else ""


def _bess_judged(x: CheckInputs) -> bool:
    return x.case is not None and x.case.bess.enabled and x.get("bess.soc_min") is not None


def _bess_off_note(x: CheckInputs) -> str:
    off = x.case is not None and not x.case.bess.enabled
    return "not applicable: BESS disabled" if off else ""


def _soc_inside(x: CheckInputs) -> bool:
    b, bess = x.s["bess"], x.case.bess
    return b["soc_min"] >= bess.soc_min - 1e-6 and b["soc_max"] <= bess.soc_max + 1e-6


def _scr_note(x: CheckInputs) -> str:
    scr = x.get("poi.scr")
    if scr is None:
        return "not computed: network not available"
    sc = f"S_sc {_fmt(x.get('poi.s_sc_mva'))} MVA / {_fmt(x.get('poi.scr_site_rating_mw'))} MW"
    weak = "weak grid" if scr < x.req.scr_weak else "not weak"
    assumed = "; short-circuit data partly assumed" if x.get("poi.sc_defaults_applied") else ""
    return f"{sc}; {weak}{assumed}"


def _n1_value(x: CheckInputs) -> int | None:
    n1 = x.s.get("n1")
    return None if n1 is None else n1["outages_with_violations"]


def _n1_note(x: CheckInputs) -> str:
    n1 = x.s.get("n1")
    return "" if n1 is None else f"worst: {n1['worst_outage']} ({n1['outages_screened']} screened)"


def _n1_source(x: CheckInputs) -> str:
    return (
        f"NERC TPL-001 (N-1), judged against ANSI C84.1 Range {x.req.voltage_range} and "
        f"{x.req.thermal_max_percent:g} % loading"
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
        note=lambda x: str(x.s.get("error") or ""),
    ),
    CheckRow(
        "converged",
        "Power flow converged at every step",
        _nonconverged,
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
        where=lambda x: "POI",
        t_s="poi.ramp_max_t_s",
    ),
    CheckRow(
        "rvc",
        "POI rapid voltage change",
        "poi.rvc_max_percent",
        "rvc_max_percent",
        where=lambda x: "POI",
        t_s="poi.rvc_max_t_s",
    ),
    CheckRow(
        "pf_lag",
        "POI power factor, lagging (min)",
        "poi.pf_min_lag",
        "pf_lag_min",
        ">=",
        note=lambda x: (
            "" if x.get("poi.pf_min_lag") is not None else ("not applicable: no lagging sample")
        ),
    ),
    CheckRow(
        "pf_lead",
        "POI power factor, leading (min)",
        "poi.pf_min_lead",
        "pf_lead_min",
        ">=",
        note=lambda x: (
            "" if x.get("poi.pf_min_lead") is not None else ("not applicable: no leading sample")
        ),
    ),
    *(_range_rows(letter, side) for letter in "AB" for side in ("low", "high")),
    CheckRow(
        "v_preexisting",
        lambda x: f"Worsening at pre-existing Range {x.req.voltage_range} violations",
        lambda x: _preexisting(x).get("worsening_pu"),
        "voltage_worsening_max_pu",
        note=lambda x: (
            f"{len(_preexisting(x)['buses'])} buses outside the band before the "
            f"site connects; worst bus {_preexisting(x).get('bus')}"
        ),
        where=lambda x: (
            f"transmission:{b}" if (b := _preexisting(x).get("bus")) is not None else None
        ),
        when=lambda x: _preexisting(x) is not None,
    ),
    CheckRow(
        "thermal",
        "Branch loading (max)",
        "grid.loading_max_percent",
        "thermal_max_percent",
        note=lambda x: (
            f"worst {x.get('grid.loading_max_branch')}"
            if x.get("grid.loading_max_percent") is not None
            else ""
        ),
        where="grid.loading_max_branch",
        t_s="grid.loading_max_t_s",
        when=_thermal_single,
    ),
    CheckRow(
        "thermal",
        "Longest time above normal rating",
        lambda x: (
            x.get("grid.thermal.max_episode_s")
            if x.get("grid.loading_max_percent") is not None
            else None
        ),
        "thermal_emergency_max_s",
        note=lambda x: f"normal rating {x.req.thermal_max_percent:g} %",
        when=lambda x: not _thermal_single(x),
    ),
    CheckRow(
        "thermal_emergency",
        "Branch loading vs emergency rating",
        "grid.loading_max_percent",
        "thermal_emergency_percent",
        where="grid.loading_max_branch",
        t_s="grid.loading_max_t_s",
        when=lambda x: not _thermal_single(x),
    ),
    CheckRow(
        "pst",
        "Flicker Pst (estimate, max)",
        "poi.pst_max",
        "pst_max",
        where=lambda x: "POI",
    ),
    CheckRow("plt", "Flicker Plt (estimate)", "poi.plt", "plt_max"),
    CheckRow(
        "ride_through_recovery",
        lambda x: f"Recovery to {100 * x.req.recovery_fraction:g} % of pre-disturbance load",
        "ride_through.recovery_s_max",
        "recovery_time_max_s",
        passed=lambda x: x.get("ride_through.all_recovered"),
        note=_rt_note,
        when=_rt_events,
    ),
    CheckRow(
        "ride_through_recovery",
        "Recovery after a disturbance",
        lambda x: None,
        "recovery_time_max_s",
        passed=lambda x: None,
        note=lambda x: (
            "not applicable: no voltage disturbance" if x.get("ride_through.events") == 0 else ""
        ),
        when=lambda x: not _rt_events(x),
    ),
    CheckRow(
        "f_min",
        "Frequency nadir",
        "frequency.nadir_hz",
        "f_min_hz",
        ">=",
        note=_no_frequency("frequency.nadir_hz"),
    ),
    CheckRow(
        "f_max",
        "Frequency zenith",
        "frequency.zenith_hz",
        "f_max_hz",
        note=_no_frequency("frequency.zenith_hz"),
    ),
    CheckRow(
        "osc",
        lambda x: f"POI power RMS in {x.req.osc_band_hz[0]:g}-{x.req.osc_band_hz[1]:g} Hz",
        "poi.osc_rms_limit_band_mw",
        limit=lambda x: _osc_limit(x)[0],
        unit="MW",
        source=lambda x: _osc_limit(x)[1],
        note=_osc_note,
        where=lambda x: "POI",
    ),
    CheckRow(
        "soc_window",
        "BESS SOC inside its window",
        lambda x: [x.s["bess"]["soc_min"], x.s["bess"]["soc_max"]],
        limit=lambda x: [x.case.bess.soc_min, x.case.bess.soc_max],
        unit="1",
        source="case bess.soc_min / bess.soc_max (docs/domain.md 20-80 %)",
        passed=_soc_inside,
        when=_bess_judged,
    ),
    CheckRow(
        "soc_drift",
        "BESS SOC drift |end - start|",
        lambda x: abs(x.s["bess"]["soc_drift"]),
        "soc_drift_max",
        when=_bess_judged,
    ),
    CheckRow(
        "soc_window",
        "BESS SOC inside its window",
        lambda x: None,
        unit="1",
        source="case bess.soc_min / bess.soc_max",
        passed=lambda x: None,
        note=_bess_off_note,
        when=lambda x: not _bess_judged(x),
    ),
    CheckRow(
        "soc_drift",
        "BESS SOC drift |end - start|",
        lambda x: None,
        "soc_drift_max",
        passed=lambda x: None,
        note=_bess_off_note,
        when=lambda x: not _bess_judged(x),
    ),
    CheckRow("scr", "Short-circuit ratio at the POI", "poi.scr", "scr_weak", ">=", note=_scr_note),
    CheckRow(
        "n1",
        "N-1 outages with violations",
        _n1_value,
        limit=0,
        unit="outages",
        source=_n1_source,
        passed=lambda x: None if _n1_value(x) is None else _n1_value(x) == 0,
        note=_n1_note,
        when=lambda x: x.req.n1_screening,
    ),
)
