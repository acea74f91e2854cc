"""Importing federates.grid.warm_kernels (the fork server's last preload) loads the kernels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

KERNELS = (
    "federates.grid.nr_static._newton",
    "federates.grid.nr_static._jacobian",
    "federates.grid.nr_static._injections",
    "federates.grid.pf_steady._steady",
    "federates.grid.batch._loadings",
    "federates.grid.pf_results._bus_results",
    "federates.grid.pf_predict._continue",
    "federates.grid.pf_predict._secant_step",
    "federates.grid.pf_predict._change",
)


def test_the_import_loads_every_kernel_a_transmission_step_calls_and_writes_nothing(
    tmp_path: Path,
) -> None:
    code = f"""
import importlib, os, sys
sys.path.insert(0, {str(ROOT)!r})
def loaded():
    out = []
    for path in {KERNELS!r}:
        mod, name = path.rsplit(".", 1)
        out.append(len(getattr(importlib.import_module(mod), name).signatures))
    return out
before = loaded()
import federates.grid.warm_kernels
print(before, loaded(), os.listdir("."))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    zeros, ones = [0] * len(KERNELS), [1] * len(KERNELS)
    assert out.stdout.strip() == f"{zeros} {ones} []"  # nothing written in the directory
