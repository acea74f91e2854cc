"""The grid model over steps: recorded columns, non-convergence policies, OLTC and shunt control."""

from __future__ import annotations

import math
import warnings

import pytest

from federates.grid.config import EventConfig, OltcConfig, PoiTransformerConfig, ShuntBankConfig
from federates.grid.model import GridModel, NonConvergence, SolveOptions
from federates.grid.network import attach_factory, load_network

warnings.simplefilter("ignore")


def _model(policy: str = "stop", **kw) -> GridModel:
    net = load_network("case9")
    site = attach_factory(net, 4, 0.0, 0.0, kw.pop("poi_transformer", None))
    return GridModel(
        net, label="t", site=site, options=SolveOptions(on_nonconvergence=policy), **kw
    )


def test_columns_follow_the_results_layout() -> None:
    m = _model()
    cols = m.columns
    assert cols[:4] == ("poi_vm_pu", "site_vm_pu", "converged", "p_loss_mw")
    assert "vm_pu.4" in cols and "loading_percent.line.0" in cols
    r = m.step(0.0, 1.0, factory_pq=(50.0, 10.0))
    assert r.converged and len(r.values) == len(cols)
    assert r.values[cols.index("vm_pu.4")] == pytest.approx(r.poi_vm_pu)


@pytest.mark.parametrize("policy", ["stop", "hold", "continue"])
def test_nonconvergence_is_flagged_and_handled_by_policy(policy: str) -> None:
    m = _model(policy)
    ok = m.step(0.0, 1.0, factory_pq=(50.0, 10.0))
    if policy == "stop":
        with pytest.raises(NonConvergence, match="did not converge at t_s = 1 s"):
            m.step(1.0, 2.0, factory_pq=(50_000.0, 10_000.0))
        return
    bad = m.step(1.0, 2.0, factory_pq=(50_000.0, 10_000.0))
    i = m.columns.index("converged")
    assert bad.values[i] == 0.0 and not bad.converged
    assert bad.poi_vm_pu == ok.poi_vm_pu  # published value held either way
    vm = bad.values[m.columns.index("vm_pu.4")]
    assert (vm == ok.poi_vm_pu) if policy == "hold" else math.isnan(vm)
    assert m.summary()["nonconverged_steps"] == 1
    assert m.step(2.0, 3.0, factory_pq=(50.0, 10.0)).converged  # recovers


def test_oltc_and_shunt_bank_in_the_model() -> None:
    net = load_network("case9")
    site = attach_factory(net, 4, 0.0, 0.0, PoiTransformerConfig(sn_mva=200.0, vk_percent=15.0))
    m = GridModel(
        net,
        label="t",
        site=site,
        oltc=[OltcConfig(trafo="poi", delay_s=5.0, inter_tap_delay_s=2.0, deadband_pu=0.01)],
        shunts=[
            ShuntBankConfig(
                bus="site",
                q_step_mvar=10.0,
                steps=3,
                steps_on=0,
                v_low_pu=0.95,
                v_high_pu=1.05,
                delay_s=3.0,
            )
        ],
        named_trafos={"poi": site.trafo},
    )
    vs = [m.step(float(k), k + 1.0, factory_pq=(150.0, 60.0)).site_vm_pu for k in range(40)]
    s = m.summary()
    assert s["tap_ops_total"] >= 1 and s["shunt_ops"]["shunt.0"] >= 1
    assert (
        vs[-1] - vs[0] > 0.15
    )  # taps down (HV-side tap) and capacitor steps in: the site voltage recovers
    assert f"tap_pos.trafo.{site.trafo}" in m.columns


def test_events_outage_sag_and_load_step() -> None:
    net = load_network("case9")
    site = attach_factory(net, 4, 0.0, 0.0)
    evs = [
        EventConfig(kind="line_outage", t_s=1.0, duration_s=1.0, element=3),
        EventConfig(kind="sag", t_s=3.0, duration_s=0.1, vm_pu=0.4),
        EventConfig(kind="load_step", t_s=4.0, bus=6, delta_mw=80.0),
    ]
    m = GridModel(net, label="t", site=site, events=evs)
    r = [m.step(t, t + 1.0, factory_pq=(50.0, 10.0)) for t in (0.0, 1.0, 2.0, 3.0, 4.0)]
    li = m.columns.index("loading_percent.line.3")
    assert r[0].values[li] > 0 and r[1].values[li] == 0.0 and r[2].values[li] > 0
    assert r[3].poi_vm_pu == pytest.approx(0.4)
    assert r[4].values[m.columns.index("vm_pu.6")] < r[2].values[m.columns.index("vm_pu.6")]


def test_snapshots_let_a_step_be_solved_again() -> None:
    net = load_network("case9")
    site = attach_factory(net, 4, 0.0, 0.0, PoiTransformerConfig(sn_mva=200.0, vk_percent=15.0))
    m = GridModel(
        net,
        label="t",
        site=site,
        oltc=[OltcConfig(trafo="poi", delay_s=0.0, inter_tap_delay_s=0.0)],
        named_trafos={"poi": site.trafo},
    )
    m.begin_step(0.0)
    m.step(0.0, 1.0, factory_pq=(150.0, 60.0))
    moved = m.taps[0][1].tap_pos
    m.begin_step(0.0)  # the same step again (a T&D iteration): the tap is back where it started
    assert m.taps[0][1].tap_pos == 0 and net.trafo.at[site.trafo, "tap_pos"] == 0
    m.step(0.0, 1.0, factory_pq=(150.0, 60.0))
    assert m.taps[0][1].tap_pos == moved


def test_reactive_limit_switches_are_recorded_with_their_time() -> None:
    """A growing site at PGLib bus 59 drives generators to their limits; shrinking it releases
    them."""
    net = load_network("pglib_case118")
    site = attach_factory(net, 59, 0.0, 0.0)
    m = GridModel(net, label="t", site=site)
    assert {"loading_percent.impedance.0", "loading_percent.impedance.1"} <= set(m.columns)
    col = m.columns.index("gens_at_q_limit")
    counts = [
        m.step(t, t + 1.0, factory_pq=(p, 0.2 * p)).values[col] for t, p in enumerate((0, 700, 0))
    ]
    assert counts[1] > counts[0] and counts[2] == counts[0]
    reached = [e for e in m.q_limit_switches if e.t_s == 1.0]
    released = [e for e in m.q_limit_switches if e.t_s == 2.0]
    assert len(reached) >= counts[1] - counts[0] and all(e.side in ("max", "min") for e in reached)
    assert {e.gen for e in released} == {e.gen for e in reached} - {
        e.gen for e in m.q_limit_switches if e.t_s == 0.0
    }
    assert m.summary()["q_limit_switches"] == len(m.q_limit_switches)
