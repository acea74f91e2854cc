"""Case-file sections of the site's behaviour at the POI: ``[factory.ride_through]``.

Units are in the field names; each default names its source or says "assumed".
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from federates.factory.config_common import Section as _Section


class RideThroughConfig(_Section):
    """Voltage and frequency behaviour of the site at the POI.

    Constant power inside the continuous band. Outside, the curves decide when
    the site transfers to UPS / backup (the grid then sees the load drop); it
    returns once V and f have been back in the continuous band for
    ``return_delay_s``, ramping over ``return_ramp_s``.
    """

    enabled: bool = Field(True, description="False: ideal constant power, never leaves the grid")
    v_min_pu: float = Field(0.90, gt=0, description="continuous band low [pu]; 0.90 (SPP, ERCOT)")
    v_max_pu: float = Field(1.10, gt=0, description="continuous band high [pu]; 1.10 (SPP, ERCOT)")
    lvrt_curve: list[tuple[float, float]] = Field(
        default_factory=lambda: [(0.85, 0.05)],
        description="(voltage [pu], max duration [s]): UPS transfer when V stays below the voltage "
        "longer; V < 0.85 pu for > 50 ms (NERC Level 3 alert 2026, Dominion pickup 85 %)",
    )
    hvrt_curve: list[tuple[float, float]] = Field(
        default_factory=lambda: [(1.10, 1.0), (1.20, 0.0)],
        description="(voltage [pu], max duration [s]): transfer when V stays above the voltage "
        "longer (assumed)",
    )
    f_min_hz: float = Field(
        57.0, gt=0, description="transfer below [Hz]; trip allowed < 57.0 Hz (SPP)"
    )
    f_max_hz: float = Field(
        61.8, gt=0, description="transfer above [Hz]; trip allowed > 61.8 Hz (SPP)"
    )
    f_continuous_hz: tuple[float, float] = Field(
        (58.8, 61.2), description="continuous frequency band [Hz]; 58.8-61.2 Hz (SPP)"
    )
    f_trip_delay_s: float = Field(
        0.1, ge=0, description="time outside (f_min, f_max) before transfer [s] (assumed)"
    )
    disturbance_v_pu: float = Field(
        0.85, gt=0, description="a dip below this counts as one disturbance [pu]"
    )
    max_disturbances: int = Field(
        3,
        ge=0,
        description="transfer at this many dips within disturbance_window_s (0 = off). "
        "Assumed: NERC's July 2024 review attributes the load loss to the repeated "
        "auto-reclosing faults",
    )
    disturbance_window_s: float = Field(
        60.0, gt=0, description="window of the dip counter [s] (assumed)"
    )
    return_delay_s: float = Field(
        300.0, ge=0, description="time back in band before returning [s] (assumed)"
    )
    return_ramp_s: float = Field(
        60.0, ge=0, description="ramp of the load back onto the grid [s] (assumed)"
    )
    backup_residual_fraction: float = Field(
        0.0, ge=0, le=1, description="share of the load the grid still sees on backup"
    )

    @field_validator("lvrt_curve", "hvrt_curve")
    @classmethod
    def _curve(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for vm, dur in v:
            if vm <= 0 or dur < 0:
                raise ValueError(f"curve point ({vm}, {dur}) needs voltage > 0 and duration >= 0")
        return v

    @model_validator(mode="after")
    def _bands(self) -> RideThroughConfig:
        if not self.v_min_pu < self.v_max_pu:
            raise ValueError("v_min_pu must be below v_max_pu")
        lo, hi = self.f_continuous_hz
        if not self.f_min_hz <= lo < hi <= self.f_max_hz:
            raise ValueError("need f_min_hz <= f_continuous_hz[0] < f_continuous_hz[1] <= f_max_hz")
        return self
