"""Pin a lone run's processes to cores, or a pool worker's runs to its core (``run.cpu_affinity``).

A federation's federates run in turn: each waits in HELICS while the other
steps. Left to the OS, a process that wakes up often lands on another core than
the one it last ran on, with cold caches, and the exchange pays for it at every
step. Pinned, each federate keeps its core. Measured on the project's 2-core
machine, the default case over 2 h with every-step exchange: 1,030-1,055 grid
steps/s pinned against 780-789 unpinned (+33 %); as shipped (60 s sync blocks)
the gain is within noise (+2 %, 6 h).

``run.cpu_affinity = "auto"`` (the default) pins when the run is alone: federate
``i`` (in the build's order) to the ``i``-th core this process may use, round
robin, and the broker with the first federate (``--cpus`` of
:mod:`federates.common.parent`, set before the program starts, so every thread
it creates inherits it). It does not pin so:

- where fewer than two cores are usable, or not on Linux;
- in a process that runs federations alongside others (each task of a sweep or
  hosting-capacity study, locally or on a Dask cluster,
  :func:`share_cores`): they would all pin to the same cores. A local pool with
  more than one worker and no more workers than cores gives each worker a core
  of its own instead (:func:`keep_runs_on`,
  :func:`cosim.studies.run_pool.worker_cores`), and every process of the
  worker's runs stays on it (``off`` still leaves them to the OS). A
  federation's federates run in turn, so one core is what a run uses (0.94
  cores on average, alone on 2); two runs at once then never compete for a core
  or its caches. Measured, 16 one-hour runs of the default case on 2 cores, two
  workers: 20.9-22.3 s against 23.1-23.9 s unpinned;
- while another federation runs on the machine (its HELICS broker is there,
  :func:`other_federations`): several ``cosim run`` at once would all pin to the
  same cores. Runs started at the same instant do not see
  each other; ``run.cpu_affinity = "off"`` is for them;
- with ``run.cpu_affinity = "off"``.

The summary's ``run.cpu_affinity`` records the cores each process got (``null``
when none was pinned).
"""

from __future__ import annotations

import os

_SHARED = False
_KEPT: list[int] | None = None


def share_cores() -> None:
    """This process runs federations alongside others: no lone run's plan for their processes."""
    global _SHARED
    _SHARED = True


def keep_runs_on(cores: list[int]) -> None:
    """This process (a local pool's worker) and every process of its runs stay on ``cores``.

    Its own threads and children too: the process is pinned now. :func:`plan` gives
    ``cores`` to each process of its runs (unless ``run.cpu_affinity = "off"``).
    """
    global _KEPT
    os.sched_setaffinity(0, cores)
    _KEPT = list(cores)


def usable_cores() -> list[int]:
    """The cores this process may run on (empty where the OS cannot say)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return []


def other_federations() -> bool:
    """Whether a HELICS broker is running on this machine now (another run's federation).

    Every federation has one, started before its federates (in a one-process
    federation, its process: ``federates.common.together``); this run's own is not
    started yet when its cores are planned. A fork server or an idle helper does
    not count: only a federation competes for the cores.
    """
    import psutil

    for p in psutil.process_iter(["cmdline"]):
        try:
            cmd = p.info["cmdline"] or []
        except psutil.Error:  # pragma: no cover - a process that just left
            continue
        if cmd and os.path.basename(cmd[0]) == "helics_broker":
            return True
        if "federates.common.together" in cmd[1:3]:  # python -m federates.common.together
            return True
    return False


def plan(setting: str, federates: list[str]) -> dict[str, list[int]] | None:
    """The core of each process of a run (``"broker"`` and each federate), or ``None``.

    Parameters
    ----------
    setting : str
        ``run.cpu_affinity``: ``"auto"`` or ``"off"``.
    federates : list of str
        The federates' names in the build's order.

    Returns
    -------
    dict or None
        ``{name: [core]}``; ``None`` when nothing is pinned (see the module).
    """
    if setting == "auto" and _KEPT is not None and federates:
        return {name: list(_KEPT) for name in ("broker", *federates)}
    cores = usable_cores()
    if setting != "auto" or _SHARED or len(cores) < 2 or not federates:
        return None
    if other_federations():
        return None
    cpus = {name: [cores[i % len(cores)]] for i, name in enumerate(federates)}
    return {"broker": cpus[federates[0]], **cpus}
