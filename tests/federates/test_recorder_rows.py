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
