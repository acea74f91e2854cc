"""Issue 12: sockets on loopback, the broker found without PATH, supervision that never orphans a
federation, names a hung federate, lets survivors flush, and reports signals truthfully.

Every wait polls with a deadline (no fixed sleeps), so that the tests hold on a loaded 2-core
machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.integration.conftest import run_processes

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FEDERATES = ("factory", "transmission")


def poll(what: str, check: Callable[[], object], timeout_s: float = 120.0) -> object:
    """``check()`` once it is truthy; AssertionError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def progress_s(run_dir: Path, name: str) -> float:
    try:
        return float((run_dir / "logs" / f"{name}.progress").read_text())
    except (OSError, ValueError):
        return -1.0


def start_cosim(
    out: Path, *args: str, env: dict[str, str] | None = None, case: str = "ieee118_factory"
) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cosim.cli", "run", case, "-o", str(out), "-q", "--no-report"]
    return subprocess.Popen(
        [*cmd, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env or {**os.environ, "PYTHONPATH": str(ROOT)},
    )


def federate_process(run_dir: Path, name: str) -> psutil.Process:
    def find() -> psutil.Process | None:
        for p in run_processes(run_dir):
            if f"configs/{name}.json" in " ".join(p.cmdline()):
                return p
        return None

    return poll(f"the {name} process", find)  # type: ignore[return-value]


def broker_process(run_dir: Path) -> psutil.Process:
    def find() -> psutil.Process | None:
        for p in run_processes(run_dir):
            if "helics_broker" in " ".join(p.cmdline()):
                return p
        return None

    return poll("the broker process", find)  # type: ignore[return-value]


def stop(proc: subprocess.Popen, out: Path) -> str:
    """Kill what is left of a run; return its stderr."""
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=30)
    for p in run_processes(out):
        p.kill()
    return err


def test_every_socket_is_on_loopback_and_the_broker_needs_no_path(tmp_path: Path) -> None:
    out = tmp_path / "sockets"
    # no virtualenv bin, no pyenv shims: helics_broker comes from the helics package
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = start_cosim(out, "--set", "horizon.duration_s=600", env=env)
    try:
        poll("every federate stepping", lambda: all(progress_s(out, n) > 0 for n in FEDERATES))
        listening: dict[int, list[tuple[str, int]]] = {}
        for p in run_processes(out):
            try:
                conns = p.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                continue
            listening[p.pid] = [
                (c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN
            ]
        sockets = [s for v in listening.values() for s in v]
        assert len(sockets) >= 1 + len(FEDERATES), listening  # the broker and every core
        assert {ip for ip, _ in sockets} == {"127.0.0.1"}, listening
    finally:
        err = stop(proc, out)
    assert "FileNotFoundError" not in err
