"""The factory's fast paths give, bit for bit, what the general code gives.

Each shortcut of the per-grid-step hot path is run here against the slower code it
stands for, on the same inputs: equality is exact (``array_equal``), not approximate.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np
import pytest

from federates.common.block import PartialBlock
from federates.factory.bess import Bess
from federates.factory.bess_control import (
    BessControlLoop,
    held_means,
    piecewise_constant_means,
)
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.factory.controls import ControlChain
from federates.factory.cooling import Cooling
from federates.factory.federate import FactoryAdapter
from federates.factory.site import FactorySite

VM_KEY = "transmission/site_vm_pu"
F_KEY = "transmission/f_hz"


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def _same_rows(a: dict, b: dict) -> bool:
    """Same keys, and the same values bit for bit (NaN included)."""
    return list(a) == list(b) and all(
        _bits_equal(np.asarray(a[k], dtype=float), np.asarray(b[k], dtype=float)) for k in a
    )


def _held_cases(rng: np.random.Generator, n_cases: int):
    """Knots, values and steps as the controller makes them, and irregular ones."""
    for i in range(n_cases):
        n = int(rng.integers(1, 30))
        if i % 3 == 0:  # the controller's: control instants over aligned steps
            t0 = float(rng.uniform(0, 1e5))
            dt = float(rng.choice([0.01, 0.02, 0.05, 0.1]))
            p = float(rng.choice([0.01, 0.02, 0.03, 0.05]))
            a = t0 + np.arange(n) * dt
            b = a + dt
            b[-1] = t0 + n * dt
            c0, c1 = math.ceil((a[0] - p) / p - 1e-9), math.ceil(b[-1] / p - 1e-9)
            knots = np.arange(c0, c1) * p
        else:
            edges = np.unique(rng.uniform(-5, 10, n + 1))
            if len(edges) < 2:
                continue
            a, b = edges[:-1], edges[1:]
            knots = np.unique(rng.uniform(-8, 12, int(rng.integers(1, 60))))
            if i % 3 == 2:  # knots on step edges
                knots = np.unique(np.concatenate([knots, a[::2], b[1::3]]))
            if knots[0] > a[0] or i % 5 == 0:
                knots[0] = -np.inf
        values = rng.standard_normal(len(knots)) * 100
        values[:: int(rng.integers(2, 5))] = 0.0
        yield knots, values, a, b


def test_held_means_is_numpys_piecewise_constant_means_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    n = 0
    for knots, values, a, b in _held_cases(rng, 3000):
        ref = piecewise_constant_means(knots, values, a, b)
        got = held_means(knots.tolist(), values.tolist(), a, b)
        assert _bits_equal(got, ref), (knots, values, a, b)
        n += 1
    assert n > 2500


def test_held_values_walk_equals_a_lookup_per_instant() -> None:
    rng = np.random.default_rng(5)
    loop = BessControlLoop(BessConfig(latency_s=0.05, control_period_s=0.02))
    loop.start_from(0.0, 1.5)
    for k in range(40):
        a = k * 0.5 + np.arange(10) * 0.05
        loop.feedforward(a, a + 0.05, rng.standard_normal(10))
        st = loop.st
        tc = loop._instants(float(a[0]) - 0.3, float(a[-1]) + 0.05)
        for lag in (0.0, 0.05, 0.07, 2.0):
            expect = []
            for t in tc:
                j = bisect_right(st.t_s, t - lag + 1e-9) - 1
                expect.append(st.m_mw[min(max(j, 0), len(st.t_s) - 1)])
            assert loop._held_values(tc, lag) == expect


@pytest.mark.parametrize("vm_pu", [1.0, 1.04, 0.93, 0.75, 0.65, 0.5, 0.2])
@pytest.mark.parametrize("pue", [1.2, 1.175])
def test_composite_load_on_grid_equals_the_general_path(vm_pu: float, pue: float) -> None:
    """With the whole site on the grid and the chillers on, the shortcut (no products by 1, sums
    in place, voltage factors kept) equals the general sum of the parts."""
    site = FactorySite(FactoryConfig(pue=pue), BessConfig(), ControlsConfig(), seed=2, dt_s=0.05)
    for k, vm in enumerate([vm_pu, vm_pu, 1.0, vm_pu]):  # kept factors, then new ones
        iv = site._time_step(float(k), k + 1.0, vm, 60.0)
        site._load_step(iv)
        iv.cool = np.linspace(30.0, 31.0, iv.n)
        iv.gate = None
        site._composite_pq(iv, 1.0)  # the shortcut
        fast_p, fast_q = iv.p_site, iv.q_site
        site._composite_pq(iv, np.ones(iv.n))  # an array conn takes the general path
        assert _bits_equal(fast_p, iv.p_site) and _bits_equal(fast_q, iv.q_site)


def test_cooling_in_place_equals_the_formula() -> None:
    cool = Cooling(FactoryConfig().cooling)
    rng = np.random.default_rng(3)
    h0 = None
    for k in range(50):
        t_s, t_end_s = 1000.0 + k * 0.7, 1000.7 + k * 0.7
        span = t_end_s - t_s
        a = t_s + np.arange(14) * 0.05
        b = a + 0.05
        b[-1] = t_end_s
        it = float(rng.uniform(100, 250))
        got, gate = cool.advance(t_s, t_end_s, it, a, b, [])
        h0 = it if h0 is None else h0
        h1 = it + (h0 - it) * math.exp(-span / cool.cfg.tau_s)
        expect = cool.cfg.fraction * (h0 + (h1 - h0) * ((0.5 * (a + b) - t_s) / span))
        assert gate is None and _bits_equal(got, expect)
        h0 = h1


def test_volt_var_lag_gain_kept_per_step_length() -> None:
    chain = ControlChain(ControlsConfig(), BessConfig(), dt_s=0.05)
    q = None
    t90 = chain.cfg.volt_var.response_time_s
    for vm, span in [(0.95, 1.0), (0.95, 1.0), (0.9, 0.01), (1.05, 1.0), (1.05, 0.37)]:
        got = chain.q_response(vm, span)
        target = chain.q_request(vm)
        q = target if q is None else q + (target - q) * (1 - math.exp(-span * math.log(10) / t90))
        assert got == q


def test_nothing_binds_on_a_list_refuses_nan_like_numpy() -> None:
    b = Bess(BessConfig())
    assert b._nothing_binds([5.0, -3.0, 20.0], 1.0, 0.0)
    for req in ([5.0, math.nan, 1.0], [math.nan, 1.0], [1.0, math.nan]):
        assert not b._nothing_binds(req, 1.0, 0.0)
    assert not b._nothing_binds([500.0, 1.0], 1.0, 0.0)


def _adapter(**bess: object) -> FactoryAdapter:
    site = FactorySite(FactoryConfig(), BessConfig(**bess), ControlsConfig(), seed=4, dt_s=0.05)
    return FactoryAdapter(site, VM_KEY, F_KEY, True)


def test_block_keeps_only_its_last_step_for_a_rerun() -> None:
    """A block then an iteration of its last step equals the per-step path doing the same; a
    step the block did not keep cannot be re-run (time went backwards, as before)."""
    t = np.arange(20.0)
    vm = 1.0 + 0.03 * np.sin(t)
    f = 60.0 + 0.05 * np.cos(t)
    steps, block = _adapter(), _adapter()
    rows = [steps.step(t[k], t[k] + 1, {VM_KEY: vm[k], F_KEY: f[k]}, 0) for k in range(20)]
    block.step_block(t, t + 1, {VM_KEY: vm, F_KEY: f}, 0)
    inputs = {VM_KEY: 0.95, F_KEY: 59.9}
    again_steps = steps.step(19.0, 20.0, inputs, 1)
    again_block = block.step(19.0, 20.0, inputs, 1)
    assert again_steps.record == again_block.record
    for c in again_steps.block:
        assert _bits_equal(again_steps.block[c], again_block.block[c])
    assert rows[-1].record != again_steps.record  # the re-run did change something
    with pytest.raises(ValueError, match="backwards"):
        block.step(18.0, 19.0, inputs, 1)


def test_a_block_failing_at_a_step_keeps_the_steps_before_it() -> None:
    """The site raising at step 3 of a 5-step block: PartialBlock carries steps 0-2, the same
    rows (and high-rate series) as a block that did not fail; the cause is the site's error."""
    t = np.arange(5.0)
    vm, f = np.full(5, 1.0), np.full(5, 60.0)
    clean, failing = _adapter(), _adapter()
    whole = clean.step_block(t, t + 1, {VM_KEY: vm, F_KEY: f}, 0)
    real = failing.site.advance_block

    def breaks_at_3(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        for k, out in enumerate(real(*args, **kwargs)):
            if k == 3:
                raise RuntimeError("site model failed")
            yield out

    failing.site.advance_block = breaks_at_3
    with pytest.raises(PartialBlock) as info:
        failing.step_block(t, t + 1, {VM_KEY: vm, F_KEY: f}, 0)
    done = info.value.output
    assert str(info.value.cause) == "site model failed"
    assert done.record[0] == whole.record[0]
    assert _bits_equal(done.record[1], whole.record[1][:3])
    for key, arr in done.publish.items():
        assert _bits_equal(arr, whole.publish[key][:3])
    n_hr = len(done.block["t_s"]) if "t_s" in done.block else len(next(iter(done.block.values())))
    for c in done.block:
        assert _bits_equal(done.block[c], whole.block[c][:n_hr])
    assert 0 < n_hr < len(next(iter(whole.block.values())))


def test_site_without_snapshot_gives_the_same_run() -> None:
    a = FactorySite(FactoryConfig(), BessConfig(), ControlsConfig(), seed=9, dt_s=0.05)
    b = FactorySite(FactoryConfig(), BessConfig(), ControlsConfig(), seed=9, dt_s=0.05)
    for k in range(30):
        vm = 1.0 if k % 7 else 0.8
        ra = a.advance(float(k), k + 1.0, vm, 60.0)
        rb = b.advance(float(k), k + 1.0, vm, 60.0, rerunnable=False)
        assert ra.record == rb.record
        assert all(_bits_equal(ra.hr[c], rb.hr[c]) for c in ra.hr)
    assert a.summary() == b.summary()


@pytest.mark.parametrize(
    ("composite", "bess", "pue"),
    [(True, True, 1.2), (False, True, 1.2), (True, False, 1.175), (False, False, 1.175)],
)
def test_block_of_quiet_intervals_equals_one_advance_per_interval(
    composite: bool, bess: bool, pue: float
) -> None:
    """The site side of quiet intervals worked out at once (:mod:`.site_block`) gives each
    interval's own values; blocks with a sag, a frequency excursion and the restart after it
    (not quiet) take the per-interval path. Same records, high-rate rows and summary."""
    fac = FactoryConfig(pue=pue)
    comp = fac.composite.model_copy(update={"enabled": composite})
    fac = fac.model_copy(update={"composite": comp})
    cfg = (fac, BessConfig(enabled=bess), ControlsConfig())
    ref = FactorySite(*cfg, seed=6, dt_s=0.05)
    blk = FactorySite(*cfg, seed=6, dt_s=0.05)
    n = 240
    t = np.arange(n + 1, dtype=float)
    vm = 1.0 + 0.04 * np.sin(t / 9.0)
    f = 60.0 + 0.05 * np.cos(t / 7.0)
    vm[95:97], f[130:133] = 0.5, 57.5  # a transfer, then a frequency trip while on backup
    quiet = []
    orig = FactorySite._quiet_site_side
    tl, vl, fl = t.tolist(), vm.tolist(), f.tolist()

    def spy(*args: object) -> object:
        out = orig(*args)
        quiet.append(out is not None)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FactorySite, "_quiet_site_side", spy)
        outs = []
        for i0 in range(0, n, 30):
            i1 = min(n, i0 + 30)
            outs += blk.advance_block(tl[i0:i1], tl[i0 + 1 : i1 + 1], vl[i0:i1], fl[i0:i1])
    assert any(quiet) and not all(quiet)
    for k in range(n):
        r = ref.advance(t[k], t[k + 1], float(vm[k]), float(f[k]))
        assert _same_rows(r.record, outs[k].record), k
        assert _same_rows(r.hr, outs[k].hr), k
    assert _same_rows(ref.summary(), blk.summary())


@pytest.mark.parametrize("block", [1, 7, 60])
def test_a_federate_that_does_not_iterate_keeps_no_rerun_state_and_gives_the_same_run(
    block: int,
) -> None:
    """Without a re-run to keep for, a block of quiet steps takes the quiet path whole, and
    no step copies the state (a one-step block neither): the same rows, high-rate rows and
    summary as the adapter that keeps the last step's state, through a sag; a re-run is then
    refused."""
    n = 240
    t = np.arange(n + 1, dtype=float)
    vm = 1.0 + 0.03 * np.sin(t / 11.0)
    f = 60.0 + 0.04 * np.cos(t / 5.0)
    vm[200:202] = 0.6  # a transfer to the UPS, late (the chillers' restart takes minutes)
    keeps, lean = _adapter(), _adapter()
    lean.rerunnable = False
    whole_blocks_quiet = []
    orig = FactorySite._quiet_site_side

    def spy(*args: object) -> object:
        out = orig(*args)
        whole_blocks_quiet.append(out is not None and len(out) == len(args[1]))
        return out

    rows = {}
    for name, ad in (("keeps", keeps), ("lean", lean)):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(FactorySite, "_quiet_site_side", spy)
            rows[name] = [
                ad.step_block(
                    t[i : min(i + block, n)],
                    t[i + 1 : min(i + block, n) + 1],
                    {VM_KEY: vm[i : min(i + block, n)], F_KEY: f[i : min(i + block, n)]},
                    0,
                )
                for i in range(0, n, block)
            ]
    for a, b in zip(rows["keeps"], rows["lean"], strict=True):
        assert a.record[0] == b.record[0] and _bits_equal(a.record[1], b.record[1])
        assert _same_rows(a.block, b.block)
    assert _same_rows(keeps.site.summary(), lean.site.summary())
    assert any(whole_blocks_quiet) == (block > 1)  # only the lean adapter's can be
    with pytest.raises(ValueError, match="backwards"):
        lean.step(float(n - 1), float(n), {VM_KEY: 1.0, F_KEY: 60.0}, 1)


def test_one_step_blocks_give_the_steps_high_rate_rows_as_their_own_arrays() -> None:
    """A one-step block's high-rate rows are copies (a shared array of the site, such as its
    zeros, is not handed out) with the per-step path's values."""
    steps, blocks = _adapter(), _adapter()
    outs = []
    for k in range(6):
        t = np.array([float(k)])
        ref = steps.step(float(k), k + 1.0, {VM_KEY: 1.0, F_KEY: 60.0}, 0)
        out = blocks.step_block(t, t + 1.0, {VM_KEY: np.ones(1), F_KEY: np.full(1, 60.0)}, 0)
        assert _same_rows(ref.block, out.block), k
        outs.append((ref.block, out.block))
    arrays = [id(v) for _, blk in outs for v in blk.values()]
    assert len(set(arrays)) == len(arrays)  # no array shared between steps or columns
    for ref, blk in outs:  # and none changed by the steps after it
        assert _same_rows(ref, blk)
