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
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def call_apart(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a child Python process; in this process when the child cannot run.

    ``fn`` must be a module-level function and its arguments and result
    picklable. An exception raised by ``fn`` in the child is raised here; a
    child that cannot start or dies without an answer falls back to calling
    ``fn`` here.
    """
    with tempfile.TemporaryDirectory(prefix="cosim_apart_") as tmp:
        job, answer = Path(tmp) / "job.pkl", Path(tmp) / "answer.pkl"
        try:
            job.write_bytes(pickle.dumps((fn.__module__, fn.__qualname__, args)))
        except (pickle.PicklingError, TypeError, AttributeError):
            return fn(*args)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            subprocess.run(
                [sys.executable, "-m", "cosim.engine.apart", str(job), str(answer)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            ok, value = pickle.loads(answer.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
            return fn(*args)  # no answer from the child: compute here
    if not ok:
        raise value
    return value


def _main(job: str, answer: str) -> None:
    module, name, args = pickle.loads(Path(job).read_bytes())
    fn = importlib.import_module(module)
    for part in name.split("."):
        fn = getattr(fn, part)
    try:
        out = (True, fn(*args))
    except Exception as exc:  # noqa: BLE001 - handed back to the caller
        out = (False, exc)
    Path(answer).write_bytes(pickle.dumps(out))


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
