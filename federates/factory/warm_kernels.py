"""Importing this module loads the factory's compiled kernels: for a fork server's preload only.

The factory's kernels (:mod:`federates.factory.kernels`) are compiled once and
cached on disk by numba, but every new process loads them again on its first
grid step: about 0.4 s of CPU in a factory federate (most of it numba's own
start, which a process that has loaded the grid's kernels has done already). A
process forked from one that has loaded them skips that. A study's fork server
(``STUDY_PRELOAD`` of :mod:`cosim.engine.warm_start`) imports this module after
:mod:`federates.grid.warm_kernels`: it runs a few grid steps of a default site
(its BESS under the smoothing and ramp limit, one step at a time and as a
block) and keeps nothing but what the kernels and imports left behind. It
writes nothing. A failure only means slower forks, so it is ignored.
"""

from __future__ import annotations

import contextlib

import numpy as np


def warm_up() -> None:
    """Run a few grid steps of a default site through the factory federate's adapter."""
    from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
    from federates.factory.federate import FactoryAdapter
    from federates.factory.site import FactorySite

    site = FactorySite(FactoryConfig(), BessConfig(), ControlsConfig(), seed=0, dt_s=0.05)
    adapter = FactoryAdapter(site, "vm_pu", "f_hz", True)
    adapter.step(0.0, 1.0, {"vm_pu": 1.0, "f_hz": 60.0}, 0)
    t_s = np.arange(1.0, 4.0)
    adapter.step_block(t_s, t_s + 1.0, {"vm_pu": np.ones(3), "f_hz": np.full(3, 60.0)}, 0)


with contextlib.suppress(Exception):
    warm_up()
