"""A running federate's watch: SIGTERM, its heartbeat, and leaving by a deadline.

Used by :func:`federates.common.loop.run_federate` (one watch per federate) and by
:mod:`federates.common.together` (several federates in one process leave together).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Stop(Exception):
    """Raised by the SIGTERM handler so that the loop flushes what it has."""


def on_sigterm(signum: int, frame: Any) -> None:  # pragma: no cover - signal path
    raise Stop(f"signal {signum}")


#: seconds between two heartbeats (``logs/<name>.heartbeat``)
HEARTBEAT_S = 0.5

#: after SIGTERM: seconds allowed to flush the series, then to leave HELICS, before ``os._exit``
STOP_FLUSH_S = 60.0
STOP_LEAVE_S = 5.0

#: set by :mod:`federates.common.parent`: the pid of the supervisor this federate dies with
SUPERVISOR_ENV = "COSIM_SUPERVISOR_PID"


class Watch:
    """SIGTERM and the heartbeat of a running federate, each on its own thread.

    HELICS blocks the main thread inside a time request (a C call), where a
    Python signal handler never runs, and the kernel may deliver SIGTERM to any
    of the process's threads. So the handler only sets :attr:`stop`, and the
    signal also lands on a wake-up pipe (:func:`signal.set_wakeup_fd`, written
    by the C-level handler whichever thread takes the signal), read by a
    thread that raises a local error in the federate: the pending time request
    returns at once (measured: within 1 ms of ``helicsFederateLocalError``) and
    the loop flushes its series and writes its info.

    The heartbeat thread writes ``<seq> <phase> <t_s>`` every
    :data:`HEARTBEAT_S` to ``logs/<name>.heartbeat``: ``phase`` is ``join``,
    ``wait`` (inside a HELICS request: waiting for the others), ``step`` (in
    the model), ``done``, ``stopped`` or ``failed``. A federate that is stopped
    or frozen stops beating; one stuck in its model beats with ``step`` and a
    ``t_s`` that no longer moves. The supervisor tells a hung federate from the
    ones waiting for it by these.

    A federate started by the supervisor through :mod:`federates.common.parent`
    (environment ``COSIM_SUPERVISOR_PID``) also leaves as on SIGTERM when the
    heartbeat thread sees its parent gone, whether or not the parent-death
    signal got through (twice in full test suites the transmission outlived a
    SIGKILLed supervisor by more than the exit deadline, heartbeat at ``step``).
    """

    def __init__(self, heartbeat: Path, helics: Any) -> None:
        self.stop = threading.Event()
        self.reason = ""
        self.phase = "join"
        self.t_s = -1.0
        self.fed: Any = None
        self._h = helics
        self._path = heartbeat
        self._seq = 0
        self._done = threading.Event()
        self.flushed = threading.Event()  # set once the series and the info are on disk
        _WATCHES.append(self)  # every federate of this process leaves together (leave_all)
        supervisor = os.environ.get(SUPERVISOR_ENV, "")
        self._supervisor = int(supervisor) if supervisor.isdigit() else None
        if threading.current_thread() is threading.main_thread():
            leave_on_sigterm(self._on_signal)
        threading.Thread(target=self._beat, name="heartbeat", daemon=True).start()

    def _on_signal(self, signum: int, frame: Any) -> None:  # pragma: no cover - signal path
        self.reason = self.reason or f"signal {signum} (SIGTERM)"
        self.stop.set()

    def _local_error(self) -> None:  # pragma: no cover - runs in its thread
        # the pending time request returns at once; the federate may be gone already. Seen
        # blocking for good (main thread inside another HELICS call, broker gone): then only
        # the exit deadline below ends the process
        with contextlib.suppress(Exception):
            self._h.helicsFederateLocalError(self.fed, -3, "stopped by SIGTERM")

    def _beat(self) -> None:  # pragma: no cover - runs in its thread
        while not self._done.is_set():
            self.write()
            if self._supervisor is not None and os.getppid() != self._supervisor:
                self._supervisor = None  # once: the supervisor is gone
                threading.Thread(
                    target=leave_all, args=("supervisor gone",), name="orphan", daemon=True
                ).start()
            self._done.wait(HEARTBEAT_S)

    def write(self) -> None:
        """Write one heartbeat now."""
        self._seq += 1
        with contextlib.suppress(OSError):
            self._path.write_text(f"{self._seq} {self.phase} {self.t_s:.6f}\n")

    def check(self) -> None:
        """Raise :class:`Stop` once SIGTERM arrived."""
        if self.stop.is_set():
            raise Stop(self.reason)

    def close(self, phase: str) -> None:
        """Last heartbeat (``done`` or ``stopped``); the heartbeat thread ends."""
        self.phase = phase
        self._done.set()
        self.write()

    def release(self) -> None:
        """Once flushed, before its federate is freed: :func:`leave_all` leaves it alone."""
        self.fed = None
        with contextlib.suppress(ValueError):
            _WATCHES.remove(self)


#: the watches of this process's federates (several in one process: federates.common.together)
_WATCHES: list[Watch] = []
_LEAVING = threading.Lock()


def leave_on_sigterm(handler: Callable[[int, Any], None] | None = None) -> None:
    """From the main thread: SIGTERM to this process stops every federate of it (:func:`leave_all`).

    The Python handler (``handler``, else none) runs in the main thread, which may be blocked
    in a C call; the signal also lands on a wake-up pipe (:func:`signal.set_wakeup_fd`, written
    by the C-level handler whichever thread takes the signal), read by a thread that leaves.
    """
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, handler or (lambda signum, frame: None))
    threading.Thread(target=_wait_sigterm, args=(r,), name="sigterm", daemon=True).start()


def _wait_sigterm(fd: int) -> None:  # pragma: no cover - runs in its thread
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if signal.SIGTERM in data:
            break
    leave_all(f"signal {int(signal.SIGTERM)} (SIGTERM)")


def leave_all(reason: str) -> None:  # pragma: no cover - runs in a watch's or the host's thread
    """Stop every federate of this process, make their pending HELICS requests return, and
    exit by a deadline (SIGTERM, or the supervisor gone)."""
    if not _LEAVING.acquire(blocking=False):
        return  # already leaving (the signal and the orphan check both saw it)
    for watch in list(_WATCHES):
        watch.reason = watch.reason or reason
        watch.stop.set()
        if watch.fed is not None:  # on its own thread: the call can block inside HELICS
            threading.Thread(target=watch._local_error, name="local-error", daemon=True).start()
    # Nobody may be left to SIGKILL this process (the supervisor died: parent-death
    # signal), and leaving HELICS can block on a broker that is gone. Once the series
    # are flushed nothing is lost by leaving at once; a main thread stuck in a C call
    # must not keep the process alive either.
    watches = list(_WATCHES)  # none yet: nothing to flush, leave now
    deadline = time.monotonic() + STOP_FLUSH_S
    if watches and all(w.flushed.wait(max(0.0, deadline - time.monotonic())) for w in watches):
        time.sleep(STOP_LEAVE_S)
    os._exit(128 + int(signal.SIGTERM))
