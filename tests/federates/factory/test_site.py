"""FactorySite: the contract the HELICS adapter relies on."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cosim.case import load_case
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.factory.site import FactorySite, IntervalOutput

CASES = Path(__file__).resolve().parents[3] / "cases"
RECORD_KEYS = {
    "p_site_mw",
    "q_site_mvar",
    "p_bess_mw",
    "q_bess_mvar",
    "soc",
    "on_backup",
    "clipped_mw",
    "p_setpoint_mw",
}
HR_KEYS = {"t_s", "p_site_mw", "p_bess_mw", "p_mw", "q_mvar", "soc", "on_backup"}


def new_site(seed: int = 1, dt_s: float = 0.05, **bess) -> FactorySite:
    return FactorySite(FactoryConfig(), BessConfig(**bess), ControlsConfig(), seed=seed, dt_s=dt_s)


def test_interval_output_contract() -> None:
    site = new_site()
    out = site.advance(0.0, 1.0, 1.0, 60.0)
    assert isinstance(out, IntervalOutput)
    assert set(out.record) >= RECORD_KEYS and set(out.hr) >= HR_KEYS
    n = len(out.hr["t_s"])
    assert n == 20 and all(len(v) == n for v in out.hr.values())
    assert out.hr["t_s"] == pytest.approx(np.arange(20) * 0.05)
    assert out.p_mw == pytest.approx(out.hr["p_mw"].mean())
    assert out.q_mvar == pytest.approx(out.hr["q_mvar"].mean())
    assert out.p_max_mw == pytest.approx(out.hr["p_mw"].max()) and out.p_min_mw == pytest.approx(
        out.hr["p_mw"].min()
    )
    assert out.record["p_site_mw"] + out.record["p_bess_mw"] == pytest.approx(out.p_mw)
    assert all(isinstance(v, float) for v in out.record.values())


def test_short_and_odd_intervals_keep_time() -> None:
    """10 ms event steps inside a 50 ms internal step, then back to 1 s, with no drift."""
    site = new_site()
    bounds = [0.0, 1.0, 1.01, 1.02, 1.03, 1.037, 1.5, 2.0, 3.0, 3.3333, 4.0]
    rows = [site.advance(a, b, 1.0, 60.0) for a, b in zip(bounds, bounds[1:], strict=False)]
    t = np.concatenate([r.hr["t_s"] for r in rows])
    assert np.all(np.diff(t) > 0)
    assert t[0] == 0.0
    # every step start is either an interval start or on the 50 ms grid
    on_grid = np.isclose(t / 0.05, np.round(t / 0.05), atol=1e-6)
    assert np.all(on_grid | np.isin(np.round(t, 9), np.round(bounds, 9)))
    after = rows[-1].hr["t_s"]
    assert after == pytest.approx(np.concatenate([[3.3333], np.arange(67, 80) * 0.05]))
    assert site.summary()["sim.t_s"] == pytest.approx(4.0)


def test_energy_ledger_matches_interval_means() -> None:
    site = new_site()
    bounds = np.round(
        np.concatenate(
            [np.arange(0, 30, 1.0), np.arange(30, 31, 0.01), np.arange(31, 60, 1.0), [60.0]]
        ),
        9,
    )
    energy = 0.0
    for a, b in zip(bounds, bounds[1:], strict=False):
        out = site.advance(float(a), float(b), 1.0, 60.0)
        energy += out.p_mw * (b - a) / 3600
        # the mean is the duration-weighted mean of the steps
        d = np.diff(np.append(out.hr["t_s"], b))
        assert out.p_mw == pytest.approx(float(np.dot(out.hr["p_mw"], d) / (b - a)))
    assert site.summary()["poi.energy_mwh"] == pytest.approx(energy)


def test_rerun_of_the_same_interval_is_identical() -> None:
    a, b = new_site(), new_site()
    for k in range(20):
        a.advance(float(k), k + 1.0, 1.0, 60.0)
        b.advance(float(k), k + 1.0, 1.0, 60.0)
    first = a.advance(20.0, 21.0, 0.97, 60.1)  # an iteration of the grid exchange...
    again = a.advance(20.0, 21.0, 0.99, 60.0)  # ...then the converged inputs
    ref = b.advance(20.0, 21.0, 0.99, 60.0)
    assert first.p_mw != again.p_mw
    assert again.p_mw == ref.p_mw and again.record == ref.record
    assert a.advance(21.0, 22.0, 1.0, 60.0).record == b.advance(21.0, 22.0, 1.0, 60.0).record
    assert a.summary() == b.summary()


def test_same_seed_same_output() -> None:
    outs = []
    for seed in (4, 4, 5):
        s = new_site(seed=seed)
        outs.append([s.advance(float(k), k + 1.0, 1.0, 60.0).p_mw for k in range(60)])
    assert outs[0] == outs[1] and outs[0] != outs[2]


def test_bad_calls() -> None:
    site = new_site()
    site.advance(0.0, 1.0, 1.0, 60.0)
    site.advance(1.0, 2.0, 1.0, 60.0)
    with pytest.raises(ValueError, match="backwards"):
        site.advance(0.5, 1.0, 1.0, 60.0)
    with pytest.raises(ValueError, match="empty interval"):
        site.advance(2.0, 2.0, 1.0, 60.0)
    with pytest.raises(ValueError, match="finite"):
        site.advance(2.0, 3.0, math.nan, 60.0)
    with pytest.raises(ValueError, match="dt_s"):
        new_site(dt_s=0.0)


def test_summary_keys() -> None:
    site = new_site()
    for k in range(120):
        site.advance(float(k), k + 1.0, 1.0, 60.0)
    s = site.summary()
    for key in (
        "bess.efc",
        "bess.throughput_mwh",
        "bess.soc_min",
        "bess.soc_max",
        "bess.rainflow_hist",
        "bess.energy_balance_error_mwh",
        "bess.clipped_mwh",
        "site.backup_transfers",
    ):
        assert key in s
    assert s["bess.soc_min"] <= s["bess.soc_max"]
    assert abs(s["bess.energy_balance_error_mwh"]) < 1e-9
    assert isinstance(s["bess.rainflow_hist"], list) and s["bess.rainflow_cycles"] > 10


def test_bess_energy_balance_over_24h_from_the_site() -> None:
    """24 h of the default site at 100 ms: integral of p_bess matches the SOC change."""
    site = FactorySite(FactoryConfig(), BessConfig(), ControlsConfig(), seed=2, dt_s=0.1)
    eta_c, eta_d = BessConfig().efficiencies
    stored = 0.0
    e0 = site.bess.e_mwh
    for k in range(0, 86_400, 10):
        out = site.advance(float(k), k + 10.0, 1.0, 60.0)
        p = out.hr["p_bess_mw"]
        stored += (eta_c * p[p > 0].sum() + (p[p < 0] / eta_d).sum()) * 0.1 / 3600
    stored -= site.bess.p_sd_mw * 24
    assert abs((site.bess.e_mwh - e0) - stored) < 1e-6
    s = site.summary()
    assert abs(s["bess.energy_balance_error_mwh"]) < 1e-6
    assert s["bess.soc_min"] >= 0.2 and s["bess.soc_max"] <= 0.8
    assert (
        abs(s["bess.soc_end"] - 0.55) <= 0.05
    )  # qualification test Q5: SOC drift within +/- 5 % over 24 h


@pytest.mark.parametrize("name", ["training_heavy", "inference_heavy", "trace_driven"])
def test_bundled_cases(name: str) -> None:
    case = load_case(CASES / f"{name}.toml")
    assert case.grid.network == "case118"
    site = FactorySite(
        case.factory,
        case.bess,
        case.controls,
        seed=case.seed,
        dt_s=case.horizon.factory_dt_s,
        base_dir=case.base_dir,
    )
    for k in range(20):
        out = site.advance(float(k), k + 1.0, 1.0, 60.0)
    assert out.p_mw > 0 and math.isfinite(out.q_mvar)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_starts_causally_in_the_steady_state_of_the_first_step(seed: int) -> None:
    """Before t = 0 the site sat at its first step's load: the POI starts there and the BESS
    starts idle (no knowledge of the future)."""
    site = new_site(seed=seed)
    out = site.advance(0.0, 1.0, 1.0, 60.0)
    assert out.hr["p_mw"][0] == pytest.approx(out.hr["p_site_mw"][0], abs=0.01)
    assert out.hr["p_bess_mw"][0] == pytest.approx(0.0, abs=0.01)


def test_initial_it_from_the_case() -> None:
    fac = FactoryConfig(initial_it_mw=200.0)
    site = FactorySite(fac, BessConfig(), ControlsConfig(), seed=1, dt_s=0.05)
    site.advance(0.0, 1.0, 1.0, 60.0)
    assert site.controls.r == pytest.approx(200.0 * (1 + fac.cooling.fraction) + fac.aux_mw, abs=1)


@pytest.mark.parametrize("dt_s", [0.01, 0.05])
def test_a_trace_that_starts_with_a_job_start_has_no_charge_spike(dt_s: float) -> None:
    """A job ramps 0 -> 100 % in 1 s from t = 0: the BESS holds the POI within its rating and
    never charges at the start (the filters used to start at the future minute's mean)."""
    fac = FactoryConfig(training={"jobs": [{"start_s": 0.0}]})
    site = FactorySite(fac, BessConfig(), ControlsConfig(), seed=3, dt_s=dt_s)
    outs = [site.advance(float(k), k + 1.0, 1.0, 60.0) for k in range(10)]
    p_b = np.concatenate([o.hr["p_bess_mw"] for o in outs])
    assert abs(p_b[0]) <= BessConfig().p_mw
    assert p_b[0] <= 1e-6  # no charge at t = 0
    assert p_b.max() <= 1.0  # and no charge spike while the job starts: the BESS discharges
    assert np.abs(p_b).max() <= BessConfig().overload_factor * BessConfig().p_mw + 1e-6


@pytest.mark.parametrize("mode", ["feedforward", "feedback"])
@pytest.mark.parametrize("grid_mode", ["grid_following", "grid_forming"])
def test_energy_balance_and_current_limit_through_sags(mode: str, grid_mode: str) -> None:
    """Ten minutes with a sag every 30 s (0.1-0.85 pu, 20-200 ms, seeded): the BESS ledger closes
    to 1e-6 MWh and |S| stays within V x s_mva x overload in every interval."""
    bess = BessConfig(control_mode=mode, grid_mode=grid_mode)
    site = FactorySite(FactoryConfig(), bess, ControlsConfig(), seed=5, dt_s=0.01)
    rng = np.random.default_rng(11)
    t = 0.0
    worst = 0.0
    while t < 600.0:
        out = site.advance(t, t + 1.0, 1.0, 60.0)
        t += 1.0
        if int(t) % 30 == 0:
            vm, dur = float(rng.uniform(0.1, 0.85)), float(rng.uniform(0.02, 0.2))
            out = site.advance(t, t + dur, vm, 60.0)
            s = math.hypot(out.record["p_bess_mw"], out.record["q_bess_mvar"])
            worst = max(worst, s / (vm * bess.s_mva * bess.overload_factor))
            site.advance(t + dur, t + 1.0, 1.0, 60.0)
            t += 1.0
    assert worst <= 1.0 + 1e-9
    assert abs(site.summary()["bess.energy_balance_error_mwh"]) < 1e-6
    assert site.summary()["bess.clipped_mwh"] > 0.0  # the limits refused something, on record
