"""HELICS adapter of the transmission network: factory / feeder P, Q in; POI and boundary voltages
out.

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
from pydantic import BaseModel, ConfigDict

from federates.common.adapter import params_of, timing
from federates.common.block import BlockOutput, PartialBlock
from federates.common.loop import StepOutput
from federates.common.recorder import ArrayRow
from federates.grid.batch import BlockStepError
from federates.grid.config import EventConfig, GridConfig

if TYPE_CHECKING:
    from federates.grid.model import GridModel

NAME = "transmission"
BOUNDARY = "feeder"


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

    def step_block(
        self,
        t_s: np.ndarray,
        t_next_s: np.ndarray,
        inputs: Mapping[str, np.ndarray],
        iteration: int,
    ) -> BlockOutput:
        """A whole sync block (per-step arrays of factory P [MW], Q [Mvar] in).

        Alone with the factory the block is solved by :meth:`GridModel.step_block`
        (branch results batched); with a feeder (T&D iterations) step by step.
        """
        n = len(t_s)
        if self.iterative or self.feeder_bus is not None:
            outs = [
                self.step(
                    float(t_s[k]),
                    float(t_next_s[k]),
                    {key: v[k] for key, v in inputs.items()},
                    iteration,
                )
                for k in range(n)
            ]
            publish = {key: np.array([o.publish[key] for o in outs]) for key in outs[0].publish}
            values = np.vstack([o.record.values for o in outs])
            return BlockOutput(publish=publish, record=(self.columns, values))
        fp = fq = None
        if self.factory:
            fp = _finite_or_zero(inputs.get("factory/p_mw"), n)
            fq = _finite_or_zero(inputs.get("factory/q_mvar"), n)
        try:
            values, poi, site = self.model.step_block(
                t_s, t_next_s, factory_p_mw=fp, factory_q_mvar=fq
            )
        except BlockStepError as exc:  # keep the steps solved before the failing one
            done = BlockOutput(
                publish={f"{NAME}/poi_vm_pu": exc.poi_vm_pu, f"{NAME}/site_vm_pu": exc.site_vm_pu},
                record=(self.columns, exc.values),
            )
            raise PartialBlock(done, exc.cause) from exc.cause
        publish = {f"{NAME}/poi_vm_pu": poi, f"{NAME}/site_vm_pu": site}
        return BlockOutput(publish=publish, record=(self.columns, values))

    def finalize(self) -> dict[str, Any]:
        return self.model.summary()


def _finite_or_zero(values: np.ndarray | None, n: int) -> np.ndarray:
    """Per-step values with a missing or non-finite one as 0 (as :func:`_f` per step)."""
    if values is None:
        return np.zeros(n)
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), v, 0.0)


def _f(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


class TransmissionParams(BaseModel):
    """The transmission federate's own parameters (``cosim.params`` of its config)."""

    model_config = ConfigDict(extra="forbid")

    grid: GridConfig
    poi_bus: int | None = None  # the factory's bus; None when the factory is on a feeder
    feeder_bus: int | None = None  # substation bus of a coupled feeder
    events: list[EventConfig] = []
    base_dir: Path = Path(".")


def build_model(p: TransmissionParams) -> GridModel:
    """The transmission :class:`GridModel` of a federate's parameters."""
    from federates.grid.model import GridModel, SolveOptions
    from federates.grid.network import attach_factory, scaled_network
    from federates.grid.profiles import load_profiles

    g = p.grid
    net = scaled_network(g.network, p.base_dir, g.load_scale)
    site = None
    poi_bus = None
    named: dict[str, int] = {}
    if p.poi_bus is not None:
        site = attach_factory(net, p.poi_bus, 0.0, 0.0, g.poi_transformer)
        poi_bus = site.poi_bus
        if site.trafo is not None:
            named["poi"] = site.trafo
    oltc = list(g.oltc)
    if g.poi_transformer is not None and g.poi_transformer.oltc is not None and site is not None:
        oltc.append(g.poi_transformer.oltc.model_copy(update={"trafo": "poi"}))
    profiles = load_profiles(g.profiles, net, p.base_dir) if g.profiles is not None else None
    return GridModel(
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
        events=p.events,
        profiles=profiles,
        boundary_buses={BOUNDARY: p.feeder_bus} if p.feeder_bus is not None else None,
        named_trafos=named,
        record_buses=g.record_buses,
        record_branches=g.record_branches,
    )


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201 - (adapter, times_s, duration_s)
    """Adapter factory called by the shared loop: reads only its own config."""
    p = params_of(config, TransmissionParams)
    adapter = TransmissionAdapter(
        build_model(p),
        factory=p.poi_bus is not None,
        feeder_bus=p.feeder_bus,
        iterative=bool(config.get("cosim", {}).get("iterative", False)),
    )
    return (adapter, *timing(config))
