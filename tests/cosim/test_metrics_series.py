"""Step-held series helpers: durations, hold, window means, runs, resampling."""

import numpy as np
import pandas as pd
import pytest

from cosim.metrics._series import (
    cumulative_integral,
    durations_s,
    end_time_s,
    finite_or_none,
    hold_at,
    is_uniform,
    prefixed_columns,
    runs,
    uniform,
    valid_rows,
    window_mean,
)


def test_durations_non_uniform_and_last_interval():
    t = np.array([0.0, 1.0, 1.01, 1.02, 2.0])
    assert durations_s(t, 3.0) == pytest.approx([1.0, 0.01, 0.01, 0.98, 1.0])
    # without an end: the median step (0.49 of [1, .01, .01, .98] -> (0.01+0.98)/2)
    assert durations_s(t)[-1] == pytest.approx(0.495)
    assert end_time_s(t, 3.0) == 3.0
    assert durations_s(np.array([5.0])).tolist() == [0.0]
    assert durations_s(np.array([])).size == 0


def test_hold_at_is_step_held():
    t, x = np.array([0.0, 1.0, 2.0]), np.array([10.0, 20.0, 30.0])
    out = hold_at(t, x, np.array([-0.5, 0.0, 0.99, 1.0, 5.0]))
    assert np.isnan(out[0])
    assert out[1:].tolist() == [10.0, 10.0, 20.0, 30.0]


def test_window_mean_exact_for_steps():
    t, x = np.array([0.0, 1.0, 2.0]), np.array([10.0, 20.0, 30.0])
    # [0.5, 1.5): half at 10, half at 20 -> 15; [0, 3): (10+20+30)/3 = 20
    m = window_mean(t, x, np.array([0.5, 0.0]), np.array([1.5, 3.0]), t_end_s=3.0)
    assert m == pytest.approx([15.0, 20.0])
    knots, c = cumulative_integral(t, x, 3.0)
    assert knots.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert c.tolist() == [0.0, 10.0, 30.0, 60.0]


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]
    assert runs(np.zeros(3, dtype=bool)) == []
    assert runs(np.ones(2, dtype=bool)) == [(0, 2)]


def test_uniform_resampling_and_uniformity():
    t, x = np.array([0.0, 0.5, 2.0]), np.array([1.0, 2.0, 3.0])
    tu, xu = uniform(t, x, 0.5, t_end_s=2.5)
    assert tu.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert xu.tolist() == [1.0, 2.0, 2.0, 2.0, 3.0]
    assert is_uniform(tu)
    assert not is_uniform(t)


def test_columns_rows_and_json_floats():
    df = pd.DataFrame(
        {"t_s": [0, 1], "vm_pu.3": [1, 1], "vm_pu.10": [1, 1], "converged": [1.0, 0.0]}
    )
    assert prefixed_columns(df, "vm_pu.") == {"3": "vm_pu.3", "10": "vm_pu.10"}
    assert valid_rows(df).tolist() == [True, False]
    assert valid_rows(df.drop(columns="converged")).tolist() == [True, True]
    assert finite_or_none(float("nan")) is None
    assert finite_or_none(np.float32(2.5)) == 2.5
    assert finite_or_none("x") is None
