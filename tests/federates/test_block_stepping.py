"""A sync block in one call (``step_block``) gives the per-step path's results.

Factory: bit-identical (the same model calls). Transmission: the block's branch
loadings come from one sparse product over the block; they agree with the
per-step solves to 1e-9 (pu and %), also across tap / shunt moves and outages
inside a block.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from federates.common.block import block_inputs, record_columns
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.factory.federate import FactoryAdapter
from federates.factory.site import FactorySite
from federates.grid.config import EventConfig, OltcConfig, PoiTransformerConfig, ShuntBankConfig
from federates.grid.model import GridModel, SolveOptions
from federates.grid.network import attach_factory, load_network
from federates.grid.transmission import TransmissionAdapter

warnings.simplefilter("ignore")
TOL = 1e-9


def _factory() -> FactoryAdapter:
    site = FactorySite(FactoryConfig(), BessConfig(), ControlsConfig(), seed=3, dt_s=0.05)
    return FactoryAdapter(site, "transmission/site_vm_pu", None, True)


def test_factory_block_is_bit_identical_to_steps() -> None:
    t = np.arange(30.0)
    ends = t + 1.0
    vm = 1.0 + 0.01 * np.sin(t)
    a, b = _factory(), _factory()
    steps = [a.step(t[k], ends[k], {"transmission/site_vm_pu": vm[k]}, 0) for k in range(len(t))]
    out = b.step_block(t, ends, {"transmission/site_vm_pu": vm}, 0)
    for key in ("factory/p_mw", "factory/q_mvar"):
        assert np.array_equal(out.publish[key], [s.publish[key] for s in steps])
    cols = record_columns(out.record, t, None)
    assert list(cols)[:-1] == list(steps[0].record)
    for c in steps[0].record:
        assert np.array_equal(cols[c], [s.record[c] for s in steps], equal_nan=True), c
    for c in steps[0].block:
        assert np.array_equal(out.block[c], np.concatenate([s.block[c] for s in steps]))


def test_block_inputs_hold_or_align() -> None:
    vec = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([])}
    held = block_inputs(vec, 3, aligned=False)
    assert np.array_equal(held["a"], [3.0, 3.0, 3.0]) and np.isnan(held["b"]).all()
    assert np.array_equal(block_inputs(vec, 3, aligned=True)["a"], [1.0, 2.0, 3.0])


def _grid(controls: bool, events: list[EventConfig] | None = None) -> GridModel:
    net = load_network("pglib_case118")
    xfmr = PoiTransformerConfig() if controls else None
    site = attach_factory(net, 80, 0.0, 0.0, xfmr)
    kw = {}
    if controls:
        kw = {
            "oltc": [
                OltcConfig(trafo="poi", delay_s=3.0, inter_tap_delay_s=1.0, deadband_pu=0.002)
            ],
            "shunts": [
                ShuntBankConfig(
                    bus="site",
                    q_step_mvar=25.0,
                    steps=4,
                    steps_on=2,
                    v_low_pu=0.995,
                    v_high_pu=1.0,
                    delay_s=2.0,
                )
            ],
            "named_trafos": {"poi": site.trafo},
        }
    return GridModel(net, label="t", site=site, options=SolveOptions(), events=events or [], **kw)


@pytest.mark.parametrize(
    "controls,events",
    [
        (False, None),
        (True, None),
        (False, [EventConfig(kind="line_outage", element=5, t_s=17.0, duration_s=20.0)]),
    ],
    ids=["plain", "taps_and_shunts", "outage_inside_a_block"],
)
@pytest.mark.parametrize("size", [25, 1], ids=["blocks_of_25", "one_step_blocks"])
def test_transmission_block_agrees_with_steps(
    controls: bool, events: list | None, size: int
) -> None:
    n = 60
    t = np.arange(float(n))
    ends = t + 1.0
    rng = np.random.default_rng(1)
    p = np.where(np.arange(n) % 7 < 3, 300.0, 120.0) + rng.normal(0.0, 3.0, n)
    q = 0.2 * p
    one = TransmissionAdapter(
        _grid(controls, events), factory=True, feeder_bus=None, iterative=False
    )
    blk = TransmissionAdapter(
        _grid(controls, events), factory=True, feeder_bus=None, iterative=False
    )
    rows, pubs = [], []
    for k in range(n):
        o = one.step(t[k], ends[k], {"factory/p_mw": p[k], "factory/q_mvar": q[k]}, 0)
        rows.append(o.record.values)
        pubs.append(o.publish["transmission/site_vm_pu"])
    got, site = [], []
    for i0 in range(0, n, size):  # blocks of 25 steps, or every-step exchange's one-step blocks
        s = slice(i0, i0 + size)
        o = blk.step_block(t[s], ends[s], {"factory/p_mw": p[s], "factory/q_mvar": q[s]}, 0)
        cols, values = o.record
        assert cols == one.columns
        got.append(values)
        site.append(o.publish["transmission/site_vm_pu"])
    ref, got = np.vstack(rows), np.vstack(got)
    assert np.allclose(got, ref, rtol=0.0, atol=TOL, equal_nan=True)
    assert np.allclose(np.concatenate(site), pubs, rtol=0.0, atol=TOL)
    if controls:  # the controllers did act inside blocks
        tap = ref[:, one.columns.index(f"tap_pos.trafo.{one.model.taps[0][0]}")]
        steps_on = ref[:, [c.startswith("steps_on.") for c in one.columns]]
        assert len(np.unique(tap)) > 1 or len(np.unique(steps_on)) > 1
    assert not np.isnan(got[:, [c.startswith("loading_percent.line") for c in one.columns]]).all()
