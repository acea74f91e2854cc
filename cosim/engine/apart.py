"""Run one function in a short-lived child process, so that what it imports stays out of this one.

The supervising process of a run needs pandapower only for figures computed
once (the exchange screen of the build, the network context of the summary).
Importing pandapower (with numba, matplotlib, ...) costs a process ~200 MB that
it keeps for the rest of the run; :func:`call_apart` computes such figures in a
spawned child and returns its (picklable) result.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def call_apart(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a spawned child process; in this process when no child can start.

    ``fn`` must be importable (a module-level function) and its arguments and
    result picklable. An exception raised by ``fn`` is raised here; a child that
    cannot be started (e.g. inside a daemonic worker) falls back to calling
    ``fn`` here.
    """
    try:
        pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
        future = pool.submit(fn, *args)
    except Exception:  # noqa: BLE001 - no child process here: compute in this process
        return fn(*args)
    try:
        return future.result()
    finally:
        pool.shutdown(wait=True)
