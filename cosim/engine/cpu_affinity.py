"""Pin a lone run's processes to cores (``run.cpu_affinity``).

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
it creates inherits it). It never pins:

- where fewer than two cores are usable, or not on Linux;
- in a process that runs federations alongside others (each task of a sweep or
  hosting-capacity study, locally or on a Dask cluster,
  :func:`share_cores`): they would all pin to the same cores;
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


def share_cores() -> None:
    """This process runs federations alongside others: never pin their processes."""
    global _SHARED
    _SHARED = True


def usable_cores() -> list[int]:
    """The cores this process may run on (empty where the OS cannot say)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return []


def other_federations() -> bool:
    """Whether a HELICS broker is running on this machine now (another run's federation).

    Every federation has one, started before its federates; this run's own is not
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
    cores = usable_cores()
    if setting != "auto" or _SHARED or len(cores) < 2 or not federates:
        return None
    if other_federations():
        return None
    cpus = {name: [cores[i % len(cores)]] for i, name in enumerate(federates)}
    return {"broker": cpus[federates[0]], **cpus}
