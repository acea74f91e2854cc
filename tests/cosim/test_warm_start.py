"""A process that runs many federations forks its helpers and federates from a warm server.

Each check runs in its own Python (a fork server lives as long as the process that started it).
The forks of real federates are checked in ``tests/integration/test_warm_start.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_a_warm_process_forks_its_apart_child_from_the_server() -> None:
    got = run_python(
        """
        import math, os, sys
        from cosim.engine import apart, warm_start
        print(apart.call_apart(os.getpid) != os.getpid())  # before: a plain child
        apart._drop_child()
        warm_start.enable()
        child = apart.call_apart(os.getpid)
        print(child != os.getpid(), apart.call_apart(os.getppid) != os.getpid())  # a fork
        print(apart.call_apart(os.getpid) == child, type(apart._CHILD).__name__)  # one child
        print(apart.call_apart(math.hypot, 3.0, 4.0))
        try:
            apart.call_apart(int, "not a number")
        except ValueError:
            print("ValueError")
        print("pandapower" in sys.modules)  # this process stays light
        """
    )
    assert got == ["True", "True", "True", "True", "_WarmChild", "5.0", "ValueError", "False"]


def test_a_fork_reports_its_end_as_popen_does() -> None:
    got = run_python(
        """
        import subprocess, sys, time
        from cosim.engine import warm_start
        sleeper = warm_start.fork_helper(time.sleep, (60.0,), "sleeper")
        print(sleeper.poll())
        try:
            sleeper.wait(0.1)
        except subprocess.TimeoutExpired:
            print("TimeoutExpired")
        sleeper.kill()
        print(sleeper.wait(30), sleeper.returncode)
        print(warm_start.fork_helper(sys.exit, (3,), "three").wait(30))
        """
    )
    assert got == ["None", "TimeoutExpired", "-9", "-9", "3"]


def test_a_pools_workers_and_their_forks_come_from_the_studys_one_warm_server() -> None:
    got = run_python(
        """
        import functools, os, sys
        from multiprocessing import forkserver
        from cosim.engine import apart, warm_start
        from cosim.studies.run_pool import RunPool, prepare

        prepare()  # the study starts its server while it checks its cases
        with RunPool(2) as pool:
            ex = pool._pool
            workers = {ex.submit(os.getppid).result() for _ in range(4)}
            # a worker's apart child is a fork too: of the same server, not of one of its own
            helper = ex.submit(functools.partial(apart.call_apart, os.getppid)).result()
            # the server preloaded what a federate imports, and the worker knows it
            warm = ex.submit(warm_start.use_parent_server).result()
            # a study's server loaded the compiled kernels too (STUDY_PRELOAD)
            probe = "all(m in __import__('sys').modules for m in %r)" % (warm_start.STUDY_PRELOAD,)
            kernels = ex.submit(functools.partial(eval, probe)).result()
        server = forkserver._forkserver._forkserver_pid
        print(workers == {server}, helper == server, warm, kernels)
        print("pandapower" in sys.modules)  # the study's own process stays light
        """
    )
    assert got == ["True", "True", "True", "True", "False"]
