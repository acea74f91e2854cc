"""Case-file sections of the AI factory, its BESS and the BESS controls.

Defaults come from ``shared/DOMAIN.md`` (load model and BESS tables); "assumed"
marks a project default that no source fixes. Units are in the field names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FactoryConfig(_Section):
    """The AI-factory site at the POI."""

    it_mw: float = Field(250.0, gt=0, description="IT (GPU) peak power [MW]; DOMAIN: 250 MW (assumed)")
    pue: float = Field(1.2, ge=1.0, le=3.0, description="power usage effectiveness; DOMAIN: 1.2 (Uptime)")
    power_factor: float = Field(0.98, gt=0, le=1, description="site PF, lagging; DOMAIN: 0.98 (assumed)")
    poi_bus: int = Field(0, ge=0, description="pandapower bus index of the point of interconnection")
    training_share: float = Field(0.7, ge=0, le=1, description="share of IT in training; DOMAIN: 70 % (assumed)")
    iteration_period_s: float = Field(2.0, gt=0, description="training iteration period [s]; DOMAIN: 2 s")
    compute_duty: float = Field(0.7, gt=0, lt=1, description="compute share of an iteration; DOMAIN: 70 %")
    trough_fraction: float = Field(0.35, ge=0, le=1, description="trough / peak GPU power; DOMAIN: 35 %")
    rise_time_s: float = Field(0.075, ge=0, description="edge rise time [s]; DOMAIN: 50-100 ms")
    checkpoint_interval_s: float = Field(1800.0, gt=0, description="DOMAIN: every 30 min (assumed)")
    checkpoint_duration_s: float = Field(45.0, ge=0, description="DOMAIN: 30-60 s (assumed)")
    checkpoint_fraction: float = Field(0.15, ge=0, le=1, description="GPU power during checkpoint; DOMAIN: ~15 %")
    cooling_fraction: float = Field(0.175, ge=0, le=1, description="cooling / IT; DOMAIN: 15-20 %")
    cooling_tau_s: float = Field(600.0, gt=0, description="cooling first-order lag [s]; DOMAIN: 5-15 min")


class BessConfig(_Section):
    """Battery energy storage at the site (pandapower storage sign: + charging)."""

    enabled: bool = True
    p_mw: float = Field(100.0, ge=0, description="rated power [MW]; DOMAIN: 100 MW (assumed)")
    e_mwh: float = Field(100.0, ge=0, description="energy capacity [MWh]; DOMAIN: 100 MWh (assumed)")
    s_mva: float = Field(110.0, ge=0, description="PCS apparent-power rating [MVA]; DOMAIN: 110 MVA")
    rte: float = Field(0.85, gt=0, le=1, description="round-trip efficiency AC-AC; DOMAIN: 85 % (NREL ATB)")
    soc_min: float = Field(0.2, ge=0, le=1, description="DOMAIN: 20 %")
    soc_max: float = Field(0.8, ge=0, le=1, description="DOMAIN: 80 %")
    soc_init: float = Field(0.55, ge=0, le=1, description="initial SOC; DOMAIN rest target 55 %")


class ControlsConfig(_Section):
    """Grid-friendly BESS controls, each on/off and tuned from the case."""

    smoothing: bool = True
    smoothing_tau_s: float = Field(60.0, gt=0, description="low-pass time constant of POI power [s] (assumed)")
    ramp_limit_mw_per_min: float | None = Field(20.0, gt=0, description="POI ramp limit; DOMAIN: 20 MW/min (Southern Co)")
