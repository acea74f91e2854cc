"""Federate processes forked from a warm process: runs skip the imports.

A federate started as a new process (:func:`cosim.engine.supervisor.start_process`)
is a new Python that imports numpy, HELICS and pandapower: about 2 s of CPU in
the transmission federate alone. The run's apart child (:mod:`cosim.engine.apart`,
the exchange screen and the network context) imports pandapower too, and the
federates can only start once the screen is done. In a process that enabled
warm starts, the supervisor starts each federate as a fork of one process that
has imported them once: the standard library's fork server (:mod:`multiprocessing`,
start method ``forkserver``) with :data:`PRELOAD` imported, started at the
beginning of the process's first run (:func:`start_server`; its import overlaps
the case's loading and build) and kept until the process ends. The apart child
is forked from it too. The broker is still a new process (it is HELICS's own
program). A one-process federation (``run.one_process``:
:mod:`federates.common.together`, broker included) is forked as a federate is.

Who enables it:

- each command of the CLI (:func:`enabled_within`): ``cosim run`` of the default
  case, one hour, 7.8-8.0 s instead of 9.2-9.8 s;
- each worker of a local sweep or hosting-capacity study (:func:`enable`, the
  pool's initializer): a one-hour run 2.2 s instead of 4.6 s. The workers are
  forks of their study's server, and fork their federates from it too
  (:func:`use_parent_server`): one preload per study.

``run_case`` called from a user's own script keeps new processes unless the
script calls :func:`enable` (and guards its entry point, see :data:`PRELOAD`).

A warm federate is supervised as a new one is, and behaves the same:

- it runs :func:`federates.common.loop.main` on the same config, in its own
  session (its pid is its process group), its output in ``logs/<name>.log``,
  standard input from ``/dev/null``;
- it dies with the supervisor's process, even on SIGKILL: it holds the reading
  end of a pipe (its lifeline) whose only writing end the supervisor's process
  holds; when that closes, the federate sends itself SIGTERM, as the parent-death
  signal does to a new process (:mod:`federates.common.parent`), and flushes its
  series. Its parent is the fork server, which stays while any fork lives (the
  forks hold its own pipe); it also dies with the fork server;
- its exit status reaches the supervisor through the fork server: an exit code,
  or minus the signal that killed it, as :class:`subprocess.Popen` reports;
- it is pinned to its core, as a new process is (:mod:`cosim.engine.cpu_affinity`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: preloaded into the server (about 2.5 s, once per process): HELICS, pandapower, the
#: federate loop and every federate's module, and what the run's apart child computes
#: (:mod:`cosim.engine.apart`). A fork also imports the process's main script (as
#: ``__mp_main__``), as any :mod:`multiprocessing` child does: a script that enables warm
#: starts, or runs a sweep, must guard its entry point (``if __name__ == "__main__":``)
PRELOAD = (
    "helics",
    "numpy",
    "pandapower",
    "cosim.cli",
    "cosim.engine.warm_start",
    "cosim.engine.apart",
    "cosim.engine.exchange",
    "cosim.analysis.context",
    "federates.common.loop",
    "federates.grid.model",
    "federates.grid.network",
    "federates.grid.transmission",
    "federates.grid.distribution",
    "federates.grid.frequency_federate",
    "federates.factory.federate",
    "federates.dynamics.adapter",
)

#: preloaded too, last, by a study's server (:func:`for_study`), which serves many runs: the
#: grid's compiled kernels (it solves a few steps: 0.5 s more, 0.3 s of CPU less in each warm
#: transmission or distribution federate), then the factory's (a few grid steps of a site:
#: about 0.4 s of CPU less in each factory federate). A lone run's first fork would wait for it.
STUDY_PRELOAD = ("federates.grid.warm_kernels", "federates.factory.warm_kernels")

_ENABLED = False
_PARENT_SERVER = False  # this process forks from the server it was forked from
_STUDY = False  # this process's server preloads STUDY_PRELOAD too


def enable() -> None:
    """From now on, this process forks its federates and its apart child from a warm server.

    For a process that runs many federations: a local sweep's workers call it
    (:class:`cosim.studies.run_pool.RunPool`).
    """
    global _ENABLED
    _ENABLED = True


def for_study() -> None:
    """This process's server, once started, serves a study's many runs: it preloads
    :data:`STUDY_PRELOAD` too (no effect on a server already running)."""
    global _STUDY
    _STUDY = True


def use_parent_server() -> bool:
    """Fork from the server this process was forked from, if it is warm; whether it is.

    A local pool's worker is a fork of its parent's server (:class:`cosim.studies.run_pool.RunPool`
    starts the pool from :func:`context`). That server has imported :data:`PRELOAD`
    (this process's modules show it), so the worker's federates and apart child fork
    from it too, instead of from a server of the worker's own: one preload per study
    rather than one per worker, and the worker's first run need not wait for it.

    :mod:`multiprocessing` lets a child of the fork server reach it (the server
    leaves its address and its liveness pipe in each child) but would start a new
    server on the first fork, as it only knows a server it started. This tells it
    the server is there; False (and nothing changed) where this process is not a
    fork of a warm server or this Python's ``forkserver`` is not the one described.
    """
    global _PARENT_SERVER
    from multiprocessing import forkserver, resource_tracker

    server = forkserver._forkserver  # noqa: SLF001 - the module's one server, see above
    ours = (
        getattr(server, "_forkserver_address", None) is not None
        and getattr(server, "_forkserver_alive_fd", None) is not None
        and getattr(server, "_forkserver_pid", 0) is None
        and not hasattr(server, "_forkserver_authkey")  # a server that authenticates clients
    )
    if not ours or not all(name in sys.modules for name in PRELOAD):
        return False
    server.ensure_running = resource_tracker.ensure_running  # the server is running
    _PARENT_SERVER = True
    return True


@contextlib.contextmanager
def enabled_within() -> Iterator[None]:
    """:func:`enable` for the ``with`` block only (a command of the CLI)."""
    global _ENABLED
    before, _ENABLED = _ENABLED, True
    try:
        yield
    finally:
        _ENABLED = before


def start_server() -> None:
    """Start this process's fork server now (in the background: it takes 2.5-3 s).

    Nothing to do in a process that forks from its parent's (:func:`use_parent_server`).
    """
    if _PARENT_SERVER:
        return

    def start() -> None:
        from multiprocessing import forkserver

        context()
        with contextlib.suppress(Exception):  # the first fork starts it, or says why not
            forkserver.ensure_running()

    threading.Thread(target=start, name="fork-server", daemon=True).start()


def enabled() -> bool:
    """Whether this process forks its federates warm (:func:`enable`, and :func:`available`)."""
    return _ENABLED and available()


def available() -> bool:
    """Whether this process can fork from a server (Linux or macOS, and not a daemon process)."""
    return (
        "forkserver" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def context() -> Any:
    """This process's ``forkserver`` context, its server preloading :data:`PRELOAD` (and
    :data:`STUDY_PRELOAD` after :func:`for_study`)."""
    ctx = multiprocessing.get_context("forkserver")
    # takes effect when the server starts
    ctx.set_forkserver_preload([*PRELOAD, *(STUDY_PRELOAD if _STUDY else ())])
    return ctx


def fork_helper(target: Callable[..., None], args: tuple[Any, ...], name: str) -> WarmProcess:
    """Start ``target(*args)`` in a fork of the server (started on first use).

    For a helper of this process (:mod:`cosim.engine.apart`): a daemon, terminated
    when this process exits normally; it must itself leave when this process dies
    (at the end of a pipe from it).
    """
    p = context().Process(target=target, args=args, name=name, daemon=True)
    p.start()
    return WarmProcess(p)


class WarmProcess:
    """A forked process seen through :class:`subprocess.Popen`'s interface.

    It holds the writing end of the process's lifeline: dropping it (or the end of
    this process) tells the process to stop.
    """

    def __init__(self, process: Any, lifeline: Any = None) -> None:
        self._p = process
        self._lifeline = lifeline

    @property
    def pid(self) -> int:
        return int(self._p.pid)

    @property
    def returncode(self) -> int | None:
        return self._p.exitcode

    def poll(self) -> int | None:
        """The exit status once the process ended (``-signal`` if killed), else ``None``."""
        return self._p.exitcode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end; raise :class:`subprocess.TimeoutExpired` after ``timeout`` s."""
        self._p.join(timeout)
        code = self._p.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(f"process {self.pid}", timeout or 0.0)
        return int(code)

    def kill(self) -> None:
        self._p.kill()


def start_warm(
    config: Path,
    log: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    cpus: list[int] | None = None,
    *,
    program: tuple[str, list[str]] | None = None,
) -> WarmProcess:
    """Fork one federate running ``config`` from this process's server.

    Parameters
    ----------
    config : Path
        The federate's self-contained config (as ``python -m federates.common.loop CONFIG``).
    log : Path
        Its standard output and error.
    cwd : Path
        Its working directory.
    env : dict, optional
        Variables added to its environment.
    cpus : list of int, optional
        The cores it is pinned to (:mod:`cosim.engine.cpu_affinity`), before its
        first thread starts.
    program : (str, list of str), optional
        Another module's ``main`` and its arguments instead of the loop's on ``config``:
        ``("federates.common.together", [...])`` runs a one-process federation.
    """
    ctx = context()
    theirs, mine = ctx.Pipe(duplex=False)  # the lifeline: only this process writes
    module, argv = program or ("federates.common.loop", [str(config)])
    args = (module, argv, str(log), str(cwd), dict(env or {}), list(cpus or []), theirs)
    p = ctx.Process(target=_federate_child, args=args, name=f"federate {Path(config).stem}")
    p.start()
    theirs.close()
    return WarmProcess(p, mine)


def _federate_child(
    module: str,
    argv: list[str],
    log: str,
    cwd: str,
    env: dict[str, str],
    cpus: list[int],
    lifeline: Any,
) -> None:  # pragma: no cover - runs in the forked federate (tests check its behaviour)
    """The forked federate: its own session and log, dies with the supervisor, runs
    ``module``'s ``main(argv)`` (the loop's on a config, or a one-process federation's)."""
    # what the server imported stays out of this process's garbage collections: they
    # would walk pandapower's whole heap (and touch its shared pages) in every federate
    gc.freeze()
    if cpus:
        os.sched_setaffinity(0, cpus)
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True, write_through=True)
    os.chdir(cwd)
    os.environ.update(env)
    from federates.common.parent import die_with_parent
    from federates.common.watch import SUPERVISOR_ENV

    server = os.getppid()
    die_with_parent()
    if os.getppid() != server:  # the server is gone already
        sys.exit(143)
    os.environ[SUPERVISOR_ENV] = str(server)
    threading.Thread(target=_watch_lifeline, args=(lifeline,), name="lifeline", daemon=True).start()
    sys.argv = [module, *argv]
    sys.exit(importlib.import_module(module).main(argv))


def _watch_lifeline(lifeline: Any) -> None:  # pragma: no cover - runs in the forked federate
    """SIGTERM to this process once the supervisor's end of the lifeline closes."""
    with contextlib.suppress(EOFError, OSError):
        while True:
            lifeline.recv_bytes()  # nothing is ever sent: this returns at the end
    os.kill(os.getpid(), signal.SIGTERM)
