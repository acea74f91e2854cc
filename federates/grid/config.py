"""Case-file sections of the grid side: networks, events, frequency, T&D coupling."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PoiTransformerConfig(_Section):
    """A new step-down transformer between the network bus and the site bus."""

    sn_mva: float = Field(400.0, gt=0, description="rating [MVA] (assumed)")
    lv_kv: float = Field(34.5, gt=0, description="site-side voltage [kV] (assumed)")
    vk_percent: float = Field(12.0, gt=0, description="short-circuit voltage [%] (assumed)")
    vkr_percent: float = Field(0.3, ge=0, description="resistive part [%] (assumed)")


class GridConfig(_Section):
    """The transmission network the factory connects to."""

    network: str = Field("case118", description="built-in pandapower network name, or a .json / .m / .mat file")
    poi_transformer: PoiTransformerConfig | None = None
    on_nonconvergence: Literal["stop", "hold", "continue"] = "stop"
    record_buses: Literal["all", "poi"] | list[int] = "all"


class EventConfig(_Section):
    """A scheduled grid event at sub-second resolution."""

    kind: Literal["sag", "line_outage", "trafo_outage", "gen_trip", "load_step"]
    t_s: float = Field(ge=0, description="start [s]")
    duration_s: float | None = Field(None, gt=0, description="duration [s]; None = permanent")
    bus: int | None = None
    vm_pu: float | None = Field(None, ge=0, le=1.5, description="retained voltage during a sag [pu]")
    element: int | None = Field(None, ge=0, description="line / trafo / gen index")
    delta_mw: float | None = None

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
        """Interval that the time grid refines around this event [s]."""
        end = self.t_s + (self.duration_s or 0.0)
        return max(0.0, self.t_s - margin_s), end + margin_s


class FrequencyConfig(_Section):
    enabled: bool = False


class DistributionConfig(_Section):
    """A distribution feeder behind a transmission substation bus (T&D coupling)."""

    network: str = Field("case33bw", description="feeder: built-in pandapower name or file")
    substation_bus: int = Field(0, ge=0, description="transmission bus that feeds the feeder")
    hosts_factory: bool = Field(False, description="the factory sits on the feeder (at factory.poi_bus of the feeder)")
