"""A first-order predictor of the next power-flow solution in a time series (pure, no helics).

Between two steps of a quasi-static time series the network is the same and only
injections move (mostly the site's power). A warm start from the last solution
leaves Newton-Raphson the whole change to find; the secant through the last two
solutions, scaled by how far the injections moved along the same direction,
starts it close to the new solution:

``V_0(k) = V(k-1) + a (V(k-1) - V(k-2))``, ``a = <dx_k, dx_{k-1}> / <dx_{k-1}, dx_{k-1}>``,

with ``x`` every element's specified power (loads, static generators, generator
set points) and ``dx_k = x_k - x_{k-1}``. The prediction is only a starting point:
the solution is the same to the solver's tolerance, in fewer iterations.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

#: largest secant step, in multiples of the last change (a wild guess is worse than none)
MAX_STEP = 4.0


class SecantPredictor:
    """Predicts a start from the last two solutions of one network model."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the history (a new model, a sag, a failed solve)."""
        self._model: int | None = None
        self._x: np.ndarray | None = None
        self._v: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._dv: np.ndarray | None = None

    def predict(self, model: int, x: np.ndarray) -> np.ndarray | None:
        """The correction to add to the last solution, or None without a usable history.

        Parameters
        ----------
        model : int
            Identity of the network model (its internal bus order).
        x : numpy.ndarray
            Specified element powers of the coming solve [MW, Mvar].

        Returns
        -------
        numpy.ndarray or None
            Complex voltage correction per internal bus [pu].
        """
        if model != self._model or self._dx is None or self._x is None:
            return None
        a, step = _secant_step(x, self._x, self._dx, self._dv, MAX_STEP)
        return None if a == 0.0 else step

    def record(self, model: int, x: np.ndarray, v: np.ndarray) -> None:
        """Remember a converged solution.

        Parameters
        ----------
        model : int
            Identity of the network model the solution belongs to.
        x : numpy.ndarray
            Specified element powers it was solved for [MW, Mvar].
        v : numpy.ndarray
            Complex internal bus voltages [pu].
        """
        if model == self._model and self._x is not None and self._v is not None:
            dx, dx2 = _change(x, self._x)
            if dx2 > 1e-18:
                self._dx, self._dv = dx, v - self._v
        else:
            self._dx = self._dv = None
        self._model, self._x, self._v = model, x.copy(), v.copy()


class QLimitMemory:
    """The sets of generators held at a reactive limit that recent solves of one network
    model found, each with the injections it was last found at.

    A site that swings (training steps) moves a generator near its reactive limit
    across it and back with every swing, so the last solve's set is the wrong warm start
    every other step. :meth:`recall` returns, of the sets found in the last
    :attr:`RECENT` solves, the one found at the injections nearest to the coming ones
    (None while only one is known: the caller keeps the last set). Older sets are
    forgotten: the rest of the network drifts (load profiles), so that a set found at
    the same site power an hour ago says little about now. It is a starting guess
    only: :func:`federates.grid.pf_qlimited.solve_q_limited` keeps it only when it is
    consistent, and otherwise solves from every generator PV as ``runpp`` does.
    """

    #: sets found within this many solves are candidates
    RECENT = 8

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every set (a new model, a sag, a new N-1 snapshot)."""
        self._model: int | None = None
        self._count = 0  # solves recorded
        self._sets: dict[bytes, tuple[int, np.ndarray, np.ndarray, np.ndarray]] = {}

    def recall(self, model: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(limited, q_fix)`` found at the injections nearest to ``x``, or None.

        Parameters
        ----------
        model : int
            Identity of the network model.
        x : numpy.ndarray
            Specified element powers of the coming solve [MW, Mvar].
        """
        if model != self._model or len(self._sets) < 2:
            return None
        best = min(self._sets.values(), key=lambda e: float(np.abs(e[1] - x).sum()))
        return best[2], best[3]

    def record(self, model: int, x: np.ndarray, limited: np.ndarray, q_fix: np.ndarray) -> None:
        """Remember the set a converged solve at ``x`` found.

        Parameters
        ----------
        model : int
            Identity of the network model.
        x : numpy.ndarray
            Specified element powers it was solved for [MW, Mvar].
        limited, q_fix : numpy.ndarray
            Generators held at a limit (bool) and their reactive output [pu].
        """
        if model != self._model:
            self.reset()
            self._model = model
        self._count += 1
        key = limited.tobytes() + q_fix[limited].tobytes()
        self._sets.pop(key, None)
        self._sets[key] = (self._count, x.copy(), limited, q_fix)
        oldest = next(iter(self._sets.values()))[0]  # the dict is in order of last finding
        if oldest <= self._count - self.RECENT:
            self._sets = {k: e for k, e in self._sets.items() if e[0] > self._count - self.RECENT}


def warm_start(pf: Any) -> np.ndarray:
    """Start voltages of a solve of :class:`~federates.grid.powerflow.PowerFlow` ``pf`` [pu].

    The last solution mapped onto the current ppci (plus the secant's step on a
    solve's first attempt), set points at PV / ref buses. Internal buses pandapower
    adds (open switches, three-winding star points) have no pandapower bus; they
    take the voltage of a neighbour, so that transformer phase shifts (e.g. Dyn5,
    150 deg) do not leave them far off.

    Parameters
    ----------
    pf : PowerFlow
        The solver (its last solution, prediction and cached model).

    Returns
    -------
    numpy.ndarray
        Complex start voltage per internal bus [pu].
    """
    if pf._fixed[0] is not pf._pv:  # N-1 screening swaps the PV array
        pf._fixed = (pf._pv, np.concatenate([pf._ref, pf._pv]))
    if pf._v_last is not None and pf._v_pp is pf._v_last_pp:
        # same model, continuing from the last solution (plus the secant's step on a solve's
        # first attempt): one compiled pass
        pred = pf._pred
        return _continue(
            pf._v_last,
            _NO_STEP if pred is None else pred,
            pf._fixed[1],
            pf._ref,
            pf._vset,
            pf._va0,
        )
    else:
        v = pf._vset * np.exp(1j * pf._va0)
    if pf._v_pp is not None and pf._v_pp is not pf._v_last_pp:
        ok = pf._pp2i >= 0
        prev = pf._v_pp[ok]
        good = np.isfinite(prev)
        v[pf._pp2i[ok][good]] = prev[good]
        known = np.zeros(len(v), dtype=bool)
        known[pf._pp2i[ok][good]] = True
        for _ in range(4):
            if known.all():
                break
            for a, b in ((pf._fbus, pf._tbus), (pf._tbus, pf._fbus)):
                m = ~known[a] & known[b]
                v[a[m]] = v[b[m]]
                known[a[m]] = True
    fixed = pf._fixed[1]
    v[fixed] = pf._vset[fixed] * np.exp(1j * np.angle(v[fixed]))
    v[pf._ref] = pf._vset[pf._ref] * np.exp(1j * pf._va0[pf._ref])
    return v


_NO_STEP = np.zeros(0, dtype=np.complex128)


@numba.njit(cache=True)
def _secant_step(  # noqa: ANN202
    x: np.ndarray, x_last: np.ndarray, dx: np.ndarray, dv: np.ndarray, max_step: float
):
    """``a = <x - x_last, dx> / <dx, dx>`` and the step ``clip(a, +-max_step) dv`` (empty
    when ``a`` is 0) of :meth:`SecantPredictor.predict`, in one pass."""
    num = 0.0
    den = 0.0
    for k in range(len(x)):
        num += (x[k] - x_last[k]) * dx[k]
        den += dx[k] * dx[k]
    a = num / den
    if a == 0.0:
        return a, np.zeros(0, dtype=np.complex128)
    return a, min(max(a, -max_step), max_step) * dv


@numba.njit(cache=True)
def _change(x: np.ndarray, x_last: np.ndarray):  # noqa: ANN202
    """``dx = x - x_last`` and ``<dx, dx>``."""
    dx = x - x_last
    dx2 = 0.0
    for k in range(len(dx)):
        dx2 += dx[k] * dx[k]
    return dx, dx2


@numba.njit(cache=True)
def _continue(  # noqa: ANN202
    v_last: np.ndarray,
    step: np.ndarray,
    fixed: np.ndarray,
    ref: np.ndarray,
    vset: np.ndarray,
    va0: np.ndarray,
):
    """:func:`warm_start` from the last solution of the same model: ``v_last`` plus ``step``
    (empty: none), set-point magnitudes at the ``fixed`` (ref and PV) buses with their
    angles kept, then the ref buses' set points [pu]."""
    v = v_last.copy()
    if len(step):
        v += step
    for k in fixed:
        z = v[k]
        a = math.atan2(z.imag, z.real)
        v[k] = vset[k] * complex(math.cos(a), math.sin(a))
    for k in ref:
        v[k] = vset[k] * complex(math.cos(va0[k]), math.sin(va0[k]))
    return v
