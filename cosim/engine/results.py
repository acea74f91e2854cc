"""Run directories on disk and the :class:`Results` object that reads them.

Layout of a run directory ``DIR`` (documented in the README):

* ``case.toml`` resolved case + ``[meta]`` (versions, seed); ``runner.json``,
  ``configs/<federate>.json`` (the build); ``logs/<process>.log``;
* ``timeseries/<federate>.parquet`` one row per grid step (column ``t_s``),
  ``timeseries/<federate>_hr.parquet`` the factory's internal-step series,
  ``timeseries/<federate>.info.json`` each federate's final info;
* ``summary.json``; ``report.html`` and ``plots/``; ``baseline/`` (same layout).

While a run is going, series are Arrow stream files (``*.arrow``); they become
Parquet at the end, also after a crash (:func:`finalize_timeseries`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cosim.case import Case, load_case
from cosim.engine.series_table import SeriesTable
from cosim.errors import CosimError
from federates.common.recorder import arrow_to_parquet


def finalize_timeseries(run_dir: Path) -> list[Path]:
    """Convert every leftover Arrow stream (a federate that died) into Parquet."""
    return [arrow_to_parquet(p) for p in sorted((Path(run_dir) / "timeseries").glob("*.arrow"))]


@dataclass
class Results:
    """A run directory read back: the case, the summary and the time series.

    ``frames`` maps a series name (``factory``, ``factory_hr``, ``transmission``,
    ...) to a DataFrame; they are read on first access.
    """

    dir: Path
    case: Case
    summary: dict[str, Any]
    info: dict[str, Any]
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _tables: dict[str, SeriesTable | None] = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        return str(self.summary.get("status", self.info.get("status", "unknown")))

    @property
    def names(self) -> list[str]:
        return sorted(p.stem for p in (self.dir / "timeseries").glob("*.parquet"))

    def frame(self, name: str) -> pd.DataFrame:
        """The series ``name`` (empty DataFrame when the run has none)."""
        if name not in self._frames:
            path = self.dir / "timeseries" / f"{name}.parquet"
            self._frames[name] = read_series(path) if path.is_file() else pd.DataFrame()
        return self._frames[name]

    def table(self, name: str) -> SeriesTable | None:
        """The series ``name`` read column by column (None when the run has none).

        Sorted by ``t_s``, one row per instant; only the columns asked for are
        read (:class:`cosim.engine.series_table.SeriesTable`). The summary reads
        the series this way: its memory does not grow with whole-file copies.
        """
        if name not in self._tables:
            path = self.dir / "timeseries" / f"{name}.parquet"
            self._tables[name] = SeriesTable(path) if path.is_file() else None
        return self._tables[name]

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        return {n: self.frame(n) for n in self.names}

    def federate_info(self, name: str) -> dict[str, Any]:
        path = self.dir / "timeseries" / f"{name}.info.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_"):
            raise AttributeError(name)
        if (self.dir / "timeseries" / f"{name}.parquet").is_file():
            return self.frame(name)
        raise AttributeError(f"run {self.dir} has no series or attribute {name!r}")

    @property
    def baseline(self) -> Results | None:
        b = self.dir / "baseline"
        return load_results(b) if (b / "case.toml").is_file() else None


def read_series(path: Path) -> pd.DataFrame:
    """A whole series; columns recorded as float32 come back as float64 (the same values)."""
    df = pd.read_parquet(path)
    f32 = [c for c, t in df.dtypes.items() if t == "float32"]
    return df.astype(dict.fromkeys(f32, "float64")) if f32 else df


def load_results(directory: Path | str) -> Results:
    """Read a run directory (finished, or failed with partial series)."""
    d = Path(directory)
    if not (d / "case.toml").is_file():
        raise CosimError(f"{d}: not a run directory (no case.toml)")
    finalize_timeseries(d)
    case = load_case(d / "case.toml")
    summary_path = d / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    info = summary.get("run", {})
    return Results(d, case, summary, info)
