"""HELICS adapter of the system frequency model: load imbalance in, ``frequency/f_hz`` out.

The imbalance driving :class:`federates.grid.frequency.SystemFrequency` at a
step is the factory's P change from its first value (``frequency.include_factory``)
plus the case's active load steps and lost generation (gen trips). HELICS
allows one federate that waits for the current time update (the network that
hosts the factory), so this adapter sees the factory's P of the previous step
(a one-step lag, 10 ms inside event windows). It integrates over the step and
publishes the frequency at the step's end, which the factory reads at its next
step. Recorded: ``f_hz`` and ``rocof_hz_per_s`` at the step start,
``p_imbalance_mw``, ``p_mech_mw`` (governor response). Nadir, zenith and the
largest ROCOF (over the internal integration steps) go to ``frequency.info.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from federates.common.adapter import params_of, timing
from federates.common.loop import StepOutput
from federates.grid.config import EventConfig, FrequencyConfig
from federates.grid.events import imbalance_mw

if TYPE_CHECKING:
    from federates.grid.frequency import SystemFrequency

NAME = "frequency"
P_KEY = "factory/p_mw"


class FrequencyAdapter:
    """Copies the factory's P into the SFR model and the frequency out."""

    def __init__(
        self,
        model: SystemFrequency,
        events: list[EventConfig],
        gen_p_mw: dict[int, float],
        include_factory: bool,
    ) -> None:
        self.model = model
        self.events = events
        self.gen_p_mw = gen_p_mw
        self.include_factory = include_factory
        self.p0_mw: float | None = None

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput:
        dpe = imbalance_mw(self.events, t_s, self.gen_p_mw)
        if self.include_factory:
            p = float(inputs.get(P_KEY, math.nan))
            if math.isfinite(p):
                if self.p0_mw is None:
                    self.p0_mw = p
                dpe += p - self.p0_mw
        f_now = self.model.f_hz
        rocof = self.model.rocof_hz_per_s(dpe)
        p_mech = self.model.mechanical_mw()
        f_end = self.model.advance(t_s, t_next_s, dpe)
        record = {
            "f_hz": f_now,
            "rocof_hz_per_s": rocof,
            "p_imbalance_mw": dpe,
            "p_mech_mw": p_mech,
        }
        return StepOutput(publish={f"{NAME}/f_hz": f_end}, record=record)

    def finalize(self) -> dict[str, Any]:
        return {**self.model.summary(), "factory_p0_mw": self.p0_mw}


class FrequencyParams(BaseModel):
    """The frequency federate's own parameters (``cosim.params`` of its config)."""

    model_config = ConfigDict(extra="forbid")

    frequency: FrequencyConfig
    network: str  # the transmission network (its generation sets the default system base)
    events: list[EventConfig] = []  # transmission events (load steps, gen trips)
    base_dir: Path = Path(".")


def system_base_mva(
    frequency: FrequencyConfig, network: str, base_dir: Path = Path(".")
) -> tuple[float, dict[int, float]]:
    """System base [MVA] (the configured one, else the network's generation at t = 0) and the
    generators' dispatch [MW] by index."""
    import warnings

    import pandapower as pp

    from federates.grid.network import load_network, total_generation_mw

    net = load_network(network, base_dir)
    gen_p = {int(i): float(p) for i, p in net.gen.p_mw.items()}
    if frequency.s_base_mva is not None:
        return float(frequency.s_base_mva), gen_p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(
            net, numba=False, enforce_q_lims=True
        )  # one start-up power flow: not worth numba's JIT compile
    return total_generation_mw(net), gen_p


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201 - (adapter, times_s, duration_s)
    """Adapter factory called by the shared loop: reads only its own config."""
    from federates.grid.frequency import SystemFrequency

    p = params_of(config, FrequencyParams)
    s_base, gen_p = system_base_mva(p.frequency, p.network, p.base_dir)
    model = SystemFrequency(p.frequency, s_base)
    adapter = FrequencyAdapter(model, p.events, gen_p, p.frequency.include_factory)
    return (adapter, *timing(config))
