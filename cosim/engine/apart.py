"""Run a function in a child process, so that what it imports stays out of this one.

The supervising process of a run needs pandapower only for figures computed
once (the exchange screen of the build, the network context of the summary).
Importing pandapower (with numba, matplotlib, ...) costs a process ~200 MB that
it keeps for the rest of the run; :func:`call_apart` computes such figures in a
child ``python -m cosim.engine.apart`` and returns its (picklable) result.

One child serves every call of a process, one call at a time: pandapower is
imported once (about 2 s of CPU) for a run's exchange screen and its network
context alike, and once for all the runs of a sweep worker. The child leaves
when this process does (its standard input closes) or after
:data:`IDLE_EXIT_S` without a call (its memory is not kept for nothing); the
next call starts another.

A plain child process, not :mod:`multiprocessing`: a spawned worker re-imports
the caller's ``__main__``, which would re-run a user's script without a
``if __name__ == "__main__"`` guard. A process that enabled warm starts (a
``cosim`` command, a sweep's worker: :mod:`cosim.engine.warm_start`) forks the
child from its warm server instead, where pandapower is imported already; such a
process's entry point is guarded.
"""

from __future__ import annotations

import importlib
import os
import pickle
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, TypeVar

from cosim.engine import warm_start

T = TypeVar("T")

#: runs of at least this many grid steps keep pandapower out of the supervisor (their series
#: fill its memory); shorter ones compute in process: a child costs a second import of
#: pandapower and the network (about 3 s), more than a short run's memory is worth
APART_MIN_STEPS = 3600

#: the child leaves after this long without a call [s]
IDLE_EXIT_S = 120.0


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
    """``fn(*args)`` in the child process; in this process when no child can run.

    ``fn`` must be a module-level function and its arguments and result
    picklable. The job goes to the child on its standard input and the answer
    comes back on its standard output (nothing is written to disk); what the
    child prints goes to its standard error, which is discarded. An exception
    raised by ``fn`` in the child is raised here; a child that cannot start or
    dies without an answer is replaced once, then ``fn`` is called here.

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
    with _LOCK:
        for _ in range(2):
            try:
                ok, value = _child().ask(job)
                break
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
                _drop_child()
        else:
            return fn(*args)  # no answer from a child: compute here
    if not ok:
        raise value
    return value


class _Child:
    """The serving child process and its two pipes."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.pid = os.getpid()  # the process that started it (a fork must not share it)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cosim.engine.apart", "--idle-exit-s", str(IDLE_EXIT_S)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def ask(self, job: bytes) -> tuple[bool, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(job)
        self.proc.stdin.flush()
        return pickle.load(self.proc.stdout)

    def close(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _WarmChild:
    """The serving child forked from this process's warm server (:mod:`cosim.engine.warm_start`)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        ctx = warm_start.context()
        self.conn, theirs = ctx.Pipe()
        self.proc = warm_start.fork_helper(_serve_warm, (theirs, IDLE_EXIT_S), "apart")
        theirs.close()

    def ask(self, job: bytes) -> tuple[bool, Any]:
        self.conn.send_bytes(job)
        return pickle.loads(self.conn.recv_bytes())

    def close(self) -> None:
        self.conn.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_LOCK = threading.Lock()
_CHILD: _Child | _WarmChild | None = None


def _child() -> _Child | _WarmChild:
    global _CHILD
    if _CHILD is None or _CHILD.pid != os.getpid() or _CHILD.proc.poll() is not None:
        if _CHILD is not None and _CHILD.pid == os.getpid():
            _CHILD.close()
        _CHILD = _WarmChild() if warm_start.enabled() else _Child()
    return _CHILD


def _drop_child() -> None:
    global _CHILD
    if _CHILD is not None and _CHILD.pid == os.getpid():
        _CHILD.close()
    _CHILD = None


def _serve(jobs: IO[bytes], answer: IO[bytes], idle_exit_s: float) -> None:
    """Answer jobs until the standard input closes or none came for ``idle_exit_s`` [s]."""
    while True:
        ready, _, _ = select.select([jobs], [], [], idle_exit_s)
        if not ready:
            return
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        answer.write(_answer(job))
        answer.flush()


def _serve_warm(conn: Any, idle_exit_s: float) -> None:  # pragma: no cover - in the child
    """:func:`_serve` over a :mod:`multiprocessing` pipe, in a fork of the warm server."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)  # whatever a job prints goes nowhere, as from the plain child
    os.dup2(null, 2)
    os.close(null)
    while conn.poll(idle_exit_s):
        try:
            job = pickle.loads(conn.recv_bytes())
        except EOFError:
            return
        conn.send_bytes(_answer(job))


def _answer(job: tuple[str, str, tuple[Any, ...]]) -> bytes:
    """One job ``(module, qualname, args)``: pickled ``(True, result)`` or ``(False, error)``."""
    module, name, args = job
    fn: Any = importlib.import_module(module)
    for part in name.split("."):
        fn = getattr(fn, part)
    try:
        out = (True, fn(*args))
    except Exception as exc:  # noqa: BLE001 - handed back to the caller
        out = (False, exc)
    try:
        return pickle.dumps(out)
    except Exception as exc:  # noqa: BLE001 - an answer that does not pickle
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _main() -> None:
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a job prints must not mix with the answers
    idle = float(sys.argv[2]) if sys.argv[1:2] == ["--idle-exit-s"] else IDLE_EXIT_S
    _serve(sys.stdin.buffer, answer, idle)


if __name__ == "__main__":
    _main()
