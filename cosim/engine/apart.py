"""Run one function in a short-lived child process, so that what it imports stays out of this one.

The supervising process of a run needs pandapower only for figures computed
once (the exchange screen of the build, the network context of the summary).
Importing pandapower (with numba, matplotlib, ...) costs a process ~200 MB that
it keeps for the rest of the run; :func:`call_apart` computes such figures in a
child ``python -m cosim.engine.apart`` and returns its (picklable) result.

A plain child process, not :mod:`multiprocessing`: a spawned worker re-imports
the caller's ``__main__``, which would re-run a user's script without a
``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: runs of at least this many grid steps keep pandapower out of the supervisor (their series
#: fill its memory); shorter ones compute in process: a child costs a second import of
#: pandapower and the network (about 3 s), more than a short run's memory is worth
APART_MIN_STEPS = 3600


def worth_apart(case: Any) -> bool:
    """Whether a run is long enough that its supervisor's figures are computed apart.

    Parameters
    ----------
    case : cosim.case.Case
        The run's case (its horizon: duration and grid step [s]).

    Returns
    -------
    bool
        True for at least :data:`APART_MIN_STEPS` grid steps.
    """
    h = case.horizon
    return h.duration_s / h.grid_dt_s >= APART_MIN_STEPS


def call_apart(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a child Python process; in this process when the child cannot run.

    ``fn`` must be a module-level function and its arguments and result
    picklable. The job goes to the child on its standard input and the answer
    comes back on its standard output (nothing is written to disk); what the
    child prints goes to its standard error, which is discarded. An exception
    raised by ``fn`` in the child is raised here; a child that cannot start or
    dies without an answer falls back to calling ``fn`` here.

    Parameters
    ----------
    fn : callable
        A module-level function.
    *args : Any
        Its (picklable) arguments.

    Returns
    -------
    Any
        What ``fn(*args)`` returns.
    """
    try:
        job = pickle.dumps((fn.__module__, fn.__qualname__, args))
    except (pickle.PicklingError, TypeError, AttributeError):
        return fn(*args)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cosim.engine.apart"],
            input=job,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        ok, value = pickle.loads(proc.stdout)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
        return fn(*args)  # no answer from the child: compute here
    if not ok:
        raise value
    return value


def _main() -> None:
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the job prints must not mix with the answer
    module, name, args = pickle.loads(sys.stdin.buffer.read())
    fn = importlib.import_module(module)
    for part in name.split("."):
        fn = getattr(fn, part)
    try:
        out = (True, fn(*args))
    except Exception as exc:  # noqa: BLE001 - handed back to the caller
        out = (False, exc)
    answer.write(pickle.dumps(out))
    answer.close()


if __name__ == "__main__":
    _main()
