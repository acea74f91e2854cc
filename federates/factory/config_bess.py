"""Case-file section ``[bess]``: the battery, its PCS and its control loop as built.

Units are in the field names; each default names its source or says "assumed"
(``docs/site_and_bess.md`` lists them with their ranges).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from federates.factory.config_common import Section as _Section


class BessConfig(_Section):
    """Battery energy storage at the site (pandapower storage sign: + charging).

    The PCS carries at most ``s_mva`` at 1 pu voltage: its current limit is
    ``I_max = s_mva / (sqrt(3) V_nom)``, so at voltage ``V`` [pu] it carries at
    most ``V x s_mva`` (``x overload_factor`` while the overload lasts).
    """

    enabled: bool = True
    p_mw: float = Field(100.0, ge=0, description="rated power [MW]; 100 MW (assumed)")
    e_mwh: float = Field(100.0, ge=0, description="energy capacity [MWh]; 100 MWh (assumed)")
    s_mva: float = Field(
        110.0, ge=0, description="PCS apparent-power rating at 1 pu [MVA]; 110 MVA (assumed)"
    )
    rte: float = Field(0.85, gt=0, le=1, description="round-trip efficiency AC-AC; 85 % (NREL ATB)")
    eta_charge: float | None = Field(
        None, gt=0, le=1, description="charge efficiency; default sqrt(rte), or rte / eta_discharge"
    )
    eta_discharge: float | None = Field(
        None, gt=0, le=1, description="discharge efficiency; default sqrt(rte), or rte / eta_charge"
    )
    soc_min: float = Field(0.2, ge=0, le=1, description="SOC window bottom; 20 % (assumed)")
    soc_max: float = Field(0.8, ge=0, le=1, description="SOC window top; 80 % (assumed)")
    soc_init: float = Field(
        0.55, ge=0, le=1, description="initial SOC; the rest target 55 % (assumed)"
    )
    self_discharge_per_day: float = Field(
        0.001, ge=0, lt=1, description="stored-energy loss per day / capacity (assumed)"
    )
    overload_factor: float = Field(
        1.2, ge=1, description="short overload / rating; 120 % (Tesla Megapack 2 XL)"
    )
    overload_s: float = Field(
        10.0, ge=0, description="overload duration [s]; 10 s (Tesla Megapack 2 XL)"
    )
    overload_recovery_s: float = Field(
        60.0,
        gt=0,
        description="time at or below rating that restores the full overload [s] (assumed)",
    )
    pcs_priority: Literal["p", "q"] = Field(
        "p", description="which of P / Q keeps its request on the PCS circle in normal operation"
    )
    # ---- control loop as built
    latency_s: float = Field(
        0.05,
        ge=0,
        description="measurement and communication delay between the meter and the PCS [s]. "
        "Assumed 50 ms, range 0.02-0.25 s: inverter active-power response is tens to hundreds "
        "of ms; ERCOT fast frequency response must be fully deployed within 15 cycles (0.25 s)",
    )
    control_period_s: float = Field(
        0.02,
        ge=0,
        description="period of the BESS power controller [s]: its command is sampled and held "
        "(0 = continuous). Assumed 20 ms, range 10-100 ms",
    )
    response_tau_s: float = Field(
        0.03,
        ge=0,
        description="closed-loop time constant of the PCS power loop [s] (first-order lag; "
        "bandwidth 1 / (2 pi tau)). Assumed 30 ms, range 10-200 ms (inverter active-power "
        "response tens to hundreds of ms)",
    )
    control_mode: Literal["feedforward", "feedback"] = Field(
        "feedforward",
        description="'feedforward': the controller meters the site load and commands setpoint - "
        "site; 'feedback': it meters the POI and integrates setpoint - POI (integral time "
        "feedback_ti_s)",
    )
    feedback_ti_s: float = Field(
        0.2,
        gt=0,
        description="integral time of the POI feedback loop [s] (control_mode = 'feedback'). "
        "Assumed 0.2 s: stable with >= 45 deg phase margin for latency + period + tau up to ~0.1 s",
    )
    # ---- PCS current limit, faults and grid mode
    fault_v_pu: float = Field(
        0.9,
        gt=0,
        le=1,
        description="below this POI voltage the PCS is in fault mode [pu]; 0.9 pu (IEEE 2800-2022 "
        "continuous operation down to 0.9 pu)",
    )
    fault_current_priority: Literal["reactive", "active"] = Field(
        "reactive",
        description="in fault mode, which current the PCS serves first: 'reactive' (IEEE 2800-2022 "
        "style reactive current injection) or 'active'",
    )
    fault_k_factor: float = Field(
        2.0,
        ge=0,
        description="reactive current injected in fault mode per pu of voltage below fault_v_pu "
        "[pu current / pu voltage], capped at the current limit. Assumed 2, range 2-6 "
        "(grid-code K factors)",
    )
    grid_mode: Literal["grid_following", "grid_forming"] = Field(
        "grid_following",
        description="'grid_following': needs a voltage to lock to, injects nothing below "
        "gfl_min_v_pu; 'grid_forming': a voltage source that keeps injecting (reactive current "
        "first) within its current limit at any voltage",
    )
    gfl_min_v_pu: float = Field(
        0.15,
        ge=0,
        lt=1,
        description="grid-following PCS loses its phase-locked loop below this voltage and "
        "injects no current [pu]. Assumed 0.15 pu, range 0.1-0.2 pu",
    )

    @model_validator(mode="after")
    def _consistent(self) -> BessConfig:
        if self.soc_min >= self.soc_max:
            raise ValueError(f"soc_min ({self.soc_min}) must be below soc_max ({self.soc_max})")
        if not self.soc_min <= self.soc_init <= self.soc_max:
            raise ValueError(f"soc_init ({self.soc_init}) must lie in [soc_min, soc_max]")
        if self.eta_charge is not None and self.eta_discharge is not None:
            if not math.isclose(self.eta_charge * self.eta_discharge, self.rte, rel_tol=1e-6):
                raise ValueError(
                    f"eta_charge x eta_discharge ({self.eta_charge * self.eta_discharge:g}) "
                    f"must equal rte ({self.rte})"
                )
        elif self.eta_charge is not None and self.rte / self.eta_charge > 1:
            raise ValueError("rte / eta_charge exceeds 1")
        elif self.eta_discharge is not None and self.rte / self.eta_discharge > 1:
            raise ValueError("rte / eta_discharge exceeds 1")
        return self

    @property
    def efficiencies(self) -> tuple[float, float]:
        """(charge, discharge) efficiency; their product is the round trip."""
        if self.eta_charge is not None:
            return self.eta_charge, self.eta_discharge or self.rte / self.eta_charge
        if self.eta_discharge is not None:
            return self.rte / self.eta_discharge, self.eta_discharge
        eta = math.sqrt(self.rte)
        return eta, eta
