"""What a qualification test is: parameters, plan, evaluation and need, on a shared context.

A :class:`QualTest` says what stimulus it applies (``plan``: one or more
federations, each a set of dotted-key overrides on the spec's case), how the
recorded series are judged (``evaluate`` -> :class:`Verdict`) and what POI
trajectory would have passed (``need``: for
:mod:`cosim.studies.qualify.shortfall`). Its parameters (thresholds and
stimulus figures, :class:`Param` with unit and source) can be changed under
``[qualify.Q<n>]``.

Durations: each test has its full duration (``docs/domain.md``, "Qualification
test profiles": 1 h, 24 h, ...), the default. ``duration_scale`` (``cosim
qualify --duration-scale``) multiplies it for CI, never below the test's
minimum (the stimulus must still fit: a checkpoint dip, the six-fault train,
the chirp band); stimulus times are placed relative to the duration, so a
shortened test applies the same stimulus, only with less time around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.shortfall import Need
from cosim.studies.qualify.spec import QualifySpec
from cosim.studies.qualify.verdict import Verdict

#: source of the suite's own figures
SUITE = "docs/domain.md qualification suite"
#: source of the suite's thresholds
SUITE_THRESHOLDS = (
    "docs/domain.md qualification suite (inspired by NVIDIA DSX BESS Self-Qualification Guidelines)"
)


class NotAvailable(Exception):
    """The models lack something a test needs; the test is not run."""


class GridInfeasible(Exception):
    """The grid of a test cannot carry the site at all (no BESS can change that)."""


@dataclass
class RunPlan:
    """One federation of a test: a name (``main``, ``baseline``) and dotted-key overrides."""

    name: str
    overrides: dict[str, Any]


@dataclass
class Context:
    """Everything a test needs to plan and judge one qualification.

    ``duration_s`` is the test's duration [s] at the run's scale; ``info``
    collects what the plan set up (stimulus times, generated files) for the
    report and for the evaluation.
    """

    spec: QualifySpec
    test_id: str
    out_dir: Path
    duration_scale: float
    values: dict[str, Value]
    duration_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def v(self, name: str) -> Any:
        """The value of parameter ``name`` as used in this qualification."""
        return self.values[name].value


Frames = dict[str, Any]  # run name -> cosim.engine.results.Results


@dataclass(frozen=True)
class QualTest:
    """A qualification test.

    Attributes
    ----------
    id : ``Q1`` ... ``Q12``
    name, stimulus, criterion : one line each, for the report
    grid : ``"strong"`` (the reference network) or ``"weak"`` (Q9's)
    full_duration_s, min_duration_s : duration at scale 1 and the shortest [s]
    params : thresholds then stimulus figures
    plan : the federations to run
    evaluate : the verdict from the recorded series
    need : the rating an ideal BESS needs to pass, or None (no rating analysis)
    adjust : changes the resolved values from the spec's case (e.g. its own limit)
    """

    id: str
    name: str
    stimulus: str
    criterion: str
    grid: str
    full_duration_s: float
    min_duration_s: float
    params: tuple[Param, ...]
    plan: Callable[[Context], list[RunPlan]]
    evaluate: Callable[[Context, Frames], Verdict]
    need: Callable[[Context, Frames], Need | None] | None = None
    adjust: Callable[[QualifySpec, dict[str, Value]], dict[str, Value]] | None = None

    def duration(self, scale: float) -> float:
        """Duration [s] at ``scale``: never below ``min_duration_s`` when shortened."""
        return (
            max(self.full_duration_s * scale, self.min_duration_s)
            if scale < 1
            else self.full_duration_s * scale
        )


def stimulus(name: str, default: Any, unit: str, source: str, description: str) -> Param:
    """A stimulus parameter (shapes the test profile, does not decide pass/fail)."""
    return Param(name, default, unit, source, description, kind="stimulus")


def common_overrides(ctx: Context, **extra: Any) -> dict[str, Any]:
    """Overrides every test applies: its name and duration, no events, no report; then ``extra``."""
    spec = ctx.spec
    o: dict[str, Any] = {
        "name": f"{spec.name}-{ctx.test_id}",
        "horizon.duration_s": ctx.duration_s,
        "outputs.report": False,
        "events": [],
        "controls.demand_response.calls": [],
        # the criteria need the POI only; N-1 (Q11) re-solves the network itself
        "grid.record_buses": "poi",
    }
    if spec.options.wall_limit_s is not None:
        o["run.wall_limit_s"] = spec.options.wall_limit_s
    o.update(extra)
    return o


def training_job(**kw: Any) -> dict[str, Any]:
    """A ``factory.training.jobs`` entry (name ``qualify``, all GPUs unless ``share`` says)."""
    return {"name": kw.pop("name", "qualify"), "share": kw.pop("share", 1.0), **kw}


def poi_bus(ctx: Context) -> int:
    """The POI bus of the spec's case."""
    return int(ctx.spec.case().factory.poi_bus)
