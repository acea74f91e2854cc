"""Q7, the July 2024 fault train: six sags 0.25-0.40 pu, 42-66 ms, within 82 s at the POI.

The replay of the event in which ~1,500 MW of load was lost after six 230 kV
faults (NERC review, 2025; ``docs/domain.md``, "Published figures" 3). Pass
when the grid sees no load loss (:mod:`.ride_through`).
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

#: the July 2024 train (NERC review): six faults 0.25-0.40 pu, 42-66 ms, within 82 s, as
#: ``(offset [s], retained voltage [pu], length [s])``. Offsets, depths and lengths inside
#: those ranges are assumed (the review gives ranges only). Lengths are whole multiples of
#: the 2 ms event step (the grid federate applies a sag to whole steps).
JULY_2024_TRAIN: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.25, 0.042),
    (6.5, 0.40, 0.066),
    (19.8, 0.30, 0.050),
    (37.2, 0.35, 0.058),
    (58.9, 0.28, 0.044),
    (82.0, 0.38, 0.062),
)

PARAMS: tuple[Param, ...] = (
    *ride_through.THRESHOLDS,
    stimulus("train_at_s", 30.0, "s", "assumed", "first fault"),
    stimulus(
        "event_margin_s",
        0.1,
        "s",
        "assumed (fine grid steps 0.1 s around each fault)",
        "refined time around each fault",
    ),
    stimulus(
        "event_dt_s",
        0.002,
        "s",
        "assumed (fault lengths are multiples of 2 ms)",
        "grid step inside the fault windows",
    ),
    stimulus("sag_bus", -1, "-", "assumed (-1 = the POI bus)", "bus the sags are applied at"),
)


def plan(ctx: Context) -> list[RunPlan]:
    """One run with the six sags as events, fine grid steps around each."""
    t0 = ctx.v("train_at_s")
    bus = ride_through.sag_bus(ctx)
    evs = [
        {"kind": "sag", "t_s": t0 + dt, "duration_s": dur, "bus": bus, "vm_pu": vm}
        for dt, vm, dur in JULY_2024_TRAIN
    ]
    ctx.info["events"] = evs
    overrides = {
        "horizon.event_margin_s": ctx.v("event_margin_s"),
        "horizon.event_dt_s": ctx.v("event_dt_s"),
    }
    return [RunPlan("main", common_overrides(ctx, events=evs, **overrides))]


TEST = QualTest(
    "Q7",
    "July 2024 fault train",
    "six sags 0.25-0.40 pu, 42-66 ms, within 82 s at the POI (NERC 2025)",
    "POI load loss <= 10 % of pre-event; >= 90 % back within 1 s once V >= 0.9 pu",
    "strong",
    600.0,
    130.0,
    PARAMS,
    plan,
    ride_through.evaluate,
    ride_through.need,
)
