"""Faults as admittance changes of the network (pure).

A bus fault adds ``1 / (r + jx)`` to the faulted bus's diagonal while it lasts.
A line fault does the same at one end of the line until clearing; from clearing
to reclosing (or to the end, without reclosing) the line's pi-model stamp is
removed from ``Y``. All admittances are in pu on the system base.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from federates.dynamics.config import BusFaultConfig, LineFaultConfig


@dataclass(frozen=True)
class LineStamp:
    """A line's pi model: series admittance and total shunt admittance [pu], end bus indices."""

    index: int
    from_bus: int
    to_bus: int
    y_series_pu: complex
    y_shunt_pu: complex

    def stamp(self, n_bus: int) -> np.ndarray:
        """The line's contribution to ``Y`` [pu], complex (n_bus, n_bus).

        Parameters
        ----------
        n_bus : int
            Number of buses.

        Returns
        -------
        numpy.ndarray
            Admittance contribution [pu], complex, shape ``(n_bus, n_bus)``.
        """
        out = np.zeros((n_bus, n_bus), dtype=complex)
        f, t, y, ysh = self.from_bus, self.to_bus, self.y_series_pu, self.y_shunt_pu
        out[f, f] += y + ysh / 2
        out[t, t] += y + ysh / 2
        out[f, t] -= y
        out[t, f] -= y
        return out


@dataclass(frozen=True)
class FaultState:
    """Network state at one instant: the admittance change and which lines are open."""

    delta_y: np.ndarray
    lines_open: frozenset[int]


class FaultSchedule:
    """Map each instant to the network's admittance change.

    Parameters
    ----------
    faults : bus and line faults (from the case)
    bus_index : bus name -> index
    lines : line name -> its pi model
    n_bus : number of buses
    """

    def __init__(
        self,
        faults: Sequence[BusFaultConfig | LineFaultConfig],
        bus_index: dict[str, int],
        lines: dict[str, LineStamp],
        n_bus: int,
    ) -> None:
        self.faults = list(faults)
        self.bus_index = bus_index
        self.lines = lines
        self.n_bus = n_bus
        for f in self.faults:
            if isinstance(f, BusFaultConfig) and f.bus not in bus_index:
                raise ValueError(f"fault bus {f.bus!r} not in the case")
            if isinstance(f, LineFaultConfig) and f.line not in lines:
                raise ValueError(f"fault line {f.line!r} not in the case (lines: {sorted(lines)})")
        self._cache: dict[tuple[int, ...], FaultState] = {}

    def instants_s(self) -> list[float]:
        """Every instant at which the network changes [s] (for the time grid)."""
        out: list[float] = []
        for f in self.faults:
            out += [f.start_s, f.clear_s]
            if isinstance(f, LineFaultConfig) and f.reclose_s is not None:
                out.append(f.reclose_s)
        return sorted(set(out))

    def _phase(self, f: BusFaultConfig | LineFaultConfig, t_s: float) -> int:
        """0 before or after (reclosed), 1 faulted, 2 tripped."""
        if t_s < f.start_s:
            return 0
        if t_s < f.clear_s:
            return 1
        if isinstance(f, LineFaultConfig) and (f.reclose_s is None or t_s < f.reclose_s):
            return 2
        return 0

    def state(self, t_s: float) -> FaultState:
        """The admittance change and open lines in force at ``t_s`` [s].

        Parameters
        ----------
        t_s : float
            Time [s].

        Returns
        -------
        FaultState
            Admittance change [pu] and open lines.
        """
        key = tuple(self._phase(f, t_s) for f in self.faults)
        if key not in self._cache:
            self._cache[key] = self._build(key)
        return self._cache[key]

    def _build(self, phases: tuple[int, ...]) -> FaultState:
        delta = np.zeros((self.n_bus, self.n_bus), dtype=complex)
        open_lines: set[int] = set()
        for f, phase in zip(self.faults, phases, strict=True):
            y_f = 1.0 / complex(f.r_pu, f.x_pu)
            if isinstance(f, BusFaultConfig):
                if phase == 1:
                    b = self.bus_index[f.bus]
                    delta[b, b] += y_f
                continue
            line = self.lines[f.line]
            if phase == 1:
                b = line.from_bus if f.end == "from" else line.to_bus
                delta[b, b] += y_f
            elif phase == 2 and line.index not in open_lines:
                delta -= line.stamp(self.n_bus)
                open_lines.add(line.index)
        return FaultState(delta, frozenset(open_lines))
