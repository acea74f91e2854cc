"""``run.one_process``: every federate as a thread of one process, on HELICS's in-process core.

The same results bit for bit as one process per federate; a federate that fails is still
named, the others stop and keep what they computed; a signal stops them all, flushed.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from cosim.case import load_case
from cosim.engine.build import build
from cosim.engine.runner import run_case
from cosim.engine.supervisor import supervise
from tests.integration.conftest import run_processes, wait_for_no_other_federation
from tests.integration.test_supervision import (
    assert_interrupted_and_flushed,
    poll,
    rows,
    start_cosim,
    stop,
    wait_stepping,
)

pytestmark = pytest.mark.integration

FEDERATES = ("factory", "transmission")
EVERY_STEP = {"horizon.duration_s": 900, "horizon.sync_interval_s": 1.0, "outputs.report": False}


def test_one_process_gives_the_same_results_bit_for_bit(tmp_path: Path) -> None:
    apart = run_case("ieee118_factory", tmp_path / "apart", EVERY_STEP)
    together = run_case(
        "ieee118_factory", tmp_path / "together", {**EVERY_STEP, "run.one_process": True}
    )
    for name in ("factory", "factory_hr", "transmission"):
        a, b = apart.frame(name), together.frame(name)
        assert len(a) > 0 and a.columns.equals(b.columns), name
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    # the summary too, but for the wall times and how the processes ran
    same = {k: v for k, v in apart.summary.items() if k not in ("wall_s", "run")}
    assert same == {k: v for k, v in together.summary.items() if k not in ("wall_s", "run")}
    # one process ran the federation: no broker process, the federates' cores in-process
    runner = json.loads((tmp_path / "together" / "runner.json").read_text())
    assert [f["name"] for f in runner["federates"]] == ["federation"]
    assert "federates.common.together" in runner["federates"][0]["exec"]
    for name in FEDERATES:
        cfg = json.loads((tmp_path / "together" / "configs" / f"{name}.json").read_text())
        assert cfg["coreType"] == "inproc" and "coreInitString" not in cfg
        assert (tmp_path / "together" / "logs" / f"{name}.exit").read_text().strip() == "0"
    assert together.summary["run"]["returncodes"] == {
        "federation": 0,
        "factory": 0,
        "transmission": 0,
    }


def test_one_process_gives_the_same_results_on_the_dynamic_grid(tmp_path: Path) -> None:
    """Kundur's dynamic grid at 20 ms (T&D iterations in one process: test_grid_federations)."""
    overrides = {"horizon.duration_s": 10.0, "outputs.report": False}
    apart = run_case("kundur_factory", tmp_path / "apart", overrides)
    together = run_case(
        "kundur_factory", tmp_path / "together", {**overrides, "run.one_process": True}
    )
    names = sorted(p.stem for p in (tmp_path / "apart" / "timeseries").glob("*.parquet"))
    assert len(names) >= 3
    for name in names:
        a, b = apart.frame(name), together.frame(name)
        assert len(a) > 0, name
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    same = {k: v for k, v in apart.summary.items() if k not in ("wall_s", "run")}
    assert same == {k: v for k, v in together.summary.items() if k not in ("wall_s", "run")}


def _failing(b: object, name: str, fail_at_s: float) -> None:
    path = b.configs[name]  # type: ignore[attr-defined]
    cfg = json.loads(path.read_text())
    cfg["cosim"]["wrapped"] = cfg["cosim"]["adapter"]
    cfg["cosim"]["adapter"] = "tests.integration.failing_adapter:make"
    cfg["cosim"]["fail_at_s"] = fail_at_s
    path.write_text(json.dumps(cfg))


def test_a_federate_failing_mid_run_is_named_and_the_others_keep_their_rows(
    tmp_path: Path,
) -> None:
    case = load_case(
        "ieee118_factory",
        ["horizon.duration_s=3600", "horizon.sync_interval_s=1", "run.one_process=true"],
    )
    b = build(case, tmp_path / "fail")
    _failing(b, "transmission", 300.0)
    outcome = supervise(b, 3600.0)
    assert outcome.status == "failed"
    assert outcome.failed == "transmission"
    assert outcome.fatal == "RuntimeError: injected failure at t = 300 s"
    assert outcome.reason == f"{outcome.fatal} (exited with code 1)"
    assert "injected failure" in outcome.log_tail  # its own log: the traceback
    assert "Traceback" not in (b.dir / "logs" / "factory.log").read_text()
    assert run_processes(b.dir) == []
    # each federate wrote its info, and its series on disk go as far as the info says
    ts = b.dir / "timeseries"
    tr = json.loads((ts / "transmission.info.json").read_text())
    fac = json.loads((ts / "factory.info.json").read_text())
    assert tr["status"] == "failed" and "injected failure" in tr["reason"]
    assert fac["status"] in ("stopped", "failed")
    assert rows(b.dir, "transmission") == tr["steps"] == 300
    assert rows(b.dir, "factory") == fac["steps"] >= 300


def _host(out: Path) -> psutil.Process:
    """The one process of a run's federation: new (its command line) or forked warm (its log)."""
    log = str(out / "logs" / "federation.log")
    found = []
    for p in run_processes(out):
        try:
            if "federates.common.together" in p.cmdline() or any(
                f.path == log for f in p.open_files()
            ):
                found.append(p)
        except psutil.Error:
            continue
    assert len(found) == 1, run_processes(out)  # one process runs the federation
    return found[0]


def test_a_signal_stops_every_federate_of_the_process_flushed(tmp_path: Path) -> None:
    out = tmp_path / "sig"
    wait_for_no_other_federation()  # a lone run pins its process to one core
    proc = start_cosim(out, "--set", "run.one_process=true", "--set", "horizon.duration_s=86400")
    try:
        wait_stepping(out)
        assert len(_host(out).cpu_affinity()) == 1  # on one core
        t_sig = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - t_sig
    finally:
        stop(proc, out)
    print(f"one process: cosim ended {elapsed:.1f} s after SIGTERM")
    assert_interrupted_and_flushed(proc, out, err)
    # `cosim run` forked the process from its warm server, as it forks a federate
    assert json.loads((out / "summary.json").read_text())["run"]["warm_start"] is True


def test_a_killed_process_is_named_and_every_federate_keeps_its_flushed_rows(
    tmp_path: Path,
) -> None:
    out = tmp_path / "killed"
    proc = start_cosim(out, "--set", "run.one_process=true", "--set", "horizon.duration_s=86400")
    try:
        wait_stepping(out)
        _host(out).kill()  # as a crash of native code would end it
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc, out)
    assert proc.returncode == 1, err
    assert "federate 'federation' failed: killed by SIGKILL" in err, err
    assert "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["failed"] == "federation"
    for name in FEDERATES:  # what reached the disk before the kill reads back
        assert rows(out, name) > 0, name


def test_a_frozen_process_is_named_hung(tmp_path: Path) -> None:
    """SIGSTOP of the one process stops every federate's heartbeat: the process is named."""
    import threading

    from cosim.errors import RunError

    out = tmp_path / "frozen"

    def freeze() -> None:
        wait_stepping(out)
        _host(out).suspend()

    threading.Thread(target=freeze, daemon=True).start()
    overrides = {**EVERY_STEP, "horizon.duration_s": 86400, "run.one_process": True}
    with pytest.raises(RunError) as exc:
        run_case("ieee118_factory", out, {**overrides, "run.hang_timeout_s": 6.0})
    assert (exc.value.cause, exc.value.federate) == ("hung", "federation")
    assert "no federate of it beats" in str(exc.value)
    poll("no process of the run left", lambda: run_processes(out) == [], 15)
