"""Generator reactive-power limits in a Newton-Raphson power flow: PV-to-PQ switching (pure, no
helics).

A PV bus holds its voltage with whatever reactive power it takes; a real
machine cannot go past its capability ``[min_q_mvar, max_q_mvar]``. After a
converged solve, :func:`gen_q_pu` gives each generator's reactive output and
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


def gen_q_pu(
    q_inj_pu: np.ndarray,
    q_spec_pu: np.ndarray,
    gen_bus: np.ndarray,
    gen_q_spec_pu: np.ndarray,
    active: np.ndarray,
    q_min_pu: np.ndarray,
    q_max_pu: np.ndarray,
) -> np.ndarray:
    """Reactive output of each generator after a solve [pu] (NaN where not ``active``).

    Parameters
    ----------
    q_inj_pu : reactive injection at every bus from the solution, ``Im(V conj(Ybus V))`` [pu]
    q_spec_pu : reactive part of the specified ``Sbus`` at every bus [pu]; it counts
        the generators' own specified ``gen_q_spec_pu``
    gen_bus : bus (internal index) of each generator
    gen_q_spec_pu : reactive power each generator contributes to ``q_spec_pu`` [pu]
    active : generators whose output is free (in service at a PV or slack bus)
    q_min_pu, q_max_pu : reactive limits [pu]

    Returns
    -------
    Per-generator reactive output [pu]: the bus's generator total ``q_inj -
    (q_spec - sum of the active generators' q_spec)``, split among the active
    generators of a bus in proportion to their ranges (equally when the ranges
    are zero).
    """
    n_bus = len(q_inj_pu)
    b = gen_bus[active]
    q_other = q_spec_pu - np.bincount(b, weights=gen_q_spec_pu[active], minlength=n_bus)
    total = q_inj_pu - q_other
    count = np.bincount(b, minlength=n_bus)
    lo = np.bincount(b, weights=q_min_pu[active], minlength=n_bus)
    hi = np.bincount(b, weights=q_max_pu[active], minlength=n_bus)
    q = np.full(len(gen_bus), np.nan)
    share = (total[b] - lo[b]) / (hi[b] - lo[b] + EPS)
    q_prop = q_min_pu[active] + share * (q_max_pu[active] - q_min_pu[active])
    q_eq = total[b] / count[b]
    single_or_flat = (count[b] == 1) | (lo[b] == hi[b])
    q[active] = np.where(single_or_flat, q_eq, q_prop)
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
