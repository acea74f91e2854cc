"""Figures that need pandapower are computed in a child process: the supervisor never loads it."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from cosim.case import load_case
from cosim.engine.apart import APART_MIN_STEPS, call_apart, worth_apart


def test_call_apart_returns_the_result_and_raises_the_error() -> None:
    assert call_apart(math.hypot, 3.0, 4.0) == 5.0
    assert call_apart(print, "what the child prints does not mix with its answer") is None
    with pytest.raises(ValueError, match="invalid literal"):
        call_apart(int, "not a number")


def test_build_screen_and_network_context_leave_pandapower_out_of_this_process() -> None:
    code = (
        "import sys\n"
        "from cosim.case import load_case\n"
        "from cosim.engine import exchange\n"
        "from cosim.analysis.context import network_context, network_context_apart\n"
        "c = load_case('ieee118_factory')\n"
        "from cosim.engine import apart as a\n"
        "apart = exchange.site_voltage_range(c)\n"
        "child = a._CHILD\n"
        "ctx = network_context_apart(c)\n"
        "print(ctx.loaded, ctx.net is None, ctx.notes, 'pandapower' in sys.modules)\n"
        "print(child is not None and a._CHILD is child)\n"
        "here = network_context(c)\n"
        "print(here.scr == ctx.scr, here.ratings == ctx.ratings, here.loaded)\n"
        "exchange._voltage_range.cache_clear()\n"
        "print(exchange._solve_voltage_range(c.grid.model_dump_json(), str(c.base_dir),\n"
        "      c.factory.poi_bus, c.factory.it_peak_mw * c.factory.pue + c.bess.p_mw) == apart)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    # one child computed the screen and the context (pandapower imported once)
    assert out == ["True", "True", "[]", "False", "True", "True", "True", "True", "True"]


def test_one_child_serves_every_call_and_leaves_when_idle(monkeypatch) -> None:  # noqa: ANN001
    from cosim.engine import apart

    apart._drop_child()
    monkeypatch.setattr(apart, "IDLE_EXIT_S", 1.0)
    assert call_apart(math.hypot, 3.0, 4.0) == 5.0
    first = apart._CHILD
    assert first is not None
    assert call_apart(math.gcd, 12, 18) == 6
    assert apart._CHILD is first  # the same process answered both
    assert first.proc.wait(timeout=30) == 0  # left on its own after 1 s without a call
    assert call_apart(math.hypot, 6.0, 8.0) == 10.0  # a new child takes over
    assert apart._CHILD is not first
    apart._drop_child()


def test_only_long_runs_compute_apart() -> None:
    """A child costs a second pandapower import; only a long run's memory is worth it."""
    hour = load_case("ieee118_factory", ["horizon.duration_s=3600", "horizon.grid_dt_s=1"])
    short = load_case("ieee118_factory", ["horizon.duration_s=600"])
    assert APART_MIN_STEPS == 3600 and worth_apart(hour) and not worth_apart(short)


def test_a_study_hands_its_workers_the_screens_and_contexts_it_computed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that learnt them gives the same figures as its own child would, and no
    child computes anything (cosim.studies.run_pool.known_for)."""
    from cosim.analysis import context
    from cosim.engine import apart, exchange
    from cosim.studies.run_pool import known_for

    hour = ["horizon.duration_s=3600"]
    cases = [load_case("ieee118_factory", [*hour, f"seed={s}"]) for s in (1, 2)]
    short = load_case("ieee118_factory", ["horizon.duration_s=600"])  # computed in process
    every = load_case("ieee118_factory", [*hour, "horizon.sync_interval_s=1"])  # no screen
    known = known_for([*cases, short, every])
    # one network, site and peak power: one screen (the every-step case needs none)
    assert list(known["screens"]) == [exchange._screen_key(cases[0])]
    # one network and POI: one context (the short run computes its own in process)
    assert list(known["contexts"]) == ["apart:" + context._context_key(cases[0])]
    (ctx,) = known["contexts"].values()
    assert ctx.loaded and ctx.net is None and not ctx.notes
    # what the runs' own children compute, for comparison
    monkeypatch.setattr(context, "_CONTEXTS", {})
    exchange._voltage_range.cache_clear()
    own = (exchange.site_voltage_range(cases[0]), context.network_context_apart(cases[0]))
    assert own[0] == known["screens"][exchange._screen_key(cases[0])]
    assert (own[1].scr, own[1].ratings) == (ctx.scr, ctx.ratings)
    # a worker that learnt them never asks a child
    monkeypatch.setattr(context, "_CONTEXTS", {})
    monkeypatch.setattr(exchange, "_KNOWN", {})
    exchange._voltage_range.cache_clear()

    def no_child(*args: object) -> None:
        raise AssertionError("computed again")

    monkeypatch.setattr(apart, "call_apart", no_child)
    exchange.learn_voltage_ranges(known["screens"])
    context.learn_contexts(known["contexts"])
    assert exchange.site_voltage_range(cases[1]) == own[0]
    assert context.network_context_apart(cases[1]) is ctx
