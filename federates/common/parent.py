"""Die with the supervisor: ``python -m federates.common.parent PID -- PROGRAM ARGS...``.

Sets the Linux parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``), checks
that its parent is still ``PID`` (the supervisor may have died before the
``prctl``), then replaces itself with ``PROGRAM`` (``execv``: same process, so the
supervisor sees the program's own exit status and signals; the parent-death
signal survives the ``exec``). When the supervisor dies, even by SIGKILL, the
kernel sends SIGTERM to the program: a federate flushes its series and exits,
the broker exits. The program also gets ``COSIM_SUPERVISOR_PID``: a federate's
loop leaves the same way when it sees its parent gone, in case the signal does
not get through. Elsewhere than Linux the program just runs. ``--cpus 0,1`` pins
the program to those cores first (``sched_setaffinity``: every thread it
creates inherits them; :mod:`cosim.engine.cpu_affinity` says when).

Used by :mod:`cosim.engine.supervisor` for the broker and every federate.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def main(argv: list[str] | None = None) -> int:
    """Set the parent-death signal and ``exec`` the program (never returns on success)."""
    args = list(sys.argv[1:] if argv is None else argv)
    cpus = None
    if len(args) > 2 and args[1] == "--cpus":
        cpus = {int(c) for c in args[2].split(",")}
        del args[1:3]
    if len(args) < 3 or args[1] != "--":
        print(
            "usage: python -m federates.common.parent PID [--cpus LIST] -- PROGRAM [ARGS...]",
            file=sys.stderr,
        )
        return 2
    parent, cmd = int(args[0]), args[2:]
    if cpus:
        os.sched_setaffinity(0, cpus)
    die_with_parent()
    if os.getppid() != parent:  # the supervisor is already gone
        return 143
    # a federate's loop also watches its parent itself (federates.common.watch.SUPERVISOR_ENV)
    os.environ["COSIM_SUPERVISOR_PID"] = str(parent)
    os.execv(cmd[0], cmd)
    return 127  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
