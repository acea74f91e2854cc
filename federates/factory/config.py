"""Case-file sections of the AI factory, its BESS and the BESS controls.

Defaults come from ``shared/DOMAIN.md`` (load model and BESS tables); "assumed"
marks a project default that no source fixes, so the case file must be able to
change it. Units are in the field names; every section forbids unknown keys.

Layout (TOML)::

    [factory]                      # site: IT MW or racks x kW/rack, PUE, PF, POI bus
    [factory.training]             # lock-step or independent jobs, GPU share of IT
    [[factory.training.jobs]]      # one table per training job
    [factory.inference]            # diurnal + noise + bursts
    [factory.cooling]              # first-order lag, chiller restart
    [factory.gpu_smoothing]        # optional GPU-side smoothing
    [factory.trace]                # trace-driven load (factory.profile = "trace")
    [factory.ride_through]         # voltage / frequency behaviour at the POI
    [bess]
    [controls.ramp_limit] ... [controls.demand_response]   # see ControlsConfig
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _bool_to_section(value: Any) -> Any:
    """Let ``controls.smoothing = true`` stand for ``controls.smoothing.enabled = true``."""
    return {"enabled": value} if isinstance(value, bool) else value


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

    Levels are fractions of the job's peak GPU power. Defaults: DOMAIN.md load table.
    """

    name: str = "job"
    share: float = Field(
        1.0, gt=0, le=1, description="share of the training GPUs (assumed: one job)"
    )
    period_s: float = Field(
        2.0, gt=0, description="iteration period [s]; DOMAIN: 2 s (arXiv 2508.14318)"
    )
    compute_duty: float = Field(
        0.7, gt=0, lt=1, description="compute share of an iteration; DOMAIN: 70 %"
    )
    trough_fraction: float = Field(
        0.35, ge=0, le=1, description="communication-phase GPU power / peak; DOMAIN: 35 % (assumed)"
    )
    rise_time_s: float = Field(
        0.075, ge=0, description="edge rise time [s]; DOMAIN: 50-100 ms (assumed)"
    )
    jitter_fraction: float = Field(
        0.01, ge=0, le=0.3, description="std of the iteration period / period (assumed)"
    )
    phase_s: float = Field(0.0, ge=0, description="offset of the iteration clock [s]")
    checkpoint_interval_s: float = Field(1800.0, gt=0, description="DOMAIN: every 30 min (assumed)")
    checkpoint_duration_s: float = Field(
        45.0, ge=0, description="0 disables; DOMAIN: 30-60 s (assumed)"
    )
    checkpoint_fraction: float = Field(
        0.15, ge=0, le=1, description="GPU power during a checkpoint; DOMAIN: ~15 %"
    )
    checkpoint_offset_s: float | None = Field(
        None, ge=0, description="first checkpoint [s]; default one interval after the case start"
    )
    start_s: float | None = Field(
        None, ge=0, description="job start [s]; None = already running at t = 0"
    )
    stop_s: float | None = Field(None, ge=0, description="job stop [s]; None = runs to the end")
    start_ramp_s: float = Field(
        1.0, ge=0, description="0 -> 100 % ramp [s]; DOMAIN: < 1 s (arXiv 2508.14318)"
    )
    stop_ramp_s: float = Field(1.0, ge=0, description="100 -> 0 % ramp [s]; DOMAIN: < 1 s")
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
        "(CPU, network, storage) is constant. Assumed: gives the ~90 MW default swing of DOMAIN's BESS row",
    )
    jobs: list[TrainingJob] = Field(default_factory=lambda: [TrainingJob()])

    @model_validator(mode="after")
    def _shares(self) -> TrainingConfig:
        total = sum(j.share for j in self.jobs)
        if total > 1 + 1e-9:
            raise ValueError(f"job shares add up to {total:g}, more than 1")
        return self


class InferenceConfig(_Section):
    """Inference load: diurnal profile + second-scale noise + bursts (all assumed, DOMAIN)."""

    mean_fraction: float = Field(
        0.8, ge=0, le=1, description="daily mean / inference peak (assumed; 0.8 x 1.25 = 1)"
    )
    diurnal_amplitude: float = Field(
        0.25, ge=0, le=1, description="relative diurnal swing; DOMAIN: +/- 25 %"
    )
    peak_hour: float = Field(14.0, ge=0, lt=24, description="hour of the daily peak (assumed)")
    start_hour: float = Field(0.0, ge=0, lt=24, description="time of day at t = 0 [h]")
    noise_fraction: float = Field(
        0.03, ge=0, description="std of the noise / inference peak (assumed)"
    )
    noise_tau_s: float = Field(
        1.0, gt=0, description="correlation time of the noise [s]; DOMAIN: second-scale"
    )
    burst_rate_per_h: float = Field(4.0, ge=0, description="mean bursts per hour (assumed)")
    burst_fraction: float = Field(
        0.1, ge=0, le=1, description="burst height / inference peak (assumed)"
    )
    burst_duration_s: float = Field(20.0, gt=0, description="mean burst length [s] (assumed)")


class CoolingConfig(_Section):
    """Cooling: first-order lag on IT heat; chillers restart after a site trip."""

    fraction: float = Field(
        0.175, ge=0, le=1, description="cooling / IT power; DOMAIN: 15-20 % (assumed)"
    )
    tau_s: float = Field(600.0, gt=0, description="first-order lag [s]; DOMAIN: 5-15 min (assumed)")
    chiller_restart_s: float = Field(
        360.0, ge=0, description="restart delay after a trip [s]; DOMAIN: 4-8 min"
    )
    restart_ramp_s: float = Field(
        60.0, ge=0, description="chiller load pick-up after restart [s] (assumed)"
    )


class GpuSmoothingConfig(_Section):
    """GPU-side power smoothing (NVIDIA GB200/GB300 material, DOMAIN load table)."""

    enabled: bool = False
    floor_fraction: float = Field(
        0.5, ge=0, le=1, description="power floor / TDP while a job runs; DOMAIN: 20-90 %"
    )
    ramp_up_per_s: float = Field(2.0, gt=0, description="max rise of GPU power [TDP/s] (assumed)")
    ramp_down_per_s: float = Field(0.5, gt=0, description="max fall of GPU power [TDP/s] (assumed)")
    hysteresis_s: float = Field(
        0.5, ge=0, description="demand must stay lower this long before ramp-down [s] (assumed)"
    )
    storage_j_per_gpu: float = Field(
        65.0, ge=0, description="rack energy storage [J/GPU]; DOMAIN: ~65 J/GPU (NVIDIA GB300)"
    )
    gpu_tdp_kw: float = Field(1.2, gt=0, description="TDP of one GPU [kW] (assumed, GB200 class)")


class RideThroughConfig(_Section):
    """Voltage and frequency behaviour of the site at the POI.

    Constant power inside the continuous band. Outside, the curves decide when
    the site transfers to UPS / backup (the grid then sees the load drop); it
    returns once V and f have been back in the continuous band for
    ``return_delay_s``, ramping over ``return_ramp_s``.
    """

    enabled: bool = Field(True, description="False: ideal constant power, never leaves the grid")
    v_min_pu: float = Field(
        0.90, gt=0, description="continuous band low [pu]; DOMAIN: 0.90 (SPP, ERCOT)"
    )
    v_max_pu: float = Field(
        1.10, gt=0, description="continuous band high [pu]; DOMAIN: 1.10 (SPP, ERCOT)"
    )
    lvrt_curve: list[tuple[float, float]] = Field(
        default_factory=lambda: [(0.85, 0.05)],
        description="(voltage [pu], max duration [s]): transfer when V stays below the voltage longer; "
        "DOMAIN: V < 0.85 pu for > 50 ms (NERC alert, Dominion pickup 85 %)",
    )
    hvrt_curve: list[tuple[float, float]] = Field(
        default_factory=lambda: [(1.10, 1.0), (1.20, 0.0)],
        description="(voltage [pu], max duration [s]): transfer when V stays above the voltage longer (assumed)",
    )
    f_min_hz: float = Field(
        57.0, gt=0, description="transfer below [Hz]; DOMAIN: trip allowed < 57.0 Hz (SPP)"
    )
    f_max_hz: float = Field(
        61.8, gt=0, description="transfer above [Hz]; DOMAIN: trip allowed > 61.8 Hz (SPP)"
    )
    f_continuous_hz: tuple[float, float] = Field(
        (58.8, 61.2), description="continuous frequency band [Hz]; DOMAIN: 58.8-61.2 Hz (SPP)"
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
        description="transfer at this many dips within disturbance_window_s (0 = off). Assumed: NERC's "
        "July 2024 review attributes the load loss to the repeated auto-reclosing faults",
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

    it_mw: float = Field(
        250.0, gt=0, description="IT (GPU) peak power [MW]; DOMAIN: 250 MW (assumed)"
    )
    racks: int | None = Field(
        None, gt=0, description="number of racks (with kw_per_rack, replaces it_mw)"
    )
    kw_per_rack: float | None = Field(
        None, gt=0, description="peak IT power per rack [kW]; DOMAIN: 100+ kW today"
    )
    pue: float = Field(
        1.2, ge=1.0, le=3.0, description="power usage effectiveness at peak; DOMAIN: 1.2 (Uptime)"
    )
    power_factor: float = Field(
        0.98, gt=0, le=1, description="site PF, lagging; DOMAIN: 0.98 (assumed)"
    )
    poi_bus: int = Field(
        0, ge=0, description="pandapower bus index of the point of interconnection"
    )
    training_share: float = Field(
        0.7, ge=0, le=1, description="share of IT in training; DOMAIN: 70 % (assumed)"
    )
    profile: Literal["synthetic", "trace"] = Field(
        "synthetic", description="'trace' uses factory.trace"
    )
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    cooling: CoolingConfig = Field(default_factory=CoolingConfig)
    gpu_smoothing: GpuSmoothingConfig = Field(default_factory=GpuSmoothingConfig)
    trace: TraceConfig | None = None
    ride_through: RideThroughConfig = Field(default_factory=RideThroughConfig)

    @model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        """Accept the first schema's flat keys (``iteration_period_s``, ``cooling_fraction``, ...)."""
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


# ---------------------------------------------------------------- BESS


class BessConfig(_Section):
    """Battery energy storage at the site (pandapower storage sign: + charging)."""

    enabled: bool = True
    p_mw: float = Field(100.0, ge=0, description="rated power [MW]; DOMAIN: 100 MW (assumed)")
    e_mwh: float = Field(
        100.0, ge=0, description="energy capacity [MWh]; DOMAIN: 100 MWh (assumed)"
    )
    s_mva: float = Field(
        110.0, ge=0, description="PCS apparent-power rating [MVA]; DOMAIN: 110 MVA"
    )
    rte: float = Field(
        0.85, gt=0, le=1, description="round-trip efficiency AC-AC; DOMAIN: 85 % (NREL ATB)"
    )
    eta_charge: float | None = Field(
        None, gt=0, le=1, description="charge efficiency; default sqrt(rte), or rte / eta_discharge"
    )
    eta_discharge: float | None = Field(
        None, gt=0, le=1, description="discharge efficiency; default sqrt(rte), or rte / eta_charge"
    )
    soc_min: float = Field(0.2, ge=0, le=1, description="DOMAIN: 20 %")
    soc_max: float = Field(0.8, ge=0, le=1, description="DOMAIN: 80 %")
    soc_init: float = Field(0.55, ge=0, le=1, description="initial SOC; DOMAIN rest target 55 %")
    self_discharge_per_day: float = Field(
        0.001, ge=0, lt=1, description="stored-energy loss per day / capacity (assumed)"
    )
    overload_factor: float = Field(
        1.2, ge=1, description="short overload / rating; DOMAIN: 120 % (Megapack 2 XL)"
    )
    overload_s: float = Field(
        10.0, ge=0, description="overload duration [s]; DOMAIN: 10 s (Megapack 2 XL)"
    )
    overload_recovery_s: float = Field(
        60.0,
        gt=0,
        description="time at or below rating that restores the full overload [s] (assumed)",
    )
    response_tau_s: float = Field(0.01, ge=0, description="first-order response lag [s] (assumed)")
    pcs_priority: Literal["p", "q"] = Field(
        "p", description="which of P / Q keeps its request on the PCS circle"
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
                    f"eta_charge x eta_discharge ({self.eta_charge * self.eta_discharge:g}) must equal rte ({self.rte})"
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


# ---------------------------------------------------------------- controls


class RampLimitConfig(_Section):
    enabled: bool = True
    mw_per_min: float = Field(
        20.0, gt=0, description="POI ramp limit; DOMAIN: 20 MW/min (Southern Co)"
    )
    headroom: float = Field(
        0.9,
        gt=0,
        le=1,
        description="the limiter aims at headroom x mw_per_min, leaving room for the BESS lag (assumed)",
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
        0.2, gt=0, description="DOMAIN: training energy in 0.2-3 Hz (arXiv 2508.14318)"
    )
    f_high_hz: float = Field(3.0, gt=0, description="DOMAIN: 0.2-3 Hz")
    order: int = Field(2, ge=1, le=6, description="Butterworth order")
    gain: float = Field(1.0, ge=0, le=1, description="share of the band removed")

    @model_validator(mode="after")
    def _band(self) -> DampingConfig:
        if self.f_low_hz >= self.f_high_hz:
            raise ValueError("f_low_hz must be below f_high_hz")
        return self


class SocRestoreConfig(_Section):
    enabled: bool = True
    target: float = Field(0.55, ge=0, le=1, description="rest SOC; DOMAIN: 55 %")
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
        description="Q at the curve ends / s_mva; 0.44 ~ DOMAIN 'up to 0.9 PF' (IEEE 1547 cat. B)",
    )
    response_time_s: float = Field(
        5.0,
        ge=0,
        le=90,
        description="open-loop response time: 90 % of a Q change reached after this [s] (a first-order lag); "
        "IEEE 1547-2018 Table 8 default 5 s, range 1-90 s; 0 = instantaneous",
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
    droop: float = Field(0.05, gt=0, description="DOMAIN: 5 % (assumed)")
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
        "fast", description="fast: <= 2 s, slow: <= 60 s (DOMAIN Q6)"
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
