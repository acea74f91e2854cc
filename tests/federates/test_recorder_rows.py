"""Array rows (wide float rows recorded cheaply) keep order with dict rows and read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from federates.common.recorder import Recorder


def test_array_rows_round_trip(tmp_path: Path) -> None:
    cols = ("a", "b", "t_s")
    rec = Recorder(tmp_path, "x", flush_rows=3)
    for k in range(7):
        rec.append_array(cols, np.array([k, 2.0 * k, float(k)]))
    assert rec.rows == 7
    df = pd.read_parquet(rec.close())
    assert list(df.columns) == list(cols)
    np.testing.assert_array_equal(df["b"].to_numpy(), 2.0 * np.arange(7))


def test_dict_rows_keep_the_first_rows_columns_missing_is_nan_extra_is_an_error(
    tmp_path: Path,
) -> None:
    import pytest

    rec = Recorder(tmp_path, "d", flush_rows=2)
    rec.append({"p_mw": 1.0, "q_mvar": 0.5, "t_s": 0.0})
    rec.append({"q_mvar": 0.7, "p_mw": 2.0, "t_s": 1.0})  # another key order
    rec.append({"p_mw": 3.0, "t_s": 2.0})  # q missing
    with pytest.raises(KeyError, match="unknown columns"):
        rec.append({"p_mw": 4.0, "q_mvar": 0.0, "t_s": 3.0, "extra": 1.0})
    df = pd.read_parquet(rec.close())
    assert list(df.columns) == ["p_mw", "q_mvar", "t_s"]
    np.testing.assert_array_equal(df["p_mw"], [1.0, 2.0, 3.0])
    assert df["q_mvar"].iloc[1] == 0.7 and np.isnan(df["q_mvar"].iloc[2])


def test_blocks_and_rows_keep_their_order(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, "m")
    rec.append({"a": 0.0, "t_s": 0.0})
    rec.extend({"a": np.array([1.0, 2.0]), "t_s": np.array([1.0, 2.0])})
    rec.append({"a": 3.0, "t_s": 3.0})
    df = pd.read_parquet(rec.close())
    np.testing.assert_array_equal(df["t_s"], [0.0, 1.0, 2.0, 3.0])
