"""Case-file sections of the grid side: networks, grid controls, events, frequency, T&D coupling.

Every key has a unit in its name or description and a default whose source is
stated; "assumed" marks a project default that no source fixes (change it in
the case file).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from federates.common.paths import CasePath, resolve_case_path

NETWORK_FILE_SUFFIXES = (".json", ".m", ".mat", ".raw")


def _resolve_network(value: str, info: ValidationInfo) -> str:
    """A network file is made absolute (and checked to exist); a name is kept."""
    if value.lower().endswith(NETWORK_FILE_SUFFIXES):
        return resolve_case_path(value, info)
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OltcConfig(_Section):
    """On-load tap changer control of one transformer (simplified: discrete, time-delayed).

    The controlled voltage is the transformer's low-voltage bus unless ``bus``
    is given. A tap moves one step once the voltage has stayed outside
    ``vm_set_pu +/- deadband_pu`` for ``delay_s``; further steps follow every
    ``inter_tap_delay_s`` while it stays outside. Typical utility practice:
    bandwidth +/- 1-2 %, initial delay 30-60 s, mechanism ~5 s (assumed values).
    """

    trafo: int | Literal["poi", "substation"] = Field(
        "poi",
        description="transformer index of the network, or the case's POI / substation transformer",
    )
    bus: int | None = Field(
        None, ge=0, description="controlled bus (default: the transformer's LV bus)"
    )
    vm_set_pu: float = Field(1.0, gt=0.5, lt=1.5, description="voltage set point [pu] (assumed)")
    deadband_pu: float = Field(
        0.01, gt=0, lt=0.2, description="half bandwidth [pu] (assumed, +/- 1 %)"
    )
    delay_s: float = Field(
        30.0, ge=0, description="time outside the band before the first step [s] (assumed)"
    )
    inter_tap_delay_s: float = Field(
        5.0, ge=0, description="time between consecutive steps [s] (assumed)"
    )
    tap_min: int | None = Field(None, description="lowest tap (default: the transformer's tap_min)")
    tap_max: int | None = Field(
        None, description="highest tap (default: the transformer's tap_max)"
    )


class TransformerConfig(_Section):
    """A two-winding transformer the case adds (pandapower ``trafo`` parameters)."""

    sn_mva: float = Field(400.0, gt=0, description="rating [MVA] (assumed)")
    vk_percent: float = Field(12.0, gt=0, lt=100, description="short-circuit voltage [%] (assumed)")
    vkr_percent: float = Field(0.3, ge=0, lt=100, description="resistive part [%] (assumed)")
    tap_step_percent: float = Field(
        1.25, ge=0, le=10, description="voltage per tap step [%] (assumed: +/-10 % in 8 steps)"
    )
    tap_min: int = Field(-8, le=0, description="lowest tap position (assumed)")
    tap_max: int = Field(8, ge=0, description="highest tap position (assumed)")
    tap_pos: int = Field(0, description="initial tap position")
    tap_side: Literal["hv", "lv"] = Field("hv", description="winding with the tap changer")
    oltc: OltcConfig | None = Field(None, description="automatic tap control; None = fixed tap")

    @model_validator(mode="after")
    def _tap_in_range(self) -> TransformerConfig:
        if not self.tap_min <= self.tap_pos <= self.tap_max:
            raise ValueError(
                f"tap_pos {self.tap_pos} is not in [tap_min {self.tap_min}, tap_max {self.tap_max}]"
            )
        return self


class PoiTransformerConfig(TransformerConfig):
    """A new step-down transformer between the network's POI bus and a new site bus."""

    lv_kv: float = Field(34.5, gt=0, description="site-side voltage [kV] (assumed)")


class ShuntBankConfig(_Section):
    """A switched shunt (capacitor or reactor bank) with a voltage-controlled step switch
    (simplified).

    ``q_step_mvar`` > 0 is a capacitor step (injects reactive power, raises the
    voltage), < 0 a reactor step. A step is switched in when the bus voltage
    stays below ``v_low_pu`` (capacitor) / above ``v_high_pu`` (reactor) for
    ``delay_s``, and out in the opposite case. Values assumed.
    """

    bus: int | Literal["poi", "site"] = Field(
        "poi", description="bus of the bank (or the POI / site bus)"
    )
    q_step_mvar: float = Field(
        50.0, description="reactive power per step at 1 pu [Mvar]; > 0 capacitor"
    )
    steps: int = Field(4, ge=1, le=100, description="number of steps")
    steps_on: int = Field(0, ge=0, description="steps in service at the start")
    v_low_pu: float = Field(
        0.97, gt=0.5, lt=1.5, description="lower switching voltage [pu] (assumed)"
    )
    v_high_pu: float = Field(
        1.03, gt=0.5, lt=1.5, description="upper switching voltage [pu] (assumed)"
    )
    delay_s: float = Field(
        10.0, ge=0, description="time outside the band before a switch [s] (assumed)"
    )
    controlled: bool = Field(True, description="False: a fixed bank of steps_on steps")

    @model_validator(mode="after")
    def _band(self) -> ShuntBankConfig:
        if self.v_low_pu >= self.v_high_pu:
            raise ValueError(
                f"v_low_pu ({self.v_low_pu}) must be below v_high_pu ({self.v_high_pu})"
            )
        if self.steps_on > self.steps:
            raise ValueError(f"steps_on ({self.steps_on}) exceeds steps ({self.steps})")
        if self.q_step_mvar == 0:
            raise ValueError("q_step_mvar must not be 0")
        return self


class ProfileConfig(_Section):
    """Background load / generation time series (multipliers of each element's base value).

    ``source = "csv"``: a CSV with a time column ``t_s`` [s] (or rows every
    ``dt_s``) and multiplier columns named ``load``, ``sgen``, ``gen`` (every
    element of that kind), ``zone.<zone>`` (loads of buses in that
    ``bus.zone``), or ``load.<idx>`` / ``sgen.<idx>`` / ``gen.<idx>`` (one
    element); the most specific column wins. ``source = "simbench"``: the
    SimBench profiles of a SimBench network (absolute values, 15 min).
    """

    source: Literal["csv", "simbench"] = "csv"
    file: CasePath | None = Field(
        None, description="CSV file (relative to the case file) for source = 'csv'"
    )
    dt_s: float | None = Field(
        None, gt=0, description="row spacing [s] when the CSV has no t_s column"
    )
    start_s: float = Field(0.0, ge=0, description="profile time at the case's t = 0 [s]")
    interpolation: Literal["linear", "step"] = "linear"
    scale: float = Field(1.0, ge=0, description="extra factor on every multiplier")
    loop: bool = Field(True, description="wrap around when the case runs past the profile's end")

    @model_validator(mode="after")
    def _needs_file(self) -> ProfileConfig:
        if self.source == "csv" and not self.file:
            raise ValueError("a csv profile needs file")
        return self


class GridConfig(_Section):
    """The transmission network the factory connects to, and how it is solved."""

    network: str = Field(
        "case118",
        description="network name (see `federates.grid.network.NETWORKS`), "
        "a SimBench code, or a .json (pandapower) / .m / .mat (MATPOWER) / .raw (PSS/E 32-34) "
        "file",
    )
    poi_transformer: PoiTransformerConfig | None = Field(
        None,
        description="attach the factory behind a new step-down transformer (None: at the POI bus)",
    )
    on_nonconvergence: Literal["stop", "hold", "continue"] = Field(
        "stop",
        description="a step whose power flow diverges: stop the run, hold the last converged "
        "results, or record NaN and continue (published values are held); always flagged "
        "(converged = 0)",
    )
    record_buses: Literal["all", "poi"] | list[int] = "all"
    record_branches: Literal["all", "none"] = Field(
        "all", description="record line / trafo loadings"
    )
    solver: Literal["auto", "fast", "pandapower"] = Field(
        "auto",
        description="auto: fast path (cached Ybus + lightsim2grid KLU Newton-Raphson) where "
        "supported, else pandapower.runpp with a logged reason; fast: fail when unsupported",
    )
    tolerance_mva: float = Field(
        1e-8, gt=0, description="power-flow mismatch tolerance [MVA] (pandapower default)"
    )
    max_iterations: int = Field(30, ge=1, description="Newton-Raphson iteration limit")
    enforce_q_lims: bool = Field(
        True,
        description="hold generators at their reactive limits (min_q_mvar / max_q_mvar): a PV "
        "generator past a limit is fixed there and its bus solved as PQ (switches recorded)",
    )
    lv_load_threshold_pu: float = Field(
        0.7,
        ge=0,
        lt=1,
        description="constant-power loads become constant-impedance below this voltage [pu] "
        "(as PSS/E's PQBRAK; assumed 0.7); 0 disables",
    )
    load_scale: float = Field(
        1.0, ge=0, description="factor on every background load of the network"
    )
    profiles: ProfileConfig | None = None
    oltc: list[OltcConfig] = Field(
        default_factory=list, description="OLTC control of existing transformers"
    )
    shunts: list[ShuntBankConfig] = Field(default_factory=list, description="switched shunt banks")

    _network_file = field_validator("network")(_resolve_network)


EventKind = Literal["sag", "line_outage", "trafo_outage", "gen_trip", "load_step"]


class EventConfig(_Section):
    """A scheduled grid event at sub-second resolution.

    * ``sag``: the voltage at ``bus`` (default: the POI bus) is held at
      ``vm_pu`` for ``duration_s`` (a fault seen as a retained voltage; the rest
      of the network follows through the power flow).
    * ``line_outage`` / ``trafo_outage``: element ``element`` out of service
      (back after ``duration_s``; None = permanent).
    * ``gen_trip``: generator ``element`` out; its output ``delta_mw`` (default:
      its dispatch) is lost for the frequency model.
    * ``load_step``: ``delta_mw`` / ``delta_mvar`` added at ``bus`` (negative =
      load loss), for ``duration_s`` or for good.

    Event edges fall on the grid instants only approximately: a step is inside
    the event when its start lies in ``[t_s, t_s + duration_s)``; pick
    ``horizon.event_dt_s`` so that the durations are multiples of it.
    """

    kind: EventKind
    t_s: float = Field(ge=0, description="start [s]")
    duration_s: float | None = Field(None, gt=0, description="duration [s]; None = permanent")
    bus: int | None = Field(
        None, ge=0, description="bus of a sag or load step (sag default: POI bus)"
    )
    vm_pu: float | None = Field(
        None, ge=0, le=1.5, description="retained voltage during a sag [pu]"
    )
    element: int | None = Field(None, ge=0, description="line / trafo / gen index")
    delta_mw: float | None = Field(None, description="load step [MW], or the MW a gen trip loses")
    delta_mvar: float = Field(0.0, description="load step reactive part [Mvar]")
    network: Literal["transmission", "distribution"] = Field(
        "transmission", description="network it applies to"
    )

    @model_validator(mode="after")
    def _needs(self) -> EventConfig:
        if self.kind == "sag" and (self.vm_pu is None or self.duration_s is None):
            raise ValueError("a sag needs vm_pu and duration_s")
        if self.kind in ("line_outage", "trafo_outage", "gen_trip") and self.element is None:
            raise ValueError(f"a {self.kind} needs element")
        if self.kind == "load_step" and (self.bus is None or self.delta_mw is None):
            raise ValueError("a load_step needs bus and delta_mw")
        return self

    def window_s(self, margin_s: float = 1.0) -> tuple[float, float]:
        """Interval that the time grid refines around this event [s].

        Parameters
        ----------
        margin_s : float, default 1.0
            Margin before the start and after the end of the event [s].

        Returns
        -------
        tuple of (float, float)
            Start (>= 0) and end of the window [s].
        """
        end = self.t_s + (self.duration_s or 0.0)
        return max(0.0, self.t_s - margin_s), end + margin_s

    def active(self, t_s: float) -> bool:
        """True when the step starting at ``t_s`` lies inside the event.

        Parameters
        ----------
        t_s : float
            Step start [s].

        Returns
        -------
        bool
            The event is active at ``t_s``.
        """
        eps = 1e-9
        if t_s < self.t_s - eps:
            return False
        return self.duration_s is None or t_s < self.t_s + self.duration_s - eps


class FrequencyConfig(_Section):
    """Aggregate system frequency response (SFR), Anderson & Mirheydar (1990), simplified.

    One equivalent machine with a reheat steam turbine governor, on the system
    base ``s_base_mva``. Parameters: H, D, R, F_H, T_R from Anderson &
    Mirheydar, "A low-order system frequency response model", IEEE Trans.
    Power Systems 5(3), 1990 (typical values 4 s, 1, 0.05, 0.3, 8 s);
    governor lag and dead band assumed.
    """

    enabled: bool = False
    interconnection: Literal["none", "ERCOT", "Eastern", "Western"] = Field(
        "none",
        description="interconnection whose system base, inertia, damping and governors the "
        "model takes (federates.grid.interconnections; fields given in the case win); "
        "'none' = the figures below and the study network's own generation",
    )
    f_nom_hz: float = Field(60.0, gt=0, description="nominal frequency [Hz]")
    h_s: float = Field(
        4.0, gt=0, description="inertia constant on s_base_mva [s] (Anderson & Mirheydar)"
    )
    d_pu: float = Field(1.0, ge=0, description="load damping [pu P / pu f] (Anderson & Mirheydar)")
    r_pu: float = Field(
        0.05, gt=0, description="governor droop [pu f / pu P] (5 %, Anderson & Mirheydar)"
    )
    km: float = Field(0.95, gt=0, le=1, description="mechanical power gain (Anderson & Mirheydar)")
    f_hp: float = Field(
        0.3, ge=0, le=1, description="high-pressure turbine fraction (Anderson & Mirheydar)"
    )
    t_reheat_s: float = Field(
        8.0, gt=0, description="reheat time constant [s] (Anderson & Mirheydar)"
    )
    t_gov_s: float = Field(0.2, gt=0, description="governor / valve time constant [s] (assumed)")
    deadband_hz: float = Field(
        0.036, ge=0, description="governor dead band [Hz] (assumed; NERC BAL-001-TRE max)"
    )
    s_base_mva: float | None = Field(
        None, gt=0, description="system base [MVA]; None = the network's total generation at t = 0"
    )
    dt_s: float = Field(0.01, gt=0, le=0.1, description="internal integration step [s]")
    include_factory: bool = Field(
        True, description="the factory's P change from its first value drives the model"
    )

    @model_validator(mode="before")
    @classmethod
    def _from_interconnection(cls, data: object) -> object:
        """Fill the fields the case does not give from the interconnection's preset."""
        if isinstance(data, dict) and data.get("interconnection", "none") != "none":
            from federates.grid.interconnections import preset

            data = {**preset(str(data["interconnection"])).frequency_config(), **data}
        return data


class DistributionConfig(_Section):
    """A distribution feeder behind a transmission substation bus (T&D coupling).

    The feeder's slack voltage [pu] is the substation bus voltage; its net
    import (P, Q at the slack) is a load at that bus. The two federates iterate
    at each step (HELICS iterative time requests) until the boundary voltage
    moves less than ``tolerance_vm_pu`` and the power less than
    ``tolerance_mw``, at most ``max_iterations`` times.
    """

    network: str = Field("case33bw", description="feeder: network name, SimBench code or file")
    substation_bus: int = Field(0, ge=0, description="transmission bus that feeds the feeder")
    hosts_factory: bool = Field(
        False, description="the factory sits on the feeder, at factory.poi_bus of the feeder"
    )
    substation_transformer: TransformerConfig | None = Field(
        None,
        description="add a transformer (HV = the substation bus voltage) in front of the "
        "feeder's slack",
    )
    load_scale: float = Field(1.0, ge=0, description="factor on every feeder load")
    tolerance_vm_pu: float = Field(1e-6, gt=0, description="boundary voltage agreement [pu]")
    tolerance_mw: float = Field(1e-4, gt=0, description="boundary power agreement [MW / Mvar]")
    max_iterations: int = Field(20, ge=1, le=200, description="iteration limit per step")
    record_buses: Literal["all", "poi"] | list[int] = "all"
    profiles: ProfileConfig | None = None
    oltc: list[OltcConfig] = Field(default_factory=list)
    shunts: list[ShuntBankConfig] = Field(default_factory=list)

    _network_file = field_validator("network")(_resolve_network)
