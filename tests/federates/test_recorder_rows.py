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


def test_network_columns_float32_others_float64_row_groups_bounded(
    tmp_path: Path, monkeypatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import federates.common.recorder as recorder

    monkeypatch.setattr(recorder, "ROW_GROUP_BYTES", 1_000)  # ~50 rows of these 5 columns
    cols = ("t_s", "p_mw", "vm_pu.3", "loading_percent.line.1", "poi_vm_pu")
    rec = Recorder(tmp_path, "n", flush_rows=7)
    n = 333
    for k in range(n):
        v = 1.0 + 1e-9 * k
        rec.append_array(cols, np.array([0.1 * k, 100.0 + 1e-9 * k, v, 50.0 + k, v]))
    path = rec.close()
    f = pq.ParquetFile(path)
    types = {fld.name: fld.type for fld in f.schema_arrow}
    assert types["vm_pu.3"] == types["loading_percent.line.1"] == pa.float32()
    assert types["t_s"] == types["p_mw"] == types["poi_vm_pu"] == pa.float64()
    assert f.metadata.num_row_groups > 1
    assert max(f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)) <= 50
    df = pd.read_parquet(path)
    assert len(df) == n
    np.testing.assert_array_equal(df["t_s"], 0.1 * np.arange(n))
    np.testing.assert_array_equal(df["p_mw"], 100.0 + 1e-9 * np.arange(n))  # float64 kept
    np.testing.assert_array_equal(df["vm_pu.3"], (1.0 + 1e-9 * np.arange(n)).astype(np.float32))


def test_a_truncated_stream_converts_up_to_its_last_complete_batch(tmp_path: Path) -> None:
    from federates.common.recorder import arrow_to_parquet

    rec = Recorder(tmp_path, "k", flush_rows=10)
    for k in range(25):
        rec.append({"t_s": float(k), "vm_pu.1": 1.0})
    rec.flush()
    rec._sink.flush()
    data = rec.arrow_path.read_bytes()
    rec.arrow_path.write_bytes(data[: len(data) - 40])  # a writer killed mid-batch
    df = pd.read_parquet(arrow_to_parquet(rec.arrow_path))
    assert 0 < len(df) < 25 and len(df) % 10 == 0
    np.testing.assert_array_equal(df["t_s"], np.arange(len(df), dtype=float))
