"""The vectorised kernel against the engine's own state derivatives and current injections."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest

from federates.dynamics.cases import load_case
from federates.dynamics.config import BusFaultConfig, LineFaultConfig
from federates.dynamics.kernel import Kernel, unsupported
from federates.dynamics.model import DynamicGrid

CASES = [("kundur", "B7", 300.0), ("ieee39", "16", 200.0)]


def _tops_injections(grid: DynamicGrid, x: np.ndarray) -> np.ndarray:
    i_inj = np.zeros(len(grid.bus_names), dtype=complex)
    for mdl in grid.ps.mdl_instructions["current_injections"]:
        idx, i_mdl = mdl.current_injections(x, None)
        np.add.at(i_inj, idx, i_mdl)
    return i_inj


def _perturbed(grid: DynamicGrid, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random states and voltages around the operating point, with limiters driven active."""
    ps = grid.ps
    x = ps.x_0 * (1 + 0.05 * rng.standard_normal(ps.n_states))
    x += 0.02 * rng.standard_normal(ps.n_states)
    n_bus = len(grid.v0)
    v = grid.v0 * (1 + 0.1 * rng.standard_normal(n_bus)) * np.exp(0.2j * rng.standard_normal(n_bus))
    side = rng.integers(0, 3, size=64)  # 0 below the lower limit, 1 above the upper, 2 free
    for blk, lo, hi in (
        (ps.avr["SEXS"].time_constant_lim, "V_min", "V_max"),
        (ps.gov["TGOV1"].time_constant_lim, "V_min", "V_max"),
    ):
        idx = blk.state_idx_global["x"]
        s = side[: len(idx)]
        x[idx[s == 0]] = blk.par[lo][s == 0] - rng.uniform(0.0, 0.3, (s == 0).sum())
        x[idx[s == 1]] = blk.par[hi][s == 1] + rng.uniform(0.0, 0.3, (s == 1).sum())
        rng.shuffle(side)
    stab = ps.pss["STAB1"]
    idx = stab.lead_lag_2.state_idx_global["x"]
    # lead-lag output (T_2 u - x) / T_4: a state of +/- 3 H_lim T_4 drives it past the limit
    x[idx] = 3.0 * stab.par["H_lim"] * stab.par["T_4"] * rng.choice([-1.0, 1.0], len(idx))
    return x, v


@pytest.mark.parametrize(("case", "bus", "p_mw"), CASES)
def test_kernel_equals_the_engine_on_random_states(case, bus, p_mw):
    grid = DynamicGrid(load_case(case), bus, p_site0_mw=p_mw, q_site0_mvar=30.0)
    assert grid.kernel is not None
    ps, rng = grid.ps, np.random.default_rng(15)
    clamped = at_limit = 0
    worst_dx = worst_i = 0.0
    for _ in range(20):
        x, v = _perturbed(grid, rng)
        dx_tops = ps.state_derivatives(0.0, x, v)
        dx = grid.kernel.derivatives(x, v)
        worst_dx = max(worst_dx, np.max(np.abs(dx - dx_tops) / np.maximum(1.0, np.abs(dx_tops))))
        i_tops = _tops_injections(grid, x)
        worst_i = max(worst_i, np.max(np.abs(grid.kernel.injections(x) - i_tops)))
        for blk in (ps.avr["SEXS"].time_constant_lim, ps.gov["TGOV1"].time_constant_lim):
            clamped += int(np.sum(dx_tops[blk.state_idx_global["x"]] == 0.0))
        out = ps.pss["STAB1"].output(x, v)
        at_limit += int(np.sum(np.abs(out) == ps.pss["STAB1"].par["H_lim"]))
    assert worst_dx < 1e-10 and worst_i < 1e-10
    assert clamped > 5 and at_limit > 20  # the limiters were exercised, not only free states


@pytest.mark.parametrize(("case", "bus", "p_mw"), CASES)
def test_kernel_at_the_operating_point(case, bus, p_mw):
    grid = DynamicGrid(load_case(case), bus, p_site0_mw=p_mw, q_site0_mvar=30.0)
    x, v = grid.ps.x_0, grid.v0
    dx_tops = grid.ps.state_derivatives(0.0, x, v)
    assert np.abs(grid.kernel.derivatives(x, v) - dx_tops).max() < 1e-10
    assert np.abs(grid.kernel.injections(x) - _tops_injections(grid, x)).max() < 1e-10


def test_kernel_without_stabilisers_and_governors():
    """Machines without a controller keep their initial inputs, as in the engine."""
    data = copy.deepcopy(load_case("kundur"))
    del data["pss"]
    gov = data["gov"]["TGOV1"]
    data["gov"]["TGOV1"] = gov[:3]  # two of four machines governed
    grid = DynamicGrid(data, "B7", p_site0_mw=100.0)
    assert grid.kernel is not None
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = grid.ps.x_0 + 0.02 * rng.standard_normal(grid.ps.n_states)
        dx_tops = grid.ps.state_derivatives(0.0, x, grid.v0)
        assert np.abs(grid.kernel.derivatives(x, grid.v0) - dx_tops).max() < 1e-10


@pytest.mark.parametrize(
    "fault",
    [
        BusFaultConfig(bus="B7", start_s=1.0, clear_s=1.15, x_pu=1e-4),
        LineFaultConfig(line="L7-8-1", start_s=0.5, clear_s=0.6, reclose_s=1.2),
    ],
)
def test_fault_trajectory_equals_the_engine_path(fault):
    """5 s with a fault: the kernel and the engine's own functions give the same run."""
    runs = []
    for use_kernel in (True, False):
        grid = DynamicGrid(
            load_case("kundur"),
            "B7",
            p_site0_mw=400.0,
            q_site0_mvar=50.0,
            faults=[fault],
            use_kernel=use_kernel,
        )
        assert (grid.kernel is not None) == use_kernel
        t = 0.02 * np.arange(1, 251)
        p = 400.0 + 50.0 * np.sign(np.sin(np.pi * t))
        runs.append(grid.run_block(t, p, np.full_like(t, 50.0)))
    fast, ref = runs
    assert np.ptp(ref.speed_dev_hz) > 0.01  # the fault shook the machines
    for name in ("speed_dev_hz", "angle_deg", "poi_vm_pu", "p_site_mw", "branch_p_mw"):
        a, b = getattr(fast, name), getattr(ref, name)
        assert np.abs(a - b).max() <= 1e-8 * max(1.0, np.abs(b).max()), name


def test_unsupported_model_falls_back_to_the_engine(caplog):
    """A case with an exciter the kernel lacks (SEXS_PI) runs on the engine's functions."""
    data = copy.deepcopy(load_case("kundur"))
    rows = data["avr"].pop("SEXS")
    data["avr"]["SEXS_PI"] = [[*rows[0], "K_p", "K_i", "T_ext"]] + [
        [*r, 1.0, 0.1, 1.0] for r in rows[1:]
    ]
    with caplog.at_level(logging.INFO, logger="federates.dynamics.model"):
        grid = DynamicGrid(data, "B7", p_site0_mw=100.0)
    assert grid.kernel is None
    assert unsupported(grid.ps) == "avr:SEXS_PI"
    assert "avr:SEXS_PI" in caplog.text
    with pytest.raises(ValueError, match="SEXS_PI"):
        Kernel(grid.ps)
    t = np.array([0.5, 1.0])
    r = grid.run_block(t, np.full(2, 100.0), np.zeros(2))
    assert np.abs(r.speed_dev_hz).max() < 1e-6  # still starts in equilibrium
