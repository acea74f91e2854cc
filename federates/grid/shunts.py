"""Switched shunt banks (capacitors / reactors) with voltage-controlled step switching (pure, no
helics).

Simplified: one step at a time after the voltage has stayed outside
``[v_low_pu, v_high_pu]`` for ``delay_s``; the timer resets inside the band.
A capacitor step (``q_step_mvar > 0``) raises the voltage, so a low voltage
switches a step in and a high one switches it out; a reactor works the other way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class BankState:
    steps_on: int
    timer_s: float = 0.0
    direction: int = 0  # +1 switching in, -1 switching out, 0 inside the band
    operations: int = 0


class ShuntBank:
    """A bank of ``steps`` equal steps of ``q_step_mvar`` [Mvar at 1 pu], > 0 = capacitive."""

    def __init__(
        self,
        q_step_mvar: float,
        steps: int,
        steps_on: int,
        *,
        v_low_pu: float,
        v_high_pu: float,
        delay_s: float,
        controlled: bool = True,
    ) -> None:
        if q_step_mvar == 0 or steps < 1 or not 0 <= steps_on <= steps or v_low_pu >= v_high_pu:
            raise ValueError("invalid shunt bank parameters")
        self.q_step_mvar, self.steps = float(q_step_mvar), int(steps)
        self.v_low_pu, self.v_high_pu, self.delay_s = (
            float(v_low_pu),
            float(v_high_pu),
            float(delay_s),
        )
        self.controlled = controlled
        self.state = BankState(int(steps_on))

    @property
    def steps_on(self) -> int:
        return self.state.steps_on

    @property
    def q_mvar(self) -> float:
        """Reactive power injected at 1 pu [Mvar] (> 0 capacitive)."""
        return self.q_step_mvar * self.state.steps_on

    def update(self, vm_pu: float, dt_s: float) -> bool:
        """Advance by ``dt_s`` [s] with the bus voltage [pu]; True when a step switched.

        Parameters
        ----------
        vm_pu : float
            Bus voltage magnitude [pu]; NaN leaves the bank unchanged.
        dt_s : float
            Time step [s].

        Returns
        -------
        bool
            A step switched.
        """
        s = self.state
        if not self.controlled or not math.isfinite(vm_pu):
            return False
        if vm_pu < self.v_low_pu:
            want = 1 if self.q_step_mvar > 0 else -1
        elif vm_pu > self.v_high_pu:
            want = -1 if self.q_step_mvar > 0 else 1
        else:
            s.timer_s, s.direction = 0.0, 0
            return False
        if want != s.direction:
            s.timer_s, s.direction = 0.0, want
        new = s.steps_on + want
        if not 0 <= new <= self.steps:
            s.timer_s = 0.0
            return False
        s.timer_s += dt_s
        if s.timer_s + 1e-9 < self.delay_s:
            return False
        s.steps_on, s.timer_s = new, 0.0
        s.operations += 1
        return True
