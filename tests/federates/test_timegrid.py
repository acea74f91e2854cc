"""The shared time grid and its synchronisation blocks."""

from __future__ import annotations

import numpy as np
import pytest

from federates.common.timegrid import interval_ends, sync_blocks, time_grid


def test_uniform_grid() -> None:
    t = time_grid(10.0, 1.0)
    assert t.tolist() == [float(k) for k in range(10)]
    assert interval_ends(t, 10.0).tolist() == [float(k) for k in range(1, 11)]


def test_refinement_window_and_return_to_base_step() -> None:
    t = time_grid(10.0, 1.0, [(3.0, 3.5, 0.1)])
    assert t[:4].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert t[4] == pytest.approx(3.1)
    assert t[t > 3.45][:2].tolist() == [4.0, 5.0]
    assert len(t) == 10 + 4  # 3.1 .. 3.4 added


def test_overlapping_windows_take_the_finest_step() -> None:
    t = time_grid(4.0, 1.0, [(1.0, 2.0, 0.5), (1.0, 1.2, 0.1)])
    assert np.allclose(t[(t >= 1.0) & (t < 2.0)], [1.0, 1.1, 1.5])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        time_grid(0.0, 1.0)


def test_every_step_is_a_block_by_default() -> None:
    t = time_grid(5.0, 1.0)
    assert sync_blocks(t, 5.0, 1.0, 1.0) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]


def test_blocks_span_the_sync_interval_and_split_at_events() -> None:
    t = time_grid(20.0, 1.0, [(10.0, 10.3, 0.1)])  # 10.0, 10.1, 10.2 refined
    blocks = sync_blocks(t, 20.0, 1.0, 5.0)
    spans = [(t[i0], i1 - i0) for i0, i1 in blocks]
    assert spans[:2] == [(0.0, 5), (5.0, 5)]
    assert spans[2:5] == [(10.0, 1), (pytest.approx(10.1), 1), (pytest.approx(10.2), 1)]
    assert spans[5] == (11.0, 5)
    assert sum(n for _, n in spans) == len(t)


def test_event_edges_are_on_the_grid_whatever_their_duration() -> None:
    from cosim.case import load_case

    case = load_case(
        {
            "horizon": {"duration_s": 10, "event_dt_s": 0.01},
            "events": [{"kind": "sag", "t_s": 5.003, "duration_s": 0.0425, "vm_pu": 0.3}],
        }
    )
    t = case.time_grid()
    assert np.any(np.isclose(t, 5.003)) and np.any(np.isclose(t, 5.0455))
