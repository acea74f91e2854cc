"""Helpers for tests that run real federations (real helics_broker, one process per federate)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest


def run_processes(run_dir: Path) -> list[psutil.Process]:
    """Live processes that belong to the run in ``run_dir`` (federates and broker)."""
    key = str(run_dir)
    found = []
    for p in psutil.process_iter(["cmdline", "cwd", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(p.info["cmdline"] or [])
            if key in cmd or (
                p.info["cwd"] == key and ("helics_broker" in cmd or "federates" in cmd)
            ):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def federate_of(run_dir: Path, name: str) -> psutil.Process | None:
    """The live process of federate ``name`` of a run, or ``None``.

    A new process names its config on its command line; a fork of a warm process
    (``cosim.engine.warm_start``) has its server's command line, and is known by the log it
    writes (``logs/<name>.log`` on its standard output).
    """
    log = str(run_dir / "logs" / f"{name}.log")
    for p in run_processes(run_dir):
        try:
            if f"configs/{name}.json" in " ".join(p.cmdline()) or any(
                f.path == log for f in p.open_files()
            ):
                return p
        except psutil.Error:
            continue
    return None


def wait_for_no_other_federation(timeout_s: float = 60.0) -> None:
    """Poll until no federate or broker of another run is left (a lone run then pins its cores).

    AssertionError after ``timeout_s``: a run of an earlier test, or of the machine's user, is
    still there.
    """
    from cosim.engine.cpu_affinity import other_federations

    deadline = time.monotonic() + timeout_s
    while other_federations():
        if time.monotonic() > deadline:
            raise AssertionError(f"another federation still runs after {timeout_s:g} s")
        time.sleep(0.1)


@pytest.fixture
def short_case() -> list[str]:
    """Overrides that make the default case a short run."""
    return ["horizon.duration_s=20", "outputs.report=false"]
