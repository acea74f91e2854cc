"""Crash-safe time-series recorder (pure: pyarrow only, no helics).

Rows are buffered and flushed as record batches to an Arrow IPC *stream* file
``<dir>/<name>.arrow`` at least every ``flush_s`` seconds of wall-clock time
(and every ``flush_rows`` rows). A stream file is readable up to its last
complete batch even when the writer was killed, so a crash loses at most the
last ``flush_s`` seconds of one federate's work. :meth:`Recorder.close` turns
the stream into ``<name>.parquet``; :func:`arrow_to_parquet` does the same for
the partial stream of a federate that died.

Precision on disk (:func:`float32_column`): the per-element columns of a network
(bus voltages ``vm_pu.<bus>``, angles ``va_degree.<bus>``, branch loadings
``loading_percent.<branch>``, branch flows ``p_mw.<branch>`` / ``q_mvar.<branch>``,
a dynamic grid's ``speed_dev_mhz.<gen>`` / ``angle_deg.<gen>``) are recorded as
float32: 24 significant bits, i.e. a relative resolution of 6e-8 (6e-8 pu of a
voltage, 6e-6 % of a 100 % loading), far below every limit and every
power-flow tolerance, and they are only compared with limits, never integrated
or differenced. Everything else stays float64: ``t_s``, the site's and the
POI's powers (integrated into energy, differenced into ramps), SOC and energy,
the POI voltage (``poi_vm_pu``: differenced into RVC and flicker), losses.
Parquet files are zstd-compressed with the byte-stream-split encoding of floats
(smaller than plain or dictionary encoding for measured values).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

#: prefixes of the columns recorded as float32 (per-element network values; see the module doc)
FLOAT32_PREFIXES = (
    "vm_pu.",
    "va_degree.",
    "loading_percent.",
    "p_mw.",
    "q_mvar.",
    "speed_dev_mhz.",
    "angle_deg.",
)
#: rows per Parquet row group at most (and at most ~:data:`ROW_GROUP_BYTES` of raw values)
ROW_GROUP_ROWS = 1 << 20
ROW_GROUP_BYTES = 32_000_000


def float32_column(name: str) -> bool:
    """True when the column ``name`` is recorded as float32 (:data:`FLOAT32_PREFIXES`).

    Parameters
    ----------
    name : column name

    Returns
    -------
    bool
    """
    return name.startswith(FLOAT32_PREFIXES)


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
        self._array_n = 0  # rows held in _array_rows
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
        self._array_n += 1
        self.rows += 1
        if self._array_n >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def append_rows(self, columns: tuple[str, ...], values: np.ndarray) -> None:
        """Append a block of rows given as a 2-D float array ``(n, len(columns))``.

        Kept as one array, like :meth:`append_array`'s rows (columns are built
        at flush): a block of a few rows of hundreds of columns costs one copy,
        not an array per column.
        """
        block = np.array(values, dtype=float, ndmin=2)
        if block.ndim != 2 or block.shape[1] != len(columns):
            raise ValueError(
                f"recorder {self.name}: rows of shape {block.shape} for {len(columns)} columns"
            )
        if not len(block):
            return
        if self._array_columns is None:
            self._array_columns = columns
        elif columns is not self._array_columns and columns != self._array_columns:
            raise KeyError(f"recorder {self.name}: array row columns changed")
        self._array_rows.append(block)
        self._array_n += len(block)
        self.rows += len(block)
        if self._array_n >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def _drain_array_rows(self) -> None:
        if not self._array_rows:
            return
        rows, self._array_rows, self._array_n = self._array_rows, [], 0
        block = np.vstack(rows)
        self.rows -= len(block)  # extend() counts them again
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
        arrays = {c: _column(c, np.concatenate(self._buf[c])) for c in self._columns}
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


def _stream_batches(path: Path) -> Iterator[pa.Schema | pa.RecordBatch]:
    """The schema, then every complete batch of a (possibly truncated) Arrow stream, one by one."""
    with pa.OSFile(str(path), "rb") as src:
        try:
            reader = ipc.open_stream(src)
        except (pa.ArrowInvalid, OSError):
            return
        yield reader.schema
        while True:
            try:
                yield reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError):
                break  # truncated tail of a killed writer


def read_arrow_stream(path: Path | str) -> pa.Table:
    """Read every complete batch of a (possibly truncated) Arrow IPC stream."""
    items = list(_stream_batches(Path(path)))
    if not items:
        return pa.table({})
    return pa.Table.from_batches(items[1:], schema=items[0])


def _column(name: str, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f" and float32_column(name):
        return values.astype(np.float32)
    return values


def disk_schema(schema: pa.Schema) -> pa.Schema:
    """The Parquet schema: float32 where :func:`float32_column` says so (older streams too)."""
    fields = [
        f.with_type(pa.float32()) if pa.types.is_float64(f.type) and float32_column(f.name) else f
        for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def arrow_to_parquet(arrow_path: Path | str) -> Path:
    """Convert a stream file to Parquet next to it and remove the stream.

    Written one row group at a time (memory bounded by :data:`ROW_GROUP_BYTES`
    of values, not by the series), zstd with byte-stream-split floats.
    """
    arrow_path = Path(arrow_path)
    out = arrow_path.with_suffix(".parquet")
    items = _stream_batches(arrow_path)
    schema = next(items, None)
    if schema is None:
        pq.write_table(pa.table({}), out, compression="zstd")
        arrow_path.unlink()
        return out
    disk = disk_schema(schema)
    floats = [f.name for f in disk if pa.types.is_floating(f.type)]
    others = [f.name for f in disk if not pa.types.is_floating(f.type)]
    row_bytes = max(sum(_width(f.type) for f in disk), 1)
    group = max(1, min(ROW_GROUP_ROWS, ROW_GROUP_BYTES // row_bytes))
    with pq.ParquetWriter(
        out,
        disk,
        compression="zstd",
        use_dictionary=others or False,
        use_byte_stream_split=floats or False,
    ) as writer:
        pending: list[pa.RecordBatch] = []
        rows, written = 0, False
        for batch in items:
            pending.append(batch)
            rows += batch.num_rows
            while rows >= group:
                table = pa.Table.from_batches(pending, schema=schema)
                writer.write_table(table.slice(0, group).cast(disk), row_group_size=group)
                rest = table.slice(group).combine_chunks()
                pending, rows, written = rest.to_batches(), rest.num_rows, True
        if rows or not written:
            table = pa.Table.from_batches(pending, schema=schema)
            writer.write_table(table.cast(disk), row_group_size=group)
    arrow_path.unlink()
    return out


def _width(t: pa.DataType) -> int:
    try:
        return max(int(t.byte_width), 1)
    except ValueError:  # variable width (text)
        return 8
