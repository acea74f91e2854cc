"""Quasi-static AC power flow of a pandapower net, with a fast path for time series (pure, no
helics).

The fast path keeps pandapower's own model of the network: the internal
MATPOWER-like case (``ppci``) and the admittance matrices that
``pandapower.runpp`` would build (``_pd2ppc`` + ``makeYbus``), so switches,
three-winding transformers, wards, impedances and shunts are converted exactly
as pandapower does. Per step only the bus injections change (loads, static
generators, generator set points): ``Sbus`` is updated and solved by
Newton-Raphson warm-started from the previous step: the compiled solver of
:mod:`federates.grid.nr_static`, which keeps the sparse LU's symbolic analysis
from one step to the next, with lightsim2grid's ``NRSing_KLU`` (the same method,
its reference in the tests) wherever it fails. Structural changes
(outages, tap moves, shunt switching) rebuild the cached model (a few ms).
Results (bus voltages, loadings of lines, two- and three-winding transformers
and impedances, losses) are computed from ``V`` the way ``pandapower.results``
does. Generator reactive limits are enforced as ``runpp(enforce_q_lims=True)``
does (:mod:`federates.grid.qlimits`); the generators held at a limit are in
:attr:`Solution.q_limited`.

The fast path agrees with ``pandapower.runpp`` to ~1e-9 pu on the bundled
networks (``tests/federates/grid/test_powerflow.py``). Elements whose power
depends on voltage inside Newton-Raphson (ZIP loads, SVC / TCSC / SSC / VSC,
DC buses) are not supported by it: :class:`PowerFlow` then falls back to
``pandapower.runpp`` for every step and logs why.

Below ``lv_threshold_pu`` constant-power loads are turned into
constant-impedance loads (``P = P0 (V / V_thr)^2``), as PSS/E does with
PQBRAK, so that deep voltage sags still solve; a simplification solved as a
fixed point around Newton-Raphson (fast path only). A "converged" solution with
a bus below ``LOW_ROOT_PU`` (0.15 pu, or half a sag's held voltage) is the
unstable low-voltage root of the power-flow equations: it is retried from other
starting points and else reported as not converged.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandapower as pp
import scipy.sparse as sp

from federates.grid.nr_static import StaticNR
from federates.grid.pf_predict import QLimitMemory, SecantPredictor
from federates.grid.pf_qlimited import solve_q_limited
from federates.grid.pf_results import failed_solution, s_injected, solution_of
from federates.grid.pf_steady import steady_solve
from federates.grid.pf_support import (
    SQRT3,
    PowerFlowError,
    Solution,
    _incidence,
    _pp_options,
    build_branch_maps,
    build_gen_arrays,
    unsupported_reason,
)
from federates.grid.qlimits import GenQPlan, QLimitSwitch

__all__ = ["PowerFlow", "PowerFlowError", "Solution", "unsupported_reason"]
log = logging.getLogger(__name__)
LOW_ROOT_PU = 0.15  # a converged solution with a bus below this (outside sags) is the unstable root


class PowerFlow:
    """The network solver of a grid federate.

    Element values are held here (``load_p_mw`` etc., in ``net.<table>`` row
    order) and copied into ``net`` only when the model is rebuilt; change them
    with the ``set_*`` methods. Structural edits of ``net`` (in_service flags,
    ``tap_pos``, shunt ``step``, set points) must be followed by
    :meth:`invalidate`.
    """

    def __init__(
        self,
        net: pp.pandapowerNet,
        *,
        solver: str = "auto",
        tolerance_mva: float = 1e-8,
        max_iterations: int = 30,
        lv_threshold_pu: float = 0.7,
        enforce_q_lims: bool = True,
    ) -> None:
        self.net = net
        self.enforce_q_lims = bool(enforce_q_lims)
        self.tolerance_mva = float(tolerance_mva)
        self.max_iterations = int(max_iterations)
        self.lv_threshold_pu = float(lv_threshold_pu)
        for table in ("load", "sgen", "gen"):
            df = net[table]
            if len(df) and "scaling" in df:
                s = np.nan_to_num(df.scaling.to_numpy(float), nan=1.0)
                df["p_mw"] = df.p_mw.to_numpy(float) * s
                if "q_mvar" in df:
                    df["q_mvar"] = df.q_mvar.to_numpy(float) * s
                df["scaling"] = 1.0
        self.load_p_mw = net.load.p_mw.to_numpy(float).copy()
        self.load_q_mvar = net.load.q_mvar.to_numpy(float).copy()
        self.sgen_p_mw = net.sgen.p_mw.to_numpy(float).copy()
        self.sgen_q_mvar = net.sgen.q_mvar.to_numpy(float).copy()
        self.gen_p_mw = net.gen.p_mw.to_numpy(float).copy()
        self.engine = "pandapower"
        self.fallback_reason: str | None = None
        if solver == "pandapower":
            self.fallback_reason = "grid.solver = 'pandapower'"
        else:
            reason = unsupported_reason(net)
            if reason is None:
                try:
                    from lightsim2grid.algorithm import NRSing_KLU  # noqa: F401
                except ImportError as exc:  # pragma: no cover - lightsim2grid is a dependency
                    reason = f"lightsim2grid not importable ({exc})"
            if reason is not None and solver == "fast":
                raise PowerFlowError(f"grid.solver = 'fast' but {reason}")
            if reason is None:
                self.engine = "fast"
            else:
                self.fallback_reason = reason
                log.warning("power flow falls back to pandapower.runpp: %s", reason)
        self._dirty = True
        self._s_other: np.ndarray | None = None
        self._v_last: np.ndarray | None = None
        self._v_last_pp: np.ndarray | None = None
        self._v_pp: np.ndarray | None = (
            None  # last voltages per pandapower bus (complex), warm start
        )
        self._v_pp_free: np.ndarray | None = None  # last solution without held (sag) voltages
        self._had_clamps = False
        self.rebuilds = 0
        self.solves = 0
        self.nr_solves = 0  # Newton-Raphson runs of the fast path (Q-limit switching adds some)
        self.pandapower_rescues = 0  # fast-path steps solved by pandapower.runpp instead
        self.defer_branches = False  # leave branch loadings NaN (a block computes them at once)
        self._predictor = SecantPredictor()  # time series: start from the secant's prediction
        self._q_memory = QLimitMemory()  # and from the reactive-limit set found nearest
        self._pred: np.ndarray | None = None
        # Newton-Raphson with the symbolic LU kept across solves (nr_static.py); False: every
        # solve by lightsim2grid's NRSing_KLU (the reference it is tested against)
        self.static_nr = True
        # the common step in one compiled call (pf_steady.py); False: always the general path
        self.steady_lane = True
        # each solve starts with a chord step on the last factorisation (nr_static.py)
        self.nr_chord = True
        self._nr: StaticNR | None = None
        self._s_inj: tuple[np.ndarray, object, np.ndarray] | None = None

    # ------------------------------------------------------------ inputs

    def set_load(self, pos: int, p_mw: float, q_mvar: float) -> None:
        """Set load row ``pos`` (position in ``net.load``).

        Parameters
        ----------
        pos : int
            Position in ``net.load``.
        p_mw : float
            Active power [MW], positive = consumption.
        q_mvar : float
            Reactive power [Mvar], positive = consumption.
        """
        self.load_p_mw[pos] = p_mw
        self.load_q_mvar[pos] = q_mvar

    def set_loads(self, p_mw: np.ndarray, q_mvar: np.ndarray) -> None:
        """Set every load row, in ``net.load`` order.

        Parameters
        ----------
        p_mw : numpy.ndarray
            Active power per load [MW], positive = consumption.
        q_mvar : numpy.ndarray
            Reactive power per load [Mvar], positive = consumption.
        """
        self.load_p_mw[:] = p_mw
        self.load_q_mvar[:] = q_mvar

    def set_sgens(self, p_mw: np.ndarray, q_mvar: np.ndarray | None = None) -> None:
        """Set every static generator row, in ``net.sgen`` order.

        Parameters
        ----------
        p_mw : numpy.ndarray
            Active power per sgen [MW], positive = generation.
        q_mvar : numpy.ndarray, optional
            Reactive power per sgen [Mvar], positive = injection; ``None`` keeps the current values.
        """
        self._s_other = None
        self.sgen_p_mw[:] = p_mw
        if q_mvar is not None:
            self.sgen_q_mvar[:] = q_mvar

    def set_gens(self, p_mw: np.ndarray) -> None:
        """Set the active power of every generator row, in ``net.gen`` order.

        Parameters
        ----------
        p_mw : numpy.ndarray
            Active power per generator [MW], positive = generation.
        """
        self._s_other = None
        self.gen_p_mw[:] = p_mw

    def invalidate(self) -> None:
        """Rebuild the cached model before the next solve (after a structural edit of ``net``)."""
        self._dirty = True

    def set_slack_voltage(self, vm_pu: float) -> None:
        """Voltage magnitude of the (first) ext_grid [pu]: the feeder's substation voltage.

        Parameters
        ----------
        vm_pu : float
            Voltage magnitude setpoint [pu].
        """
        eg = self.net.ext_grid.index[0]
        if self.net.ext_grid.at[eg, "vm_pu"] != vm_pu:
            self.net.ext_grid.at[eg, "vm_pu"] = vm_pu
            if self.engine == "fast" and not self._dirty:
                self._vset[self._ref] = vm_pu  # no rebuild: only the set point moves

    # ------------------------------------------------------------ model

    def _write_values(self) -> None:
        net = self.net
        net.load["p_mw"] = self.load_p_mw
        net.load["q_mvar"] = self.load_q_mvar
        if len(net.sgen):
            net.sgen["p_mw"] = self.sgen_p_mw
            net.sgen["q_mvar"] = self.sgen_q_mvar
        if len(net.gen):
            net.gen["p_mw"] = self.gen_p_mw

    def _build(self) -> None:
        from pandapower.auxiliary import _add_auxiliary_elements
        from pandapower.pd2ppc import _pd2ppc
        from pandapower.pf.ppci_variables import _get_pf_variables_from_ppci
        from pandapower.pypower.idx_brch import F_BUS, T_BUS
        from pandapower.pypower.idx_bus import BASE_KV
        from pandapower.pypower.idx_gen import GEN_BUS, PG, QG
        from pandapower.pypower.makeSbus import makeSbus
        from pandapower.pypower.makeYbus import makeYbus

        net = self.net
        self._write_values()
        _pp_options(net, self.tolerance_mva, self.max_iterations, self.enforce_q_lims)
        net._pd2ppc_lookups = {
            k: np.array([], dtype=np.int64)
            for k in ("bus", "bus_dc", "ext_grid", "gen", "branch", "branch_dc")
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _add_auxiliary_elements(net)
            ppc, ppci = _pd2ppc(net)
        base, bus, gen, branch, *_rest = _get_pf_variables_from_ppci(ppci, True)
        ref, pv, pq, v0, ref_gens = _rest[4], _rest[5], _rest[6], _rest[-2], _rest[-1]
        n = bus.shape[0]
        self._base = float(base)
        ybus, yf, yt = makeYbus(base, bus, branch)
        self._ybus = sp.csc_matrix(ybus)
        self._ybus.sum_duplicates()
        self._ref, self._pv, self._pq = (
            ref.astype(np.int64),
            pv.astype(np.int64),
            pq.astype(np.int64),
        )
        self._ref32, self._pv32, self._pq32 = (
            ref.astype(np.int32),
            pv.astype(np.int32),
            pq.astype(np.int32),
        )
        self._vset = np.abs(v0)
        self._va0 = np.angle(v0)
        self._n = n
        self._fbus = branch[:, F_BUS].real.astype(np.int64)
        self._tbus = branch[:, T_BUS].real.astype(np.int64)
        self._base_kv = bus[:, BASE_KV].real.astype(float)
        # pandapower bus -> ppci bus (-1 when not energized)
        lookup = net._pd2ppc_lookups["bus"]
        idx = net.bus.index.to_numpy()
        pp2i = np.full(len(idx), -1, dtype=np.int64)
        ok = idx < len(lookup)
        pp2i[ok] = lookup[idx[ok]]
        pp2i[(pp2i < 0) | (pp2i >= n)] = -1
        self._pp2i = pp2i
        pos = {b: i for i, b in enumerate(idx)}

        def rows(table: str) -> np.ndarray:
            df = net[table]
            if not len(df):
                return np.zeros(0, dtype=np.int64)
            r = np.array([pp2i[pos[b]] for b in df.bus.to_numpy()], dtype=np.int64)
            r[~df.in_service.to_numpy(bool)] = -1
            return r

        self._load_rows = rows("load")
        self._load_live = np.flatnonzero(self._load_rows >= 0)
        self._load_live_rows = self._load_rows[self._load_live]
        self._cl = _incidence(self._load_rows, n)
        self._cs = _incidence(rows("sgen"), n)
        self._cg = _incidence(rows("gen"), n)
        # Sbus with every managed element removed: the static part
        sbus = makeSbus(base, bus, gen)
        managed = (
            -(self._cl @ (self.load_p_mw + 1j * self.load_q_mvar))
            + self._cs @ (self.sgen_p_mw + 1j * self.sgen_q_mvar)
            + self._cg @ self.gen_p_mw
        ) / base
        self._sbus_static = sbus - managed
        # makeSbus counted the managed gens' PG too; it cancels above as PG == gen_p_mw after
        # _write_values
        # slack injection: injections of the ref gens at their buses
        gi = np.asarray(ref_gens, dtype=np.int64)
        self._ref_gen_bus = (
            gen[gi, GEN_BUS].real.astype(np.int64) if len(gi) else np.zeros(0, np.int64)
        )
        self._ref_gen_s = (
            (gen[gi, PG].real + 1j * gen[gi, QG].real) / base
            if len(gi)
            else np.zeros(0, dtype=complex)
        )
        build_gen_arrays(self, net, ppci, gen, gi)
        # branch lookups (ppc rows -> ppci rows)
        brs = ppci["internal"]["branch_is"]
        ppc2i = np.full(len(brs), -1, dtype=np.int64)
        ppc2i[brs] = np.arange(int(brs.sum()))
        lk = net._pd2ppc_lookups["branch"]
        self._line_br = (
            ppc2i[lk["line"][0] : lk["line"][1]] if "line" in lk else np.zeros(0, np.int64)
        )
        self._trafo_br = (
            ppc2i[lk["trafo"][0] : lk["trafo"][1]] if "trafo" in lk else np.zeros(0, np.int64)
        )
        line = net.line
        line_imax = (
            (line.max_i_ka * line.df * line.parallel).to_numpy(float) if len(line) else np.zeros(0)
        )
        tr = net.trafo
        if len(tr):
            tr_vn = np.vstack([tr.vn_hv_kv.to_numpy(float), tr.vn_lv_kv.to_numpy(float)]).T
            tr_sn = (tr.sn_mva * tr.parallel * tr.df).to_numpy(float)
        else:
            tr_vn, tr_sn = np.zeros((0, 2)), np.zeros(0)
        # per-step result maps, precomputed: |I| at a branch end [kA] = |Y_end V| * base / (sqrt3
        # kV_end)
        self._yft = sp.vstack([sp.csr_matrix(yf), sp.csr_matrix(yt)]).tocsr()
        self._k_f = self._base / (SQRT3 * self._base_kv[self._fbus])
        self._k_t = self._base / (SQRT3 * self._base_kv[self._tbus])
        self._pp_ok = self._pp2i >= 0
        self._pp_rows = self._pp2i[self._pp_ok]
        live = self._line_br >= 0
        self._line_live, self._line_idx = live, self._line_br[live]
        with np.errstate(divide="ignore"):
            self._line_scale = 100.0 / line_imax[live]
        live = self._trafo_br >= 0
        self._tr_live, self._tr_idx = live, self._trafo_br[live]
        self._tr_scale_hv = tr_vn[live, 0] * SQRT3 / tr_sn[live] * 100.0
        self._tr_scale_lv = tr_vn[live, 1] * SQRT3 / tr_sn[live] * 100.0
        build_branch_maps(self, net, lk, ppc2i)
        self._nan_branches = tuple(
            np.full(m, np.nan)
            for m in (len(line), len(tr), self._t3_rows.shape[1], len(self._imp_rows))
        )
        from lightsim2grid.algorithm import NRSing_KLU

        self._solver = NRSing_KLU()
        self._nr = StaticNR(self._ybus) if self.static_nr else None
        if self._nr is not None:
            self._nr.chord = self.nr_chord
        self._q_plans: dict[bytes, GenQPlan] = {}  # reactive-output plans of this model
        self._fixed = (self._pv, np.concatenate([self._ref, self._pv]))  # buses with |V| set
        self._slack_weights = np.zeros(n)
        self._dirty = False
        self._q_prev = None  # generators held at a reactive limit by the last solve (warm start)
        self._s_other = None
        self._v_last = None  # last solution in this ppci's order (fast warm start)
        self.rebuilds += 1

    # ------------------------------------------------------------ solve

    def solve(self, clamps: dict[int, float] | None = None) -> Solution:
        """Solve the power flow; ``clamps`` maps a pandapower bus to a held voltage [pu] (sags).

        Parameters
        ----------
        clamps : dict of int to float, optional
            Held voltage magnitude [pu] per pandapower bus; ``None`` for none.

        Returns
        -------
        Solution
            The solution (``converged = False`` with NaN results when it fails).
        """
        self.solves += 1
        if self.engine == "pandapower":
            return self._solve_pandapower(clamps or {})
        if self._dirty:
            self._build()
        if clamps:
            self._predictor.reset()
            self._q_memory.reset()
            return self._solve_fast(clamps)
        x = np.concatenate(
            (self.load_p_mw, self.load_q_mvar, self.sgen_p_mw, self.sgen_q_mvar, self.gen_p_mw)
        )
        self._pred = self._predictor.predict(self.rebuilds, x)
        if self.enforce_q_lims:
            recalled = self._q_memory.recall(self.rebuilds, x)
            if recalled is not None:
                self._q_prev = recalled
        try:
            sol = self._solve_fast({})
        finally:
            self._pred = None
        if sol.converged and self._v_pp is self._v_last_pp and self._v_last is not None:
            self._predictor.record(self.rebuilds, x, self._v_last)
            if self.enforce_q_lims and self._q_prev is not None:
                self._q_memory.record(self.rebuilds, x, *self._q_prev)
        else:
            self._predictor.reset()
            self._q_memory.reset()
        return sol

    def _solve_fast(self, clamps: dict[int, float]) -> Solution:
        """Warm start from the last solution; on divergence retry from the last solution
        without held voltages (after a sag), then from a flat start."""
        starts = [self._v_pp]
        if self._v_pp_free is not None and self._v_pp_free is not self._v_pp:
            if not clamps and self._had_clamps:
                # a sag just ended: restart from the last normal state, not from the sagged one
                # (Newton-Raphson can otherwise land on the low-voltage solution)
                starts = [self._v_pp_free]
            else:
                starts.append(self._v_pp_free)
        starts.append(None)
        self._had_clamps = bool(clamps)
        iters = 0
        for n, start in enumerate(starts):
            self._v_pp = start
            if n:
                self._pred = None
            sol = self._solve_fast_from(clamps)
            iters += sol.iterations
            if sol.converged and self._low_root(sol, clamps):
                sol.converged = False
            if sol.converged:
                if not clamps:
                    self._v_pp_free = self._v_pp
                sol.iterations = iters
                return sol
        # last resort: pandapower's own Newton-Raphson (its DC initialisation handles phase-shifting
        # transformers that defeat a flat start); its solution warm-starts the next fast step
        self._v_pp = starts[0]
        sol = self._solve_pandapower(clamps)
        if sol.converged:
            self.pandapower_rescues += 1
            if not clamps:
                self._v_pp_free = self._v_pp
            return sol
        return self._failed(iters)

    def _low_root(self, sol: Solution, clamps: dict[int, float]) -> bool:
        """True for the unstable low-voltage root of Newton-Raphson: a bus below
        :data:`LOW_ROOT_PU` that no sag holds there (rejected as not converged)."""
        floor = min([LOW_ROOT_PU, *(0.5 * v for v in clamps.values())])
        return bool(
            np.fmin.reduce(sol.vm_pu, initial=1.0) < floor
        )  # fmin skips NaN (de-energised buses)

    def _solve_fast_from(self, clamps: dict[int, float]) -> Solution:
        if not clamps and self.steady_lane:
            sol = steady_solve(self, warm=self._q_prev is not None)
            if sol is not None:
                return sol
        sol = solve_q_limited(self, clamps, warm=not clamps and self._q_prev is not None)
        if sol is None:  # the warm-started set of limited generators no longer holds
            sol = solve_q_limited(self, clamps, warm=False)
        return sol

    def _nr_with_load_scaling(
        self,
        v0: np.ndarray,
        s_other: np.ndarray,
        s_load: np.ndarray,
        scale: np.ndarray,
        ref: np.ndarray,
        pv: np.ndarray,
        pq: np.ndarray,
        idx32: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[bool, np.ndarray, np.ndarray, int, np.ndarray]:
        """Newton-Raphson with loads below ``lv_threshold_pu`` turned constant-impedance (a fixed
        point). ``idx32``: ``ref``, ``pv``, ``pq`` already as int32 (the solver's index type).

        Returns ``(converged, V, Sbus used, iterations, load scale)``.
        """
        # the solver takes int32 indices (int64 ones would be converted on every call)
        if idx32 is not None:
            ref32, pv32, pq32 = idx32
        elif pv is self._pv and pq is self._pq:
            ref32, pv32, pq32 = self._ref32, self._pv32, self._pq32
        else:
            ref32, pv32, pq32 = ref.astype(np.int32), pv.astype(np.int32), pq.astype(np.int32)
        converged, iters, v = False, 0, v0
        tol = self.tolerance_mva / self._base
        static = self._nr if self._nr is not None and self._nr.ybus is self._ybus else None
        live = self._load_live
        unit = not np.any(scale != 1.0)
        for _ in range(40):
            self.nr_solves += 1
            x = s_load[live] if unit else (s_load * scale)[live]
            s_bus_load = np.bincount(self._load_live_rows, x.real, self._n) + 1j * np.bincount(
                self._load_live_rows, x.imag, self._n
            )
            sbus = s_other - s_bus_load / self._base
            if static is not None:  # the kept symbolic analysis; lightsim2grid if it fails
                converged, v, it = static.solve(v0, sbus, pv, pq, self.max_iterations, tol)
            if static is None or not converged:
                self._solver.solve(
                    self._ybus,
                    v0,
                    sbus,
                    ref32,
                    self._slack_weights,
                    pv32,
                    pq32,
                    self.max_iterations,
                    tol,
                )
                converged = bool(self._solver.converged())
                it = int(self._solver.get_nb_iter())
                v = np.asarray(self._solver.get_V()) if converged else v0
            iters += it
            if not converged:
                break
            if self.lv_threshold_pu <= 0:
                break
            if unit and (
                not len(self._load_live_rows)
                or np.abs(v[self._load_live_rows]).min() >= self.lv_threshold_pu
            ):
                break  # no load below the threshold: the scale stays 1 (the common case)
            rows = self._load_rows
            vl = np.where(rows >= 0, np.abs(v[np.maximum(rows, 0)]), 1.0)
            new = np.where(vl < self.lv_threshold_pu, (vl / self.lv_threshold_pu) ** 2, 1.0)
            if np.max(np.abs(new - scale)) < 1e-10:
                break
            scale = new
            unit = False
            v0 = v
        return converged, v, sbus, iters, scale

    def _gen_q(self, v: np.ndarray, sbus: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Reactive output of the ``active`` generators (all at PV buses) [pu], see
        :class:`federates.grid.qlimits.GenQPlan` (kept per model and ``active`` set)."""
        return self._q_plan(active).q_pu(s_injected(self, v).imag, sbus.imag)

    def _q_plan(self, active: np.ndarray) -> GenQPlan:
        """The reactive-output plan of the ``active`` generators (kept per model)."""
        key = active.tobytes()
        plan = self._q_plans.get(key)
        if plan is None:
            if len(self._q_plans) > 64:
                self._q_plans.clear()
            plan = GenQPlan(
                self._n, self._gen_bus, self._gen_q0, active, self._gen_qmin, self._gen_qmax
            )
            self._q_plans[key] = plan
        return plan

    def _failed(self, iters: int) -> Solution:
        return failed_solution(self.net, iters)

    def _results(
        self, v: np.ndarray, iters: int, q_limited: tuple[QLimitSwitch, ...] = ()
    ) -> Solution:
        return solution_of(self, v, iters, q_limited)

    # ------------------------------------------------------------ pandapower fallback

    def _solve_pandapower(self, clamps: dict[int, float]) -> Solution:
        from federates.grid.pf_fallback import solve_with_runpp

        return solve_with_runpp(self, clamps)
