"""A recorded series read column by column: what the summary reads from a run, in constant memory.

:class:`SeriesTable` opens one ``timeseries/<name>.parquet`` and behaves, for
reading, like the DataFrame of that series sorted by ``t_s`` with one row per
instant (the last row recorded at an instant wins): ``"p_mw" in tab``,
``tab["p_mw"]`` (a float64 Series), ``tab[["a", "b"]]`` (a DataFrame),
``len(tab)``, ``tab.columns``. Only the columns asked for are read; the order
of the rows is computed once from ``t_s`` and applied to each column; a few
recently read columns are kept (a bounded cache), never the whole file. Columns
recorded as float32 (:data:`federates.common.recorder.FLOAT32_PREFIXES`) are
returned as float64, exactly the recorded values.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: bytes of decoded columns a table keeps for re-reads
CACHE_BYTES = 16_000_000


class SeriesTable:
    """Read-only, column-by-column view of one recorded series (sorted, one row per instant).

    Parameters
    ----------
    path : the series' Parquet file
    cache_bytes : decoded columns kept for re-reads [bytes]
    """

    def __init__(self, path: Path | str, cache_bytes: int = CACHE_BYTES) -> None:
        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        self.columns = pd.Index(self._file.schema_arrow.names)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._order: np.ndarray | None = None
        self._len = int(self._file.metadata.num_rows)
        if "t_s" in self.columns and self._len:
            self._index_by_time()

    def _index_by_time(self) -> None:
        t = self._raw("t_s")
        order = np.argsort(t, kind="stable")
        ts = t[order]
        same = ts[1:] == ts[:-1]
        same |= np.isnan(ts[1:]) & np.isnan(ts[:-1])
        keep = np.append(~same, True)  # the last row of an instant wins
        if keep.all() and np.array_equal(order, np.arange(t.size)):
            self._order = None
        else:
            self._order = order[keep]
            self._len = int(self._order.size)

    def _raw(self, name: str) -> np.ndarray:
        col = self._file.read(columns=[name]).column(0)
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            return col.to_numpy().astype(float, copy=False)
        return col.to_pandas().to_numpy()

    def values(self, name: str) -> np.ndarray:
        """The column ``name`` in time order (float64 for numbers); KeyError when absent."""
        if name not in self.columns:
            raise KeyError(name)
        if name in self._cache:
            self._cache.move_to_end(name)
            return self._cache[name]
        v = self._raw(name)
        if self._order is not None:
            v = v[self._order]
        v.flags.writeable = False
        self._cache[name] = v
        while sum(a.nbytes for a in self._cache.values()) > self._cache_bytes and len(self._cache):
            self._cache.popitem(last=False)
        return v

    def __getitem__(self, key: str | list[str]) -> pd.Series | pd.DataFrame:
        if isinstance(key, str):
            return pd.Series(self.values(key), name=key, copy=False)
        return pd.DataFrame({k: self.values(k) for k in key}, copy=False)

    def get(self, key: str, default: object = None) -> pd.Series | object:
        """``self[key]``, or ``default`` when the column is absent."""
        return self[key] if key in self.columns else default

    def __contains__(self, key: object) -> bool:
        return key in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return self._len

    @property
    def empty(self) -> bool:
        return self._len == 0 or not len(self.columns)

    def to_frame(self) -> pd.DataFrame:
        """The whole series as a DataFrame (reads every column: for small series)."""
        return self[list(self.columns)]

    def __repr__(self) -> str:
        return f"SeriesTable({self.path.name}: {self._len} rows x {len(self.columns)} columns)"
