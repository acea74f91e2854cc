"""Case-file sections of the AI factory, its BESS and the BESS controls.

Each default names its source; "assumed" marks a project default that no source
fixes, so the case file must be able to change it (``docs/site_and_bess.md``
lists them). Units are in the field names; every section forbids unknown keys.

Layout (TOML)::

    [factory]                      # site: IT MW or racks x kW/rack, PUE, PF, POI bus
    [factory.training]             # lock-step or independent jobs, GPU share of IT
    [[factory.training.jobs]]      # one table per training job
    [factory.inference]            # diurnal + noise + bursts
    [factory.cooling]              # first-order lag, chiller restart
    [factory.gpu_smoothing]        # optional GPU-side smoothing
    [factory.trace]                # trace-driven load (factory.profile = "trace")
    [factory.ride_through]         # voltage / frequency behaviour at the POI
    [factory.composite]            # composite load: IT, motors, ZIP, filters under voltage
    [bess]
    [controls.ramp_limit] ... [controls.demand_response]   # see ControlsConfig
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from federates.factory.config_bess import BessConfig
from federates.factory.config_common import Section as _Section
from federates.factory.config_controls import (
    ControlsConfig,
    DampingConfig,
    DemandResponseCall,
    DemandResponseConfig,
    FreqWattConfig,
    PeakCapConfig,
    QSmoothingConfig,
    RampLimitConfig,
    RideThroughSupportConfig,
    SmoothingConfig,
    SocRestoreConfig,
    VoltVarConfig,
)
from federates.factory.config_site import CompositeLoadConfig, RideThroughConfig

__all__ = [
    "BessConfig",
    "CompositeLoadConfig",
    "ControlsConfig",
    "CoolingConfig",
    "DampingConfig",
    "DemandResponseCall",
    "DemandResponseConfig",
    "FactoryConfig",
    "FreqWattConfig",
    "GpuSmoothingConfig",
    "InferenceConfig",
    "PeakCapConfig",
    "QSmoothingConfig",
    "RampLimitConfig",
    "RideThroughConfig",
    "RideThroughSupportConfig",
    "SmoothingConfig",
    "SocRestoreConfig",
    "TraceConfig",
    "TrainingConfig",
    "TrainingJob",
    "VoltVarConfig",
]

# ---------------------------------------------------------------- load


class TraceConfig(_Section):
    """A CSV of measured power (any resolution), resampled to the internal step and scaled.

    The file has a header row; ``time_column`` holds seconds (or ISO 8601 times),
    ``power_column`` power in ``unit``. Bad traces (gaps, non-increasing time, NaN,
    negative power) are rejected with the file and row number.
    """

    path: str = Field(description="CSV file; relative paths are resolved against the case folder")
    time_column: str = Field("t_s", description="column of time [s] or ISO 8601 timestamps")
    power_column: str = Field("p_mw", description="column of power")
    unit: Literal["w", "kw", "mw", "fraction"] = Field(
        "mw", description="unit of power_column; 'fraction' = share of the peak it applies to"
    )
    scale: float = Field(1.0, gt=0, description="multiplier applied after unit conversion")
    peak_mw: float | None = Field(
        None, gt=0, description="rescale so that the trace maximum is this [MW]"
    )
    applies_to: Literal["it", "site"] = Field(
        "it", description="'it': IT load (cooling and auxiliaries added); 'site': whole site load"
    )
    repeat: bool = Field(
        True, description="loop the trace when the case is longer; else hold the last value"
    )
    max_gap_s: float | None = Field(
        None, gt=0, description="largest allowed time step [s]; default 10 x the median step"
    )


class TrainingJob(_Section):
    """One synchronous training job: a square-ish GPU power wave with checkpoints.

    Levels are fractions of the job's peak GPU power.
    """

    name: str = "job"
    share: float = Field(
        1.0, gt=0, le=1, description="share of the training GPUs (assumed: one job)"
    )
    period_s: float = Field(2.0, gt=0, description="iteration period [s]; 2 s (arXiv 2508.14318)")
    compute_duty: float = Field(
        0.7, gt=0, lt=1, description="compute share of an iteration; 70 % (arXiv 2508.14318)"
    )
    trough_fraction: float = Field(
        0.35, ge=0, le=1, description="communication-phase GPU power / peak; 35 % (assumed)"
    )
    rise_time_s: float = Field(0.075, ge=0, description="edge rise time [s]; 50-100 ms (assumed)")
    jitter_fraction: float = Field(
        0.01, ge=0, le=0.3, description="std of the iteration period / period (assumed)"
    )
    phase_s: float = Field(0.0, ge=0, description="offset of the iteration clock [s]")
    checkpoint_interval_s: float = Field(1800.0, gt=0, description="[s]; every 30 min (assumed)")
    checkpoint_duration_s: float = Field(
        45.0, ge=0, description="[s], 0 disables; 30-60 s (assumed)"
    )
    checkpoint_fraction: float = Field(
        0.15, ge=0, le=1, description="GPU power during a checkpoint; ~15 % (assumed)"
    )
    checkpoint_offset_s: float | None = Field(
        None, ge=0, description="first checkpoint [s]; default one interval after the case start"
    )
    start_s: float | None = Field(
        None, ge=0, description="job start [s]; None = already running at t = 0"
    )
    stop_s: float | None = Field(None, ge=0, description="job stop [s]; None = runs to the end")
    start_ramp_s: float = Field(
        1.0, ge=0, description="0 -> 100 % ramp [s]; < 1 s (arXiv 2508.14318)"
    )
    stop_ramp_s: float = Field(
        1.0, ge=0, description="100 -> 0 % ramp [s]; < 1 s (arXiv 2508.14318)"
    )
    idle_fraction: float = Field(
        0.1, ge=0, le=1, description="GPU power of a stopped job / peak (assumed)"
    )
    mtbf_h: float | None = Field(
        None,
        gt=0,
        description="mean time between job failures [h]; None = no failures. Llama 3: 419 "
        "unexpected interruptions in 54 days on 16k GPUs, i.e. ~3 h (Meta 2024)",
    )
    restart_s: float = Field(
        600.0, ge=0, description="time from a failure to the restart [s] (assumed)"
    )
    trace: TraceConfig | None = Field(
        None,
        description="replace the synthetic wave by a trace of this job's power (fraction or MW)",
    )

    @model_validator(mode="after")
    def _edges_fit(self) -> TrainingJob:
        if self.rise_time_s >= (1 - self.compute_duty) * self.period_s:
            raise ValueError(
                f"rise_time_s ({self.rise_time_s}) must be shorter than the communication phase "
                f"({(1 - self.compute_duty) * self.period_s:g} s)"
            )
        if self.start_s is not None and self.stop_s is not None and self.stop_s <= self.start_s:
            raise ValueError("stop_s must be after start_s")
        return self


class TrainingConfig(_Section):
    """Training jobs sharing ``factory.training_share`` of the IT load."""

    sync: Literal["lockstep", "independent"] = Field(
        "lockstep", description="lockstep: jobs share one iteration clock and swing together"
    )
    gpu_fraction: float = Field(
        0.8,
        ge=0,
        le=1,
        description="share of training IT power drawn by GPUs (the part that swings); the rest "
        "(CPU, network, storage) is constant. Assumed: gives a ~90 MW swing, what the default "
        "100 MW BESS covers",
    )
    jobs: list[TrainingJob] = Field(default_factory=lambda: [TrainingJob()])

    @model_validator(mode="after")
    def _shares(self) -> TrainingConfig:
        total = sum(j.share for j in self.jobs)
        if total > 1 + 1e-9:
            raise ValueError(f"job shares add up to {total:g}, more than 1")
        return self


class InferenceConfig(_Section):
    """Inference load: diurnal profile + second-scale noise + bursts (all assumed)."""

    mean_fraction: float = Field(
        0.8, ge=0, le=1, description="daily mean / inference peak (assumed; 0.8 x 1.25 = 1)"
    )
    diurnal_amplitude: float = Field(
        0.25, ge=0, le=1, description="relative diurnal swing; +/- 25 % (assumed)"
    )
    peak_hour: float = Field(14.0, ge=0, lt=24, description="hour of the daily peak (assumed)")
    start_hour: float = Field(0.0, ge=0, lt=24, description="time of day at t = 0 [h]")
    noise_fraction: float = Field(
        0.03, ge=0, description="std of the noise / inference peak (assumed)"
    )
    noise_tau_s: float = Field(
        1.0, gt=0, description="correlation time of the noise [s]; second-scale (assumed)"
    )
    burst_rate_per_h: float = Field(4.0, ge=0, description="mean bursts per hour (assumed)")
    burst_fraction: float = Field(
        0.1, ge=0, le=1, description="burst height / inference peak (assumed)"
    )
    burst_duration_s: float = Field(20.0, gt=0, description="mean burst length [s] (assumed)")


class CoolingConfig(_Section):
    """Cooling: first-order lag on IT heat; chillers restart after a site trip."""

    fraction: float = Field(
        0.175, ge=0, le=1, description="cooling / IT power; 15-20 % (assumed, vendor notes)"
    )
    tau_s: float = Field(600.0, gt=0, description="first-order lag [s]; 5-15 min (assumed)")
    chiller_restart_s: float = Field(
        360.0, ge=0, description="restart delay after a trip [s]; 4-8 min (assumed, vendor notes)"
    )
    restart_ramp_s: float = Field(
        60.0, ge=0, description="chiller load pick-up after restart [s] (assumed)"
    )


class GpuSmoothingConfig(_Section):
    """GPU-side power smoothing (NVIDIA GB200/GB300 material)."""

    enabled: bool = False
    floor_fraction: float = Field(
        0.5,
        ge=0,
        le=1,
        description="power floor / TDP while a job runs; 20-90 % (NVIDIA GB200/GB300)",
    )
    ramp_up_per_s: float = Field(2.0, gt=0, description="max rise of GPU power [TDP/s] (assumed)")
    ramp_down_per_s: float = Field(0.5, gt=0, description="max fall of GPU power [TDP/s] (assumed)")
    hysteresis_s: float = Field(
        0.5, ge=0, description="demand must stay lower this long before ramp-down [s] (assumed)"
    )
    storage_j_per_gpu: float = Field(
        65.0, ge=0, description="rack energy storage [J/GPU]; ~65 J/GPU (NVIDIA GB300)"
    )
    gpu_tdp_kw: float = Field(1.2, gt=0, description="TDP of one GPU [kW] (assumed, GB200 class)")


_LEGACY_TRAINING = {
    "iteration_period_s": "period_s",
    "compute_duty": "compute_duty",
    "trough_fraction": "trough_fraction",
    "rise_time_s": "rise_time_s",
    "checkpoint_interval_s": "checkpoint_interval_s",
    "checkpoint_duration_s": "checkpoint_duration_s",
    "checkpoint_fraction": "checkpoint_fraction",
}
_LEGACY_COOLING = {"cooling_fraction": "fraction", "cooling_tau_s": "tau_s"}


class FactoryConfig(_Section):
    """The AI-factory site at the POI.

    Facility power = IT + cooling + fixed auxiliaries. Auxiliaries are what the
    PUE leaves after cooling at peak: ``(pue - 1 - cooling.fraction) x IT peak``.
    """

    it_mw: float = Field(250.0, gt=0, description="IT (GPU) peak power [MW]; 250 MW (assumed)")
    racks: int | None = Field(
        None, gt=0, description="number of racks (with kw_per_rack, replaces it_mw)"
    )
    kw_per_rack: float | None = Field(
        None, gt=0, description="peak IT power per rack [kW]; 100+ kW today (NVIDIA DSX)"
    )
    pue: float = Field(
        1.2, ge=1.0, le=3.0, description="power usage effectiveness at peak; 1.2 (Uptime Institute)"
    )
    power_factor: float = Field(
        0.98,
        gt=0,
        le=1,
        description="nominal site PF, lagging; 0.98 (assumed). The model's Q comes from "
        "[factory.composite]; this value serves grid studies and composite.enabled = false",
    )
    poi_bus: int = Field(
        0, ge=0, description="pandapower bus index of the point of interconnection"
    )
    training_share: float = Field(
        0.7, ge=0, le=1, description="share of IT in training; 70 % (assumed)"
    )
    profile: Literal["synthetic", "trace"] = Field(
        "synthetic", description="'trace' uses factory.trace"
    )
    initial_it_mw: float | None = Field(
        None,
        ge=0,
        description="IT power before t = 0 [MW]: the site, its cooling and the BESS filters start "
        "in its steady state. None = the first internal step's IT power (causal start)",
    )
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    cooling: CoolingConfig = Field(default_factory=CoolingConfig)
    gpu_smoothing: GpuSmoothingConfig = Field(default_factory=GpuSmoothingConfig)
    trace: TraceConfig | None = None
    ride_through: RideThroughConfig = Field(default_factory=RideThroughConfig)
    composite: CompositeLoadConfig = Field(default_factory=CompositeLoadConfig)

    @model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        """Accept the first schema's flat keys (``iteration_period_s``, ``cooling_fraction``,
        ...)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        flat_t = {new: data.pop(old) for old, new in _LEGACY_TRAINING.items() if old in data}
        flat_c = {new: data.pop(old) for old, new in _LEGACY_COOLING.items() if old in data}
        if flat_t:
            training = dict(data.get("training") or {})
            jobs = [dict(j) for j in training.get("jobs", [{}])]
            training["jobs"] = [{**flat_t, **j} for j in jobs]
            data["training"] = training
        if flat_c:
            data["cooling"] = {**flat_c, **dict(data.get("cooling") or {})}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> FactoryConfig:
        if (self.racks is None) != (self.kw_per_rack is None):
            raise ValueError("racks and kw_per_rack go together")
        explicit = self.racks is not None and "it_mw" in self.model_fields_set
        if explicit and not math.isclose(self.it_mw, self.it_peak_mw, rel_tol=1e-6):
            raise ValueError(
                f"it_mw ({self.it_mw}) disagrees with racks x kw_per_rack ({self.it_peak_mw:g} MW)"
            )
        if self.aux_mw < -1e-9:
            raise ValueError(
                f"pue ({self.pue}) is below 1 + cooling.fraction ({1 + self.cooling.fraction:g})"
            )
        if self.profile == "trace" and self.trace is None:
            raise ValueError("profile = 'trace' needs a [factory.trace] table")
        return self

    @property
    def it_peak_mw(self) -> float:
        """IT peak [MW]: racks x kW/rack when given, else ``it_mw``."""
        if self.racks is not None and self.kw_per_rack is not None:
            return self.racks * self.kw_per_rack / 1000.0
        return self.it_mw

    @property
    def aux_mw(self) -> float:
        """Fixed auxiliaries [MW] = (PUE - 1 - cooling fraction) x IT peak."""
        return (self.pue - 1.0 - self.cooling.fraction) * self.it_peak_mw

    @property
    def site_peak_mw(self) -> float:
        """Facility peak [MW] = PUE x IT peak."""
        return self.pue * self.it_peak_mw
