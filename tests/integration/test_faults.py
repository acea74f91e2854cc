"""Faults: a killed or crashing federate ends the run fast, names it, leaves nothing, keeps data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cosim import load_results
from cosim.case import load_case
from cosim.engine.build import build
from cosim.engine.supervisor import supervise
from federates.common.recorder import read_arrow_stream
from tests.integration.conftest import federate_of, run_processes

pytestmark = pytest.mark.integration


def _wait_for_progress(run_dir: Path, name: str, t_min_s: float, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    f = run_dir / "logs" / f"{name}.progress"
    while time.monotonic() < deadline:
        try:
            if float(f.read_text()) >= t_min_s:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{name} made no progress to {t_min_s} s")


FEDS = ("factory", "transmission")


def _flushed_rows(run_dir: Path, name: str) -> int:
    """Rows of a running federate's series already on disk (its Arrow stream)."""
    path = run_dir / "timeseries" / f"{name}.arrow"
    return read_arrow_stream(path).num_rows if path.is_file() else 0


def _federate_process(run_dir: Path, name: str) -> psutil.Process:
    p = federate_of(run_dir, name)
    if p is None:
        raise AssertionError(f"no {name} process")
    return p


def test_kill_9_of_transmission_mid_run(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cosim.cli",
            "run",
            "ieee118_factory",
            "-o",
            str(out),
            "-q",
            "--no-report",
            "--set",
            "horizon.duration_s=86400",  # still running once rows are on disk
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_progress(out, "transmission", 30.0)
        # rows reach the disk every 0.25 s of wall time: wait until some have
        deadline = time.monotonic() + 60.0
        while min((flushed := {n: _flushed_rows(out, n) for n in FEDS}).values()) < 25:
            assert time.monotonic() < deadline, f"no rows on disk: {flushed}"
            time.sleep(0.05)
        victim = _federate_process(out, "transmission")
        t_kill = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=10)
        elapsed = time.monotonic() - t_kill
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert elapsed < 10.0
    assert "federate 'transmission' failed: killed by SIGKILL" in stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 15.0  # the survivors leave within the stop's grace
    while run_processes(out) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run_processes(out) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert summary["run"]["failed"] == "transmission"
    r = load_results(out)
    fac, tr = r.frame("factory"), r.frame("transmission")
    # every step flushed before the kill reads back
    assert len(tr) >= flushed["transmission"] and len(fac) >= flushed["factory"]
    assert tr["t_s"].is_monotonic_increasing and tr["t_s"].iloc[-1] < 3600
    assert not list((out / "timeseries").glob("*.arrow"))


def test_federate_that_raises_at_start_up(tmp_path: Path) -> None:
    case = load_case("ieee118_factory", ["horizon.duration_s=30"])
    b = build(case, tmp_path / "crash")
    cfg_path = b.configs["transmission"]
    cfg = json.loads(cfg_path.read_text())
    cfg["cosim"]["adapter"] = "federates.grid.no_such_module:make"
    cfg_path.write_text(json.dumps(cfg))
    t0 = time.monotonic()
    outcome = supervise(b, 30.0)
    assert time.monotonic() - t0 < 20.0  # includes the interpreters' start-up
    assert outcome.status == "failed"
    assert outcome.failed == "transmission"
    assert (
        outcome.reason
        == "ModuleNotFoundError: No module named 'federates.grid.no_such_module' (exited with "
        "code 1)"
    )
    assert "No module named 'federates.grid.no_such_module'" in outcome.log_tail
    assert run_processes(b.dir) == []


def test_wall_clock_limit_stops_the_run(tmp_path: Path) -> None:
    from cosim.engine.runner import run_case
    from cosim.errors import RunError

    with pytest.raises(RunError, match="wall-clock limit"):
        run_case(
            "ieee118_factory",
            tmp_path / "slow",
            # 24 h: well over 6 s of wall time (the default case's hour now runs in about 5 s)
            {"run.wall_limit_s": 6, "outputs.report": False, "horizon.duration_s": 86400.0},
        )
    assert run_processes(tmp_path / "slow") == []
    assert json.loads((tmp_path / "slow" / "summary.json").read_text())["status"] == "failed"


def test_a_federate_that_loses_its_broker_says_so_in_its_info(tmp_path: Path) -> None:
    """Started by hand, no supervisor stops it: the broker's loss is the federate's own failure.

    Its info names it (it once held only the step count) and its flushed series read back.
    """
    import pyarrow.parquet as pq

    case = load_case("ieee118_factory", ["horizon.duration_s=86400", "outputs.report=false"])
    b = build(case, tmp_path / "lost")
    for path in b.configs.values():  # HELICS declares the broker lost in 3 s, not 30 s
        config = json.loads(path.read_text())
        init = config.get("coreInitString", "--federates=1")
        config["coreInitString"] = f"{init} --tick=200ms --timeout=2s"
        path.write_text(json.dumps(config))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": b.dir}
    broker = subprocess.Popen(b.broker_cmd, **quiet)
    feds = {name: subprocess.Popen(b.federate_cmd(name), **quiet) for name in b.configs}
    try:
        for name in feds:
            _wait_for_progress(b.dir, name, 20.0)
        broker.kill()
        codes = {name: p.wait(timeout=120) for name, p in feds.items()}  # HELICS's own timeout
    finally:
        for p in [broker, *feds.values()]:
            p.kill()
            p.wait()
    for name, code in codes.items():
        assert code == 1, name
        info = json.loads((b.dir / "timeseries" / f"{name}.info.json").read_text())
        assert info["status"] == "failed", info
        assert info["reason"].startswith("HelicsException"), info
        rows = pq.ParquetFile(b.dir / "timeseries" / f"{name}.parquet").metadata.num_rows
        assert rows == info["steps"] > 0, name
