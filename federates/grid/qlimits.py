"""Generator reactive-power limits in a Newton-Raphson power flow: PV-to-PQ switching (pure, no
helics).

A PV bus holds its voltage with whatever reactive power it takes; a real
machine cannot go past its capability ``[min_q_mvar, max_q_mvar]``. After a
converged solve, :class:`GenQPlan` gives each generator's reactive output and
:func:`q_violations` the generators outside their limits; the caller fixes
those at the violated limit (their bus becomes PQ) and solves again, until no
PV generator is outside its limits. This is the scheme of
``pandapower.runpp(enforce_q_lims=True)`` (from MATPOWER's ``runpf`` with
``pf.enforce_q_lims = 1``): all violating generators switch at once, a
switched generator stays at its limit for the rest of that solve, and every
solve starts again from all generators PV (no PQ-to-PV back-switching needed).

Units: per unit on the network's base (``Sbus`` convention: positive =
injected into the network). Reactive output of several generators at one bus
is shared as MATPOWER's ``pfsoln`` does: in proportion to their reactive
ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

EPS = 2.220446049250313e-16


@dataclass(frozen=True)
class QLimitSwitch:
    """A generator held at a reactive limit (its bus switched from PV to PQ) in one solve.

    Attributes
    ----------
    gen : pandapower index in ``net.gen``
    side : "max" (over-excited limit reached) or "min" (under-excited)
    q_mvar : the limit it is held at [Mvar]
    """

    gen: int
    side: Literal["max", "min"]
    q_mvar: float


class GenQPlan:
    """Reactive output of the generators after a solve, planned for one ``active`` set.

    A generator's output is its bus's generator total ``q_inj - (q_spec - sum of
    the active generators' q_spec)``, split among the active generators of the bus
    in proportion to their reactive ranges (equally when the ranges are zero). A
    time series checks the same generators at every solve; the plan keeps their
    buses, counts and limit sums so that each check is a few array operations.

    Parameters
    ----------
    n_bus : int
        Number of internal buses.
    gen_bus : numpy.ndarray
        Bus (internal index) of each generator.
    gen_q_spec_pu : numpy.ndarray
        Reactive power each generator contributes to the specified ``Sbus`` [pu].
    active : numpy.ndarray
        Generators whose output is free (in service at a PV or slack bus), boolean.
    q_min_pu, q_max_pu : numpy.ndarray
        Reactive limits [pu].
    """

    def __init__(
        self,
        n_bus: int,
        gen_bus: np.ndarray,
        gen_q_spec_pu: np.ndarray,
        active: np.ndarray,
        q_min_pu: np.ndarray,
        q_max_pu: np.ndarray,
    ) -> None:
        self.n_gen = len(gen_bus)
        self.active = active
        b = gen_bus[active]
        self.bus = b
        own = np.bincount(b, weights=gen_q_spec_pu[active], minlength=n_bus)
        count = np.bincount(b, minlength=n_bus)
        lo = np.bincount(b, weights=q_min_pu[active], minlength=n_bus)
        hi = np.bincount(b, weights=q_max_pu[active], minlength=n_bus)
        self.own_b = own[b]
        self.count_b = count[b]
        self.lo_b, self.hi_b = lo[b], hi[b]
        self.q_min_a, self.q_max_a = q_min_pu[active], q_max_pu[active]
        self.single_or_flat = (count[b] == 1) | (lo[b] == hi[b])

    def q_pu(self, q_inj_pu: np.ndarray, q_spec_pu: np.ndarray) -> np.ndarray:
        """Per-generator reactive output [pu] (NaN where not active).

        Parameters
        ----------
        q_inj_pu : numpy.ndarray
            Reactive injection per bus from the solution, ``Im(V conj(Ybus V))`` [pu].
        q_spec_pu : numpy.ndarray
            Reactive part of the specified ``Sbus`` per bus [pu]; it counts the
            generators' own ``gen_q_spec_pu``.

        Returns
        -------
        numpy.ndarray
            Reactive output per generator [pu].
        """
        b = self.bus
        total_b = q_inj_pu[b] - (q_spec_pu[b] - self.own_b)
        q = np.full(self.n_gen, np.nan)
        share = (total_b - self.lo_b) / (self.hi_b - self.lo_b + EPS)
        q_prop = self.q_min_a + share * (self.q_max_a - self.q_min_a)
        q[self.active] = np.where(self.single_or_flat, total_b / self.count_b, q_prop)
        return q


def q_violations(
    q_pu: np.ndarray, q_min_pu: np.ndarray, q_max_pu: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Generators past their reactive limits: boolean masks ``(over_max, under_min)``.

    Only ``eligible`` generators count (PV generators not yet switched; never the
    slack, never a bus whose voltage a sag holds). NaN limits are no limits.

    Parameters
    ----------
    q_pu : numpy.ndarray
        Generator reactive power [pu].
    q_min_pu : numpy.ndarray
        Lower reactive limits [pu] (NaN = none).
    q_max_pu : numpy.ndarray
        Upper reactive limits [pu] (NaN = none).
    eligible : numpy.ndarray
        Boolean mask of the generators that may switch.

    Returns
    -------
    over_max : numpy.ndarray
        Boolean mask, above ``q_max_pu``.
    under_min : numpy.ndarray
        Boolean mask, below ``q_min_pu``.
    """
    with np.errstate(invalid="ignore"):
        over = eligible & (q_pu > q_max_pu)
        under = eligible & (q_pu < q_min_pu)
    return over, under
