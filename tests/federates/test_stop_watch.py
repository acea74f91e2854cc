"""After SIGTERM a federate leaves within a deadline, even with its main thread stuck.

The supervisor may be gone (SIGKILL: the federate got the parent-death SIGTERM) and
leaving HELICS can block on a broker that is gone, so nobody would end the process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STUCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import federates.common.watch as w

    class FakeHelics:
        def helicsFederateLocalError(self, fed, code, text):
            print("local error", code, flush=True)
            if sys.argv[3] == "blocking":  # the call itself hangs inside HELICS
                while True:
                    time.sleep(0.05)

    w.STOP_FLUSH_S = float(sys.argv[2])
    w.STOP_LEAVE_S = 0.2
    watch = w.Watch(Path(sys.argv[1]), FakeHelics())
    watch.fed = object()
    if sys.argv[3] == "flushed":
        watch.flushed.set()  # series on disk, then stuck leaving HELICS
    print("ready", flush=True)
    while True:  # a main thread that never returns (a C call that hangs)
        time.sleep(0.05)
    """
)


def _run(tmp_path: Path, flush_s: float, state: str) -> tuple[int, float, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, str(tmp_path / "hb"), str(flush_s), state],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    finally:
        proc.kill()
    return rc, time.monotonic() - t0, proc.stdout.read()


def test_stuck_after_flush_leaves_after_the_leave_deadline(tmp_path: Path) -> None:
    rc, elapsed_s, out = _run(tmp_path, 20.0, "flushed")
    assert rc == 143
    assert "local error -3" in out  # the pending HELICS request was told to return
    assert elapsed_s < 10.0  # the leave deadline (0.2 s), not the flush one (20 s)


def test_stuck_before_flush_leaves_after_the_flush_deadline(tmp_path: Path) -> None:
    rc, elapsed_s, _ = _run(tmp_path, 1.0, "stuck")
    assert rc == 143
    assert 1.0 <= elapsed_s < 15.0


def test_a_hanging_local_error_does_not_hold_the_exit(tmp_path: Path) -> None:
    """Seen in CI: the SIGTERM thread's HELICS call blocked for good; the deadline still ends it."""
    rc, elapsed_s, out = _run(tmp_path, 1.0, "blocking")
    assert rc == 143
    assert "local error -3" in out
    assert 1.0 <= elapsed_s < 15.0


def _stuck_with_supervisor(tmp_path: Path, supervisor_pid: int) -> subprocess.Popen:
    """A loop stuck in its model, told that its supervisor is ``supervisor_pid``; once ready."""
    env = {**os.environ, "COSIM_SUPERVISOR_PID": str(supervisor_pid)}
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, str(tmp_path / "hb"), "1.0", "stuck"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_federate_whose_supervisor_is_gone_leaves_without_the_signal(tmp_path: Path) -> None:
    """Started through federates.common.parent, the loop watches its parent itself: with no
    SIGTERM at all, a parent other than the supervisor named makes it leave by the deadline."""
    proc = _stuck_with_supervisor(tmp_path, os.getpid() + 1_000_000)  # not the parent
    t0 = time.monotonic()
    try:
        rc = proc.wait(timeout=30)
    finally:
        proc.kill()
    assert rc == 143
    assert "local error -3" in proc.stdout.read()
    assert time.monotonic() - t0 < 15.0


def test_a_federate_with_its_supervisor_alive_keeps_running(tmp_path: Path) -> None:
    proc = _stuck_with_supervisor(tmp_path, os.getpid())  # this test is the parent
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3.0)  # several heartbeats: no orphan check fired
    finally:
        proc.kill()
        proc.wait()
