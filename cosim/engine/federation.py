"""Which federates a case needs, how they connect, and each one's own parameters.

This is the build's side of every federate: its publications and
subscriptions (:class:`FederateSpec`) and the parameters written into its
config (``cosim.params``), taken from the case. A federate process reads only
that config; it never sees the case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cosim.case import Case
from federates.dynamics.cases import BUNDLED

NOMINAL_F_HZ = 60.0


@dataclass(frozen=True)
class Port:
    """A publication: global key ``<federate>/<name>``, HELICS type and unit."""

    key: str
    unit: str
    type: str = "double"


@dataclass(frozen=True)
class FederateSpec:
    """One federate's interface and parameters, from which the build writes its config."""

    name: str
    module: str
    publications: tuple[Port, ...]
    subscriptions: tuple[str, ...] = ()
    wait_for_current_time_update: bool = False
    iterative: bool = False
    tolerance: float = 1e-6
    max_iterations: int = 20
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def poi_host(case: Case) -> str:
    """Name of the network federate the factory is connected to."""
    dist = case.distribution
    return "distribution" if dist is not None and dist.hosts_factory else "transmission"


def _dump(section: Any) -> Any:
    return section.model_dump(mode="json")


def _events(case: Case, network: str) -> list[dict[str, Any]]:
    return [_dump(e) for e in case.events if e.network == network]


def factory_spec(case: Case) -> FederateSpec:
    """The AI factory and its BESS: site voltage (and frequency) in, POI P and Q out."""
    host = poi_host(case)
    # the voltage at the site's own bus (behind the POI transformer when the case has one)
    subs = [f"{host}/site_vm_pu" if host == "transmission" else f"{host}/poi_vm_pu"]
    f_nom = NOMINAL_F_HZ
    if case.dynamic:  # the dynamic grid's centre-of-inertia frequency, on the site's nominal
        subs.append("transmission/f_hz")
        f_nom = case.controls.freq_watt.f_nom_hz
    elif case.frequency.enabled:
        subs.append("frequency/f_hz")
    return FederateSpec(
        name="factory",
        module="federates.factory.federate",
        publications=(Port("factory/p_mw", "MW"), Port("factory/q_mvar", "MVar")),
        subscriptions=tuple(subs),
        params={
            "factory": _dump(case.factory),
            "bess": _dump(case.bess),
            "controls": _dump(case.controls),
            "seed": case.seed,
            "dt_s": case.horizon.factory_dt_s,
            "high_rate": case.outputs.high_rate,
            "base_dir": str(case.base_dir),
        },
        extra={"defaults": {k: (f_nom if k.endswith("f_hz") else 1.0) for k in subs}},
    )


def site_initial_power(case: Case) -> tuple[float, float]:
    """The factory's POI power in its first grid step at 1 pu [MW, Mvar] (the dynamic start)."""
    from federates.factory.site import FactorySite

    site = FactorySite(
        case.factory,
        case.bess,
        case.controls,
        seed=case.seed,
        dt_s=case.horizon.factory_dt_s,
        base_dir=case.base_dir,
    )
    out = site.advance(0.0, min(case.horizon.grid_dt_s, case.horizon.duration_s), 1.0, NOMINAL_F_HZ)
    return float(out.p_mw), float(out.q_mvar)


def dynamics_params(case: Case) -> dict[str, Any]:
    """:class:`federates.dynamics.config.DynamicsConfig` of a dynamic case, site power filled in."""
    dyn = case.dynamics
    assert dyn is not None
    params = dyn.params()
    if dyn.p_site0_mw is None or dyn.q_site0_mvar is None:
        p0, q0 = site_initial_power(case)
        params["p_site0_mw"] = p0 if dyn.p_site0_mw is None else dyn.p_site0_mw
        params["q_site0_mvar"] = q0 if dyn.q_site0_mvar is None else dyn.q_site0_mvar
    if params["case"] not in BUNDLED:  # a case file: relative to the case file's folder
        params["case"] = str(case.resolve(params["case"]))
    if params.get("dyr") is not None:
        params["dyr"] = str(case.resolve(params["dyr"]))
    return params


def dynamics_spec(case: Case) -> FederateSpec:
    """The RMS dynamic transmission grid (``[dynamics]``): factory P, Q in; POI voltage out.

    Coupled to the factory exactly as the quasi-static transmission federate (same keys,
    same name), at ``horizon.grid_dt_s``; parameters are the case's ``dynamics`` section.
    """
    params = dynamics_params(case)
    return FederateSpec(
        name="transmission",
        module="federates.dynamics.adapter",
        publications=(
            Port("transmission/poi_vm_pu", "pu"),
            Port("transmission/site_vm_pu", "pu"),
            Port("transmission/f_hz", "Hz"),
        ),
        subscriptions=("factory/p_mw", "factory/q_mvar"),
        wait_for_current_time_update=True,
        # the site's nominal frequency: transmission/f_hz is the COI deviation on it
        params={**params, "f_site_nom_hz": case.controls.freq_watt.f_nom_hz},
        extra={
            "defaults": {
                "factory/p_mw": params["p_site0_mw"],
                "factory/q_mvar": params["q_site0_mvar"],
            }
        },
    )


def transmission_spec(case: Case) -> FederateSpec:
    """The transmission network: factory / feeder P, Q in; POI and boundary voltages out."""
    if case.dynamic:
        return dynamics_spec(case)
    dist = case.distribution
    on_transmission = poi_host(case) == "transmission"
    pubs = [Port("transmission/poi_vm_pu", "pu"), Port("transmission/site_vm_pu", "pu")]
    subs: list[str] = []
    defaults: dict[str, float] = {}
    if on_transmission:
        subs += ["factory/p_mw", "factory/q_mvar"]
        defaults.update({"factory/p_mw": 0.0, "factory/q_mvar": 0.0})
    extra: dict[str, Any] = {"defaults": defaults}
    if dist is not None:
        pubs.append(Port("transmission/boundary_vm_pu", "pu"))
        subs += ["distribution/p_mw", "distribution/q_mvar"]
        defaults.update({"distribution/p_mw": 0.0, "distribution/q_mvar": 0.0})
        if dist.hosts_factory:  # solve after the feeder's first solve of the step (fixed order)
            extra["await_inputs"] = ["distribution/p_mw", "distribution/q_mvar"]
    return FederateSpec(
        name="transmission",
        module="federates.grid.transmission",
        publications=tuple(pubs),
        subscriptions=tuple(subs),
        # alone, it solves after the factory published; with a feeder the feeder waits instead
        # (two iterating federates that both wait can deadlock in HELICS)
        wait_for_current_time_update=dist is None,
        iterative=dist is not None,
        tolerance=dist.tolerance_vm_pu if dist is not None else 1e-6,
        max_iterations=dist.max_iterations if dist is not None else 20,
        params={
            "grid": _dump(case.grid),
            "poi_bus": case.factory.poi_bus if on_transmission else None,
            "feeder_bus": dist.substation_bus if dist is not None else None,
            "events": _events(case, "transmission"),
            "base_dir": str(case.base_dir),
        },
        extra=extra,
    )


def distribution_spec(case: Case) -> FederateSpec | None:
    """The distribution feeder (T&D): boundary voltage in, feeder import out."""
    dist = case.distribution
    if dist is None:
        return None
    v_key = "transmission/boundary_vm_pu"
    pubs = [Port("distribution/p_mw", "MW"), Port("distribution/q_mvar", "MVar")]
    subs = [v_key]
    defaults = {v_key: 1.0}
    tolerances = {"distribution/p_mw": dist.tolerance_mw, "distribution/q_mvar": dist.tolerance_mw}
    if dist.hosts_factory:
        pubs += [Port("distribution/poi_vm_pu", "pu"), Port("distribution/site_vm_pu", "pu")]
        subs += ["factory/p_mw", "factory/q_mvar"]
        defaults.update({"factory/p_mw": 0.0, "factory/q_mvar": 0.0})
        tolerances.update(
            {
                "distribution/poi_vm_pu": dist.tolerance_vm_pu,
                "distribution/site_vm_pu": dist.tolerance_vm_pu,
            }
        )
    return FederateSpec(
        name="distribution",
        module="federates.grid.distribution",
        publications=tuple(pubs),
        subscriptions=tuple(subs),
        # with the factory on the transmission side the feeder waits for the step's values
        # (deterministic Gauss-Seidel order); hosting the factory it must not wait: the factory
        # (restrictive time policy) would wait for it and it for the factory. It awaits the
        # factory's value of the step instead (cosim.await_inputs) and the transmission awaits
        # its first import: factory, feeder, transmission, feeder ... in that order whatever the
        # message timing (one seed, one result).
        wait_for_current_time_update=not dist.hosts_factory,
        iterative=True,
        tolerance=dist.tolerance_mw,
        max_iterations=dist.max_iterations,
        params={
            "distribution": _dump(dist),
            "grid": _dump(case.grid),
            "poi_bus": case.factory.poi_bus if dist.hosts_factory else None,
            "events": _events(case, "distribution"),
            "base_dir": str(case.base_dir),
        },
        extra={
            "defaults": defaults,
            "tolerances": tolerances,
            **({"await_inputs": ["factory/p_mw", "factory/q_mvar"]} if dist.hosts_factory else {}),
        },
    )


def frequency_spec(case: Case) -> FederateSpec | None:
    """The aggregate system frequency: load imbalance in, ``frequency/f_hz`` out."""
    if not case.frequency.enabled:
        return None
    p_key = "factory/p_mw"
    subs = (p_key,) if case.frequency.include_factory else ()
    return FederateSpec(
        name="frequency",
        module="federates.grid.frequency_federate",
        publications=(Port("frequency/f_hz", "Hz"),),
        subscriptions=subs,
        wait_for_current_time_update=False,  # HELICS: only one waiting federate (the POI network)
        params={
            "frequency": _dump(case.frequency),
            "network": case.grid.network,
            "events": _events(case, "transmission"),
            "base_dir": str(case.base_dir),
        },
        extra={"defaults": {p_key: math.nan}} if subs else {},
    )


SPECS = (factory_spec, transmission_spec, distribution_spec, frequency_spec)


def federation(case: Case) -> list[FederateSpec]:
    """The federates of a case, in start order."""
    return [s for s in (make(case) for make in SPECS) if s is not None]
