"""Case-file sections ``[controls.*]``: the grid-friendly BESS controls at the POI.

Units are in the field names; each default names its source or says "assumed".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from federates.factory.config_common import Section as _Section
from federates.factory.config_common import _bool_to_section


class RampLimitConfig(_Section):
    enabled: bool = True
    mw_per_min: float = Field(
        20.0, gt=0, description="POI ramp limit [MW/min]; 20 (Southern Co, arXiv 2601.12686)"
    )
    headroom: float = Field(
        0.9,
        gt=0,
        le=1,
        description="the limiter aims at headroom x mw_per_min, leaving room for the BESS lag "
        "(assumed)",
    )


class SmoothingConfig(_Section):
    enabled: bool = True
    tau_s: float = Field(
        60.0, gt=0, description="low-pass time constant of POI power [s] (assumed)"
    )


class QSmoothingConfig(_Section):
    """POI reactive power low-passed: the BESS inverter carries the site's Q swing.

    The site's Q follows its P at constant power factor, so a training swing is a
    Q swing too (tens of Mvar on a 300 MW site), which moves the POI voltage on a
    weak grid. Simplified: the BESS Q is one value per grid step (the interval
    mean the grid sees is smoothed; the swing inside a step is not), limited by
    the PCS circle with ``bess.pcs_priority``.
    """

    enabled: bool = False
    tau_s: float = Field(
        60.0,
        gt=0,
        description="low-pass time constant of POI reactive power [s] (assumed, as smoothing)",
    )


class PeakCapConfig(_Section):
    enabled: bool = False
    limit_mw: float | None = Field(
        None, gt=0, description="interconnection limit on POI import [MW]"
    )

    @model_validator(mode="after")
    def _needs_limit(self) -> PeakCapConfig:
        if self.enabled and self.limit_mw is None:
            raise ValueError("peak_cap.enabled needs limit_mw")
        return self


class DampingConfig(_Section):
    """Remove a band of the site power at the POI (Butterworth band-pass, BESS absorbs it)."""

    enabled: bool = False
    f_low_hz: float = Field(
        0.2, gt=0, description="[Hz]; training energy in 0.2-3 Hz (arXiv 2508.14318)"
    )
    f_high_hz: float = Field(3.0, gt=0, description="[Hz]; 0.2-3 Hz (arXiv 2508.14318)")
    order: int = Field(2, ge=1, le=6, description="Butterworth order")
    gain: float = Field(1.0, ge=0, le=1, description="share of the band removed")

    @model_validator(mode="after")
    def _band(self) -> DampingConfig:
        if self.f_low_hz >= self.f_high_hz:
            raise ValueError("f_low_hz must be below f_high_hz")
        return self


class SocRestoreConfig(_Section):
    enabled: bool = True
    target: float = Field(0.55, ge=0, le=1, description="rest SOC; 55 % (assumed)")
    tau_s: float = Field(
        1800.0, gt=0, description="time constant of the slow SOC loop [s] (assumed)"
    )
    max_fraction: float = Field(
        0.1, ge=0, le=1, description="largest SOC-loop power / bess.p_mw (assumed)"
    )


class RideThroughSupportConfig(_Section):
    """While the site is on UPS/backup or V is out of band, hold the POI power seen before."""

    enabled: bool = True


class VoltVarConfig(_Section):
    """Reactive power vs POI voltage (IEEE 1547-2018 category B default curve)."""

    enabled: bool = True
    v_pu: tuple[float, float, float, float] = Field(
        (0.92, 0.98, 1.02, 1.08), description="curve voltages [pu]; IEEE 1547-2018 cat. B"
    )
    q_fraction: float = Field(
        0.44,
        ge=0,
        le=1,
        description="Q at the curve ends / s_mva; 0.44 ~ 0.9 PF at full P (assumed; IEEE 1547 "
        "cat. B)",
    )
    response_time_s: float = Field(
        5.0,
        ge=0,
        le=90,
        description="open-loop response time: 90 % of a Q change reached after this [s] (a "
        "first-order lag); IEEE 1547-2018 Table 8 default 5 s, range 1-90 s; 0 = instantaneous",
    )

    @field_validator("v_pu")
    @classmethod
    def _increasing(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if any(b < a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"volt-var voltages must not decrease: {v}")
        return v


class FreqWattConfig(_Section):
    """Frequency-watt droop: dP = (f - f_nom) / f_nom / droop x bess.p_mw outside the deadband."""

    enabled: bool = True
    droop: float = Field(0.05, gt=0, description="droop [-]; 5 % (assumed)")
    deadband_hz: float = Field(0.036, ge=0, description="IEEE 1547-2018 default deadband [Hz]")
    f_nom_hz: float = Field(60.0, gt=0, description="nominal frequency [Hz]")


class DemandResponseCall(_Section):
    """One curtailment call: issued at ``t_s``, effective after ``notice_s``."""

    t_s: float = Field(ge=0, description="time the call is issued [s]")
    notice_s: float = Field(
        0.0, ge=0, description="notice before the curtailment starts [s] (Texas SB 6)"
    )
    duration_s: float = Field(3600.0, gt=0, description="curtailment length [s]; Q6: 1 h")
    reduction: float | None = Field(
        0.3, gt=0, le=1, description="cut / baseline POI power; Q6: 30 %"
    )
    target_mw: float | None = Field(
        None, ge=0, description="absolute POI target [MW] (replaces reduction)"
    )
    speed: Literal["fast", "slow"] = Field(
        "fast", description="fast: <= 2 s, slow: <= 60 s (qualification test Q6)"
    )
    response_s: float | None = Field(
        None, ge=0, description="ramp to target [s]; default 2 (fast) / 60 (slow)"
    )
    resource: Literal["load", "bess", "both"] = Field(
        "both", description="who curtails: GPU power caps on the site ('load'), the BESS, or both"
    )
    restore_s: float = Field(
        300.0, gt=0, description="ramp back from target to baseline after the call [s] (assumed)"
    )

    @model_validator(mode="after")
    def _target(self) -> DemandResponseCall:
        if self.target_mw is None and self.reduction is None:
            raise ValueError("a call needs reduction or target_mw")
        return self

    @property
    def start_s(self) -> float:
        return self.t_s + self.notice_s

    @property
    def ramp_s(self) -> float:
        if self.response_s is not None:
            return self.response_s
        return 2.0 if self.speed == "fast" else 60.0


class DemandResponseConfig(_Section):
    enabled: bool = True
    baseline_window_s: float = Field(
        60.0, gt=0, description="POI mean before the call used as baseline [s] (assumed)"
    )
    calls: list[DemandResponseCall] = Field(default_factory=list)


class ControlsConfig(_Section):
    """Grid-friendly BESS controls, each on/off and tuned from the case.

    Applied in this order, each later one overriding the earlier (see
    ``federates.factory.controls``): soc_restore, damping, smoothing, ramp_limit,
    freq_watt, peak_cap, demand_response, ride_through_support; volt_var and
    q_smoothing set Q.
    """

    ramp_limit: RampLimitConfig = Field(default_factory=RampLimitConfig)
    smoothing: SmoothingConfig = Field(default_factory=SmoothingConfig)
    peak_cap: PeakCapConfig = Field(default_factory=PeakCapConfig)
    damping: DampingConfig = Field(default_factory=DampingConfig)
    soc_restore: SocRestoreConfig = Field(default_factory=SocRestoreConfig)
    ride_through_support: RideThroughSupportConfig = Field(default_factory=RideThroughSupportConfig)
    volt_var: VoltVarConfig = Field(default_factory=VoltVarConfig)
    q_smoothing: QSmoothingConfig = Field(default_factory=QSmoothingConfig)
    freq_watt: FreqWattConfig = Field(default_factory=FreqWattConfig)
    demand_response: DemandResponseConfig = Field(default_factory=DemandResponseConfig)

    @model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        """Accept ``smoothing = true``, ``smoothing_tau_s`` and ``ramp_limit_mw_per_min``."""
        if not isinstance(data, dict):
            return data
        data = {k: _bool_to_section(v) for k, v in data.items()}
        if "smoothing_tau_s" in data:
            data["smoothing"] = {
                "tau_s": data.pop("smoothing_tau_s"),
                **(data.get("smoothing") or {}),
            }
        if "ramp_limit_mw_per_min" in data:
            v = data.pop("ramp_limit_mw_per_min")
            extra = {"enabled": False} if v is None else {"mw_per_min": v}
            data["ramp_limit"] = {**extra, **(data.get("ramp_limit") or {})}
        return data
