"""Q8, deep sag: one sag to 0.20 pu for 150 ms at the POI.

Pass when the site rides through: the grid sees no load loss
(:mod:`.ride_through`; ``docs/domain.md``, "Qualification test profiles", Q8).
"""

from __future__ import annotations

from cosim.studies.qualify.params import Param
from cosim.studies.qualify.tests import ride_through
from cosim.studies.qualify.tests.base import (
    Context,
    QualTest,
    RunPlan,
    common_overrides,
    stimulus,
)

PARAMS: tuple[Param, ...] = (
    *ride_through.THRESHOLDS,
    stimulus("sag_vm_pu", 0.20, "pu", "ERCOT NOGRR 282 (secondary)", "retained voltage"),
    stimulus("sag_duration_s", 0.15, "s", "SPP short ride-through (0.15 s)", "sag length"),
    stimulus("sag_at_s", 30.0, "s", "assumed", "sag time"),
    stimulus(
        "event_margin_s",
        0.2,
        "s",
        "assumed (10 ms grid steps 0.2 s around the sag)",
        "refined time around the sag",
    ),
    stimulus("sag_bus", -1, "-", "assumed (-1 = the POI bus)", "bus the sag is applied at"),
)


def plan(ctx: Context) -> list[RunPlan]:
    """One run with one sag event, fine grid steps around it."""
    ev = {
        "kind": "sag",
        "t_s": ctx.v("sag_at_s"),
        "duration_s": ctx.v("sag_duration_s"),
        "bus": ride_through.sag_bus(ctx),
        "vm_pu": ctx.v("sag_vm_pu"),
    }
    ctx.info["events"] = [ev]
    overrides = {"horizon.event_margin_s": ctx.v("event_margin_s")}
    return [RunPlan("main", common_overrides(ctx, events=[ev], **overrides))]


TEST = QualTest(
    "Q8",
    "Deep sag",
    "one sag to 0.20 pu for 150 ms at the POI",
    "POI load loss <= 10 % of pre-event; >= 90 % back within 1 s",
    "strong",
    300.0,
    90.0,
    PARAMS,
    plan,
    ride_through.evaluate,
    ride_through.need,
)
