"""Helpers for tests that run real federations (real helics_broker, one process per federate)."""

from __future__ import annotations

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


@pytest.fixture
def short_case() -> list[str]:
    """Overrides that make the default case a short run."""
    return ["horizon.duration_s=20", "outputs.report=false"]
