"""The summary reads series column by column (SeriesTable) with the same results as whole frames,
and float32 recording of the per-element network columns leaves the summary unchanged."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cosim.analysis.frames import frame
from cosim.analysis.jsonio import jsonable
from cosim.analysis.summary import build_summary
from cosim.engine.results import load_results
from cosim.engine.series_table import SeriesTable
from federates.common.recorder import disk_schema, float32_column
from tests.cosim.synthetic_run import make_run_dir

#: relative tolerance of a summary figure between float64 and float32 recording
#: (float32 resolves 6e-8 relative; a figure computed from several values may add a few ulps)
F32_REL_TOL = 1e-6


def test_series_table_is_the_sorted_deduplicated_frame(tmp_path: Path) -> None:
    t = np.array([3.0, 1.0, 2.0, 2.0, 0.0, 1.0])
    df = pd.DataFrame({"t_s": t, "x": np.arange(6.0), "vm_pu.1": np.linspace(0.9, 1.1, 6)})
    path = tmp_path / "s.parquet"
    df.astype({"vm_pu.1": "float32"}).to_parquet(path)
    tab = SeriesTable(path)
    expected = df.sort_values("t_s", kind="stable").drop_duplicates("t_s", keep="last")
    assert len(tab) == len(expected) == 4 and list(tab.columns) == list(df.columns)
    np.testing.assert_array_equal(tab["t_s"], expected["t_s"])
    np.testing.assert_array_equal(tab["x"], expected["x"])  # the last row of an instant wins
    v = tab["vm_pu.1"].to_numpy()
    assert v.dtype == np.float64  # float32 on disk, the exact recorded values
    np.testing.assert_array_equal(v, expected["vm_pu.1"].to_numpy(np.float32).astype(float))
    assert "x" in tab and "y" not in tab and tab.get("y") is None
    assert list(tab[["x", "t_s"]].columns) == ["x", "t_s"]


def test_series_table_reads_only_the_columns_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "w.parquet"
    pd.DataFrame({"t_s": np.arange(10.0), **{f"c{i}": np.ones(10) for i in range(50)}}).to_parquet(
        path
    )
    tab = SeriesTable(path, cache_bytes=200)
    tab["c3"], tab["c4"]
    assert set(tab._cache) <= {"c3", "c4", "t_s"} and sum(a.nbytes for a in tab._cache.values())
    assert sum(a.nbytes for a in tab._cache.values()) <= 200


def _numbers_match(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: missing" for k in a.keys() ^ b.keys()]
        for k in a.keys() & b.keys():
            out += _numbers_match(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _numbers_match(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        ok = math.isclose(a, b, rel_tol=F32_REL_TOL, abs_tol=1e-9)
        return [] if ok else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _plain(s: dict) -> dict:
    out = json.loads(json.dumps(jsonable(s)))
    out.pop("wall_s", None)
    return out


def test_summary_from_tables_equals_summary_from_whole_frames(tmp_path: Path) -> None:
    results = load_results(make_run_dir(tmp_path / "run"))
    from_tables = _plain(build_summary(results, results.case))
    frames = {
        n: pd.read_parquet(results.dir / "timeseries" / f"{n}.parquet") for n in results.names
    }
    fake = SimpleNamespace(
        frames=frames,
        info=results.info,
        case=results.case,
        federate_info=results.federate_info,
    )
    assert isinstance(frame(results, "transmission"), SeriesTable)
    assert isinstance(frame(fake, "transmission"), pd.DataFrame)
    assert _plain(build_summary(fake, results.case)) == from_tables


def _as_float32_recording(run: Path, copy: Path) -> Path:
    """A copy of a float64 run directory with the columns the recorder keeps in float32."""
    shutil.copytree(run, copy)
    for p in (copy / "timeseries").glob("*.parquet"):
        table = pq.read_table(p)
        pq.write_table(table.cast(disk_schema(table.schema)), p)
    return copy


def test_float32_recording_leaves_the_summary_unchanged(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path / "run")
    f32 = _as_float32_recording(run, tmp_path / "run32")
    schema = pq.read_schema(f32 / "timeseries" / "transmission.parquet")
    narrowed = [f.name for f in schema if f.type == pa.float32()]
    assert narrowed and all(float32_column(n) for n in narrowed)
    assert (
        schema.field("t_s").type == pa.float64() and schema.field("poi_vm_pu").type == pa.float64()
    )
    r64, r32 = load_results(run), load_results(f32)
    s64 = _plain(build_summary(r64, r64.case))
    s32 = _plain(build_summary(r32, r32.case))
    assert s64["grid"]["v_min_pu"] is not None and s64["grid"]["loading_max_percent"] is not None
    assert _numbers_match(s64, s32) == []


@pytest.mark.parametrize("name", ["vm_pu.12", "loading_percent.line.3", "p_mw.line.2"])
def test_per_element_columns_are_float32(name: str) -> None:
    assert float32_column(name)


@pytest.mark.parametrize("name", ["t_s", "p_mw", "q_mvar", "soc", "poi_vm_pu", "p_loss_mw"])
def test_integrated_and_poi_columns_stay_float64(name: str) -> None:
    assert not float32_column(name)
