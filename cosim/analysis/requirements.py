"""The requirements profile: utility limits a run is checked against.

Each limit carries its value, its unit and its source (``docs/domain.md``);
the case's ``[requirements]`` table overrides any of them. The summary records,
for every check, the value used and where it comes from: the default source,
or ``case file`` when the case changed the value (the ``sources`` table lets the
case name the real source of an overridden value)::

    [requirements]
    ramp_max_mw_per_min = 10.0
    sources = { ramp_max_mw_per_min = "utility X interconnection agreement, 2026" }

Check ids (used by ``informational`` and in ``summary.json``) are listed in
:data:`CHECK_IDS`. A check listed in ``informational`` is reported but does not
decide the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ZAHEDI = "Zahedi et al., arXiv 2601.12686"

#: every check the summary can produce, with what it tests
CHECK_IDS: dict[str, str] = {
    "run": "the federation completed",
    "converged": "every network power flow converged",
    "ramp": "POI ramp over the ramp window",
    "rvc": "rapid voltage change at the POI",
    "pf_lag": "POI power factor, lagging",
    "pf_lead": "POI power factor, leading",
    "v_range_a_min": "bus voltages >= Range A minimum",
    "v_range_a_max": "bus voltages <= Range A maximum",
    "v_range_b_min": "bus voltages >= Range B minimum",
    "v_range_b_max": "bus voltages <= Range B maximum",
    "v_preexisting": "buses outside the band before the site connects are not worsened by it",
    "thermal": "branch loading vs normal rating",
    "thermal_preexisting": "branches over their rating before the site connects are not "
    "loaded further by it",
    "thermal_emergency": "branch loading vs emergency rating",
    "pst": "short-term flicker severity at the POI",
    "plt": "long-term flicker severity at the POI",
    "ride_through_recovery": "POI load recovery after a disturbance",
    "f_min": "frequency nadir inside the continuous band",
    "f_max": "frequency zenith inside the continuous band",
    "osc": "POI power oscillation in the oscillation band",
    "soc_window": "BESS SOC inside its window",
    "soc_drift": "BESS SOC drift over the run",
    "scr": "grid strength (short-circuit ratio) at the POI",
    "n1": "N-1 screening without violations",
    "damping": "electromechanical modes damped at least damping_min (dynamic cases)",
    "oscillation": "generator speed oscillation in the dynamic grid (dynamic cases)",
}


def _f(default: Any, unit: str, source: str, description: str, **kw: Any) -> Any:
    """A limit field: default, unit and source kept in the schema."""
    return Field(
        default,
        description=f"{description} [{unit}]; {source}",
        json_schema_extra={"unit": unit, "source": source},
        **kw,
    )


@dataclass(frozen=True)
class Limit:
    """A limit as used: value, unit and where the value comes from."""

    name: str
    value: Any
    unit: str
    source: str


class ShortCircuitDefaults(BaseModel):
    """Short-circuit data assumed where a network lacks it (IEC 60909 via pandapower).

    Only missing (NaN) entries are filled; data in the network always wins.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    ext_grid_s_sc_max_mva: float = _f(
        5000.0,
        "MVA",
        "assumed (strong 138-345 kV source)",
        "external grid short-circuit power",
        gt=0,
    )
    ext_grid_rx_max: float = _f(
        0.1, "1", "assumed", "external grid R/X at maximum short circuit", ge=0
    )
    gen_xdss_pu: float = _f(
        0.2, "pu", "assumed (typical subtransient reactance 0.15-0.25 pu)", "generator X''d", gt=0
    )
    gen_rdss_ratio: float = _f(
        0.07,
        "1",
        "IEC 60909-0 fictitious resistance R_Gf = 0.07 X''d",
        "generator R''d / X''d",
        ge=0,
    )
    gen_cos_phi: float = _f(0.85, "1", "assumed", "generator rated power factor", gt=0, le=1)
    sgen_k: float = _f(
        1.2, "1", "IEC 60909-0 (full converters 1.1-1.5 x rated current)", "converter Ik / In", gt=0
    )


class RequirementsConfig(BaseModel):
    """Limits a run is checked against; every value can be overridden in the case."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- POI power
    ramp_max_mw_per_min: float = _f(
        20.0, "MW/min", f"Southern Co ({_ZAHEDI})", "POI ramp limit", gt=0
    )
    ramp_window_s: float = _f(
        60.0, "s", "assumed (1 min window)", "window the ramp limit is measured over", gt=0
    )
    pf_lag_min: float = _f(
        0.95, "1", f"Ameren ({_ZAHEDI})", "minimum POI power factor, lagging", gt=0, le=1
    )
    pf_lead_min: float = _f(
        0.95, "1", f"Ameren ({_ZAHEDI})", "minimum POI power factor, leading", gt=0, le=1
    )
    pf_min_load_percent: float = _f(
        10.0,
        "%",
        "assumed",
        "PF is checked only while |S| >= this share of the site rating",
        ge=0,
        le=100,
    )
    osc_limit_percent_of_bess: float = _f(
        2.0,
        "%",
        "project suite Q1 (inspired by NVIDIA DSX BESS guidelines)",
        "RMS of POI power in the oscillation band, share of BESS rating",
        gt=0,
    )
    osc_limit_mw: float | None = _f(
        None,
        "MW",
        "case file",
        "absolute oscillation limit (replaces the share of BESS rating)",
        gt=0,
    )
    osc_band_hz: tuple[float, float] = _f(
        (0.1, 20.0), "Hz", "project suite Q1", "band the oscillation limit applies to"
    )
    # --- POI voltage quality
    rvc_max_percent: float = _f(
        3.0, "%", f"Dominion ({_ZAHEDI})", "rapid voltage change at the POI", gt=0
    )
    rvc_window_s: float = _f(
        1.0, "s", "IEC 61000-4-30 (1 s sliding mean reference)", "reference window of the RVC", gt=0
    )
    pst_max: float = _f(
        0.8, "1", "IEEE 1453 planning level (HV/EHV)", "short-term flicker severity", gt=0
    )
    plt_max: float = _f(
        0.6, "1", "IEEE 1453 planning level (HV/EHV)", "long-term flicker severity", gt=0
    )
    # --- steady-state voltage
    v_range_a_min_pu: float = _f(0.95, "pu", "ANSI C84.1 Range A", "Range A minimum", gt=0)
    v_range_a_max_pu: float = _f(1.05, "pu", "ANSI C84.1 Range A", "Range A maximum", gt=0)
    v_range_b_min_pu: float = _f(0.917, "pu", "ANSI C84.1 Range B", "Range B minimum", gt=0)
    v_range_b_max_pu: float = _f(1.058, "pu", "ANSI C84.1 Range B", "Range B maximum", gt=0)
    voltage_range: Literal["A", "B"] = _f(
        "A",
        "-",
        "project suite Q9/Q11 (Range A)",
        "range that decides the verdict (the other is reported)",
    )
    voltage_buses: Literal["all", "poi"] | list[int] = _f(
        "all", "-", "assumed", "buses the voltage checks cover: all recorded, the POI, or a list"
    )
    voltage_preexisting: Literal["attribute", "include"] = _f(
        "attribute",
        "-",
        "interconnection-study practice (only new or worsened violations are the site's)",
        "'attribute': buses already outside the band in the pre-connection power flow are judged "
        "on worsening only; 'include': every bus counts against the band",
    )
    voltage_worsening_max_pu: float = _f(
        0.005,
        "pu",
        "assumed",
        "largest extra deviation the site may cause at a pre-existing violation",
        ge=0,
    )
    # --- thermal
    thermal_max_percent: float = _f(
        100.0, "%", "NERC TPL-001", "branch loading, normal rating", gt=0
    )
    thermal_emergency_percent: float | None = _f(
        None,
        "%",
        "case file",
        "emergency rating; loading above normal is then allowed for a while",
        gt=0,
    )
    thermal_emergency_max_s: float = _f(
        900.0,
        "s",
        "assumed (15 min emergency rating)",
        "longest time above the normal rating",
        gt=0,
    )
    thermal_preexisting: Literal["attribute", "include"] = _f(
        "attribute",
        "-",
        "interconnection-study practice (only new or worsened violations are the site's)",
        "'attribute': branches already over the normal rating in the pre-connection power flow "
        "are judged on worsening only; 'include': every branch counts against the rating",
    )
    thermal_worsening_max_percent: float = _f(
        1.0,
        "%",
        "assumed",
        "largest extra loading (percentage points of rating) the site may add to a branch "
        "already over its rating",
        ge=0,
    )
    # --- ride-through
    ride_through_v_min_pu: float = _f(
        0.90, "pu", "SPP, ERCOT proposal", "continuous band, low", gt=0
    )
    ride_through_v_max_pu: float = _f(
        1.10, "pu", "SPP, ERCOT proposal", "continuous band, high", gt=0
    )
    recovery_fraction: float = _f(
        0.9, "1", "ERCOT proposal", "share of pre-disturbance load to recover", gt=0, le=1
    )
    recovery_time_max_s: float = _f(
        1.0, "s", "ERCOT proposal", "time to recover once POI V is back in band", gt=0
    )
    ride_through_window_s: float = _f(
        10.0, "s", "assumed", "time after a disturbance searched for load loss and recovery", gt=0
    )
    ride_through_pre_s: float = _f(
        1.0, "s", "assumed", "window before a disturbance that sets the pre-disturbance load", gt=0
    )
    # --- frequency
    f_min_hz: float = _f(58.8, "Hz", "SPP continuous frequency band", "frequency, low", gt=0)
    f_max_hz: float = _f(61.2, "Hz", "SPP continuous frequency band", "frequency, high", gt=0)
    rocof_window_s: float = _f(
        0.5,
        "s",
        "assumed (500 ms RoCoF measurement window)",
        "window of RoCoF computed from f",
        gt=0,
    )
    # --- BESS
    soc_drift_max: float = _f(0.05, "1", "project suite Q5", "|SOC end - SOC start|", gt=0, le=1)
    # --- grid strength and contingencies
    scr_weak: float = _f(
        3.0, "1", "NVIDIA test 5 (third-party reading of DSX v0.4)", "SCR below this is weak", gt=0
    )
    n1_screening: bool = _f(
        False, "-", "NERC TPL-001", "run the N-1 screening (line and trafo outages) after the run"
    )
    n1_max_outages: int | None = _f(
        None, "-", "case file", "screen at most this many outages (by element index order)", gt=0
    )
    short_circuit: ShortCircuitDefaults = ShortCircuitDefaults()
    # --- grid dynamics (dynamic cases, docs/dynamics.md)
    damping_min: float = _f(
        0.05,
        "1",
        "assumed planning practice (3-5 % is common)",
        "minimum damping ratio of an oscillatory mode (0.05 = 5 %)",
        ge=0,
        le=1,
    )
    speed_osc_pp_max_mhz: float = _f(
        50.0,
        "mHz",
        "assumed (+/-25 mHz: half the +/-50 mHz standard frequency range of ENTSO-E CE)",
        "peak-to-peak generator speed deviation forced by the site (max over generators)",
        gt=0,
    )
    # --- bookkeeping
    informational: list[str] = Field(
        ["scr"], description="check ids reported without deciding the verdict"
    )
    sources: dict[str, str] = Field(
        {}, description="source of an overridden limit, by field name (default: 'case file')"
    )

    @field_validator("informational")
    @classmethod
    def _known_checks(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in CHECK_IDS]
        if unknown:
            raise ValueError(f"unknown check ids {unknown}; known: {', '.join(CHECK_IDS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RequirementsConfig:
        sc_fields = {f"short_circuit.{n}" for n in ShortCircuitDefaults.model_fields}
        unknown = [
            k for k in self.sources if k not in type(self).model_fields and k not in sc_fields
        ]
        if unknown:
            raise ValueError(f"sources names unknown limits {unknown}")
        for lo, hi in (
            ("v_range_a_min_pu", "v_range_a_max_pu"),
            ("v_range_b_min_pu", "v_range_b_max_pu"),
            ("ride_through_v_min_pu", "ride_through_v_max_pu"),
            ("f_min_hz", "f_max_hz"),
        ):
            if getattr(self, lo) >= getattr(self, hi):
                raise ValueError(
                    f"{lo} ({getattr(self, lo)}) must be below {hi} ({getattr(self, hi)})"
                )
        band = self.osc_band_hz
        if not 0 <= band[0] < band[1]:
            raise ValueError(f"osc_band_hz {list(band)} must be [low, high] with 0 <= low < high")
        return self

    def limit(self, name: str) -> Limit:
        """The value of limit ``name`` with its unit and the source of that value.

        The source is the ``sources`` entry when given; ``case file (default
        ... from ...)`` when the value differs from the default; else the
        default's source.
        """
        field = type(self).model_fields[name]
        extra = field.json_schema_extra or {}
        unit, default_source = str(extra.get("unit", "")), str(extra.get("source", ""))
        value = getattr(self, name)
        if name in self.sources:
            source = self.sources[name]
        elif _differs(value, field.default):
            source = f"case file (default {_fmt(field.default)} from {default_source})"
        else:
            source = default_source
        return Limit(name, value, unit, source)

    def table(self) -> dict[str, dict[str, Any]]:
        """Every limit as ``{name: {value, unit, source}}`` (for summary.json)."""
        out = {}
        for name in type(self).model_fields:
            if name in ("informational", "sources", "short_circuit"):
                continue
            lim = self.limit(name)
            value = list(lim.value) if isinstance(lim.value, tuple) else lim.value
            out[name] = {"value": value, "unit": lim.unit, "source": lim.source}
        sc = self.short_circuit
        for name in type(sc).model_fields:
            field = type(sc).model_fields[name]
            extra = field.json_schema_extra or {}
            value = getattr(sc, name)
            src = str(extra.get("source", ""))
            if f"short_circuit.{name}" in self.sources:
                src = self.sources[f"short_circuit.{name}"]
            elif _differs(value, field.default):
                src = f"case file (default {_fmt(field.default)} from {src})"
            out[f"short_circuit.{name}"] = {
                "value": value,
                "unit": extra.get("unit", ""),
                "source": src,
            }
        return out


def _differs(value: Any, default: Any) -> bool:
    if isinstance(value, tuple | list) and isinstance(default, tuple | list):
        return list(value) != list(default)
    return value != default


def _fmt(value: Any) -> str:
    return str(list(value)) if isinstance(value, tuple) else str(value)
