"""A federate's recorded series: what the loop records of each block (pure: no helics).

The loop (:mod:`federates.common.loop`) hands each block's outputs to a
:class:`SeriesWriter`, which records them into the grid-step series
``<name>`` and the high-rate series ``<name>_hr``
(:class:`~federates.common.recorder.Recorder`) and counts the steps recorded,
so that the info written at the end (also after a failure or SIGTERM) says how
far the series on disk go.

A ``step_block`` record of float64 ``(columns, values)`` goes in as one 2-D
array (:func:`~federates.common.block.block_rows`): with every-step exchange a
block is one row of hundreds of columns (the network's), which must cost one
copy, not an array per column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from federates.common.block import BlockRecord, record_block
from federates.common.recorder import ArrayRow, Recorder

__all__ = ["SeriesWriter"]


class SeriesWriter:
    """The grid-step series ``<name>`` and high-rate series ``<name>_hr`` of one federate.

    Parameters
    ----------
    directory : the run's ``timeseries`` folder
    name : the federate's name
    """

    def __init__(self, directory: Path, name: str) -> None:
        self.rec = Recorder(directory, name)
        self.rec_hr = Recorder(directory, f"{name}_hr")
        #: steps recorded so far (the series on disk end there once closed)
        self.steps = 0
        self._row_columns: tuple[str, ...] | None = None

    def block(
        self,
        record: BlockRecord,
        hr: dict[str, np.ndarray] | None,
        t_s: np.ndarray,
        iterations: float | None,
        upto: int,
    ) -> None:
        """Record a block of ``step_block``: its rows and its high-rate rows.

        Parameters
        ----------
        record : the adapter's record of the block
        hr : the block's high-rate rows, or None
        t_s : the block's step times [s]
        iterations : the iteration count to record (iterative federates), else None
        upto : the number of steps recorded once this block is
        """
        record_block(self.rec, record, t_s, iterations)
        if hr:
            self.rec_hr.extend(hr)
        self.steps = upto

    def rows(
        self, outs: Sequence[Any], t_s: Sequence[float], iterations: float | None, upto: int
    ) -> None:
        """Record the per-step outputs (``StepOutput``) of a block, one row each.

        Parameters
        ----------
        outs : the adapter's outputs, one per step
        t_s : their step times [s]
        iterations : the iteration count to record (iterative federates), else None
        upto : the number of steps recorded once these are
        """
        tail = (float(iterations),) if iterations is not None else ()
        for t, out in zip(t_s, outs, strict=True):
            if isinstance(out.record, ArrayRow):
                if self._row_columns is None:
                    extra = ("iterations",) if iterations is not None else ()
                    self._row_columns = (*out.record.columns, "t_s", *extra)
                values = np.concatenate((out.record.values, (float(t), *tail)))
                self.rec.append_array(self._row_columns, values)
            else:
                row = dict(out.record)
                row["t_s"] = float(t)
                if iterations is not None:
                    row["iterations"] = iterations
                self.rec.append(row)
            if out.block:
                self.rec_hr.extend(out.block)
        self.steps = upto

    def close(self) -> None:
        """Flush and close both series (Parquet next to the streams)."""
        try:
            self.rec.close()
        finally:
            self.rec_hr.close()
