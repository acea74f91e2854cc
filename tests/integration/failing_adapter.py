"""An adapter that fails in its model at a set time (tests of a federate failing mid-run).

Config: ``cosim.wrapped`` names the real adapter factory (``module:make``), and
``cosim.fail_at_s`` the first step time at which every call raises ``RuntimeError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from federates.common.loop import load_adapter_factory


class Failing:
    """The wrapped adapter, raising from ``fail_at_s`` on."""

    def __init__(self, inner: Any, fail_at_s: float) -> None:
        self.inner = inner
        self.fail_at_s = fail_at_s

    def _check(self, t_s: float) -> None:
        if t_s >= self.fail_at_s:
            raise RuntimeError(f"injected failure at t = {t_s:g} s")

    def step(self, t_s: float, t_next_s: float, inputs: Any, iteration: int) -> Any:
        self._check(t_s)
        return self.inner.step(t_s, t_next_s, inputs, iteration)

    def step_block(self, t_s: Any, t_next_s: Any, inputs: Any, iteration: int) -> Any:
        self._check(float(t_s[-1]))
        return self.inner.step_block(t_s, t_next_s, inputs, iteration)

    def finalize(self) -> dict[str, Any]:
        return self.inner.finalize()


def make(config: dict[str, Any], out_dir: Path) -> tuple[Failing, Any, float]:
    """The wrapped adapter of ``config``, failing from ``cosim.fail_at_s``."""
    opts = config["cosim"]
    adapter, times_s, duration_s = load_adapter_factory(opts["wrapped"])(config, out_dir)
    return Failing(adapter, float(opts["fail_at_s"])), times_s, duration_s
