"""BESS controls: smoothing (20 dB in 0.2-3 Hz), ramp limit, DR, droop, volt-var, caps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from federates.factory.config import (
    BessConfig,
    ControlsConfig,
    DampingConfig,
    DemandResponseCall,
    DemandResponseConfig,
    FactoryConfig,
    InferenceConfig,
    PeakCapConfig,
    SmoothingConfig,
    TrainingConfig,
    TrainingJob,
)
from federates.factory.controls import ControlChain
from federates.factory.site import FactorySite

RAMP_LIMIT_MW_PER_MIN = 20.0  # Southern Co (arXiv 2601.12686); the default case limit


def ideal_bess(**kw: object) -> BessConfig:
    """A BESS controller with no delay, continuous control and a 10 ms PCS lag: these tests are
    about the control chain; the controller as built is tested in test_response.py."""
    return BessConfig(**{"latency_s": 0.0, "control_period_s": 0.0, "response_tau_s": 0.01, **kw})


def simulate(
    factory: FactoryConfig,
    bess: BessConfig,
    controls: ControlsConfig,
    seconds: int,
    *,
    dt_s: float = 0.02,
    f_hz=lambda t: 60.0,
    vm_pu=lambda t: 1.0,
    seed: int = 0,
):
    site = FactorySite(factory, bess, controls, seed=seed, dt_s=dt_s)
    outs = [site.advance(float(k), float(k + 1), vm_pu(k), f_hz(k)) for k in range(seconds)]
    hr = {c: np.concatenate([o.hr[c] for o in outs]) for c in outs[0].hr}
    rec = {c: np.array([o.record[c] for o in outs]) for c in outs[0].record}
    return hr, rec, site


def band_power(x: np.ndarray, dt_s: float, lo: float = 0.2, hi: float = 3.0) -> float:
    f, pxx = welch(x - x.mean(), fs=1.0 / dt_s, nperseg=4096)
    return float(pxx[(f >= lo) & (f <= hi)].sum())


def max_ramp_mw_per_min(p_1s: np.ndarray) -> float:
    """Largest change of the 1 s mean POI power over any 60 s [MW/min]."""
    return float(np.abs(p_1s[60:] - p_1s[:-60]).max())


@pytest.mark.parametrize("dt_s", [0.02, 0.05])
def test_default_bess_smoothing_cuts_the_band_20db_and_holds_the_ramp(dt_s: float) -> None:
    """Default training profile, 100 MW / 100 MWh BESS, smoothing on, incl. a checkpoint."""
    seconds = 2400  # covers the checkpoint at 30 min
    hr, rec, site = simulate(FactoryConfig(), ideal_bess(), ControlsConfig(), seconds, dt_s=dt_s)
    site_band = band_power(hr["p_site_mw"], dt_s)
    poi_band = band_power(hr["p_mw"], dt_s)
    assert 10 * np.log10(poi_band / site_band) <= -20.0
    assert max_ramp_mw_per_min(rec["p_mw"]) <= RAMP_LIMIT_MW_PER_MIN
    assert site.summary()["bess.clipped_mwh"] == pytest.approx(0.0, abs=1e-9)
    # the baseline: no BESS, no attenuation, and the ramp limit is broken
    hr0, rec0, _ = simulate(
        FactoryConfig(), ideal_bess(enabled=False), ControlsConfig(), seconds, dt_s=dt_s
    )
    assert band_power(hr0["p_mw"], dt_s) == pytest.approx(band_power(hr0["p_site_mw"], dt_s))
    assert max_ramp_mw_per_min(rec0["p_mw"]) > RAMP_LIMIT_MW_PER_MIN


def test_poi_equals_site_plus_bess_at_every_step() -> None:
    hr, rec, _ = simulate(FactoryConfig(), ideal_bess(), ControlsConfig(), 60)
    assert hr["p_mw"] == pytest.approx(hr["p_site_mw"] + hr["p_bess_mw"], abs=1e-9)
    assert rec["p_mw"] == pytest.approx(rec["p_site_mw"] + rec["p_bess_mw"], abs=1e-9)


def test_ramp_limit_hand_computed() -> None:
    """A 100 MW job start under a pure ramp limit: the POI rises at 0.9 x 20 MW/min."""
    job = TrainingJob(
        start_s=30.0,
        start_ramp_s=0.5,
        trough_fraction=1.0,
        checkpoint_duration_s=0.0,
        idle_fraction=0.0,
    )
    fac = FactoryConfig(
        it_mw=100.0,
        training_share=1.0,
        pue=1.175,
        training=TrainingConfig(jobs=[job], gpu_fraction=1.0),
        inference=InferenceConfig(noise_fraction=0.0, burst_rate_per_h=0.0),
    )
    ctl = ControlsConfig(smoothing=False, soc_restore=False, volt_var=False)
    hr, rec, _ = simulate(fac, ideal_bess(response_tau_s=0.0), ctl, 120, dt_s=0.05)
    t, p = hr["t_s"], hr["p_mw"]
    rate = 0.9 * 20.0 / 60.0
    rising = (t > 31.0) & (t < 110.0)
    slope = np.diff(p[rising]) / 0.05
    assert slope == pytest.approx(np.full(len(slope), rate), rel=1e-6)


@pytest.mark.parametrize(("speed", "limit_s"), [("fast", 2.0), ("slow", 60.0)])
@pytest.mark.parametrize(("resource", "bess_on"), [("load", False), ("bess", True), ("both", True)])
def test_demand_response_reaches_target_in_time(
    speed: str, limit_s: float, resource: str, bess_on: bool
) -> None:
    call = DemandResponseCall(
        t_s=100.0, notice_s=30.0, duration_s=300.0, reduction=0.3, speed=speed, resource=resource
    )
    ctl = ControlsConfig(demand_response=DemandResponseConfig(calls=[call]))
    # 150 MW: the causal start leaves the baseline a few MW under the settled mean, and the
    # training peaks then ask a 100 MW BESS for more than its overload budget holds
    bess = ideal_bess(enabled=bess_on, p_mw=150.0, s_mva=165.0)
    hr, rec, site = simulate(FactoryConfig(), bess, ctl, 500, dt_s=0.05)
    base, target = site.controls.dr._targets[0]
    assert target == pytest.approx(0.7 * base)
    t, p = hr["t_s"], hr["p_mw"]
    start = 130.0
    before = (t >= start - 30) & (t < start)
    assert p[before].mean() > base * 0.95  # nothing happens during the notice
    held = (t >= start + limit_s) & (t < start + 300.0)
    assert p[held].max() <= target + 0.005 * base  # at target within the response time
    assert (
        p[(t >= start) & (t < start + 0.5 * limit_s)].max() > target + 0.05 * base
    )  # and not at once


def test_frequency_watt_droop_within_1s() -> None:
    fac = FactoryConfig(inference=InferenceConfig(noise_fraction=0.0, burst_rate_per_h=0.0))
    ctl = ControlsConfig(soc_restore=False)
    f = lambda t: 60.5 if t >= 60 else 60.0  # noqa: E731
    hr, rec, site = simulate(fac, ideal_bess(response_tau_s=0.05), ctl, 70, f_hz=f)
    droop = (0.5 - 0.036) / 60.0 / 0.05 * 100.0
    assert site.controls.droop(60.5) == pytest.approx(droop)
    assert site.controls.droop(59.97) == 0.0
    jump = rec["p_setpoint_mw"][61] - rec["p_setpoint_mw"][59]
    assert jump == pytest.approx(droop, abs=1.0)
    t = hr["t_s"]
    y = hr["p_mw"]
    # the BESS has delivered the droop 1 s after the step (tau 50 ms)
    assert y[(t >= 61.0) & (t < 62)].mean() - y[(t >= 58) & (t < 59)].mean() == pytest.approx(
        droop, abs=1.0
    )


@pytest.mark.parametrize(
    ("vm", "q_frac"),
    [(0.90, -0.44), (0.95, -0.44 * 0.5), (1.0, 0.0), (1.05, 0.44 * 0.5), (1.10, 0.44)],
)
def test_volt_var(vm: float, q_frac: float) -> None:
    chain = ControlChain(ControlsConfig(), ideal_bess(), dt_s=0.05)
    assert chain.q_request(vm) == pytest.approx(q_frac * 110.0)
    hr, rec, _ = simulate(FactoryConfig(), ideal_bess(), ControlsConfig(), 5, vm_pu=lambda t: vm)
    assert rec["q_bess_mvar"][-1] == pytest.approx(q_frac * 110.0, abs=1e-6)
    assert rec["q_mvar"] == pytest.approx(rec["q_site_mvar"] + rec["q_bess_mvar"])


def test_peak_cap() -> None:
    ctl = ControlsConfig(
        peak_cap=PeakCapConfig(enabled=True, limit_mw=220.0), smoothing=False, ramp_limit=False
    )
    hr, _, _ = simulate(FactoryConfig(), ideal_bess(response_tau_s=0.0), ctl, 120)
    assert hr["p_site_mw"].max() > 260.0
    assert hr["p_mw"].max() <= 220.0 + 1e-6
    # with the default 10 ms lag the cap overshoots only briefly at the load edges
    _, rec, _ = simulate(FactoryConfig(), ideal_bess(), ctl, 120)
    assert rec["p_mw"].max() <= 220.0 + 1.0


def test_band_damping_alone() -> None:
    ctl = ControlsConfig(smoothing=False, ramp_limit=False, damping=DampingConfig(enabled=True))
    hr, _, _ = simulate(FactoryConfig(), ideal_bess(response_tau_s=0.0), ctl, 600)
    assert 10 * np.log10(band_power(hr["p_mw"], 0.02) / band_power(hr["p_site_mw"], 0.02)) < -6.0


def test_soc_restoration_pulls_toward_rest() -> None:
    fac = FactoryConfig(
        training_share=0.0, inference=InferenceConfig(noise_fraction=0.0, burst_rate_per_h=0.0)
    )
    ctl = ControlsConfig(smoothing=SmoothingConfig(tau_s=5.0))
    hr, rec, _ = simulate(fac, ideal_bess(soc_init=0.75), ctl, 1200, dt_s=0.1)
    # 10 MW (10 % of rating) of discharge while (0.55 - 0.75) x 100 MWh / 0.5 h asks for more
    assert rec["soc"][-1] < 0.75 - 0.03
    assert rec["p_bess_mw"][-600:].mean() == pytest.approx(-10.0, abs=0.5)


def test_baseline_has_no_bess() -> None:
    hr, rec, site = simulate(FactoryConfig(), ideal_bess(enabled=False), ControlsConfig(), 10)
    assert np.all(hr["p_bess_mw"] == 0.0) and np.all(hr["p_mw"] == hr["p_site_mw"])
    assert np.isnan(rec["soc"]).all()
    assert site.summary()["bess.efc"] == 0.0


def test_volt_var_reaches_90_percent_in_its_response_time() -> None:
    chain = ControlChain(ControlsConfig(), ideal_bess(), dt_s=0.05)
    assert chain.q_response(1.0, 1.0) == 0.0  # starts on the curve
    qs = [
        chain.q_response(1.10, 0.5) for _ in range(20)
    ]  # 10 s at 0.5 s steps after a step to 1.10 pu
    target = 0.44 * 110.0
    assert qs[9] == pytest.approx(
        0.9 * target, rel=1e-9
    )  # 5 s: IEEE 1547-2018 default open-loop response time
    assert qs[0] < 0.3 * target and qs[-1] == pytest.approx(0.99 * target, rel=1e-9)


@pytest.mark.parametrize(("t90_s", "stable"), [(0.0, False), (5.0, True)])
def test_volt_var_lag_keeps_a_weak_grid_loop_stable(t90_s: float, stable: bool) -> None:
    """POI voltage sampled every 1 s on a 750 MVA grid (dV/dQ = 1/750 pu per Mvar): the curve's
    slope (0.44 x 110 Mvar over 0.04 pu) times dV/dQ is 1.6, so an instantaneous response oscillates
    and grows; the 5 s response time damps it."""
    cfg = ControlsConfig(volt_var={"response_time_s": t90_s})
    chain = ControlChain(cfg, ideal_bess(), dt_s=0.05)
    v0, dv_dq = 1.04, 1.0 / 750.0  # without the BESS's Q the POI sits at 1.04 pu
    q = chain.q_response(v0, 1.0)
    swings = []
    for _ in range(60):
        v = v0 - dv_dq * q  # absorbing Q (load convention, > 0) lowers the voltage
        q = chain.q_response(v, 1.0)
        swings.append(v)
    late = np.ptp(swings[-10:])
    assert bool(late < 1e-4) is stable


def test_q_smoothing_makes_the_poi_q_the_low_pass_of_the_site_q() -> None:
    """The BESS carries the site's Q swing: interval-mean POI Q moves like a 60 s low-pass."""
    cfg = ControlsConfig(q_smoothing={"enabled": True}, volt_var={"enabled": False})
    _, rec, _ = simulate(FactoryConfig(), ideal_bess(), cfg, 300)
    _, ref, _ = simulate(
        FactoryConfig(), ideal_bess(), ControlsConfig(volt_var={"enabled": False}), 300
    )
    q_poi, q_site = np.asarray(rec["q_mvar"]), np.asarray(rec["q_site_mvar"])
    assert np.allclose(q_poi, np.asarray(rec["q_site_mvar"]) + np.asarray(rec["q_bess_mvar"]))
    step = np.max(np.abs(np.diff(q_poi)))
    assert np.max(np.abs(np.diff(q_site))) > 5.0  # the training swing's Q
    assert step < 0.1 * np.max(np.abs(np.diff(q_site)))
    assert (
        np.max(np.abs(np.diff(np.asarray(ref["q_mvar"])))) > 5.0
    )  # without it, the POI sees the swing
    assert abs(q_poi.mean() - q_site.mean()) < 0.05 * abs(q_site.mean())  # no bias: it only smooths


def test_q_smoothing_is_off_by_default_and_without_a_bess() -> None:
    assert not ControlsConfig().q_smoothing.enabled
    chain = ControlChain(
        ControlsConfig(q_smoothing={"enabled": True}), ideal_bess(enabled=False), dt_s=0.05
    )
    assert chain.q_smooth(50.0, 1.0) == 0.0
