"""A federation whose broker and federates are started separately (as on several machines), on
loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from cosim.case import load_case
from cosim.engine.build import free_port
from cosim.engine.distributed import federate_names, parse_broker_address, run_single_federate
from cosim.engine.results import load_results
from cosim.engine.runner import run_case
from cosim.errors import CosimError, UsageError
from tests.integration.conftest import run_processes

CASE_TOML = 'name = "mm"\nseed = 3\n[horizon]\nduration_s = 10\n[factory]\npoi_bus = 11\n'
COSIM = [sys.executable, "-m", "cosim.cli"]


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    p = tmp_path / "mm.toml"
    p.write_text(CASE_TOML)
    return p


def test_parse_broker_address() -> None:
    assert parse_broker_address("tcp://10.0.0.5:23500") == ("10.0.0.5", 23500)
    assert parse_broker_address("broker-host:23500") == ("broker-host", 23500)
    for bad in ("tcp://10.0.0.5", "10.0.0.5:99999", "http://x:1", ""):
        with pytest.raises(CosimError, match="expected tcp://HOST:PORT"):
            parse_broker_address(bad)


def test_unknown_federate_name_is_a_one_line_error(case_file: Path, tmp_path: Path) -> None:
    with pytest.raises(
        CosimError,
        match=r"federate 'grid' is not part of case mm \(federates: factory, transmission\)",
    ):
        run_single_federate("grid", case_file, "tcp://127.0.0.1:1", tmp_path / "x")


def test_a_one_process_case_cannot_be_run_apart(case_file: Path, tmp_path: Path) -> None:
    """``run.one_process`` runs every federate in one process: a broker or a federate alone is
    a one-line error (exit 2) before any process starts."""
    together = tmp_path / "together.toml"
    together.write_text(CASE_TOML + "[run]\none_process = true\n")
    with pytest.raises(UsageError, match=r"^run.one_process = true runs every federate"):
        run_single_federate("factory", together, "tcp://127.0.0.1:1", tmp_path / "x")
    out = tmp_path / "b"
    cmd = [*COSIM, "run", str(case_file), "--broker-only", "-o", str(out)]
    r = subprocess.run([*cmd, "--set", "run.one_process=true"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: run.one_process = true runs every federate in one process on this machine; "
        "a broker or a federate alone needs run.one_process = false"
    ]
    assert not (out / "logs").exists()


@pytest.mark.integration
def test_broker_and_federates_started_separately_equal_a_normal_run(
    case_file: Path, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(1) as ex:
        normal = ex.submit(run_case, case_file, tmp_path / "normal", report=False)
        out = tmp_path / "split"
        port = free_port()
        procs: list[subprocess.Popen] = []
        try:
            broker = subprocess.Popen(
                [*COSIM, "broker", str(case_file), "--port", str(port), "-o", str(out)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            procs.append(broker)
            first = (
                broker.stdout.readline()
            )  # printed once the broker listens (and the build is written)
            assert first.startswith(f"broker listening at tcp://127.0.0.1:{port}"), (
                first + broker.stdout.read()
            )
            # the broker is bound to loopback only
            runner = json.loads((out / "runner.json").read_text())
            assert "--local_interface=127.0.0.1" in runner["federates"][0]["exec"]
            feds = {
                name: subprocess.Popen(
                    [
                        *COSIM,
                        "federate",
                        name,
                        "--case",
                        str(case_file),
                        "--broker",
                        f"tcp://127.0.0.1:{port}",
                        "-o",
                        str(out),
                        "-q",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
                for name in federate_names(load_case(case_file))
            }
            procs += feds.values()
            for name, p in feds.items():
                text, _ = p.communicate(timeout=240)
                assert p.returncode == 0, f"{name}:\n{text}"
            text, _ = broker.communicate(timeout=60)
            assert broker.returncode == 0, first + text
            assert f"run {out}: ok" in text
        finally:
            for p in procs:  # only ours, by process group
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
        ref = normal.result(timeout=240)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert summary["poi"]["p_max_mw"] == pytest.approx(ref.summary["poi"]["p_max_mw"], rel=0, abs=0)
    split = load_results(out)
    for name in ("factory", "factory_hr", "transmission"):
        pd.testing.assert_frame_equal(split.frame(name), ref.frame(name), check_exact=True)
    for name in ("broker", "factory", "transmission"):
        assert (out / "logs" / f"{name}.log").is_file()
    assert not run_processes(out)
