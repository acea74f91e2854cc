"""The power flow's starting guesses for a time series (pf_predict), alone."""

from __future__ import annotations

import numpy as np

from federates.grid.pf_predict import QLimitMemory, SecantPredictor


def _set(*held: int) -> tuple[np.ndarray, np.ndarray]:
    limited = np.zeros(4, dtype=bool)
    limited[list(held)] = True
    return limited, np.where(limited, 0.5, 0.0)


def test_memory_recalls_the_set_found_at_the_nearest_injections() -> None:
    mem = QLimitMemory()
    x_hi, x_lo = np.array([300.0, 10.0]), np.array([250.0, 10.0])
    mem.record(0, x_hi, *_set(1))
    assert mem.recall(0, x_lo) is None  # one set known: the caller keeps the last one
    mem.record(0, x_lo, *_set())
    limited, q_fix = mem.recall(0, np.array([299.0, 10.0]))
    assert limited.tolist() == [False, True, False, False] and q_fix[1] == 0.5
    assert not mem.recall(0, np.array([251.0, 10.0]))[0].any()
    assert mem.recall(1, x_hi) is None  # another network model


def test_memory_forgets_sets_not_found_recently() -> None:
    mem = QLimitMemory()
    mem.record(0, np.array([300.0]), *_set(1))
    for k in range(QLimitMemory.RECENT):
        mem.record(0, np.array([250.0 + 0.1 * k]), *_set())
    # the held set was found RECENT solves ago: forgotten, only one set is left
    assert mem.recall(0, np.array([300.0])) is None


def test_secant_of_an_alternating_series_returns_to_the_solution_two_steps_back() -> None:
    pred = SecantPredictor()
    v_a, v_b = np.array([1.0 + 0.0j, 0.98 - 0.1j]), np.array([1.0 + 0.0j, 0.97 - 0.12j])
    pred.record(0, np.array([300.0]), v_a)
    pred.record(0, np.array([250.0]), v_b)
    step = pred.predict(0, np.array([300.0]))
    np.testing.assert_allclose(v_b + step, v_a)
