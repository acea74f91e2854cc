"""A lone run pins each of its processes to a core; runs that share the machine never do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cosim.engine import cpu_affinity
from tests.integration.conftest import wait_for_no_other_federation

ROOT = Path(__file__).resolve().parents[2]


def test_plan_is_round_robin_over_the_usable_cores_with_the_broker_on_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_affinity, "usable_cores", lambda: [2, 5])
    monkeypatch.setattr(cpu_affinity, "_SHARED", False)
    monkeypatch.setattr(cpu_affinity, "other_federations", lambda: False)
    got = cpu_affinity.plan("auto", ["factory", "transmission", "distribution"])
    want = {"broker": [2], "factory": [2], "transmission": [5], "distribution": [2]}
    assert got == want
    assert cpu_affinity.plan("off", ["factory", "transmission"]) is None


def test_no_plan_on_one_core_or_when_runs_share_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_affinity, "_SHARED", False)
    monkeypatch.setattr(cpu_affinity, "other_federations", lambda: False)
    monkeypatch.setattr(cpu_affinity, "usable_cores", lambda: [0])
    assert cpu_affinity.plan("auto", ["factory", "transmission"]) is None
    monkeypatch.setattr(cpu_affinity, "usable_cores", lambda: [0, 1])
    assert cpu_affinity.plan("auto", ["factory", "transmission"]) is not None
    cpu_affinity.share_cores()  # as each task of a sweep does
    assert cpu_affinity.plan("auto", ["factory", "transmission"]) is None


def test_no_plan_while_another_federation_runs_on_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_affinity, "_SHARED", False)
    monkeypatch.setattr(cpu_affinity, "usable_cores", lambda: [0, 1])
    wait_for_no_other_federation()
    assert cpu_affinity.plan("auto", ["factory", "transmission"]) is not None
    # another run's broker: a process named helics_broker. Popen returns once the program
    # is executed, so its name is there to see (a backgrounded shell's exec was a race).
    other = subprocess.Popen(["helics_broker", "60"], executable=shutil.which("sleep"))
    try:
        assert cpu_affinity.other_federations()
        assert cpu_affinity.plan("auto", ["factory", "transmission"]) is None
    finally:
        other.kill()
        other.wait()
    assert cpu_affinity.plan("auto", ["factory", "transmission"]) is not None


def test_the_parent_shim_pins_the_program_before_it_starts() -> None:
    core = max(os.sched_getaffinity(0))
    show = [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"]
    shim = [sys.executable, "-m", "federates.common.parent", str(os.getpid())]
    out = subprocess.run(
        [*shim, "--cpus", str(core), "--", *show], capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.strip() == f"[{core}]", out.stderr
    free = subprocess.run([*shim, "--", *show], capture_output=True, text=True, cwd=ROOT)
    assert free.stdout.strip() == str(sorted(os.sched_getaffinity(0)))


def test_a_pool_worker_keeps_every_process_of_its_runs_on_its_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpu_affinity, "_SHARED", True)  # a pool's task, as execute_run says
    monkeypatch.setattr(cpu_affinity, "_KEPT", [3])  # keep_runs_on([3]) in the worker
    names = ["factory", "transmission", "distribution"]
    assert cpu_affinity.plan("auto", names) == {n: [3] for n in ("broker", *names)}
    assert cpu_affinity.plan("off", names) is None
    # keep_runs_on pins the worker itself (its threads and children inherit it)
    core = max(os.sched_getaffinity(0))
    code = (
        "import os; from cosim.engine import cpu_affinity as c; "
        f"c.keep_runs_on([{core}]); print(sorted(os.sched_getaffinity(0)), c.plan('auto', ['f']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == f"[{core}] {{'broker': [{core}], 'f': [{core}]}}", out.stderr


def test_a_pool_gives_its_workers_a_core_each_only_where_there_are_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cosim.studies.run_pool import worker_cores

    monkeypatch.setattr(cpu_affinity, "usable_cores", lambda: [2, 5, 7])
    monkeypatch.setattr(cpu_affinity, "other_federations", lambda: False)
    assert worker_cores(2) == [2, 5]
    assert worker_cores(3) == [2, 5, 7]
    assert worker_cores(4) is None  # more workers than cores: they share them
    assert worker_cores(1) is None  # one worker: nothing to keep apart
    monkeypatch.setattr(cpu_affinity, "other_federations", lambda: True)
    assert worker_cores(2) is None  # another federation's processes would not keep out
