"""Importing this module loads the grid's compiled kernels: for a fork server's preload only.

The fast power flow's kernels (:mod:`federates.grid.nr_static`,
:mod:`federates.grid.pf_steady`, :mod:`federates.grid.batch`,
:mod:`federates.grid.pf_results`, :mod:`federates.grid.pf_predict`) are compiled once
and cached on disk by numba, but every new process loads them again on its first
solve: about 0.35 s of CPU in each transmission or distribution federate. A
process forked from one that has loaded them skips that. A study's fork server
(``STUDY_PRELOAD`` of :mod:`cosim.engine.warm_start`) imports this module after
everything else it preloads, before the factory's kernels
(:mod:`federates.factory.warm_kernels`): it solves a few steps
of PGLib 118 with a site swinging across a generator's reactive limit (the
steady lane, the general path with Q limits, branch loadings; one-step and
multi-step blocks) and keeps nothing but what the kernels and imports left
behind. It writes nothing. A failure only means slower forks, so it is ignored.
"""

from __future__ import annotations

import contextlib

import numpy as np


def warm_up() -> None:
    """Solve a few steps of the bundled PGLib 118 through the transmission federate's model."""
    from federates.grid.batch import step_block
    from federates.grid.config import GridConfig
    from federates.grid.transmission import TransmissionParams, build_model

    model = build_model(TransmissionParams(grid=GridConfig(network="pglib_case118"), poi_bus=80))
    p_mw = np.array([240.0, 310.0, 240.0, 310.0, 240.0, 310.0])
    for first, n in ((0, 1), (1, 1), (2, 4)):  # one-step blocks, then a block of several
        t_s = np.arange(first, first + n, dtype=float)
        step_block(model, t_s, t_s + 1.0, p_mw[first : first + n], 0.1 * p_mw[first : first + n])


with contextlib.suppress(Exception):
    warm_up()
