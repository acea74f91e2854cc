"""HELICS adapter of the transmission network: factory / feeder P, Q in; POI and boundary voltages out.

All physics lives in :class:`federates.grid.model.GridModel`; this module maps
HELICS keys to its arguments and its results to publications and an
:class:`~federates.common.recorder.ArrayRow` (cheap wide recording).

Publications: ``transmission/poi_vm_pu`` (the network's POI bus),
``transmission/site_vm_pu`` (the factory's bus, behind the POI transformer when
there is one) and, with a distribution feeder, ``transmission/boundary_vm_pu``
(the substation bus voltage the feeder's slack follows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from federates.common.adapter import case_of, timing
from federates.common.loop import StepOutput
from federates.common.recorder import ArrayRow
from federates.registry import FederateSpec, Port

if TYPE_CHECKING:
    import pandapower as pp

    from cosim.case import Case
    from federates.grid.model import GridModel

NAME = "transmission"
BOUNDARY = "feeder"


def factory_on_transmission(case: Case) -> bool:
    return case.distribution is None or not case.distribution.hosts_factory


def spec(case: Case) -> FederateSpec:
    dist = case.distribution
    pubs = [Port(f"{NAME}/poi_vm_pu", "pu"), Port(f"{NAME}/site_vm_pu", "pu")]
    subs: list[str] = []
    defaults: dict[str, float] = {}
    if factory_on_transmission(case):
        subs += ["factory/p_mw", "factory/q_mvar"]
        defaults.update({"factory/p_mw": 0.0, "factory/q_mvar": 0.0})
    if dist is not None:
        pubs.append(Port(f"{NAME}/boundary_vm_pu", "pu"))
        subs += ["distribution/p_mw", "distribution/q_mvar"]
        defaults.update({"distribution/p_mw": 0.0, "distribution/q_mvar": 0.0})
    return FederateSpec(
        name=NAME,
        module=__name__,
        publications=tuple(pubs),
        subscriptions=tuple(subs),
        # alone, it solves after the factory published; with a feeder the feeder waits instead
        # (two iterating federates that both wait can deadlock in HELICS)
        wait_for_current_time_update=dist is None,
        iterative=dist is not None,
        tolerance=dist.tolerance_vm_pu if dist is not None else 1e-6,
        max_iterations=dist.max_iterations if dist is not None else 20,
        extra={"defaults": defaults},
    )


class TransmissionAdapter:
    """Copies HELICS inputs into the grid model and its results out."""

    def __init__(
        self, model: GridModel, *, factory: bool, feeder_bus: int | None, iterative: bool
    ) -> None:
        self.model = model
        self.factory = factory
        self.feeder_bus = feeder_bus
        self.iterative = iterative
        extra = (
            ("boundary_vm_pu", "boundary_p_mw", "boundary_q_mvar") if feeder_bus is not None else ()
        )
        self.columns = (*model.columns, *extra)

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput:
        m = self.model
        if self.iterative:
            m.begin_step(t_s)
        fpq = (
            (_f(inputs.get("factory/p_mw")), _f(inputs.get("factory/q_mvar")))
            if self.factory
            else None
        )
        bpq = None
        if self.feeder_bus is not None:
            bpq = {
                BOUNDARY: (
                    _f(inputs.get("distribution/p_mw")),
                    _f(inputs.get("distribution/q_mvar")),
                )
            }
        r = m.step(t_s, t_next_s, factory_pq=fpq, boundary_pq=bpq)
        publish = {f"{NAME}/poi_vm_pu": r.poi_vm_pu, f"{NAME}/site_vm_pu": r.site_vm_pu}
        values = r.values
        if self.feeder_bus is not None:
            vb = m.bus_vm(self.feeder_bus)
            publish[f"{NAME}/boundary_vm_pu"] = vb
            values = np.concatenate((values, (vb if r.converged else math.nan, *bpq[BOUNDARY])))
        return StepOutput(publish=publish, record=ArrayRow(self.columns, values))

    def finalize(self) -> dict[str, Any]:
        return self.model.summary()


def _f(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def case_network(case: Case) -> pp.pandapowerNet:
    """The case's transmission network before the site is attached (``grid.load_scale`` applied)."""
    from federates.grid.network import load_network

    g = case.grid
    net = load_network(g.network, case.base_dir)
    if g.load_scale != 1.0:
        net.load["p_mw"] *= g.load_scale
        net.load["q_mvar"] *= g.load_scale
    return net


def build_model(case: Case) -> tuple[GridModel, int | None]:
    """The transmission :class:`GridModel` of a case and its feeder bus (None without a feeder)."""
    from federates.grid.model import GridModel, SolveOptions
    from federates.grid.network import attach_factory
    from federates.grid.profiles import load_profiles

    g = case.grid
    net = case_network(case)
    site = None
    poi_bus = None
    named: dict[str, int] = {}
    if factory_on_transmission(case):
        site = attach_factory(net, case.factory.poi_bus, 0.0, 0.0, g.poi_transformer)
        poi_bus = site.poi_bus
        if site.trafo is not None:
            named["poi"] = site.trafo
    oltc = list(g.oltc)
    if g.poi_transformer is not None and g.poi_transformer.oltc is not None and site is not None:
        oltc.append(g.poi_transformer.oltc.model_copy(update={"trafo": "poi"}))
    feeder_bus = case.distribution.substation_bus if case.distribution is not None else None
    profiles = load_profiles(g.profiles, net, case.base_dir) if g.profiles is not None else None
    model = GridModel(
        net,
        label=NAME,
        site=site,
        poi_bus=poi_bus,
        options=SolveOptions(
            g.solver,
            g.tolerance_mva,
            g.max_iterations,
            g.lv_load_threshold_pu,
            g.on_nonconvergence,
            enforce_q_lims=g.enforce_q_lims,
        ),
        oltc=oltc,
        shunts=g.shunts,
        events=[e for e in case.events if e.network == NAME],
        profiles=profiles,
        boundary_buses={BOUNDARY: feeder_bus} if feeder_bus is not None else None,
        named_trafos=named,
        record_buses=g.record_buses,
        record_branches=g.record_branches,
    )
    return model, feeder_bus


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201 - (adapter, times_s, duration_s)
    """Adapter factory called by the shared loop."""
    case = case_of(config)
    model, feeder_bus = build_model(case)
    adapter = TransmissionAdapter(
        model,
        factory=factory_on_transmission(case),
        feeder_bus=feeder_bus,
        iterative=bool(config.get("cosim", {}).get("iterative", False)),
    )
    return (adapter, *timing(case))
