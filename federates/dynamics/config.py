"""Settings of the RMS dynamic grid (pure: pydantic only).

Sign convention (used by every module of this package): the site is a *load*;
``p_site_mw`` / ``q_site_mvar`` > 0 is consumption at the POI bus, as the
factory federate publishes it. Generator speeds are deviations from the
nominal frequency; angles are in degrees against the synchronous reference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class BusFaultConfig(BaseModel):
    """A shunt fault at a bus, applied as an impedance from ``start_s`` to ``clear_s``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["bus"] = "bus"
    bus: str = Field(description="Faulted bus name as in the dynamic case.")
    start_s: float = Field(ge=0.0, description="Fault inception [s].")
    clear_s: float = Field(description="Fault clearing [s], > start_s.")
    r_pu: float = Field(0.0, ge=0.0, description="Fault resistance [pu on the system base].")
    x_pu: float = Field(
        1e-4,
        ge=0.0,
        description="Fault reactance [pu on the system base]; r = x = 0 is a bolted fault.",
    )

    @model_validator(mode="after")
    def _order(self) -> BusFaultConfig:
        if self.clear_s <= self.start_s:
            raise ValueError(f"clear_s ({self.clear_s}) must be after start_s ({self.start_s})")
        if self.r_pu == 0.0 and self.x_pu == 0.0:
            raise ValueError("a fault needs r_pu or x_pu > 0 (use x_pu = 1e-4 for a bolted fault)")
        return self


class LineFaultConfig(BaseModel):
    """A fault on a line, cleared by tripping the line, optionally reclosed.

    From ``start_s`` to ``clear_s`` the fault impedance sits at the ``end`` bus of
    the line, or part-way along it (``location``, the line split into two pi
    sections there); at ``clear_s`` both breakers open (the fault is isolated with
    the line); at ``reclose_s`` the line is back in service (a successful reclosure).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["line"] = "line"
    line: str = Field(description="Line name as in the dynamic case.")
    end: Literal["from", "to"] = Field("from", description="Line end at which the fault sits.")
    location: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description=(
            "Fault position along the line as a fraction of its length from its from bus "
            "(0-1, exclusive); None puts it at `end`."
        ),
    )
    start_s: float = Field(ge=0.0, description="Fault inception [s].")
    clear_s: float = Field(description="Clearing by tripping the line [s], > start_s.")
    reclose_s: float | None = Field(
        None, description="Reclosing [s], > clear_s; None leaves the line open."
    )
    r_pu: float = Field(0.0, ge=0.0, description="Fault resistance [pu on the system base].")
    x_pu: float = Field(1e-4, ge=0.0, description="Fault reactance [pu on the system base].")

    @model_validator(mode="after")
    def _order(self) -> LineFaultConfig:
        if self.clear_s <= self.start_s:
            raise ValueError(f"clear_s ({self.clear_s}) must be after start_s ({self.start_s})")
        if self.reclose_s is not None and self.reclose_s <= self.clear_s:
            raise ValueError(f"reclose_s ({self.reclose_s}) must be after clear_s ({self.clear_s})")
        if self.r_pu == 0.0 and self.x_pu == 0.0:
            raise ValueError("a fault needs r_pu or x_pu > 0")
        return self


class DynamicsConfig(BaseModel):
    """The ``dynamics`` section of a case: which network, where the site is, how to integrate."""

    model_config = ConfigDict(extra="forbid")

    case: str = Field(
        "kundur",
        description=(
            'Dynamic network: "kundur" (Kundur 1994 two-area system), "ieee39" (IEEE 39-bus '
            "New England system), or a path: a JSON case in the engine's (tops) dict format, a "
            "PSS/E RAW file (.raw, versions 32-34; dynamic data from `dyr`), or a pandapower "
            'JSON / MATPOWER .m network (dynamic data: defaults = "typical" only).'
        ),
    )
    dyr: str | None = Field(
        None,
        description=(
            "PSS/E DYR file of a .raw case (GENROU, GENSAL, GENCLS, SEXS, TGOV1, STAB1; see "
            'docs/dynamics.md); None: every machine needs defaults = "typical".'
        ),
    )
    poi_bus: str = Field(
        "B7", description="Bus name of the site's point of interconnection in the dynamic case."
    )
    p_site0_mw: float = Field(
        0.0, description="Site consumption in the initial power flow [MW] (added to the POI load)."
    )
    q_site0_mvar: float = Field(
        0.0, description="Site reactive consumption in the initial power flow [Mvar]."
    )
    carve_site0: bool = Field(
        True,
        description=(
            "Take the site's initial consumption out of the POI bus's own loads, so that the "
            "initial power flow and dispatch stay the case's; False adds it on top (slack serves "
            "it)."
        ),
    )
    dt_s: float = Field(
        0.01,
        gt=0.0,
        le=0.02,
        description=(
            "Integration step [s] (explicit Heun / modified Euler as in tops); 10 ms resolves "
            "modes up to a few Hz (see docs/dynamics.md for the accuracy measured against 5 ms)."
        ),
    )
    defaults: Literal["none", "typical"] = Field(
        "none",
        description=(
            'Dynamic data for machines without any: "none" (the case must carry it) or '
            '"typical" (federates.dynamics.typical: textbook parameters by rating, reported as '
            "such)."
        ),
    )
    load_brake_pu: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        description=(
            "Below this POI voltage [pu] the site's constant-power load becomes constant current "
            "(PSS/E PQBRAK practice, 0.7 pu by default)."
        ),
    )
    load_z_pu: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description=(
            "Below this POI voltage [pu] the site's load becomes constant impedance "
            "(assumed; keeps the network solvable in deep faults)."
        ),
    )
    damping_min: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description=(
            "Minimum damping ratio of an electromechanical mode [-] for the damping check "
            "(3-5 % is common planning "
            "practice; assumed)."
        ),
    )
    faults: list[BusFaultConfig | LineFaultConfig] = Field(
        default_factory=list, description="Faults applied as impedances during the run."
    )

    @model_validator(mode="after")
    def _thresholds(self) -> DynamicsConfig:
        if self.dyr is not None and not self.case.lower().endswith(".raw"):
            raise ValueError(f"dyr: a DYR file goes with a .raw case, not case = {self.case!r}")
        if self.load_z_pu > self.load_brake_pu:
            raise ValueError(
                f"load_z_pu ({self.load_z_pu}) must not exceed load_brake_pu ({self.load_brake_pu})"
            )
        return self
