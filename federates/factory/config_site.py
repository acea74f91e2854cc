"""Case-file sections of the site's behaviour at the POI: ``[factory.ride_through]`` (transfer
to UPS / backup) and ``[factory.composite]`` (the data-centre composite load under voltage).

Units are in the field names; each default names its source or says "assumed".
"""

from __future__ import annotations

from typing import Literal

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
        0,
        ge=0,
        description="option: transfer at this many dips within disturbance_window_s (0 = off, "
        "the default: transfers come from the UPS voltage-time curve). "
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


class CompositeLoadConfig(_Section):
    """The data-centre composite load: what the site draws as the POI voltage ``V`` moves.

    * IT behind UPS / PSU (power electronics): constant power at ``it_power_factor``
      down to ``it_constant_power_min_v_pu``, constant current below it (the PSU's
      input current limit); the transfer to UPS follows the ride-through curve.
    * motors (chillers, pumps, fans: the cooling load and ``aux_motor_share`` of
      the auxiliaries): constant power while running, reactive demand
      ``Q = P tan(phi_m) (m V^2 + (1 - m) / V^2)`` (magnetising share ``m``, the
      rest leakage reactance at constant power); stalled below ``motor_stall_v_pu``
      (locked-rotor impedance: ``S = I_lr V^2``); the contactors drop out after
      ``motor_trip_s`` below ``motor_trip_v_pu`` and the motors reconnect when V is
      back above ``motor_return_v_pu``, the chillers after ``cooling.chiller_restart_s``.
    * the rest of the auxiliaries (lighting, offices, ...) as ZIP, its
      constant-power part converted to constant current below
      ``it_constant_power_min_v_pu`` (as PSS/E does below 0.7 pu).
    * filters and power-factor capacitors: ``Q = -filter_mvar_per_mw_it x IT peak x V^2``.

    ``enabled = false`` gives the older model: everything constant power at
    ``factory.power_factor``.
    """

    enabled: bool = Field(True, description="False: constant power at factory.power_factor")
    it_power_factor: float = Field(
        0.99,
        gt=0,
        le=1,
        description="IT power factor, lagging (PSUs with active PFC). Assumed 0.99, "
        "range 0.95-0.99",
    )
    it_constant_power_min_v_pu: float = Field(
        0.7,
        gt=0,
        le=1,
        description="below this voltage IT and the ZIP constant-power part draw constant current "
        "[pu]; 0.7 pu (PSS/E PQBRAK default)",
    )
    aux_motor_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of the auxiliaries that are motors (pumps, fans, air handlers); the "
        "cooling load is all motors. Assumed 0.5, range 0.3-0.7",
    )
    motor_power_factor: float = Field(
        0.85,
        gt=0,
        le=1,
        description="running motor power factor at 1 pu. Assumed 0.85, range 0.8-0.9",
    )
    motor_magnetizing_share: float = Field(
        0.6,
        ge=0,
        le=1,
        description="share of the running motor Q at 1 pu that is magnetising (scales with V^2); "
        "the rest is leakage (scales with 1 / V^2). Assumed 0.6",
    )
    motor_stall_v_pu: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="motors stall below this voltage [pu]. Assumed 0.6, range 0.45-0.7 (WECC "
        "composite load model, motor stall voltages)",
    )
    motor_locked_rotor_pu: float = Field(
        5.0, gt=0, description="locked-rotor current / rated at 1 pu. Assumed 5, range 4-7"
    )
    motor_locked_rotor_pf: float = Field(
        0.3, gt=0, le=1, description="locked-rotor power factor. Assumed 0.3, range 0.2-0.4"
    )
    motor_trip_v_pu: float = Field(
        0.55,
        gt=0,
        lt=1,
        description="contactor drop-out voltage [pu]. Assumed 0.55, range 0.45-0.6 (WECC "
        "composite load model contactor data)",
    )
    motor_trip_s: float = Field(
        0.02,
        ge=0,
        description="time below motor_trip_v_pu before the motors trip [s]. Assumed one cycle "
        "(0.02 s), range 0.02-0.1 s",
    )
    motor_return_v_pu: float = Field(
        0.9, gt=0, le=1.2, description="tripped motors reconnect above this voltage [pu] (assumed)"
    )
    zip_z: float = Field(
        0.4, ge=0, le=1, description="constant-impedance share of the rest (assumed)"
    )
    zip_i: float = Field(
        0.3, ge=0, le=1, description="constant-current share of the rest (assumed)"
    )
    zip_power_factor: float = Field(
        0.95, gt=0, le=1, description="power factor of the rest, lagging (assumed)"
    )
    filter_mvar_per_mw_it: float = Field(
        0.04,
        ge=0,
        description="filters and capacitors at 1 pu per MW of IT peak [Mvar/MW]; they inject "
        "Q x V^2. Assumed 0.04, which puts the default site near 0.98-0.99 lagging",
    )

    @model_validator(mode="after")
    def _shares(self) -> CompositeLoadConfig:
        if self.zip_z + self.zip_i > 1 + 1e-9:
            raise ValueError("zip_z + zip_i must not exceed 1 (the rest is constant power)")
        if self.motor_trip_v_pu > self.motor_return_v_pu:
            raise ValueError("motor_trip_v_pu must not exceed motor_return_v_pu")
        return self

    @property
    def zip_p(self) -> float:
        """Constant-power share of the rest [-]."""
        return 1.0 - self.zip_z - self.zip_i


TransferCause = Literal["ups_curve", "hvrt_curve", "frequency", "dip_counter"]
