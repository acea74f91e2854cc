"""The HELICS interface keeps its promises to outside federates (real broker, helics_player).

* An outside federate that publishes the factory's power in kW, with unit "kW",
  is read in MW (HELICS converts scalar units but not vectors; the loop does).
* A required input that never receives a value fails the federate, naming it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cosim.case import load_case
from cosim.engine.build import build

pytestmark = pytest.mark.integration
DEADLINE_S = 180.0


def _federation(tmp_path: Path, points: str, keys: list[str]) -> tuple[int, Path]:
    """Broker + the transmission federate of the default case + helics_player as the factory."""
    case = load_case(
        "ieee118_factory",
        ["horizon.duration_s=5", "frequency.enabled=false", "horizon.sync_interval_s=1"],
    )
    b = build(case, tmp_path / "run")
    broker_cmd = [c if not c.startswith("--federates=") else "--federates=2" for c in b.broker_cmd]
    address = b.broker_address
    (tmp_path / "player.txt").write_text(points)
    (tmp_path / "player.json").write_text(
        json.dumps(
            {
                "publications": [
                    {"key": k, "type": "double", "unit": u, "global": True} for k, u in keys
                ]
            }
        )
    )
    log = tmp_path / "run" / "logs"
    log.mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen(
            broker_cmd, cwd=b.dir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        ),
        subprocess.Popen(
            [
                "helics_player",
                str(tmp_path / "player.txt"),
                f"--config-file={tmp_path / 'player.json'}",
                "--coretype=tcp",
                f"--brokeraddress={address}",
                "--name=outside_factory",
                "--stop=10s",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        ),
    ]
    with (log / "transmission.log").open("w") as out:
        fed = subprocess.Popen(
            [sys.executable, "-m", "federates.common.loop", str(b.configs["transmission"])],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + DEADLINE_S
        while fed.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # polling with a deadline
        for p in (fed, *procs):
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)
    return fed.returncode, b.dir


def test_an_outside_federate_publishing_kw_is_read_in_mw(tmp_path: Path) -> None:
    # HELICS time = case time + 1 s: 0 kW until case time 2 s, then 250,000 kW = 250 MW
    points = (
        "1.0 factory/p_mw 0\n1.0 factory/q_mvar 0\n"
        "3.0 factory/p_mw 250000\n3.0 factory/q_mvar 50000\n"
    )
    keys = [("factory/p_mw", "kW"), ("factory/q_mvar", "kvar")]
    code, run = _federation(tmp_path, points, keys)
    assert code == 0, (run / "logs" / "transmission.log").read_text()[-2000:]
    tr = pd.read_parquet(run / "timeseries" / "transmission.parquet")
    assert tr["converged"].all()
    slack = tr.set_index("t_s")["slack_p_mw"]
    added = slack[3.0] - slack[1.0]
    assert 240.0 < added < 275.0, added  # 250 MW plus its losses, not 250,000 MW


def test_a_required_input_that_never_receives_a_value_fails_and_is_named(tmp_path: Path) -> None:
    points = "1.0 factory/p_mw 0\n3.0 factory/p_mw 1000\n"  # never publishes factory/q_mvar
    keys = [("factory/p_mw", "kW"), ("factory/q_mvar", "kvar")]
    code, run = _federation(tmp_path, points, keys)
    log = (run / "logs" / "transmission.log").read_text()
    assert code != 0
    assert "MissingInputError" in log and "'factory/q_mvar' never received a value" in log
