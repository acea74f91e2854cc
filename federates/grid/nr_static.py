"""Newton-Raphson power flow whose sparse LU keeps its symbolic analysis across solves (pure).

A quasi-static time series solves the same network thousands of times with
other injections. lightsim2grid's ``NRSing_KLU.solve`` (the reference this
module reproduces) redoes the Jacobian's sparsity pattern and KLU's symbolic
analysis and first factorisation on every call: about 90 µs of a 135 µs
two-iteration solve on IEEE 118. Here they are done once per network model and
set of PV / PQ buses (:class:`StaticNR`), and each iteration only refills the
Jacobian's values in place and refactorises them on the fixed pattern, in
compiled code (numba).

The method is the textbook polar Newton-Raphson of MATPOWER / pandapower's
``newtonpf`` (Zimmerman et al., MATPOWER User's Manual, sec. 4.1): unknowns
the angles of PV and PQ buses and the magnitudes of PQ buses; mismatch
``V conj(Ybus V) - Sbus``; converged when the largest mismatch [pu] is below
``tol`` (checked before every iteration, as lightsim2grid and pandapower do);
no step scaling.

The LU uses a static pivot order, like KLU's ``refactor``: column order from
COLAMD and row order from SuperLU's partial pivoting on the model's first
Jacobian. A pivot that becomes too small later (a very different operating
point) makes the solve report failure; the caller then solves with
lightsim2grid from the same start, so the static order never decides a result.

Each solve first takes one chord step (:func:`_newton`): the pattern's last
factorisation, the Jacobian at the previous solution of the same PV / PQ set,
applied to the new mismatch, kept only where it lowers the largest mismatch.
A time series moves little from one step to the next, so this often saves a
refactorisation; the iterations that follow meet the same tolerance
(``StaticNR.chord = False`` turns it off).

``tests/federates/grid/test_nr_static.py`` checks solutions and iteration
counts against lightsim2grid's ``NRSing_KLU`` without the chord step, and the
same solutions to the tolerance in no more iterations with it.
"""

from __future__ import annotations

import heapq

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

#: a pivot below this fraction of its column's largest entry fails the factorisation
PIVOT_REL_TOL = 1e-10

#: patterns (PV / PQ sets) kept per model; a generator toggling its reactive limit needs two
MAX_PATTERNS = 16


class StaticNR:
    """Newton-Raphson of one admittance matrix, symbolic LU analysis kept per PV / PQ set.

    Parameters
    ----------
    ybus : scipy.sparse.csc_matrix
        Bus admittance matrix [pu], complex, ``(n_bus, n_bus)``; kept by reference
        (:attr:`ybus`): a caller that replaces its matrix must use another instance.
    """

    def __init__(self, ybus: sp.csc_matrix) -> None:
        self.ybus = ybus
        n = ybus.shape[0]
        # the pattern of Ybus (explicit zeros included) with every diagonal entry present
        y = sp.csr_matrix(ybus, copy=True)
        y.sum_duplicates()
        pattern = sp.csr_matrix((np.ones(y.nnz), y.indices, y.indptr), shape=(n, n))
        pattern = (pattern + sp.identity(n, format="csr")).tocsr()
        pattern.sort_indices()
        self._indptr = pattern.indptr.astype(np.int64)
        self._indices = pattern.indices.astype(np.int64)
        rows = np.repeat(np.arange(n), np.diff(self._indptr))
        self._ydata = np.asarray(y[rows, self._indices]).ravel().astype(complex)
        self._rows = rows
        self._patterns: dict[tuple[bytes, bytes], _Pattern | None] = {}
        #: start each solve with a chord step on the last factorisation of its PV / PQ set
        #: (see :func:`_newton`); False: the plain Newton-Raphson of NRSing_KLU, iteration for
        #: iteration
        self.chord = True
        self._last: tuple[object, object, _Pattern | None] = (None, None, None)

    def injections(self, v: np.ndarray) -> np.ndarray:
        """Bus current injections ``Ybus v`` [pu] (compiled; no scipy dispatch per call).

        Parameters
        ----------
        v : numpy.ndarray
            Complex bus voltages [pu].

        Returns
        -------
        numpy.ndarray
            Complex current injection per bus [pu].
        """
        ibus = np.empty(len(v), dtype=np.complex128)
        _injections(self._indptr, self._indices, self._ydata, v, ibus)
        return ibus

    def solve(
        self,
        v0: np.ndarray,
        sbus: np.ndarray,
        pv: np.ndarray,
        pq: np.ndarray,
        max_iter: int,
        tol: float,
    ) -> tuple[bool, np.ndarray, int]:
        """Solve from ``v0``.

        Parameters
        ----------
        v0 : numpy.ndarray
            Start voltages [pu], complex, one per bus (slack and PV magnitudes are their set
            points).
        sbus : numpy.ndarray
            Specified complex injection per bus [pu], generation positive.
        pv, pq : numpy.ndarray
            Bus indices of the PV and PQ buses (the others are the slack).
        max_iter : int
            Largest number of iterations.
        tol : float
            Largest mismatch accepted [pu].

        Returns
        -------
        (converged, V, iterations)
            ``converged`` is False also when a pivot failed (see the module docstring).
        """
        pat = self._pattern(pv, pq)
        if pat is None:
            return False, v0.copy(), 0
        v = v0.astype(complex, copy=True)
        ok, iters = _newton(
            self._indptr,
            self._indices,
            self._ydata,
            v,
            sbus.astype(complex, copy=False),
            pat.pvpq,
            pat.pq,
            pat.j_slot,
            pat.j_indptr,
            pat.j_indices,
            pat.perm_r,
            pat.perm_c,
            pat.lu_indptr,
            pat.lu_rows,
            pat.lu_diag,
            int(max_iter),
            float(tol),
            PIVOT_REL_TOL,
            pat.lu,
            pat.lu_state,
            self.chord,
        )
        return bool(ok == 1), v, int(iters)

    def _pattern(self, pv: np.ndarray, pq: np.ndarray) -> _Pattern | None:
        if pv is self._last[0] and pq is self._last[1]:  # the same arrays as the last solve
            return self._last[2]
        key = (np.asarray(pv, np.int64).tobytes(), np.asarray(pq, np.int64).tobytes())
        if key not in self._patterns:
            if len(self._patterns) >= MAX_PATTERNS:
                self._patterns.clear()
            self._patterns[key] = _Pattern.build(self, np.asarray(pv), np.asarray(pq))
        self._last = (pv, pq, self._patterns[key])
        return self._last[2]


class _Pattern:
    """The Jacobian's pattern for one PV / PQ set, its static pivot order and LU pattern."""

    pvpq: np.ndarray
    pq: np.ndarray
    j_slot: np.ndarray  # per augmented-Ybus entry and block (4): Jacobian CSC slot or -1
    j_indptr: np.ndarray
    j_indices: np.ndarray
    perm_r: np.ndarray  # Jacobian row of each row of the permuted matrix
    perm_c: np.ndarray  # Jacobian column of each column of the permuted matrix
    lu_indptr: np.ndarray  # CSC of L + U of the permuted matrix (rows sorted)
    lu_rows: np.ndarray
    lu_diag: np.ndarray  # position of each column's diagonal in lu_rows
    lu: np.ndarray  # values of the last factorisation on this pattern (the chord step's)
    lu_state: np.ndarray  # [1] once ``lu`` holds a complete factorisation

    @classmethod
    def build(cls, nr: StaticNR, pv: np.ndarray, pq: np.ndarray) -> _Pattern | None:
        self = cls()
        n = nr.ybus.shape[0]
        self.pvpq = np.concatenate([pv, pq]).astype(np.int64)
        self.pq = np.asarray(pq, dtype=np.int64)
        npvpq, m = len(self.pvpq), len(self.pvpq) + len(self.pq)
        if m == 0:
            return None
        pos_a = np.full(n, -1, dtype=np.int64)  # angle unknown of a bus
        pos_a[self.pvpq] = np.arange(npvpq)
        pos_m = np.full(n, -1, dtype=np.int64)  # magnitude unknown of a bus
        pos_m[self.pq] = npvpq + np.arange(len(self.pq))
        r, c = nr._rows, nr._indices
        # blocks: 0 dP/dVa (rows pvpq, cols pvpq), 1 dP/dVm (pvpq, pq), 2 dQ/dVa (pq, pvpq),
        # 3 dQ/dVm (pq, pq); row of P at bus i = pos_a[i], row of Q = pos_m[i]
        j_rows = np.stack([pos_a[r], pos_a[r], pos_m[r], pos_m[r]])
        j_cols = np.stack([pos_a[c], pos_m[c], pos_a[c], pos_m[c]])
        live = (j_rows >= 0) & (j_cols >= 0)
        jr, jc = j_rows[live], j_cols[live]
        # CSC slot of every live entry: sort by (column, row); entries are unique
        order = np.lexsort((jr, jc))
        slot = np.empty(len(order), dtype=np.int64)
        slot[order] = np.arange(len(order))
        self.j_slot = np.full(j_rows.shape, -1, dtype=np.int64)
        self.j_slot[live] = slot
        self.j_slot = np.ascontiguousarray(self.j_slot.T)  # (n_entries, 4)
        self.j_indices = jr[order].astype(np.int64)
        self.j_indptr = np.searchsorted(jc[order], np.arange(m + 1)).astype(np.int64)
        # the pivot order from one numerical factorisation of the Jacobian at a flat start
        v = np.ones(n, dtype=complex)
        data = np.zeros(len(order))
        ibus = np.asarray(sp.csr_matrix(nr.ybus) @ v)
        _jacobian(nr._indptr, nr._indices, nr._ydata, v, ibus, self.j_slot, data)
        jac = sp.csc_matrix((data, self.j_indices, self.j_indptr), shape=(m, m))
        try:
            lu = splu(jac, permc_spec="COLAMD")
        except RuntimeError:  # singular at a flat start: leave this set to lightsim2grid
            return None
        # SuperLU: Pr J Pc = L U, row i of J at row perm_r[i], column i of J at column perm_c[i]
        inv_r = lu.perm_r.astype(np.int64)  # Jacobian row -> permuted row
        self.perm_r = np.argsort(inv_r)  # permuted row -> Jacobian row
        self.perm_c = np.argsort(lu.perm_c.astype(np.int64))  # permuted column -> Jacobian column
        cols = []
        for jj in range(m):
            a_col = self.perm_c[jj]
            rows = inv_r[self.j_indices[self.j_indptr[a_col] : self.j_indptr[a_col + 1]]]
            cols.append(rows)
        self.lu_indptr, self.lu_rows, self.lu_diag = _symbolic_lu(m, cols)
        self.lu = np.empty(len(self.lu_rows))  # the last factorisation (values)
        self.lu_state = np.zeros(1, dtype=np.int64)  # 1 while ``lu`` holds a valid one
        return self


def _symbolic_lu(m: int, cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pattern of L + U of a matrix with the column patterns ``cols``, without pivoting.

    Column ``j`` of L + U holds the rows of ``cols[j]``, the diagonal, and every row
    of the L columns ``k < j`` it reaches (Gilbert and Peierls, 1988).
    """
    l_below: list[list[int]] = []
    indptr = [0]
    rows_all: list[int] = []
    diag = np.empty(m, dtype=np.int64)
    for j in range(m):
        pat = set(int(x) for x in cols[j])
        pat.add(j)
        heap = [x for x in pat if x < j]
        heapq.heapify(heap)
        while heap:
            k = heapq.heappop(heap)
            for r in l_below[k]:
                if r not in pat:
                    pat.add(r)
                    if r < j:
                        heapq.heappush(heap, r)
        col = sorted(pat)
        diag[j] = indptr[-1] + col.index(j)
        l_below.append([r for r in col if r > j])
        rows_all.extend(col)
        indptr.append(len(rows_all))
    return np.asarray(indptr, np.int64), np.asarray(rows_all, np.int64), diag


@numba.njit(cache=True)
def _injections(indptr, indices, ydata, v, ibus):  # noqa: ANN001, ANN202
    """``ibus = Ybus v`` (bus current injections [pu])."""
    for i in range(len(v)):
        acc = 0j
        for e in range(indptr[i], indptr[i + 1]):
            acc += ydata[e] * v[indices[e]]
        ibus[i] = acc


@numba.njit(cache=True)
def _jacobian(indptr, indices, ydata, v, ibus, j_slot, out):  # noqa: ANN001, ANN202
    """Fill the Jacobian's CSC values ``out`` at voltages ``v`` with ``ibus = Ybus v``
    (polar form: MATPOWER's ``dSbus_dV``)."""
    n = len(v)
    vn = np.empty(n, dtype=np.complex128)
    for i in range(n):
        vn[i] = v[i] / abs(v[i])
    for i in range(n):
        vi = v[i]
        for e in range(indptr[i], indptr[i + 1]):
            k = indices[e]
            y = ydata[e]
            d_vm = vi * np.conj(y * vn[k])
            d_va = -1j * vi * np.conj(y * v[k])
            if k == i:
                d_vm += np.conj(ibus[i]) * vn[i]
                d_va += 1j * vi * np.conj(ibus[i])
            s0, s1, s2, s3 = j_slot[e, 0], j_slot[e, 1], j_slot[e, 2], j_slot[e, 3]
            if s0 >= 0:
                out[s0] = d_va.real
            if s1 >= 0:
                out[s1] = d_vm.real
            if s2 >= 0:
                out[s2] = d_va.imag
            if s3 >= 0:
                out[s3] = d_vm.imag


@numba.njit(cache=True)
def _mismatch(v, ibus, sbus, pvpq, pq, f):  # noqa: ANN001, ANN202
    """``f`` = [Re mis(pvpq), Im mis(pq)] of ``mis = V conj(Ybus V) - Sbus``; returns max |f|."""
    npvpq = len(pvpq)
    worst = 0.0
    finite = True
    for a in range(npvpq + len(pq)):
        i = pvpq[a] if a < npvpq else pq[a - npvpq]
        mis = v[i] * np.conj(ibus[i]) - sbus[i]
        x = mis.real if a < npvpq else mis.imag
        f[a] = x
        if abs(x) > worst:
            worst = abs(x)
        elif x != x:
            finite = False
    return worst if finite else np.inf


@numba.njit(cache=True)
def _lu_solve(lu, lu_indptr, lu_rows, lu_diag, perm_r, f):  # noqa: ANN001, ANN202
    """``y`` with ``L U y = Pr (-f)`` (column-oriented triangular solves)."""
    m = len(f)
    y = np.empty(m)
    for i in range(m):
        y[i] = -f[perm_r[i]]
    for jj in range(m):  # L, unit diagonal
        yj = y[jj]
        if yj != 0.0:
            for q in range(lu_diag[jj] + 1, lu_indptr[jj + 1]):
                y[lu_rows[q]] -= lu[q] * yj
    for jj in range(m - 1, -1, -1):  # U
        y[jj] /= lu[lu_diag[jj]]
        yj = y[jj]
        if yj != 0.0:
            for q in range(lu_indptr[jj], lu_diag[jj]):
                y[lu_rows[q]] -= lu[q] * yj
    return y


@numba.njit(cache=True)
def _update(y, perm_c, pvpq, pq, va, vm, v):  # noqa: ANN001, ANN202
    """Apply the step ``y`` (permuted unknowns) to the angles and magnitudes, then ``v``."""
    npvpq = len(pvpq)
    for jj in range(len(y)):
        a = perm_c[jj]
        if a < npvpq:
            va[pvpq[a]] += y[jj]
        else:
            vm[pq[a - npvpq]] += y[jj]
    for i in range(len(v)):
        v[i] = vm[i] * np.exp(1j * va[i])


@numba.njit(cache=True)
def _newton(  # noqa: ANN201, PLR0913
    indptr,  # noqa: ANN001
    indices,  # noqa: ANN001
    ydata,  # noqa: ANN001
    v,  # noqa: ANN001
    sbus,  # noqa: ANN001
    pvpq,  # noqa: ANN001
    pq,  # noqa: ANN001
    j_slot,  # noqa: ANN001
    j_indptr,  # noqa: ANN001
    j_indices,  # noqa: ANN001
    perm_r,  # noqa: ANN001
    perm_c,  # noqa: ANN001
    lu_indptr,  # noqa: ANN001
    lu_rows,  # noqa: ANN001
    lu_diag,  # noqa: ANN001
    max_iter,  # noqa: ANN001
    tol,  # noqa: ANN001
    piv_tol,  # noqa: ANN001
    lu,  # noqa: ANN001
    lu_state,  # noqa: ANN001
    chord,  # noqa: ANN001
):
    """Newton-Raphson in place on ``v``: (1 converged, 0 not, -1 pivot failed; iterations).

    ``lu`` holds the pattern's last factorisation (``lu_state[0] == 1``) and
    receives this solve's. With ``chord``, a solve first takes one chord step
    with that factorisation (the Jacobian of the last solution of the same PV /
    PQ set: a quasi-Newton step, no refactorisation) and keeps it only where it
    lowers the largest mismatch; Newton-Raphson iterations follow as usual, so
    the solution meets the same tolerance. The chord step is not counted as an
    iteration.
    """
    m = len(pvpq) + len(pq)
    f = np.empty(m)
    jdata = np.empty(len(j_indices))
    inv_r = np.empty(m, dtype=np.int64)  # Jacobian row -> permuted row
    for i in range(m):
        inv_r[perm_r[i]] = i
    x = np.zeros(m)
    va = np.angle(v)
    vm = np.abs(v)
    ibus = np.empty(len(v), dtype=np.complex128)
    it = 0
    _injections(indptr, indices, ydata, v, ibus)
    worst = _mismatch(v, ibus, sbus, pvpq, pq, f)
    if worst < tol:
        return 1, 0
    if chord and lu_state[0] == 1:
        v0 = v.copy()
        va0 = va.copy()
        vm0 = vm.copy()
        _update(_lu_solve(lu, lu_indptr, lu_rows, lu_diag, perm_r, f), perm_c, pvpq, pq, va, vm, v)
        _injections(indptr, indices, ydata, v, ibus)
        after = _mismatch(v, ibus, sbus, pvpq, pq, f)
        if after < tol:
            return 1, 0
        if not after < worst:  # no better (or not finite): back to the start
            v[:] = v0
            va[:] = va0
            vm[:] = vm0
            _injections(indptr, indices, ydata, v, ibus)
            _mismatch(v, ibus, sbus, pvpq, pq, f)
    while it < max_iter:
        it += 1
        _jacobian(indptr, indices, ydata, v, ibus, j_slot, jdata)
        lu_state[0] = 0
        # left-looking LU of B = Pr J Pc on the static pattern
        for jj in range(m):
            c = perm_c[jj]
            for p in range(lu_indptr[jj], lu_indptr[jj + 1]):
                x[lu_rows[p]] = 0.0
            big = 0.0
            for p in range(j_indptr[c], j_indptr[c + 1]):
                x[inv_r[j_indices[p]]] = jdata[p]
                big = max(big, abs(jdata[p]))
            for p in range(lu_indptr[jj], lu_diag[jj]):
                k = lu_rows[p]
                xk = x[k]
                if xk != 0.0:
                    for q in range(lu_diag[k] + 1, lu_indptr[k + 1]):
                        x[lu_rows[q]] -= lu[q] * xk
            piv = x[jj]
            if not abs(piv) > piv_tol * big:
                return -1, it
            for p in range(lu_indptr[jj], lu_diag[jj] + 1):
                lu[p] = x[lu_rows[p]]
            for p in range(lu_diag[jj] + 1, lu_indptr[jj + 1]):
                lu[p] = x[lu_rows[p]] / piv
        lu_state[0] = 1
        # solve J dx = -f: L U y = Pr (-f), dx = Pc y
        _update(_lu_solve(lu, lu_indptr, lu_rows, lu_diag, perm_r, f), perm_c, pvpq, pq, va, vm, v)
        _injections(indptr, indices, ydata, v, ibus)
        if _mismatch(v, ibus, sbus, pvpq, pq, f) < tol:
            return 1, it
    return 0, it
