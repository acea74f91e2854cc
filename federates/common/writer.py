"""A federate's recorded series, written while the federate waits for the others (no helics).

The loop (:mod:`federates.common.loop`) hands each block's outputs to a
:class:`SeriesWriter` just before it requests the next time. Threaded, the
writer copies them at once (an adapter may reuse its arrays), in the loop's
thread, and records them (:class:`~federates.common.recorder.Recorder`: rows,
blocks and the periodic flush to disk) on its thread while the loop waits in
HELICS for the others, whose turn it is. The loop threads it when its sync
blocks hold several steps (measured: +5 % grid steps/s with 60 s blocks); with
one-step blocks (every-step exchange) it records at once, in the loop's thread:
waking a thread every step costs about what it moves (~40-80 us).

A ``step_block`` record of float64 ``(columns, values)`` goes in as one 2-D
array (:func:`~federates.common.block.block_rows`): a block of one row of
hundreds of columns (the network's) costs one copy, not an array per column.

Blocks are recorded in the order handed over. A recording error is raised in
the loop's thread at the next hand-over, or by :meth:`SeriesWriter.drain`;
:meth:`SeriesWriter.close` records whatever was handed over, then closes the
series (also after an error or SIGTERM), so that the series on disk end at
:attr:`SeriesWriter.steps`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from federates.common.block import BlockRecord, block_rows
from federates.common.recorder import ArrayRow, Recorder

__all__ = ["SeriesWriter"]

_Job = tuple[Callable[[], None] | None, int | None, threading.Event | None]


class SeriesWriter:
    """The grid-step series ``<name>`` and high-rate series ``<name>_hr`` of one federate.

    Parameters
    ----------
    directory : the run's ``timeseries`` folder
    name : the federate's name
    iterative : record an ``iterations`` column
    threaded : record on a thread (else at once, in the caller's thread)
    """

    def __init__(
        self, directory: Path, name: str, iterative: bool, *, threaded: bool = True
    ) -> None:
        self.rec = Recorder(directory, name)
        self.rec_hr = Recorder(directory, f"{name}_hr")
        self.iterative = iterative
        #: steps recorded so far (the series on disk end there once closed)
        self.steps = 0
        self._row_columns: tuple[str, ...] | None = None
        self._error: BaseException | None = None
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="series-writer", daemon=True)
            self._thread.start()

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
        rows = block_rows(record, t_s, iterations)  # (columns, 2-D values): a fresh array
        high = hr or None
        if self._thread is not None:  # recorded later: keep copies (an adapter may reuse arrays)
            if not isinstance(rows, tuple):
                rows = {c: np.array(v) for c, v in rows.items()}
            high = {c: np.array(v) for c, v in hr.items()} if hr else None
        rec, rec_hr = self.rec, self.rec_hr

        def job() -> None:
            if isinstance(rows, tuple):
                rec.append_rows(*rows)
            else:
                rec.extend(rows)
            if high:
                rec_hr.extend(high)

        self._submit(job, upto)

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
        packed: list[tuple[Any, dict[str, np.ndarray] | None]] = []
        for t, out in zip(t_s, outs, strict=True):
            if isinstance(out.record, ArrayRow):
                if self._row_columns is None:
                    extra = ("iterations",) if iterations is not None else ()
                    self._row_columns = (*out.record.columns, "t_s", *extra)
                row: Any = np.concatenate((out.record.values, (float(t), *tail)))
            else:
                row = dict(out.record)
                row["t_s"] = float(t)
                if iterations is not None:
                    row["iterations"] = iterations
            high = {c: np.array(v) for c, v in out.block.items()} if out.block else None
            packed.append((row, high))
        rec, rec_hr, columns = self.rec, self.rec_hr, self._row_columns

        def job() -> None:
            for row, high in packed:
                if isinstance(row, dict):
                    rec.append(row)
                else:
                    rec.append_array(columns, row)
                if high:
                    rec_hr.extend(high)

        self._submit(job, upto)

    def _submit(self, job: Callable[[], None], upto: int) -> None:
        self._raise()
        if self._thread is None:
            job()
            self.steps = upto
        else:
            self._jobs.put((job, upto, None))

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:  # pragma: no cover - runs in its thread
        while True:
            job, upto, done = self._jobs.get()
            if job is not None and self._error is None:
                try:
                    job()
                    if upto is not None:
                        self.steps = upto
                except BaseException as exc:  # noqa: BLE001 - raised in the loop's thread
                    self._error = exc
            if done is not None:
                done.set()
                if job is None and upto == -1:
                    return

    def _wait(self, stop: bool) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        done = threading.Event()
        self._jobs.put((None, -1 if stop else None, done))
        done.wait()

    def drain(self) -> None:
        """Wait until every block handed over is recorded; raise a recording error."""
        self._wait(stop=False)
        self._raise()

    def close(self) -> None:
        """Record what was handed over, stop the thread, then close both series."""
        self._wait(stop=True)
        try:
            self.rec.close()
        finally:
            self.rec_hr.close()
