"""``cosim qualify``: a BESS qualification suite for AI-factory duty.

The tests Q1-Q12 are those of ``docs/domain.md``, "Qualification test profiles".

* :mod:`cosim.studies.qualify.spec` - a BESS spec (the ``[bess]`` + ``[controls]`` part of
  a case, or a full case) merged onto the reference case; ``[qualify]`` options
* :mod:`cosim.studies.qualify.spec_loader` - reads and validates a spec file
* :mod:`cosim.studies.qualify.params` - thresholds and stimulus figures with unit and source
* :mod:`cosim.studies.qualify.tests` - Q1-Q12, one module each (parameters, plan,
  evaluation, need) and their registry
* :mod:`cosim.studies.qualify.series`, :mod:`~cosim.studies.qualify.signals`,
  :mod:`~cosim.studies.qualify.verdict`, :mod:`~cosim.studies.qualify.evidence` - the
  recorded series, signal helpers, checks and verdicts, and the plots behind them
* :mod:`cosim.studies.qualify.weakgrid` - the weak grid (SCR 2.0, high R/X) as a
  pandapower network
* :mod:`cosim.studies.qualify.shortfall` - BESS failure vs rating too small vs site / grid,
  and by how much
* :mod:`cosim.studies.qualify.runner` - real federations in parallel, one failure never
  hides another
* :mod:`cosim.studies.qualify.report` - qualification.json and a self-contained
  qualification.html
"""

from cosim.studies.qualify.runner import run_qualification, select_tests
from cosim.studies.qualify.spec import QualifySpec
from cosim.studies.qualify.spec_loader import load_spec

__all__ = ["QualifySpec", "load_spec", "run_qualification", "select_tests"]
