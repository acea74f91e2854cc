"""Scheduled grid events as the network sees them at a step (pure, no helics).

:class:`EventState` is what a network must look like at one instant: which
lines / transformers / generators are out, which buses have their voltage held
(sags), and the extra load per load-step event. :func:`state_at` derives it
from the case's events, so a model can apply it idempotently at any ``t_s``
(also when a step is solved again in a T&D iteration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from federates.grid.config import EventConfig


@dataclass(frozen=True)
class EventState:
    lines_out: frozenset[int] = frozenset()
    trafos_out: frozenset[int] = frozenset()
    gens_out: frozenset[int] = frozenset()
    clamps: dict[int, float] = field(default_factory=dict)  # bus -> held voltage [pu]
    load_steps: tuple[
        tuple[int, float, float], ...
    ] = ()  # (event number, MW, Mvar) of active steps

    @property
    def structure(self) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
        return self.lines_out, self.trafos_out, self.gens_out


def state_at(events: Sequence[EventConfig], t_s: float, default_bus: int) -> EventState:
    """The network state the events impose at ``t_s`` (``default_bus``: sag bus when none given).

    Parameters
    ----------
    events : sequence of EventConfig
        The events.
    t_s : float
        Time [s].
    default_bus : int
        pandapower bus of a sag that names none.

    Returns
    -------
    EventState
        Elements out of service, held bus voltages [pu] and load steps [MW, Mvar].
    """
    lines, trafos, gens = set(), set(), set()
    clamps: dict[int, float] = {}
    steps = []
    for i, ev in enumerate(events):
        if not ev.active(t_s):
            continue
        if ev.kind == "line_outage":
            lines.add(int(ev.element))
        elif ev.kind == "trafo_outage":
            trafos.add(int(ev.element))
        elif ev.kind == "gen_trip":
            gens.add(int(ev.element))
        elif ev.kind == "sag":
            bus = default_bus if ev.bus is None else int(ev.bus)
            clamps[bus] = min(clamps.get(bus, float("inf")), float(ev.vm_pu))
        elif ev.kind == "load_step":
            steps.append((i, float(ev.delta_mw), float(ev.delta_mvar)))
    return EventState(frozenset(lines), frozenset(trafos), frozenset(gens), clamps, tuple(steps))


def imbalance_mw(events: Sequence[EventConfig], t_s: float, gen_p_mw: dict[int, float]) -> float:
    """Load increase the events cause at ``t_s`` [MW]: load steps plus lost generation.

    A gen trip loses ``delta_mw`` when given, else the generator's dispatch from ``gen_p_mw``.

    Parameters
    ----------
    events : sequence of EventConfig
        The events.
    t_s : float
        Time [s].
    gen_p_mw : dict of int to float
        Dispatch per pandapower gen index [MW].

    Returns
    -------
    float
        Load increase [MW].
    """
    total = 0.0
    for ev in events:
        if not ev.active(t_s):
            continue
        if ev.kind == "load_step":
            total += float(ev.delta_mw)
        elif ev.kind == "gen_trip":
            total += (
                float(ev.delta_mw)
                if ev.delta_mw is not None
                else float(gen_p_mw.get(int(ev.element), 0.0))
            )
    return total
