"""The data-centre composite load: IT, motors, ZIP rest and filters under voltage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from federates.factory.composite import (
    MotorProtection,
    constant_power_share,
    filter_q_mvar,
    it_pq_share,
    motor_pq_share,
    zip_share,
)
from federates.factory.config import (
    BessConfig,
    CompositeLoadConfig,
    ControlsConfig,
    FactoryConfig,
)
from federates.factory.site import FactorySite

CFG = CompositeLoadConfig()


def test_constant_power_then_constant_current() -> None:
    assert constant_power_share(0.9, 0.7) == 1.0
    assert constant_power_share(0.35, 0.7) == pytest.approx(0.5)
    # ZIP at 0.5 pu: 0.4 x 0.25 + 0.3 x 0.5 + 0.3 x 0.5 / 0.7
    assert zip_share(0.5, CFG) == pytest.approx(0.1 + 0.15 + 0.3 * 0.5 / 0.7)
    assert zip_share(1.0, CFG) == pytest.approx(1.0)


def test_it_reactive_power_from_its_power_factor() -> None:
    p, q = it_pq_share(1.0, CFG)
    assert (p, q) == pytest.approx((1.0, math.tan(math.acos(0.99))))


def test_motor_reactive_demand_rises_as_voltage_falls_then_stall() -> None:
    tan_m = math.tan(math.acos(0.85))
    assert motor_pq_share(1.0, CFG) == pytest.approx((1.0, tan_m))
    p8, q8 = motor_pq_share(0.8, CFG)
    assert p8 == 1.0 and q8 == pytest.approx(tan_m * (0.6 * 0.64 + 0.4 / 0.64))
    assert q8 > tan_m  # the leakage part grows as 1 / V^2
    p, q = motor_pq_share(0.4, CFG)  # stalled: locked-rotor impedance, 5 pu at PF 0.3
    assert p == pytest.approx(5 * 0.16 * 0.3) and q == pytest.approx(5 * 0.16 * math.sqrt(0.91))


def test_filters_scale_with_voltage_squared() -> None:
    assert filter_q_mvar(1.0, 250.0, CFG) == pytest.approx(-10.0)
    assert filter_q_mvar(0.5, 250.0, CFG) == pytest.approx(-2.5)


def test_motor_contactors_trip_after_a_cycle_and_wait_for_voltage() -> None:
    mp = MotorProtection(CFG)
    assert mp.advance(0.0, 0.01, 0.4, True) == []
    assert mp.advance(0.01, 0.03, 0.4, True) == [("trip", pytest.approx(0.02))]
    assert mp.advance(0.03, 1.0, 0.8, True) == []  # not yet back above 0.9 pu
    assert mp.advance(1.0, 2.0, 0.95, False) == []  # the site is on backup: its return decides
    assert mp.advance(2.0, 3.0, 0.95, True) == [("return", 2.0)]


def _site(**composite: object) -> FactorySite:
    fac = FactoryConfig(composite=composite)
    return FactorySite(fac, BessConfig(enabled=False), ControlsConfig(), seed=0, dt_s=0.01)


def test_site_reactive_power_is_not_a_fixed_share_of_its_power() -> None:
    """Q comes from the parts: the Q/P ratio moves with the training swing and with V."""
    site = _site()
    out = site.advance(0.0, 4.0, 1.0, 60.0)
    p, q = out.hr["p_site_mw"], out.hr["q_mvar"]
    ratio = q / p
    assert np.ptp(ratio) > 0.005
    lo = site.advance(4.0, 4.01, 0.8, 60.0)
    hi = site.advance(4.01, 4.02, 1.0, 60.0)
    assert lo.q_mvar / lo.p_mw > hi.q_mvar / hi.p_mw  # motor demand up, filters down
    plain = _site(enabled=False).advance(0.0, 4.0, 1.0, 60.0)
    r = plain.hr["q_mvar"] / plain.hr["p_site_mw"]
    assert np.ptp(r) == pytest.approx(0.0, abs=1e-12)  # the older constant-PF model


@pytest.mark.parametrize("vm_pu", [0.25, 0.3, 0.4])
def test_deep_sag_the_site_draws_at_most_60_percent(vm_pu: float) -> None:
    site = _site()
    for k in range(30):
        site.advance(float(k), k + 1.0, 1.0, 60.0)
    before = site.advance(30.0, 30.01, 1.0, 60.0).p_mw
    during = site.advance(30.01, 30.04, vm_pu, 60.0)  # 30 ms: the UPS has not transferred
    assert during.record["on_backup"] == 0.0
    assert during.p_max_mw <= 0.6 * before


def test_motors_trip_in_a_sag_and_the_chillers_restart_late() -> None:
    site = _site()
    site.advance(0.0, 10.0, 1.0, 60.0)
    cool0 = site.advance(10.0, 11.0, 1.0, 60.0).record["p_cooling_mw"]
    site.advance(11.0, 11.04, 0.5, 60.0)  # 40 ms at 0.5 pu: contactors drop out, no UPS transfer
    after = site.advance(11.04, 12.0, 1.0, 60.0).record
    assert site.summary()["site.motor_trips"] == 1.0 and site.rt.transfers == 0
    assert after["p_cooling_mw"] == pytest.approx(0.0, abs=1e-9)
    t = 12.0
    restart = site.factory.cooling.chiller_restart_s
    while t < 11.04 + restart - 2:
        site.advance(t, t + 1.0, 1.0, 60.0)
        t += 1.0
    assert site.advance(t, t + 1.0, 1.0, 60.0).record["p_cooling_mw"] == pytest.approx(0.0)
    t += 1.0
    while t < 11.04 + restart + site.factory.cooling.restart_ramp_s + 1:
        out = site.advance(t, t + 1.0, 1.0, 60.0)
        t += 1.0
    ref = _site()  # no sag: the cooling heat kept following the IT load during the trip
    ref.advance(0.0, t - 1.0, 1.0, 60.0)
    assert out.record["p_cooling_mw"] == pytest.approx(
        ref.advance(t - 1.0, t, 1.0, 60.0).record["p_cooling_mw"], rel=1e-3
    )  # (the heat lag is exact per interval; the reference ran one long interval)
    assert cool0 > 0
