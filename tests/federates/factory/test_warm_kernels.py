"""Importing federates.factory.warm_kernels (a study's fork server preload) loads the kernels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

KERNELS = (
    "federates.factory.kernels.lpf_ramp",
    "federates.factory.kernels.feedforward_step",
    "federates.factory.kernels.extremes",
    "federates.factory.kernels.free_run",
)


def test_the_import_loads_every_kernel_a_factory_step_calls_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Each kernel is loaded once by the import, and a site with other settings (a block of
    a minute, a sag, more steps) then needs no other signature of them."""
    code = f"""
import importlib, os, sys
import numpy as np
sys.path.insert(0, {str(ROOT)!r})
def loaded():
    out = []
    for path in {KERNELS!r}:
        mod, name = path.rsplit(".", 1)
        out.append(len(getattr(importlib.import_module(mod), name).signatures))
    return out
before = loaded()
import federates.factory.warm_kernels
after = loaded()
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.factory.federate import FactoryAdapter
from federates.factory.site import FactorySite
site = FactorySite(FactoryConfig(it_mw=80.0), BessConfig(p_mw=30.0, e_mwh=30.0), ControlsConfig(),
                   seed=3, dt_s=0.05)
adapter = FactoryAdapter(site, "vm", "f", True)
t = np.arange(60.0)
vm = np.where((t > 20) & (t < 23), 0.85, 1.0)
adapter.step_block(t, t + 1.0, {{"vm": vm, "f": np.full(60, 60.0)}}, 0)
adapter.step(60.0, 61.0, {{"vm": 1.0, "f": 59.9}}, 0)
print(before, after, loaded(), os.listdir("."))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    zeros, ones = [0] * len(KERNELS), [1] * len(KERNELS)
    assert out.stdout.strip() == f"{zeros} {ones} {ones} []"  # nothing written in the directory
