"""On-load tap changer control (pure, no helics).

A simplified discrete controller, as in quasi-static time-series studies: the
controlled voltage is compared with ``vm_set_pu +/- deadband_pu``; once it has
stayed outside the band for ``delay_s`` (a definite-time delay), the tap moves
one step towards the band; while it stays outside, further steps follow every
``inter_tap_delay_s``. Inside the band the timer resets. Tap limits are hard.
Which direction raises the voltage depends on the tap side: with the tap on
the HV winding, a higher tap position *lowers* the LV voltage (pandapower's
ratio model), so the controller steps down to raise it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TapState:
    """Mutable state of one tap changer (copied for snapshots)."""

    tap_pos: int
    timer_s: float = 0.0  # time spent outside the band since the last step or band exit [s]
    direction: int = 0  # direction of the steps in progress (0: none yet)
    operations: int = 0


class TapChanger:
    """Discrete, time-delayed tap control of one transformer.

    Parameters
    ----------
    tap_pos, tap_min, tap_max : initial position and hard limits [steps]
    vm_set_pu, deadband_pu : set point and half bandwidth of the controlled voltage [pu]
    delay_s : time outside the band before the first step [s]
    inter_tap_delay_s : time between consecutive steps while outside the band [s]
    raises_with_tap : True when a higher tap raises the controlled voltage
        (tap on the LV side); False for an HV-side tap (pandapower convention)
    """

    def __init__(
        self,
        tap_pos: int,
        tap_min: int,
        tap_max: int,
        *,
        vm_set_pu: float,
        deadband_pu: float,
        delay_s: float,
        inter_tap_delay_s: float,
        raises_with_tap: bool,
    ) -> None:
        if tap_min > tap_max:
            raise ValueError(f"tap_min {tap_min} > tap_max {tap_max}")
        self.tap_min, self.tap_max = int(tap_min), int(tap_max)
        self.vm_set_pu, self.deadband_pu = float(vm_set_pu), float(deadband_pu)
        self.delay_s, self.inter_tap_delay_s = float(delay_s), float(inter_tap_delay_s)
        self.sign = 1 if raises_with_tap else -1
        self.state = TapState(min(max(int(tap_pos), self.tap_min), self.tap_max))

    @property
    def tap_pos(self) -> int:
        return self.state.tap_pos

    def update(self, vm_pu: float, dt_s: float) -> bool:
        """Advance the controller by ``dt_s`` [s] with the measured voltage [pu]; True when the tap
        moved.

        Parameters
        ----------
        vm_pu : float
            Measured voltage magnitude [pu]; NaN leaves the controller unchanged.
        dt_s : float
            Time step [s].

        Returns
        -------
        bool
            The tap moved.
        """
        s = self.state
        if not math.isfinite(vm_pu):
            return False
        error = vm_pu - self.vm_set_pu
        if abs(error) <= self.deadband_pu:
            s.timer_s, s.direction = 0.0, 0
            return False
        step = self.sign if error < 0 else -self.sign  # too low -> raise the voltage
        if s.direction != 0 and step != s.direction:
            s.timer_s, s.direction = 0.0, 0
        new = s.tap_pos + step
        if not self.tap_min <= new <= self.tap_max:
            s.timer_s = 0.0
            return False
        s.timer_s += dt_s
        threshold = self.inter_tap_delay_s if s.direction == step else self.delay_s
        if s.timer_s + 1e-9 < threshold:
            return False
        s.tap_pos, s.timer_s, s.direction = new, 0.0, step
        s.operations += 1
        return True
