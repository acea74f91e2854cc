"""The rules of the check table: a check's value, basis and note as functions of the inputs.

Each rule reads the summary built so far, the requirements and the case
(:class:`CheckInputs`); ``docs/verdicts.md`` says, check by check, what makes
its basis "assessed", "screening" or "not assessed".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cosim.analysis.checks import Basis, judge
from cosim.analysis.frames import dig, site_rating_mw
from cosim.analysis.requirements import RequirementsConfig


@dataclass(frozen=True)
class CheckInputs:
    """What the rules of the table read: the summary's sections, the requirements, the case."""

    s: dict[str, Any]
    req: RequirementsConfig
    case: Any

    def get(self, path: str) -> Any:
        """The summary value at a dotted path (None when absent)."""
        return dig(self.s, path)


Fn = Callable[[CheckInputs], Any]


def fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def power_note(x: CheckInputs) -> str:
    return f"POI power from {x.get('poi.power_series') or 'no series'} (the factory model's)"


def ratings_basis(x: CheckInputs) -> Basis:
    status = x.get("grid.ratings")
    return {"assumed": "screening", "none": "not assessed"}.get(status, "assessed")


def thermal_passed(x: CheckInputs, value_path: str, limit_field: str) -> bool | None:
    if ratings_basis(x) == "not assessed":
        return None
    return judge(x.get(value_path), getattr(x.req, limit_field), "<=")


def thermal_note(x: CheckInputs) -> str:
    if ratings_basis(x) == "not assessed":
        return f"not assessed: {x.get('grid.ratings_reason') or 'no branch ratings'}"
    if x.get("grid.thermal_loading_max_percent") is None:
        return ""
    parts = [f"worst {x.get('grid.thermal_loading_max_branch')}"]
    if n := x.get("grid.unrated_branch_count"):
        parts.append(f"{n} unrated branches not judged")
    if pre := x.get("grid.thermal_preexisting"):
        parts.append(f"{len(pre['branches'])} pre-existing overloads judged on worsening")
    if x.get("grid.ratings") == "assumed":
        parts.append(f"ratings assumed ({x.get('grid.ratings_reason')})")
    return "; ".join(parts)


def thermal_pre(x: CheckInputs) -> dict | None:
    return x.get("grid.thermal_preexisting") or None


def thermal_pre_passed(x: CheckInputs) -> bool | None:
    if ratings_basis(x) == "not assessed":
        return None
    value = thermal_pre(x).get("worsening_percent")
    return judge(value, x.req.thermal_worsening_max_percent, "<=")


def thermal_pre_note(x: CheckInputs) -> str:
    pre = thermal_pre(x)
    return (
        f"{len(pre['branches'])} branches over {x.req.thermal_max_percent:g} % before the site "
        f"connects; worst {pre.get('branch')}"
    )


def dynamic(x: CheckInputs) -> bool:
    return bool(x.s.get("dynamics"))


def flicker_basis(key: str) -> Fn:
    return lambda x: x.get(f"poi.flicker.{key}") or "not assessed"


def flicker_note(x: CheckInputs) -> str:
    return x.get("poi.flicker.note") or "not assessed: no POI voltage"


def plt_note(x: CheckInputs) -> str:
    short = x.get("poi.flicker.plt_basis") == "screening" and x.get("poi.flicker.fs_hz")
    extra = "; fewer than 12 Pst: the cube mean of those there are" if short else ""
    return flicker_note(x) + extra


def rt_basis(x: CheckInputs) -> Basis:
    return "assessed" if dynamic(x) else "screening"


QUASI_STATIC_RT = (
    "POI voltage from the quasi-static power flow (disturbances applied as steps), "
    "the site's response from the factory model"
)


def rt_event_note(x: CheckInputs) -> str:
    return f"{rt_note(x)}; {'dynamic grid' if dynamic(x) else QUASI_STATIC_RT}"


def f_basis(path: str) -> Fn:
    return lambda x: "screening" if x.get(path) is not None else "not assessed"


def f_note(path: str) -> Fn:
    def note(x: CheckInputs) -> str:
        if x.get(path) is None:
            return "not assessed: no frequency federate (frequency.enabled = false)"
        return (
            "aggregate single-frequency model (Anderson & Mirheydar 1990); system base and "
            f"inertia from {x.get('frequency.system_base_source')}"
        )

    return note


def osc_value(x: CheckInputs) -> float | None:
    dyn = x.get("dynamics.osc_rms_limit_band_mw")
    return dyn if dyn is not None else x.get("poi.osc_rms_limit_band_mw")


def osc_basis(x: CheckInputs) -> Basis:
    return "assessed" if x.get("dynamics.osc_rms_limit_band_mw") is not None else "screening"


def scr_basis(x: CheckInputs) -> Basis:
    if x.get("poi.scr") is None:
        return "not assessed"
    return "screening" if x.get("poi.sc_defaults_applied") else "assessed"


def nonconverged(x: CheckInputs) -> int | None:
    steps = x.get("grid.nonconverged_steps")
    return None if steps is None else sum(steps.values())


def voltage_scope(x: CheckInputs) -> str:
    vb = x.req.voltage_buses
    if isinstance(vb, str):
        return {"all": "all recorded buses", "poi": "POI bus"}.get(vb, "listed buses")
    return "listed buses"


def preexisting(x: CheckInputs) -> dict | None:
    return x.get(f"grid.range_{x.req.voltage_range.lower()}_preexisting") or None


def thermal_single(x: CheckInputs) -> bool:
    return x.req.thermal_emergency_percent is None


def rt_events(x: CheckInputs) -> bool:
    return bool(x.get("ride_through.events"))


def rt_note(x: CheckInputs) -> str:
    rt = x.s["ride_through"]
    rec, passed = rt.get("recovery_s_max"), rt.get("all_recovered")
    cut = "" if rec is not None or passed is None else "; not recovered within the window"
    return f"{rt['events']} disturbance(s), max {fmt(rt.get('mw_lost_max'))} MW lost{cut}"


def osc_limit(x: CheckInputs) -> tuple[float, str]:
    req, case = x.req, x.case
    if req.osc_limit_mw is not None:
        return req.osc_limit_mw, req.limit("osc_limit_mw").source
    has_bess = case is not None and case.bess.p_mw > 0
    ref = float(case.bess.p_mw) if has_bess else (site_rating_mw(case) or 0.0)
    src = req.limit("osc_limit_percent_of_bess").source
    return req.osc_limit_percent_of_bess / 100.0 * ref, (
        f"{req.osc_limit_percent_of_bess:g} % of {ref:g} MW; {src}"
    )


def osc_note(x: CheckInputs) -> str:
    if osc_basis(x) == "assessed":
        return "POI power of the dynamic grid federate"
    lo_hz, hi_hz = x.req.osc_band_hz
    nyq = x.get("poi.spectrum_nyquist_hz")
    cut = f"; band cut at Nyquist {nyq:g} Hz" if nyq is not None and lo_hz < nyq < hi_hz else ""
    return f"the factory's own POI power series (no grid dynamics fed back){cut}"


def bess_judged(x: CheckInputs) -> bool:
    return x.case is not None and x.case.bess.enabled and x.get("bess.soc_min") is not None


def bess_off_note(x: CheckInputs) -> str:
    off = x.case is not None and not x.case.bess.enabled
    return "not applicable: BESS disabled" if off else ""


def soc_inside(x: CheckInputs) -> bool:
    b, bess = x.s["bess"], x.case.bess
    return b["soc_min"] >= bess.soc_min - 1e-6 and b["soc_max"] <= bess.soc_max + 1e-6


def scr_note(x: CheckInputs) -> str:
    scr = x.get("poi.scr")
    if scr is None:
        dist = getattr(x.case, "distribution", None)
        if dist is not None and dist.hosts_factory:
            return "not assessed: the site sits on the distribution feeder"
        return "not assessed: network not available"
    sc = f"S_sc {fmt(x.get('poi.s_sc_mva'))} MVA / {fmt(x.get('poi.scr_site_rating_mw'))} MW"
    weak = "weak grid" if scr < x.req.scr_weak else "not weak"
    near = x.get("poi.near_inverter_plants")
    hops = x.get("poi.near_branches")
    if near:
        inter = (
            f"; ESCR {fmt(x.get('poi.escr'))}, WSCR {fmt(x.get('poi.wscr'))} with "
            f"{len(near)} inverter plant(s) within {hops} branches"
        )
    else:
        inter = f"; no inverter plant within {hops} branches" if hops is not None else ""
    assumed = x.get("poi.sc_defaults_applied") or []
    data = "; assumed: " + "; ".join(assumed) if assumed else "; network's own data"
    return f"{sc}; {weak}{inter}{data}"


def n1_value(x: CheckInputs) -> int | None:
    n1 = x.s.get("n1")
    return None if n1 is None else n1["outages_with_violations"]


def n1_note(x: CheckInputs) -> str:
    n1 = x.s.get("n1")
    if n1 is None:
        return "not assessed: no POI power or network"
    return (
        f"worst: {n1['worst_outage']} ({n1['outages_screened']} screened); two snapshots "
        "(peak import, swing trough), no remedial action"
    )


def n1_source(x: CheckInputs) -> str:
    return (
        f"NERC TPL-001 (N-1), judged against ANSI C84.1 Range {x.req.voltage_range} and "
        f"{x.req.thermal_max_percent:g} % loading"
    )


def soc_note(x: CheckInputs) -> str:
    b = x.s["bess"]
    return f"SOC {b['soc_min']:.3f} .. {b['soc_max']:.3f} (BESS model)"


def soc_drift_note(x: CheckInputs) -> str:
    b = x.s["bess"]
    return f"SOC {b['soc_start']:.3f} -> {b['soc_end']:.3f} (BESS model)"


def pf_note(side: str, word: str) -> Fn:
    def note(x: CheckInputs) -> str:
        if x.get(f"poi.pf_min_{side}") is None:
            return f"not applicable: no {word} sample"
        return "factory interval means"

    return note
