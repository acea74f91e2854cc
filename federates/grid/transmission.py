"""HELICS adapter of the transmission network: factory P/Q in, POI voltage out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandapower as pp

from federates.common.adapter import case_of, timing
from federates.common.loop import StepOutput
from federates.grid.network import attach_factory, load_network
from federates.registry import FederateSpec, Port

if TYPE_CHECKING:
    from cosim.case import Case

NAME = "transmission"


def spec(case: Case) -> FederateSpec:
    return FederateSpec(
        name=NAME,
        module=__name__,
        publications=(Port(f"{NAME}/poi_vm_pu", "pu"),),
        subscriptions=("factory/p_mw", "factory/q_mvar"),
        wait_for_current_time_update=True,
        extra={"defaults": {"factory/p_mw": 0.0, "factory/q_mvar": 0.0}},
    )


class TransmissionAdapter:
    def __init__(self, net: pp.pandapowerNet, load_idx: int, poi_bus: int) -> None:
        self.net, self.load_idx, self.poi_bus = net, load_idx, poi_bus

    def step(self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int) -> StepOutput:
        self.net.load.at[self.load_idx, "p_mw"] = inputs["factory/p_mw"]
        self.net.load.at[self.load_idx, "q_mvar"] = inputs["factory/q_mvar"]
        try:
            pp.runpp(self.net, init="results")
            ok = True
        except pp.LoadflowNotConverged:
            ok = False
        vm = float(self.net.res_bus.vm_pu.at[self.poi_bus]) if ok else math.nan
        record = {"poi_vm_pu": vm, "converged": float(ok)}
        record.update({f"vm_pu.{b}": float(v) for b, v in self.net.res_bus.vm_pu.items()})
        record.update({f"loading_percent.line.{i}": float(v) for i, v in self.net.res_line.loading_percent.items()})
        return StepOutput(publish={f"{NAME}/poi_vm_pu": vm}, record=record)

    def finalize(self) -> dict[str, Any]:
        return {}


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201
    case = case_of(config)
    net = load_network(case.grid.network, case.base_dir)
    idx = attach_factory(net, case.factory.poi_bus, 0.0, 0.0)
    return (TransmissionAdapter(net, idx, case.factory.poi_bus), *timing(case))
