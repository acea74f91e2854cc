"""Issue 16: a sweep's worker forks its federates from a warm process (cosim.engine.warm_start).

The forks must give the same results as new processes, and be supervised as they are: named
with their signal when killed, taken down with their worker. Every wait polls with a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psutil
import pytest

from federates.common.watch import STOP_FLUSH_S, STOP_LEAVE_S
from tests.integration.conftest import run_processes, wait_for_no_other_federation
from tests.integration.test_supervision import (
    federate_process,
    info,
    poll,
    progress_s,
    rows,
    survivors,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FEDERATES = ("factory", "transmission")


def start_sweep(out: Path, *sets: str) -> subprocess.Popen:
    """``cosim sweep`` of the default case, one run (seed 3), one worker."""
    cmd = [sys.executable, "-m", "cosim.cli", "sweep", "ieee118_factory", "--grid", "seed=3"]
    cmd += ["-o", str(out), "--workers", "1", "-q", "--no-plots"]
    for s in sets:
        cmd += ["--set", s]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV
    )


def run_ok(cmd: list[str]) -> None:
    """Run ``cmd`` from the repository to its end; it must succeed."""
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=300)
    assert out.returncode == 0, out.stderr


def sweep_run_dir(out: Path) -> Path:
    """The directory of the sweep's (only) run, once its federates have started."""

    def find() -> Path | None:
        found = list(out.glob("runs/*/logs/transmission.progress"))
        return found[0].parents[1] if found else None

    return poll("the sweep's run to start", find)  # type: ignore[return-value]


def wait_stepping(run_dir: Path, t_min_s: float = 20.0) -> None:
    poll(
        f"every federate past t = {t_min_s:g} s",
        lambda: all(progress_s(run_dir, n) >= t_min_s for n in FEDERATES),
    )


def finish(proc: subprocess.Popen, out: Path, timeout_s: float = 120.0) -> str:
    """Wait for (or stop) a sweep; kill what is left of its run; return its stderr."""
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    for run_dir in out.glob("runs/*"):
        for p in run_processes(run_dir):
            with contextlib.suppress(psutil.Error):
                p.kill()
    return err


def test_warm_federates_give_the_results_of_new_processes(tmp_path: Path) -> None:
    """A sweep's worker and ``cosim run`` fork warm; ``run_case`` from a script starts new ones."""
    sweep = start_sweep(tmp_path / "sweep", "horizon.duration_s=300")
    err = finish(sweep, tmp_path / "sweep")
    assert sweep.returncode == 0, err
    in_sweep, by_cli, by_script = (
        sweep_run_dir(tmp_path / "sweep"),
        tmp_path / "cli",
        tmp_path / "new",
    )
    wait_for_no_other_federation()  # a lone run pins its cores
    overrides = ["seed=3", "horizon.duration_s=300"]
    sets = [arg for o in overrides for arg in ("--set", o)]
    cmd = [sys.executable, "-m", "cosim.cli", "run", "ieee118_factory", "-o", str(by_cli)]
    run_ok([*cmd, "-q", "--no-report", *sets])
    script = (
        "from cosim.engine.runner import run_case\n"
        f"run_case('ieee118_factory', {str(by_script)!r}, {overrides!r}, report=False)\n"
    )
    run_ok([sys.executable, "-c", script])
    runs = {
        d: json.loads((d / "summary.json").read_text())["run"]
        for d in (in_sweep, by_cli, by_script)
    }
    assert [runs[d]["warm_start"] for d in (in_sweep, by_cli, by_script)] == [True, True, False]
    # a lone run pins its processes (2 cores here), forked or new; a sweep's runs share the cores
    cores = sorted(os.sched_getaffinity(0))
    pinned = {"broker": cores[:1], "factory": cores[:1], "transmission": cores[1:2]}
    assert runs[by_cli]["cpu_affinity"] == pinned and runs[by_script]["cpu_affinity"] == pinned
    assert runs[in_sweep]["cpu_affinity"] is None
    for name in FEDERATES:
        new = pd.read_parquet(by_script / "timeseries" / f"{name}.parquet")
        assert len(new) == 300, name
        for warm in (in_sweep, by_cli):
            got = pd.read_parquet(warm / "timeseries" / f"{name}.parquet")
            pd.testing.assert_frame_equal(got, new, check_exact=True)
            # the fork wrote its own log, as a new process does
            assert f"federate {name} done" in (warm / "logs" / f"{name}.log").read_text()


def stepping_sweep(out: Path) -> tuple[subprocess.Popen, Path, psutil.Process]:
    """A sweep of one 24 h run, its federates past 20 s: the sweep, the run, its transmission."""
    sweep = start_sweep(out, "horizon.duration_s=86400")
    try:
        run_dir = sweep_run_dir(out)
        wait_stepping(run_dir)
        return sweep, run_dir, federate_process(run_dir, "transmission")
    except BaseException:
        finish(sweep, out, 1)
        raise


def test_a_killed_warm_federate_is_named_with_its_signal(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    sweep, run_dir, victim = stepping_sweep(out)
    try:
        assert victim.parent().pid != sweep.pid  # a fork, not a child of the sweep
        victim.kill()
    finally:
        err = finish(sweep, out)
    assert sweep.returncode == 1, err
    run = json.loads((run_dir / "summary.json").read_text())["run"]
    assert run["warm_start"] is True
    assert run["failed"] == "transmission" and run["reason"] == "killed by SIGKILL", run
    poll("no process of the run left", lambda: run_processes(run_dir) == [], 15)


def test_sigkill_of_a_sweep_worker_takes_its_warm_federation_down(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    sweep, run_dir, transmission = stepping_sweep(out)
    try:
        # the sweep's one fork server: the worker and its federates are its forks
        server = transmission.parent()
        assert server.parent().pid == sweep.pid
        broker = next(p for p in run_processes(run_dir) if "helics_broker" in p.name())
        worker = broker.parent()  # the worker starts the broker
        assert worker.pid != sweep.pid and worker.parent().pid == server.pid
        worker.kill()
        try:
            # the federates' own deadline after SIGTERM bounds this wait
            poll(
                "the federation to die with its worker",
                lambda: not run_processes(run_dir),
                STOP_FLUSH_S + STOP_LEAVE_S + 10.0,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {survivors(run_dir)}") from None
    finally:
        finish(sweep, out, 60)
    poll("the fork server to leave with its sweep", lambda: not server.is_running(), 15)
    for name in FEDERATES:  # SIGTERM through the lifeline: they still flush
        assert info(run_dir, name)["status"] == "stopped", name
        assert rows(run_dir, name) == info(run_dir, name)["steps"] >= 20, name


def test_a_pool_of_two_keeps_each_worker_and_its_runs_on_a_core_of_its_own(
    tmp_path: Path,
) -> None:
    """Two workers on (at least) 2 cores: every process of a run on its worker's one core."""
    wait_for_no_other_federation()  # with another federation there, the workers share
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "cosim.cli", "sweep", "ieee118_factory", "--grid", "seed=1,2,3"]
    cmd += ["-o", str(out), "--workers", "2", "-q", "--no-plots"]
    run_ok([*cmd, "--set", "horizon.duration_s=120", "--set", "outputs.report=false"])
    runs = [json.loads(f.read_text())["run"] for f in sorted(out.glob("runs/*/summary.json"))]
    assert len(runs) == 3 and all(r["warm_start"] for r in runs)
    core_of: dict[int, list[int]] = {}
    for r in runs:
        pinned = r["cpu_affinity"]
        assert set(pinned) == {"broker", *FEDERATES}, r
        (core,) = {tuple(c) for c in pinned.values()}  # one core for the whole run
        assert len(core) == 1
        assert core_of.setdefault(r["host_pid"], list(core)) == list(core)  # the worker's
    assert len(core_of) == 2, "both workers ran"  # 3 runs of seconds each, 2 workers
    assert sorted(c for (c,) in core_of.values()) == sorted(os.sched_getaffinity(0))[:2]
