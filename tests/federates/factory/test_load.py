"""Load model: training spectrum, jobs, inference, GPU smoothing, cooling, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import welch

from federates.factory.config import (
    BessConfig,
    ControlsConfig,
    CoolingConfig,
    FactoryConfig,
    GpuSmoothingConfig,
    InferenceConfig,
    TrainingConfig,
    TrainingJob,
)
from federates.factory.cooling import Cooling
from federates.factory.load import ItLoad
from federates.factory.site import FactorySite

QUIET_INFERENCE = InferenceConfig(noise_fraction=0.0, burst_rate_per_h=0.0, diurnal_amplitude=0.0)


def band_fraction(x: np.ndarray, dt_s: float, lo: float = 0.2, hi: float = 3.0) -> float:
    f, pxx = welch(x - x.mean(), fs=1.0 / dt_s, nperseg=min(len(x), 8192))
    m = (f >= lo) & (f <= hi)
    return float(pxx[m].sum() / pxx[f > 0].sum())


def site_series(
    factory: FactoryConfig, seconds: int, dt_s: float = 0.02, seed: int = 0
) -> dict[str, np.ndarray]:
    site = FactorySite(factory, BessConfig(enabled=False), ControlsConfig(), seed=seed, dt_s=dt_s)
    rows = [site.advance(float(k), float(k + 1), 1.0, 60.0).hr for k in range(seconds)]
    return {c: np.concatenate([r[c] for r in rows]) for c in rows[0]}


def test_default_training_profile_energy_in_0p2_3hz() -> None:
    """Published figure (arXiv 2508.14318): training power concentrated in 0.2-3 Hz."""
    hr = site_series(FactoryConfig(), 600)
    assert band_fraction(hr["p_site_mw"], 0.02) > 0.5
    assert band_fraction(hr["p_mw"], 0.02) > 0.5  # no BESS: the POI sees it all


def test_default_swing_and_average() -> None:
    load = ItLoad(FactoryConfig(inference=QUIET_INFERENCE), seed=0, dt_s=0.01)
    tr = load.window(0, 20_000, "training")  # 200 s
    job_mw = 250 * 0.7
    # GPU swing 0.8 x (1 - 0.35) x 175 MW = 91 MW (the ~90 MW swing the default BESS covers)
    assert tr.max() - tr.min() == pytest.approx(0.8 * 0.65 * job_mw, rel=1e-6)
    # mean level: 70 % compute + 30 % trough, edges symmetric
    mean_gpu_level = 0.7 + 0.3 * 0.35
    assert tr.mean() == pytest.approx(job_mw * (0.2 + 0.8 * mean_gpu_level), rel=0.01)


def test_load_is_a_function_of_absolute_time() -> None:
    """Same seed: identical steps whatever the interval split; other seed: different."""
    cfg = FactoryConfig()
    a = FactorySite(cfg, BessConfig(enabled=False), ControlsConfig(), seed=5, dt_s=0.05)
    b = FactorySite(cfg, BessConfig(enabled=False), ControlsConfig(), seed=5, dt_s=0.05)
    ra = [a.advance(float(k), float(k + 1), 1.0, 60.0).hr for k in range(30)]
    edges = np.round(
        np.concatenate(
            [np.arange(0, 10, 0.25), np.arange(10, 10.5, 0.01), np.arange(10.5, 30, 0.5)]
        ),
        9,
    )
    rb = [
        b.advance(float(s), float(e), 1.0, 60.0).hr
        for s, e in zip(edges, np.append(edges[1:], 30.0), strict=True)
    ]
    ta, pa = np.concatenate([r["t_s"] for r in ra]), np.concatenate([r["p_it_mw"] for r in ra])
    tb, pb = np.concatenate([r["t_s"] for r in rb]), np.concatenate([r["p_it_mw"] for r in rb])
    common = np.isin(np.round(tb, 9), np.round(ta, 9))
    assert np.array_equal(pb[common], pa[np.isin(np.round(ta, 9), np.round(tb, 9))])
    c = FactorySite(cfg, BessConfig(enabled=False), ControlsConfig(), seed=6, dt_s=0.05)
    rc = [c.advance(float(k), float(k + 1), 1.0, 60.0).hr for k in range(30)]
    assert not np.array_equal(np.concatenate([r["p_it_mw"] for r in rc]), pa)


def test_job_start_ramp_and_stop() -> None:
    job = TrainingJob(
        start_s=10.0, start_ramp_s=1.0, stop_s=40.0, stop_ramp_s=0.5, jitter_fraction=0.0
    )
    cfg = FactoryConfig(training_share=1.0, training=TrainingConfig(jobs=[job]))
    load = ItLoad(cfg, seed=0, dt_s=0.01)
    t = np.arange(6000) * 0.01
    tr = load.window(0, 6000, "training")
    idle = 250 * (0.2 + 0.8 * 0.1)
    assert tr[t < 10].max() == pytest.approx(idle)
    assert tr[(t >= 11.0) & (t < 40)].max() == pytest.approx(250.0)  # 0 -> 100 % within 1 s
    assert tr[t >= 40.5].max() == pytest.approx(idle)


def test_failures_are_seeded_and_restart() -> None:
    job = TrainingJob(mtbf_h=0.02, restart_s=30.0, checkpoint_duration_s=0.0)
    cfg = FactoryConfig(training=TrainingConfig(jobs=[job]), inference=QUIET_INFERENCE)
    runs = [ItLoad(cfg, seed=s, dt_s=0.1).window(0, 36_000, "training") for s in (1, 1, 2)]
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    jm = 175.0
    idle = jm * (0.2 + 0.8 * 0.1)
    down = np.mean(np.isclose(runs[0], idle))
    assert 0.05 < down < 0.9  # mtbf 72 s, 30 s down: a good share of time idle, not all of it


def test_checkpoint_level() -> None:
    job = TrainingJob(
        checkpoint_interval_s=100.0, checkpoint_duration_s=20.0, checkpoint_fraction=0.15
    )
    cfg = FactoryConfig(training=TrainingConfig(jobs=[job]), inference=QUIET_INFERENCE)
    tr = ItLoad(cfg, seed=0, dt_s=0.05).window(0, 4000, "training")
    t = np.arange(4000) * 0.05
    inside = (t >= 101) & (t < 119)
    assert tr[inside] == pytest.approx(np.full(inside.sum(), 175 * (0.2 + 0.8 * 0.15)))
    assert tr[(t > 50) & (t < 100)].max() == pytest.approx(175.0)


def test_lockstep_vs_independent_jobs() -> None:
    jobs = [TrainingJob(name="a", share=0.5), TrainingJob(name="b", share=0.5)]
    swing = {}
    for sync in ("lockstep", "independent"):
        cfg = FactoryConfig(
            training=TrainingConfig(jobs=jobs, sync=sync), inference=QUIET_INFERENCE
        )
        tr = ItLoad(cfg, seed=3, dt_s=0.02).window(0, 30_000, "training")
        swing[sync] = float(np.std(tr))
    # in lock-step the two halves add coherently; desynchronised they partly cancel
    assert swing["independent"] < 0.9 * swing["lockstep"]


def test_inference_diurnal() -> None:
    inf = InferenceConfig(noise_fraction=0.0, burst_rate_per_h=0.0, peak_hour=14.0)
    cfg = FactoryConfig(training_share=0.0, inference=inf)
    load = ItLoad(cfg, seed=0, dt_s=1.0, chunk_s=3600.0)
    day = load.window(0, 86_400)
    hours = np.arange(86_400) / 3600.0
    assert day[np.argmax(day)] == pytest.approx(250.0)
    assert hours[np.argmax(day)] == pytest.approx(14.0, abs=0.01)
    assert day.min() == pytest.approx(250 * 0.8 * 0.75)


def test_inference_noise_and_bursts_are_seeded() -> None:
    cfg = FactoryConfig(training_share=0.0)
    a = ItLoad(cfg, seed=9, dt_s=0.1).window(0, 36_000)
    b = ItLoad(cfg, seed=9, dt_s=0.1).window(0, 36_000)
    assert np.array_equal(a, b)
    assert a.min() >= 0.0 and a.max() <= 250.0 + 1e-9
    assert np.std(np.diff(a)) > 0


def test_gpu_smoothing_reduces_swing() -> None:
    base = FactoryConfig(inference=QUIET_INFERENCE)
    smooth = base.model_copy(
        update={"gpu_smoothing": GpuSmoothingConfig(enabled=True, floor_fraction=0.7)}
    )
    raw = ItLoad(base, seed=0, dt_s=0.02).window(0, 15_000, "training")
    sm = ItLoad(smooth, seed=0, dt_s=0.02).window(0, 15_000, "training")
    assert np.ptp(sm[1000:]) < 0.6 * np.ptp(raw[1000:])
    assert sm.mean() >= raw.mean() - 1e-9  # the floor burns energy, never saves it
    # the grid-side GPU draw never falls faster than the ramp-down limit
    gpu_mw = 175 * 0.8
    assert np.diff(sm).min() >= -0.5 * gpu_mw * 0.02 - 1e-9


def test_cooling_first_order_lag_hand_computed() -> None:
    c = Cooling(CoolingConfig(fraction=0.2, tau_s=600.0))
    a = np.array([0.0])
    c.advance(0.0, 1.0, 100.0, a, a + 1.0, [])  # settles at 100 MW of IT heat
    for k in range(600):
        c.advance(1.0 + k, 2.0 + k, 200.0, a + 1 + k, a + 2 + k, [])
    assert c.heat_mw == pytest.approx(200.0 - 100.0 * math.exp(-1.0), rel=1e-9)


def test_chiller_restart_after_trip() -> None:
    c = Cooling(CoolingConfig(fraction=0.2, chiller_restart_s=360.0, restart_ramp_s=60.0))
    one = np.array([0.0])
    cool, gate = c.advance(0.0, 1.0, 100.0, one, one + 1, [("trip", 0.5)])
    assert gate[0] == pytest.approx(0.5)
    cool, gate = c.advance(1.0, 2.0, 100.0, one + 1, one + 2, [("return", 1.0)])
    assert gate[0] == 0.0
    t = 2.0
    seen = []
    while t < 500:
        cool, gate = c.advance(t, t + 1, 100.0, one + t, one + t + 1, [])
        seen.append((t, 1.0 if gate is None else float(gate[0])))
        t += 1
    g = dict(seen)
    assert g[360.0] == 0.0 and g[390.0] == pytest.approx((390.5 - 361.0) / 60) and g[430.0] == 1.0


def test_pue_and_racks() -> None:
    cfg = FactoryConfig(racks=2000, kw_per_rack=125.0)
    assert cfg.it_peak_mw == pytest.approx(250.0)
    assert cfg.aux_mw == pytest.approx((1.2 - 1 - 0.175) * 250)
    with pytest.raises(ValueError, match="disagrees"):
        FactoryConfig(racks=2000, kw_per_rack=125.0, it_mw=300.0)
    with pytest.raises(ValueError, match="pue"):
        FactoryConfig(pue=1.1)
    # steady state at constant peak IT: site = PUE x IT
    steady = FactoryConfig(
        training_share=0.0,
        inference=InferenceConfig(
            mean_fraction=1.0, diurnal_amplitude=0.0, noise_fraction=0.0, burst_rate_per_h=0.0
        ),
    )
    hr = site_series(steady, 5, dt_s=0.1)
    assert hr["p_site_mw"] == pytest.approx(np.full(50, 300.0))
