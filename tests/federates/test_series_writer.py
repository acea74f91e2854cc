"""The series writer records on its thread what the loop hands over, in order, even on failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from federates.common.loop import StepOutput
from federates.common.recorder import ArrayRow
from federates.common.writer import SeriesWriter

COLUMNS = ("p_mw", "vm_pu.1")


@pytest.mark.parametrize("threaded", [True, False])
def test_blocks_are_recorded_in_order_and_copied_at_hand_over(
    tmp_path: Path, threaded: bool
) -> None:
    w = SeriesWriter(tmp_path, "f", iterative=False, threaded=threaded)
    buf = np.zeros((2, 2))  # an adapter reusing its array between blocks
    for k in range(50):
        buf[:] = k
        t = np.array([2.0 * k, 2.0 * k + 1])
        w.block((COLUMNS, buf), {"x": np.full(3, float(k))}, t, None, 2 * k + 2)
        buf[:] = -1.0  # changed right after the hand-over: not what is recorded
    w.drain()
    assert w.steps == 100
    w.close()
    df = pd.read_parquet(tmp_path / "f.parquet")
    assert list(df.columns) == [*COLUMNS, "t_s"]
    np.testing.assert_array_equal(df["t_s"], np.arange(100.0))
    np.testing.assert_array_equal(df["p_mw"], np.repeat(np.arange(50.0), 2))
    hr = pd.read_parquet(tmp_path / "f_hr.parquet")
    np.testing.assert_array_equal(hr["x"], np.repeat(np.arange(50.0), 3))


def test_per_step_rows_dict_and_array_with_iterations(tmp_path: Path) -> None:
    w = SeriesWriter(tmp_path, "a", iterative=True)
    outs = [
        StepOutput(publish={}, record=ArrayRow(COLUMNS, np.array([float(k), 1.0])))
        for k in range(3)
    ]
    w.rows(outs, [0.0, 1.0, 2.0], 2.0, 3)
    w.close()
    df = pd.read_parquet(tmp_path / "a.parquet")
    assert list(df.columns) == [*COLUMNS, "t_s", "iterations"]
    np.testing.assert_array_equal(df["iterations"], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(df["p_mw"], [0.0, 1.0, 2.0])

    w = SeriesWriter(tmp_path, "d", iterative=False)
    w.rows([StepOutput(publish={}, record={"p_mw": 5.0}, block={"y": np.ones(2)})], [7.0], None, 1)
    w.close()
    df = pd.read_parquet(tmp_path / "d.parquet")
    assert df.to_dict("list") == {"p_mw": [5.0], "t_s": [7.0]}
    assert len(pd.read_parquet(tmp_path / "d_hr.parquet")) == 2


def test_a_recording_error_is_raised_in_the_loop_and_what_came_before_is_kept(
    tmp_path: Path,
) -> None:
    w = SeriesWriter(tmp_path, "e", iterative=False)
    w.block((COLUMNS, np.ones((1, 2))), None, np.array([0.0]), None, 1)
    w.block((("other", "cols"), np.ones((1, 2))), None, np.array([1.0]), None, 2)  # fails
    with pytest.raises(KeyError, match="columns changed"):
        w.drain()
    with pytest.raises(KeyError):  # and at the next hand-over
        w.block((COLUMNS, np.ones((1, 2))), None, np.array([2.0]), None, 3)
    w.close()
    assert w.steps == 1
    assert len(pd.read_parquet(tmp_path / "e.parquet")) == 1
