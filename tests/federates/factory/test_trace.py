"""Trace-driven load: reading, resampling, scaling and rejection with row numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from federates.factory.config import (
    BessConfig,
    ControlsConfig,
    FactoryConfig,
    TraceConfig,
    TrainingConfig,
    TrainingJob,
)
from federates.factory.load import ItLoad
from federates.factory.site import FactorySite
from federates.factory.trace import TraceProfile, read_trace

CASES = Path(__file__).resolve().parents[3] / "cases"


def write(tmp_path: Path, rows: list[str], name: str = "trace.csv") -> Path:
    path = tmp_path / name
    path.write_text("t_s,p_mw\n" + "\n".join(rows) + "\n")
    return path


def test_upsample_is_linear_and_downsample_is_block_mean(tmp_path: Path) -> None:
    path = write(tmp_path, ["0,0", "10,100", "20,0"])
    prof = TraceProfile(TraceConfig(path=str(path), repeat=False))
    a = np.array([0.0, 2.0, 10.0, 15.0])
    assert prof.mean_mw(a, a + 1.0) == pytest.approx([5.0, 25.0, 95.0, 45.0])
    assert prof.mean_mw(np.array([0.0]), np.array([20.0])) == pytest.approx([50.0])
    assert prof.mean_mw(np.array([30.0]), np.array([31.0])) == pytest.approx([0.0])  # held


def test_repeat_loops_the_trace(tmp_path: Path) -> None:
    path = write(tmp_path, ["0,10", "1,20", "2,30"])
    prof = TraceProfile(TraceConfig(path=str(path)))
    assert prof.period_s == pytest.approx(3.0)
    a = np.array([0.0, 3.0, 6.0, 300.0])
    first = prof.mean_mw(a[:1], a[:1] + 1.0)
    assert prof.mean_mw(a, a + 1.0) == pytest.approx(np.repeat(first, 4))


@pytest.mark.parametrize(
    ("unit", "scale", "peak", "expected_max"),
    [
        ("mw", 1.0, None, 30.0),
        ("kw", 2.0, None, 0.06),
        ("fraction", 1.0, None, 30.0 * 250.0),
        ("mw", 1.0, 90.0, 90.0),
    ],
)
def test_scaling(
    tmp_path: Path, unit: str, scale: float, peak: float | None, expected_max: float
) -> None:
    path = write(tmp_path, ["0,10", "1,20", "2,30"])
    prof = TraceProfile(
        TraceConfig(path=str(path), unit=unit, scale=scale, peak_mw=peak), peak_mw=250.0
    )
    assert prof.peak_mw == pytest.approx(expected_max)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["0,1", "1,2", "1,3", "2,4"], r"row 3 \(line 4\): time not increasing"),
        (["0,1", "2,2", "1,3"], r"row 3 \(line 4\): time not increasing"),
        (["0,1", "1,nan", "2,3"], r"row 2 \(line 3\): NaN"),
        (["0,1", "1,2", "2,-5"], r"row 3 \(line 4\): negative power"),
        (["0,1", "1,x", "2,3"], r"row 2 \(line 3\): not a number"),
        (["0,1", "1,1", "2,1", "3,1", "500,1", "501,1"], r"row 5 \(line 6\): gap of 497 s"),
        (["0,1"], "at least 2 rows"),
    ],
)
def test_bad_traces_are_rejected_with_file_and_row(
    tmp_path: Path, rows: list[str], message: str
) -> None:
    path = write(tmp_path, rows, "bad_trace.csv")
    with pytest.raises(ValueError, match=message) as exc:
        read_trace(path)
    assert "bad_trace.csv" in str(exc.value)


def test_missing_column_and_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("time,power\n0,1\n1,2\n")
    with pytest.raises(ValueError, match="no column 't_s'"):
        read_trace(path)
    with pytest.raises(ValueError, match="cannot read"):
        read_trace(tmp_path / "missing.csv")


def test_explicit_gap_limit(tmp_path: Path) -> None:
    path = write(tmp_path, ["0,1", "1,1", "3,1"])
    read_trace(path)  # 2 s < 10 x median
    with pytest.raises(ValueError, match=r"row 3 \(line 4\): gap"):
        read_trace(path, max_gap_s=1.5)


def test_iso_times(tmp_path: Path) -> None:
    path = write(tmp_path, ["2024-07-10T19:00:00,5", "2024-07-10T19:00:01,6"])
    t, p, _ = read_trace(path)
    assert t == pytest.approx([0.0, 1.0]) and p == pytest.approx([5.0, 6.0])


def test_shipped_trace_drives_the_site() -> None:
    trace = TraceConfig(path="data/gpu_cluster_trace.csv", peak_mw=200.0)
    cfg = FactoryConfig(profile="trace", trace=trace)
    load = ItLoad(cfg, seed=0, dt_s=0.05, base_dir=CASES)
    assert load.trace is not None and load.trace.meta["rows"] == 3600
    site = FactorySite(cfg, BessConfig(), ControlsConfig(), seed=0, dt_s=0.05, base_dir=CASES)
    out = [site.advance(float(k), float(k + 1), 1.0, 60.0) for k in range(30)]
    it = np.concatenate([o.hr["p_it_mw"] for o in out])
    assert it.max() <= 200.0 + 1e-9 and it.min() > 50.0
    # cooling and auxiliaries are added on top of a traced IT load
    assert out[-1].record["p_site_mw"] > out[-1].record["p_it_mw"]


def test_site_trace_has_no_cooling(tmp_path: Path) -> None:
    path = write(tmp_path, ["0,100", "1,100"])
    cfg = FactoryConfig(profile="trace", trace=TraceConfig(path=str(path), applies_to="site"))
    site = FactorySite(cfg, BessConfig(enabled=False), ControlsConfig(), seed=0, dt_s=0.1)
    rec = site.advance(0.0, 1.0, 1.0, 60.0).record
    assert rec["p_site_mw"] == pytest.approx(100.0)


def test_job_trace_replaces_the_wave(tmp_path: Path) -> None:
    path = write(tmp_path, ["0,0.5", "1,0.5"])
    job = TrainingJob(trace=TraceConfig(path=str(path), unit="fraction"))
    cfg = FactoryConfig(training=TrainingConfig(jobs=[job]))
    tr = ItLoad(cfg, seed=0, dt_s=0.1).window(0, 100, "training")
    assert tr == pytest.approx(np.full(100, 175.0 * (0.2 + 0.8 * 0.5)))
