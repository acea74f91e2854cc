"""Crash-safe time-series recorder (pure: pyarrow only, no helics).

Rows are buffered and flushed as record batches to an Arrow IPC *stream* file
``<dir>/<name>.arrow`` at least every ``flush_s`` seconds of wall-clock time
(and every ``flush_rows`` rows). A stream file is readable up to its last
complete batch even when the writer was killed, so a crash loses at most the
last ``flush_s`` seconds of one federate's work. :meth:`Recorder.close` turns
the stream into ``<name>.parquet``; :func:`arrow_to_parquet` does the same for
the partial stream of a federate that died.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq


@dataclass(frozen=True)
class ArrayRow:
    """One row of float columns as an array (cheap to record for wide series).

    ``columns`` must be the same tuple object for every row of a run (it is the
    schema); ``values`` a 1-D float array aligned with it.
    """

    columns: tuple[str, ...]
    values: np.ndarray


class Recorder:
    """Append rows (scalars), array rows or blocks (equal-length arrays) of named columns.

    The column set is fixed by the first row or block; a later row must carry
    the same columns (missing ones are recorded as NaN, extra ones are an error).
    """

    def __init__(
        self,
        directory: Path | str,
        name: str,
        *,
        flush_s: float = 0.25,
        flush_rows: int = 20_000,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.arrow_path = self.directory / f"{name}.arrow"
        self.parquet_path = self.directory / f"{name}.parquet"
        self.flush_s = flush_s
        self.flush_rows = flush_rows
        self._columns: list[str] | None = None
        self._buf: dict[str, list[np.ndarray]] = {}
        self._buffered = 0
        self._schema: pa.Schema | None = None
        self._writer: ipc.RecordBatchStreamWriter | None = None
        self._sink = None
        self._last_flush = time.monotonic()
        self.rows = 0
        self._array_rows: list[np.ndarray] = []
        self._array_columns: tuple[str, ...] | None = None
        self._row_columns: tuple[str, ...] | None = None  # column order of dict rows
        self._row_set: frozenset[str] = frozenset()

    def append(self, row: Mapping[str, float]) -> None:
        """Append one row of float scalars (a key the row lacks is recorded as NaN).

        Kept as an array row (one small array per row, columns built at flush):
        a dict row per grid step must not cost more than the step's physics.
        """
        if self._row_columns is None:
            self._row_columns = tuple(self._columns) if self._columns is not None else tuple(row)
            self._row_set = frozenset(self._row_columns)
        if not self._row_set.issuperset(row):
            raise KeyError(
                f"recorder {self.name}: unknown columns {sorted(row.keys() - self._row_set)}"
            )
        nan = math.nan
        self.append_array(
            self._row_columns, np.array([row.get(c, nan) for c in self._row_columns], dtype=float)
        )

    def append_array(self, columns: tuple[str, ...], values: np.ndarray) -> None:
        """Append one row of floats given as an array aligned with ``columns`` (a fixed tuple).

        Rows are kept as arrays and turned into columns only when flushed, so a
        row of hundreds of columns costs one array copy.
        """
        if self._array_columns is None:
            self._array_columns = columns
        elif columns is not self._array_columns and columns != self._array_columns:
            raise KeyError(f"recorder {self.name}: array row columns changed")
        self._array_rows.append(np.array(values, dtype=float))
        self.rows += 1
        if (
            len(self._array_rows) >= self.flush_rows
            or time.monotonic() - self._last_flush >= self.flush_s
        ):
            self.flush()

    def _drain_array_rows(self) -> None:
        if not self._array_rows:
            return
        rows, self._array_rows = self._array_rows, []
        self.rows -= len(rows)  # extend() counts them again
        block = np.vstack(rows)
        self.extend({c: block[:, j] for j, c in enumerate(self._array_columns)})

    def extend(self, block: Mapping[str, np.ndarray]) -> None:
        """Append a block of equal-length 1-D arrays."""
        if self._array_rows:  # keep row order: array rows first
            self._drain_array_rows()
        if self._columns is None:
            self._columns = list(block)
            self._buf = {c: [] for c in self._columns}
        extra = set(block) - set(self._columns)
        if extra:
            raise KeyError(f"recorder {self.name}: unknown columns {sorted(extra)}")
        n = len(next(iter(block.values()))) if block else 0
        if n == 0:
            return
        for c in self._columns:
            v = block.get(c)
            arr = np.full(n, np.nan) if v is None else np.asarray(v)
            if arr.shape != (n,):
                raise ValueError(
                    f"recorder {self.name}: column {c} has shape {arr.shape}, not ({n},)"
                )
            self._buf[c].append(arr)
        self._buffered += n
        self.rows += n
        if self._buffered >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one record batch and push it to disk."""
        if self._array_rows:
            self._drain_array_rows()
        self._last_flush = time.monotonic()
        if not self._buffered or self._columns is None:
            return
        arrays = {c: np.concatenate(self._buf[c]) for c in self._columns}
        batch = pa.RecordBatch.from_pydict(arrays)
        if self._writer is None:
            self._schema = batch.schema
            self._sink = pa.OSFile(str(self.arrow_path), "wb")
            self._writer = ipc.new_stream(self._sink, self._schema)
        else:
            batch = batch.cast(self._schema)
        self._writer.write_batch(batch)
        self._sink.flush()
        self._buf = {c: [] for c in self._columns}
        self._buffered = 0

    def close(self) -> Path | None:
        """Flush, close the stream and convert it to Parquet. Returns the Parquet path."""
        self.flush()
        if self._writer is None:
            return None
        self._writer.close()
        self._sink.close()
        self._writer = None
        return arrow_to_parquet(self.arrow_path)


def read_arrow_stream(path: Path | str) -> pa.Table:
    """Read every complete batch of a (possibly truncated) Arrow IPC stream."""
    batches = []
    with pa.OSFile(str(path), "rb") as src:
        try:
            reader = ipc.open_stream(src)
        except (pa.ArrowInvalid, OSError):
            return pa.table({})
        schema = reader.schema
        while True:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError):
                break  # truncated tail of a killed writer
    return pa.Table.from_batches(batches, schema=schema)


def arrow_to_parquet(arrow_path: Path | str) -> Path:
    """Convert a stream file to Parquet next to it and remove the stream."""
    arrow_path = Path(arrow_path)
    table = read_arrow_stream(arrow_path)
    out = arrow_path.with_suffix(".parquet")
    pq.write_table(table, out, compression="zstd")
    arrow_path.unlink()
    return out
