"""Faults as admittance changes of the network (pure).

A bus fault adds ``1 / (r + jx)`` to the faulted bus's diagonal while it lasts.
A line fault does the same at one end of the line until clearing, or sits
part-way along it (:meth:`LineStamp.fault_delta`: the line split into two pi
sections at the fault, the internal node eliminated); from clearing to reclosing
(or to the end, without reclosing) the line's pi-model stamp is removed from
``Y``. All admittances are in pu on the system base.
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

    def fault_delta(self, location: float, y_fault_pu: complex) -> np.ndarray:
        """Change of the line's 2 x 2 stamp (rows and columns from, to) [pu] by a fault at
        ``location`` (fraction of the length from the from bus) with admittance ``y_fault_pu``.

        The line becomes two pi sections meeting at an internal node ``m`` (series
        admittances ``y / a`` and ``y / (1 - a)``, the shunt shared in proportion to
        length), the fault is shunted at ``m``, and ``m`` is eliminated (Kron
        reduction). The change is the reduced stamp with the fault minus the same
        without it, so a fault of zero admittance changes nothing.

        Parameters
        ----------
        location : float
            Fault position from the from bus, 0-1 exclusive.
        y_fault_pu : complex
            Fault admittance [pu on the system base].

        Returns
        -------
        numpy.ndarray
            Complex 2 x 2 change ``[[d_ff, d_ft], [d_tf, d_tt]]`` [pu].
        """
        a = float(location)
        y1, y2 = self.y_series_pu / a, self.y_series_pu / (1.0 - a)
        y_mm0 = y1 + y2 + self.y_shunt_pu / 2.0
        col = np.array([-y1, -y2])  # Y[f, m], Y[t, m]

        def reduced(y_mm: complex) -> np.ndarray:
            return -np.outer(col, col) / y_mm  # the part of the Kron reduction through m

        return reduced(y_mm0 + y_fault_pu) - reduced(y_mm0)


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
            if phase == 1 and f.location is not None:
                ends = [line.from_bus, line.to_bus]
                delta[np.ix_(ends, ends)] += line.fault_delta(f.location, y_f)
            elif phase == 1:
                b = line.from_bus if f.end == "from" else line.to_bus
                delta[b, b] += y_f
            elif phase == 2 and line.index not in open_lines:
                delta -= line.stamp(self.n_bus)
                open_lines.add(line.index)
        return FaultState(delta, frozenset(open_lines))
