"""Whole-sync-block stepping: what an adapter with ``step_block`` hands back (pure, no helics).

An adapter may implement ``step_block(t_s, t_next_s, inputs, iteration) -> BlockOutput``
next to ``step``: the loop (:mod:`federates.common.loop`) then calls it once per
sync block with per-step arrays instead of once per step, and records the block
as one array. Its results must equal the per-step path's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

BlockRecord = tuple[tuple[str, ...], np.ndarray] | Mapping[str, np.ndarray]


@dataclass
class BlockOutput:
    """What an adapter hands back for one sync block of ``n`` steps.

    publish : publication key -> per-step values, shape ``(n,)``
    record : the block's rows of the grid-step series: ``(columns, values)`` with
        ``values`` of shape ``(n, len(columns))``, or a dict of ``(n,)`` arrays
    block : optional high-rate rows (equal-length arrays, include ``t_s``), recorded in
        ``<name>_hr``
    """

    publish: dict[str, np.ndarray]
    record: BlockRecord
    block: dict[str, np.ndarray] | None = None


def block_inputs(
    vectors: Mapping[str, np.ndarray], n_block: int, aligned: bool
) -> dict[str, np.ndarray]:
    """Per-step input arrays of a block, as the per-step path reads them.

    A federate that waits for the current time update (``aligned``) receives the
    block's own values step by step; the others hold the latest value received.
    An input with no value is NaN.
    """
    out = {}
    for key, v in vectors.items():
        if aligned and len(v) == n_block:
            out[key] = np.asarray(v, dtype=float)
        else:
            out[key] = np.full(n_block, float(v[-1]) if len(v) else np.nan)
    return out


def record_columns(
    record: BlockRecord, t_s: np.ndarray, iterations: float | None
) -> dict[str, np.ndarray]:
    """The block's recorded columns: the adapter's, then ``t_s`` (and ``iterations``)."""
    if isinstance(record, tuple):
        columns, values = record
        cols = {c: values[:, j] for j, c in enumerate(columns)}
    else:
        cols = {c: np.asarray(v, dtype=float) for c, v in record.items()}
    cols["t_s"] = np.asarray(t_s, dtype=float)
    if iterations is not None:
        cols["iterations"] = np.full(len(t_s), float(iterations))
    return cols


class BlockSink(Protocol):
    """Where a block's rows go (a :class:`~federates.common.recorder.Recorder`)."""

    def append_rows(self, columns: tuple[str, ...], values: np.ndarray) -> None: ...

    def extend(self, block: Mapping[str, np.ndarray]) -> None: ...


#: id of an adapter's column tuple -> (that tuple, its columns with ``t_s`` (and ``iterations``))
_TIMED_COLUMNS: dict[tuple[int, bool], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _timed_columns(columns: tuple[str, ...], iterative: bool) -> tuple[str, ...]:
    """``columns`` + ``t_s`` (+ ``iterations``): one tuple object per adapter tuple (the schema)."""
    key = (id(columns), iterative)
    hit = _TIMED_COLUMNS.get(key)
    if hit is None or hit[0] is not columns:
        hit = (columns, (*columns, "t_s", *(("iterations",) if iterative else ())))
        _TIMED_COLUMNS[key] = hit
    return hit[1]


def block_rows(
    record: BlockRecord, t_s: np.ndarray, iterations: float | None
) -> tuple[tuple[str, ...], np.ndarray] | dict[str, np.ndarray]:
    """A block's rows as :func:`record_columns` lays them out.

    A ``(columns, values)`` record of float64 values becomes one 2-D array (the
    adapter's columns, then ``t_s`` and ``iterations``) with its columns: a
    block of one step of hundreds of columns costs one copy instead of an array
    per column. Other records become columns. The values are the same.

    Parameters
    ----------
    record : the adapter's record of the block
    t_s : the block's step times [s]
    iterations : the iteration count to record (iterative federates), else None

    Returns
    -------
    tuple or dict
        ``(columns, values)`` for :meth:`Recorder.append_rows`, or columns for
        :meth:`Recorder.extend`.
    """
    if isinstance(record, tuple):
        columns, values = record
        values = np.asarray(values)
        if values.dtype == np.float64 and values.ndim == 2 and values.shape[0] == len(t_s):
            extra = [np.asarray(t_s, dtype=float)]
            if iterations is not None:
                extra.append(np.full(len(t_s), float(iterations)))
            return (
                _timed_columns(tuple(columns), iterations is not None),
                np.column_stack((values, *extra)),
            )
    return record_columns(record, t_s, iterations)


def record_block(
    sink: BlockSink, record: BlockRecord, t_s: np.ndarray, iterations: float | None
) -> None:
    """Record a block's rows (:func:`block_rows`) into ``sink``.

    Parameters
    ----------
    sink : the recorder
    record : the adapter's record of the block
    t_s : the block's step times [s]
    iterations : the iteration count to record (iterative federates), else None
    """
    rows = block_rows(record, t_s, iterations)
    if isinstance(rows, tuple):
        sink.append_rows(*rows)
    else:
        sink.extend(rows)


class PartialBlock(Exception):
    """A block that failed at one step: ``output`` holds the steps completed before it.

    Raised by an adapter's ``step_block``; the loop records ``output`` (so that no
    computed step is lost) and then fails with ``cause``.
    """

    def __init__(self, output: BlockOutput, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.output = output
        self.cause = cause
