"""``cosim qualify``: a BESS qualification suite for AI-factory duty (Q1-Q12 of docs/domain.md).

* :mod:`cosim.studies.qualify.spec` - a BESS spec (the ``[bess]`` + ``[controls]`` part of
  a case, or a full case) merged onto the reference case; ``[qualify]`` options
* :mod:`cosim.studies.qualify.params` - thresholds and stimulus figures with unit and source
* :mod:`cosim.studies.qualify.profiles` - Q1-Q12 as case overrides, strong or weak grid
* :mod:`cosim.studies.qualify.weakgrid` - the weak grid (SCR 2.0, high R/X) as a pandapower network
* :mod:`cosim.studies.qualify.criteria` - each test's pass/fail as a pure function of series
* :mod:`cosim.studies.qualify.shortfall` - BESS failure vs rating too small vs site / grid, and by how much
* :mod:`cosim.studies.qualify.runner` - real federations in parallel, one failure never hides another
* :mod:`cosim.studies.qualify.report` - qualification.json and a self-contained qualification.html
"""

from cosim.studies.qualify.runner import run_qualification, select_tests
from cosim.studies.qualify.spec import QualifySpec, load_spec

__all__ = ["QualifySpec", "load_spec", "run_qualification", "select_tests"]
