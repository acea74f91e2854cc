"""Whole-sync-block stepping: what an adapter with ``step_block`` hands back (pure, no helics).

An adapter may implement ``step_block(t_s, t_next_s, inputs, iteration) -> BlockOutput``
next to ``step``: the loop (:mod:`federates.common.loop`) then calls it once per
sync block with per-step arrays instead of once per step, and records the block
as one array. Its results must equal the per-step path's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


class PartialBlock(Exception):
    """A block that failed at one step: ``output`` holds the steps completed before it.

    Raised by an adapter's ``step_block``; the loop records ``output`` (so that no
    computed step is lost) and then fails with ``cause``.
    """

    def __init__(self, output: BlockOutput, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.output = output
        self.cause = cause
