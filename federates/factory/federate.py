"""HELICS adapter of the AI factory: POI voltage and frequency in, POI P and Q out.

All physics lives in :class:`federates.factory.site.FactorySite`; this module
only maps HELICS keys to its arguments and its outputs to publications.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from federates.common.adapter import params_of, timing
from federates.common.block import BlockOutput, PartialBlock
from federates.common.loop import StepOutput
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig

if TYPE_CHECKING:
    from federates.factory.site import FactorySite, IntervalOutput

NAME = "factory"
NOMINAL_F_HZ = 60.0


class FactoryAdapter:
    """Copies inputs into the site model and its interval outputs out.

    ``rerunnable`` (an iterating federate, called again at the same time) keeps the
    site's state at the start of each call's last step for that re-run; a federate that
    does not iterate goes without the copy (:meth:`.site.FactorySite.advance_block`).
    """

    def __init__(
        self,
        site: FactorySite,
        vm_key: str,
        f_key: str | None,
        high_rate: bool,
        *,
        rerunnable: bool = True,
    ) -> None:
        self.site = site
        self.vm_key = vm_key
        self.f_key = f_key
        self.high_rate = high_rate
        self.rerunnable = rerunnable

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput:
        vm_pu = _finite(inputs.get(self.vm_key), 1.0)
        f_hz = _finite(inputs.get(self.f_key), NOMINAL_F_HZ) if self.f_key else NOMINAL_F_HZ
        out = self.site.advance(t_s, t_next_s, vm_pu, f_hz, rerunnable=self.rerunnable)
        return StepOutput(
            publish={f"{NAME}/p_mw": out.p_mw, f"{NAME}/q_mvar": out.q_mvar},
            record=self._record(out, vm_pu, f_hz),
            block=out.hr if self.high_rate else None,
        )

    @staticmethod
    def _record(out: IntervalOutput, vm_pu: float, f_hz: float) -> dict[str, float]:
        """The grid-step row: the interval's POI power [MW, Mvar], its record, the inputs."""
        return {
            "p_mw": out.p_mw,
            "q_mvar": out.q_mvar,
            "p_max_mw": out.p_max_mw,
            "p_min_mw": out.p_min_mw,
            **out.record,
            "vm_pu": vm_pu,
            "f_hz": f_hz,
        }

    def step_block(
        self,
        t_s: np.ndarray,
        t_next_s: np.ndarray,
        inputs: Mapping[str, np.ndarray],
        iteration: int,
    ) -> BlockOutput:
        """A whole sync block: the per-step :meth:`step` over ``t_s`` [s], stacked.

        ``inputs`` holds per-step arrays (site voltage [pu], frequency [Hz]); the
        result equals the per-step path's (same rows, same order). Only the block's
        last step keeps the state for a re-run (no call re-runs the others), and only when
        :attr:`rerunnable`.
        """
        n = len(t_s)
        t_list = np.asarray(t_s, dtype=float).tolist()
        t_next = np.asarray(t_next_s, dtype=float).tolist()
        vm = inputs.get(self.vm_key)
        fk = inputs.get(self.f_key) if self.f_key else None
        vm_list = [None] * n if vm is None else list(vm)
        f_list = [NOMINAL_F_HZ] * n if fk is None else list(fk)
        vm_in = [_finite(v, 1.0) for v in vm_list]
        f_in = [_finite(f, NOMINAL_F_HZ) if self.f_key else NOMINAL_F_HZ for f in f_list]
        rows: list[list[float]] = []
        hr: list[dict[str, np.ndarray]] = []
        columns: tuple[str, ...] = ()
        as_is = False
        try:
            for vm_pu, f_hz, out in zip(
                vm_in,
                f_in,
                self.site.advance_block(t_list, t_next, vm_in, f_in, keep_last=self.rerunnable),
                strict=True,
            ):
                if not columns:
                    columns = tuple(self._record(out, vm_pu, f_hz))
                    as_is = columns == tuple(out.record)
                # the site's record already is the row (same keys, order and values): as is
                rows.append(
                    list((out.record if as_is else self._record(out, vm_pu, f_hz)).values())
                )
                if self.high_rate:
                    hr.append(out.hr)
        except Exception as exc:  # keep the steps computed before the failing one
            if not rows:
                raise
            raise PartialBlock(_block_output(columns, rows, hr), exc) from exc
        return _block_output(columns, rows, hr)

    def finalize(self) -> dict[str, Any]:
        return self.site.summary()


def _block_output(
    columns: tuple[str, ...], rows: list[list[float]], hr: list[dict[str, np.ndarray]]
) -> BlockOutput:
    """The factory's block output of ``rows`` (one per step, in ``columns``) and their
    high-rate series ``hr``."""
    values = np.array(rows, dtype=float).reshape(len(rows), len(columns))
    return BlockOutput(
        publish={
            f"{NAME}/p_mw": values[:, columns.index("p_mw")].copy(),
            f"{NAME}/q_mvar": values[:, columns.index("q_mvar")].copy(),
        },
        record=(columns, values),
        block=_joined(hr) if hr else None,
    )


def _joined(hr: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The high-rate rows of a block's steps joined per column (new arrays; one step's are
    copied, which costs a fifth of joining one array)."""
    if len(hr) == 1:
        return {c: np.array(v) for c, v in hr[0].items()}
    return {c: np.concatenate([h[c] for h in hr]) for c in hr[0]}


def _finite(value: Any, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


class FactoryParams(BaseModel):
    """The factory federate's own parameters (``cosim.params`` of its config)."""

    model_config = ConfigDict(extra="forbid")

    factory: FactoryConfig
    bess: BessConfig
    controls: ControlsConfig
    seed: int = 0
    dt_s: float = 0.05  # internal step [s]
    high_rate: bool = True  # record the internal-step POI series
    base_dir: Path = Path(".")  # folder relative trace paths were resolved against


def make(config: dict[str, Any], out_dir: Path):  # noqa: ANN201 - (adapter, times_s, duration_s)
    """Adapter factory called by the shared loop: reads only its own config."""
    from federates.factory.site import FactorySite

    p = params_of(config, FactoryParams)
    site = FactorySite(p.factory, p.bess, p.controls, seed=p.seed, dt_s=p.dt_s, base_dir=p.base_dir)
    subs = [s["key"] for s in config.get("subscriptions", [])]
    f_key = next((k for k in subs if k.endswith("/f_hz")), None)
    vm_key = next(k for k in subs if k.endswith("_vm_pu"))
    iterative = bool(config.get("cosim", {}).get("iterative", False))
    adapter = FactoryAdapter(site, vm_key, f_key, p.high_rate, rerunnable=iterative)
    return (adapter, *timing(config))
