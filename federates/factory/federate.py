"""HELICS adapter of the AI factory: POI voltage and frequency in, POI P and Q out.

All physics lives in :class:`federates.factory.site.FactorySite`; this module
only maps HELICS keys to its arguments and its outputs to publications.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from federates.common.adapter import case_of, timing
from federates.common.loop import StepOutput
from federates.registry import FederateSpec, Port, poi_host

if TYPE_CHECKING:
    from cosim.case import Case
    from federates.factory.site import FactorySite

NAME = "factory"
NOMINAL_F_HZ = 60.0


def spec(case: Case) -> FederateSpec:
    host = poi_host(case)
    # the voltage at the site's own bus (behind the POI transformer when the case has one)
    subs = [f"{host}/site_vm_pu" if host == "transmission" else f"{host}/poi_vm_pu"]
    if case.frequency.enabled:
        subs.append("frequency/f_hz")
    return FederateSpec(
        name=NAME,
        module=__name__,
        publications=(Port(f"{NAME}/p_mw", "MW"), Port(f"{NAME}/q_mvar", "MVar")),
        subscriptions=tuple(subs),
        extra={"defaults": {k: (NOMINAL_F_HZ if k.endswith("f_hz") else 1.0) for k in subs}},
    )


class FactoryAdapter:
    """Copies inputs into the site model and its interval outputs out."""

    def __init__(self, site: FactorySite, vm_key: str, f_key: str | None, high_rate: bool) -> None:
        self.site = site
        self.vm_key = vm_key
        self.f_key = f_key
        self.high_rate = high_rate

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput:
        vm_pu = _finite(inputs.get(self.vm_key), 1.0)
        f_hz = _finite(inputs.get(self.f_key), NOMINAL_F_HZ) if self.f_key else NOMINAL_F_HZ
        out = self.site.advance(t_s, t_next_s, vm_pu, f_hz)
        record = {
            "p_mw": out.p_mw,
            "q_mvar": out.q_mvar,
            "p_max_mw": out.p_max_mw,
            "p_min_mw": out.p_min_mw,
            **out.record,
            "vm_pu": vm_pu,
            "f_hz": f_hz,
        }
        return StepOutput(
            publish={f"{NAME}/p_mw": out.p_mw, f"{NAME}/q_mvar": out.q_mvar},
            record=record,
            block=out.hr if self.high_rate else None,
        )

    def finalize(self) -> dict[str, Any]:
        return self.site.summary()


def _finite(value: Any, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201 - (adapter, times_s, duration_s)
    """Adapter factory called by the shared loop."""
    from federates.factory.site import FactorySite

    case = case_of(config)
    site = FactorySite(
        case.factory,
        case.bess,
        case.controls,
        seed=case.seed,
        dt_s=case.horizon.factory_dt_s,
        base_dir=case.base_dir,
    )
    subs = spec(case).subscriptions
    f_key = "frequency/f_hz" if "frequency/f_hz" in subs else None
    adapter = FactoryAdapter(site, subs[0], f_key, case.outputs.high_rate)
    return (adapter, *timing(case))
