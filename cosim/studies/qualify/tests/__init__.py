"""The qualification tests Q1-Q12, one module each, and their registry.

Each module holds one test's parameters (thresholds and stimulus figures with
unit and source), its plan (the federations and their case overrides), its
evaluation (pass/fail from the recorded series) and its need (the rating that
would have passed), gathered in a :class:`QualTest` named ``TEST``. The
definitions are in ``docs/domain.md``, "Qualification test profiles".

* :mod:`.q01_training` Q1 training square wave, :mod:`.q02_chirp` Q2 load chirp,
  :mod:`.q03_job_ramps` Q3 job start and abort, :mod:`.q04_checkpoints` Q4 checkpoint
  dips, :mod:`.q05_soc` Q5 24 h SOC, :mod:`.q06_demand_response` Q6 demand-response call,
  :mod:`.q07_fault_train` Q7 July 2024 fault train, :mod:`.q08_deep_sag` Q8 deep sag,
  :mod:`.q09_weak_grid` Q9 weak grid, :mod:`.q10_frequency` Q10 frequency excursion,
  :mod:`.q11_n1` Q11 N-1, :mod:`.q12_oltc_wear` Q12 OLTC wear
* :mod:`.base` the test type and the overrides every test applies;
  :mod:`.needs` the shared rating targets; :mod:`.ride_through` Q7 and Q8's criterion
"""

from __future__ import annotations

from cosim.studies.qualify.params import Param, Value, resolve
from cosim.studies.qualify.spec import QualifySpec
from cosim.studies.qualify.tests import (
    q01_training,
    q02_chirp,
    q03_job_ramps,
    q04_checkpoints,
    q05_soc,
    q06_demand_response,
    q07_fault_train,
    q08_deep_sag,
    q09_weak_grid,
    q10_frequency,
    q11_n1,
    q12_oltc_wear,
)
from cosim.studies.qualify.tests.base import (
    Context,
    Frames,
    GridInfeasible,
    NotAvailable,
    QualTest,
    RunPlan,
)

#: every test by id, in suite order
REGISTRY: dict[str, QualTest] = {
    m.TEST.id: m.TEST
    for m in (
        q01_training,
        q02_chirp,
        q03_job_ramps,
        q04_checkpoints,
        q05_soc,
        q06_demand_response,
        q07_fault_train,
        q08_deep_sag,
        q09_weak_grid,
        q10_frequency,
        q11_n1,
        q12_oltc_wear,
    )
}


def params_of(test_id: str) -> list[Param]:
    """Thresholds and stimulus parameters of a test."""
    return list(REGISTRY[test_id].params)


def resolve_values(spec: QualifySpec, test_id: str) -> dict[str, Value]:
    """Every parameter of a test with the spec's overrides (and the case's own limits where
    the test takes them)."""
    test = REGISTRY[test_id]
    values = resolve(test_id, list(test.params), spec.test_table(test_id))
    return test.adjust(spec, values) if test.adjust is not None else values


__all__ = [
    "REGISTRY",
    "Context",
    "Frames",
    "GridInfeasible",
    "NotAvailable",
    "QualTest",
    "RunPlan",
    "params_of",
    "resolve_values",
]
