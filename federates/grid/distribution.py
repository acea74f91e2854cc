"""HELICS adapter of a distribution feeder coupled to the transmission network (T&D).

The feeder's slack (its ext_grid, or the HV side of a substation transformer the
case adds) holds the voltage of the transmission substation bus
(``transmission/boundary_vm_pu``); the feeder's net import at the slack is
published as ``distribution/p_mw`` / ``distribution/q_mvar`` (load convention:
positive = the feeder draws from the transmission network), which the
transmission federate applies as a load at that bus. Both federates iterate
within a step with HELICS iterative time requests until neither value moves by
more than the case's tolerances (``distribution.tolerance_vm_pu`` /
``tolerance_mw``); the loop records ``iterations`` per step.

With ``distribution.hosts_factory`` the factory sits on the feeder at
``factory.poi_bus`` and this federate publishes ``distribution/poi_vm_pu``.
Physics: :class:`federates.grid.model.GridModel`; this module only copies values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandapower as pp
from pydantic import BaseModel, ConfigDict

from federates.common.adapter import params_of, timing
from federates.common.loop import StepOutput
from federates.common.recorder import ArrayRow
from federates.grid.config import DistributionConfig, EventConfig, GridConfig

if TYPE_CHECKING:
    from federates.grid.model import GridModel

NAME = "distribution"
V_KEY = "transmission/boundary_vm_pu"


class DistributionAdapter:
    """Copies the boundary voltage (and the factory's P, Q) into the feeder model and its import
    out."""

    def __init__(self, model: GridModel, *, factory: bool) -> None:
        self.model = model
        self.factory = factory
        self.columns = (*model.columns, "boundary_vm_pu", "p_mw", "q_mvar")

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput:
        m = self.model
        m.begin_step(t_s)
        vb = _f(inputs.get(V_KEY), 1.0)
        fpq = (
            (_f(inputs.get("factory/p_mw"), 0.0), _f(inputs.get("factory/q_mvar"), 0.0))
            if self.factory
            else None
        )
        r = m.step(t_s, t_next_s, factory_pq=fpq, slack_vm_pu=vb)
        publish = {f"{NAME}/p_mw": r.slack_p_mw, f"{NAME}/q_mvar": r.slack_q_mvar}
        if self.factory:
            publish[f"{NAME}/poi_vm_pu"] = r.poi_vm_pu
            publish[f"{NAME}/site_vm_pu"] = r.site_vm_pu
        values = np.concatenate((r.values, (vb, r.slack_p_mw, r.slack_q_mvar)))
        return StepOutput(publish=publish, record=ArrayRow(self.columns, values))

    def finalize(self) -> dict[str, Any]:
        return self.model.summary()


def _f(value: Any, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


class DistributionParams(BaseModel):
    """The distribution federate's own parameters (``cosim.params`` of its config)."""

    model_config = ConfigDict(extra="forbid")

    distribution: DistributionConfig
    grid: GridConfig  # solver options, and the transmission network for the substation's HV kV
    poi_bus: int | None = None  # the factory's feeder bus when the feeder hosts it
    events: list[EventConfig] = []
    base_dir: Path = Path(".")


def build_model(p: DistributionParams) -> GridModel:
    """The feeder :class:`GridModel` of a federate's parameters."""
    from federates.grid.model import GridModel, SolveOptions
    from federates.grid.network import (
        add_transformer,
        attach_factory,
        load_network,
        scaled_network,
    )
    from federates.grid.profiles import load_profiles

    dist, g = p.distribution, p.grid
    net = scaled_network(dist.network, p.base_dir, dist.load_scale, key="distribution.network")
    named: dict[str, int] = {}
    oltc = list(dist.oltc)
    if dist.substation_transformer is not None:
        tnet = load_network(g.network, p.base_dir)
        hv_kv = float(tnet.bus.at[dist.substation_bus, "vn_kv"])
        eg = net.ext_grid.index[0]
        old = int(net.ext_grid.at[eg, "bus"])
        hv = pp.create_bus(net, vn_kv=hv_kv, name="substation_hv")
        net.ext_grid.at[eg, "bus"] = hv
        named["substation"] = add_transformer(
            net, hv, old, dist.substation_transformer, "substation_transformer"
        )
        if dist.substation_transformer.oltc is not None:
            oltc.append(dist.substation_transformer.oltc.model_copy(update={"trafo": "substation"}))
    net.ext_grid["vm_pu"] = 1.0
    site = attach_factory(net, p.poi_bus, 0.0, 0.0) if p.poi_bus is not None else None
    profiles = load_profiles(dist.profiles, net, p.base_dir) if dist.profiles is not None else None
    return GridModel(
        net,
        label=NAME,
        site=site,
        poi_bus=site.poi_bus if site else int(net.ext_grid.bus.iloc[0]),
        options=SolveOptions(
            g.solver,
            g.tolerance_mva,
            g.max_iterations,
            g.lv_load_threshold_pu,
            g.on_nonconvergence,
            enforce_q_lims=g.enforce_q_lims,
        ),
        oltc=oltc,
        shunts=dist.shunts,
        events=p.events,
        profiles=profiles,
        named_trafos=named,
        record_buses=dist.record_buses,
    )


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201 - (adapter, times_s, duration_s)
    """Adapter factory called by the shared loop: reads only its own config."""
    p = params_of(config, DistributionParams)
    adapter = DistributionAdapter(build_model(p), factory=p.poi_bus is not None)
    return (adapter, *timing(config))
