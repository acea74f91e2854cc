"""Which federates a case needs and how they connect (pure: no helics import).

Each federate module exposes ``spec(case) -> FederateSpec | None`` (None when
the case does not use it) and ``make(config, out_dir)`` (the adapter factory
the shared loop calls, returning ``(adapter, times_s, duration_s)``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cosim.case import Case

FEDERATE_MODULES = (
    "federates.factory.federate",
    "federates.grid.transmission",
    "federates.grid.distribution",
    "federates.grid.frequency_federate",
)


@dataclass(frozen=True)
class Port:
    """A publication: global key ``<federate>/<name>``, HELICS type and unit."""

    key: str
    unit: str
    type: str = "double"


@dataclass(frozen=True)
class FederateSpec:
    """One federate's interface, from which the build writes its HELICS config."""

    name: str
    module: str
    publications: tuple[Port, ...]
    subscriptions: tuple[str, ...] = ()
    wait_for_current_time_update: bool = False
    iterative: bool = False
    tolerance: float = 1e-6
    max_iterations: int = 20
    extra: dict = field(default_factory=dict)


def federation(case: Case) -> list[FederateSpec]:
    """The federates of a case, in start order."""
    specs = []
    for module in FEDERATE_MODULES:
        spec = importlib.import_module(module).spec(case)
        if spec is not None:
            specs.append(spec)
    return specs


def poi_host(case: Case) -> str:
    """Name of the network federate the factory is connected to."""
    dist = getattr(case, "distribution", None)
    return (
        "distribution"
        if dist is not None and getattr(dist, "hosts_factory", False)
        else "transmission"
    )
