"""The loop's per-exchange path: inputs read through the HELICS C call, blocks recorded whole.

Both must give what the slower paths gave: the same doubles read, the same
series on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from federates.common.block import record_block, record_columns
from federates.common.recorder import Recorder

COLUMNS = ("p_mw", "vm_pu.3", "loading_percent.l1")


def _blocks(n_blocks: int, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out, t0 = [], 0.0
    for k in range(n_blocks):
        n = 1 + k % 3
        out.append((t0 + np.arange(n, dtype=float), rng.normal(size=(n, len(COLUMNS)))))
        t0 += n
    return out


@pytest.mark.parametrize("iterations", [None, 3.0])
def test_recorded_blocks_equal_the_column_path(tmp_path: Path, iterations: float | None) -> None:
    fast = Recorder(tmp_path, "fast", flush_rows=4)
    slow = Recorder(tmp_path, "slow", flush_rows=4)
    for t_s, values in _blocks(20):
        record_block(fast, (COLUMNS, values), t_s, iterations)
        slow.extend(record_columns((COLUMNS, values), t_s, iterations))
    assert fast.rows == slow.rows
    a, b = pq.read_table(fast.close()), pq.read_table(slow.close())
    assert a.schema == b.schema
    assert a.equals(b)


def test_rows_blocks_and_dict_blocks_keep_their_order(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, "m", flush_rows=1000)
    cols = ("a", "t_s")
    rec.append_array(cols, np.array([0.0, 0.0]))
    rec.append_rows(cols, np.array([[1.0, 1.0], [2.0, 2.0]]))
    rec.extend({"a": np.array([3.0]), "t_s": np.array([3.0])})
    rec.append_rows(cols, np.array([[4.0, 4.0]]))
    assert rec.rows == 5
    df = pd.read_parquet(rec.close())
    np.testing.assert_array_equal(df["t_s"], np.arange(5.0))
    np.testing.assert_array_equal(df["a"], np.arange(5.0))


def test_rows_of_the_wrong_width_or_columns_are_errors(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, "e")
    with pytest.raises(ValueError, match="rows of shape"):
        rec.append_rows(("a", "b"), np.zeros((2, 3)))
    rec.append_rows(("a", "b"), np.zeros((2, 2)))
    with pytest.raises(KeyError, match="columns changed"):
        rec.append_rows(("a", "c"), np.zeros((1, 2)))


def test_a_float32_or_dict_record_takes_the_column_path(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, "d")
    t_s = np.arange(2.0)
    record_block(rec, (("x",), np.ones((2, 1), dtype=np.float32)), t_s, None)
    record_block(rec, {"x": np.array([2.0, 3.0])}, t_s + 2, None)
    df = pd.read_parquet(rec.close())
    np.testing.assert_array_equal(df["x"], [1.0, 1.0, 2.0, 3.0])


def _inproc_federate(name: str) -> tuple[Any, Any, Any, Any]:
    import helics as h

    info = h.helicsCreateFederateInfo()
    h.helicsFederateInfoSetCoreTypeFromString(info, "inproc")
    h.helicsFederateInfoSetCoreInitString(info, f"--federates=1 --autobroker --name={name}_core")
    fed = h.helicsCreateValueFederate(name, info)
    pub = h.helicsFederateRegisterGlobalPublication(
        fed, f"{name}/x", h.HELICS_DATA_TYPE_VECTOR, "kW"
    )
    sub = h.helicsFederateRegisterSubscription(fed, f"{name}/x", "MW")
    return h, fed, pub, sub


def test_inputs_read_what_the_wrapper_reads_in_the_subscribers_units() -> None:
    from federates.common.values import Inputs, Outputs

    h, fed, pub, sub = _inproc_federate("io_probe")
    try:
        h.helicsFederateEnterExecutingMode(fed)
        inputs = Inputs(h, {"io_probe/x": sub}, "io_probe", 1.0)
        outputs = Outputs(h, {"io_probe/x": pub}, "io_probe", 1e-6, {})
        for k, n in enumerate((1, 3, 200, 1)):  # 200: longer than the first buffer
            values = 1000.0 * (k + 1) + np.arange(n) / 7.0
            outputs.publish({"io_probe/x": values}, force=True)
            h.helicsFederateRequestTime(fed, float(k + 1))
            wrapper = np.asarray(h.helicsInputGetVector(sub), dtype=float)
            got = inputs.read()["io_probe/x"]
            assert np.array_equal(wrapper, values)
            assert np.array_equal(got, wrapper * 1e-3)  # kW -> MW
        with pytest.raises(KeyError, match="unknown key"):
            outputs.publish({"io_probe/y": [1.0]}, force=True)
    finally:
        h.helicsFederateDisconnect(fed)
        h.helicsFederateFree(fed)


def test_a_value_within_its_tolerance_is_not_published_again() -> None:
    from federates.common.values import Outputs

    sent: list[list[float]] = []

    class FakeHelics:
        def helicsPublicationPublishVector(self, pub: object, values: list[float]) -> None:
            sent.append(values)

    out = Outputs(FakeHelics(), {"a/x": object()}, "a", 0.1, {"a/x": 0.5})
    out.publish({"a/x": [1.0]}, force=False)
    out.publish({"a/x": [1.4]}, force=False)  # within 0.5: held
    out.publish({"a/x": [1.4]}, force=True)
    out.publish({"a/x": [2.0]}, force=False)
    assert sent == [[1.0], [1.4], [2.0]]
