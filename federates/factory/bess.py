"""Battery energy storage at the site (pure, no helics).

Sign: ``p_actual_mw`` > 0 while **charging** (pandapower ``storage``, see
``federates/__init__.py``); ``q_actual_mvar`` > 0 absorbs reactive power. The
rating is ``BessConfig.p_mw``; the power the BESS actually exchanges is always
called ``p_actual_mw`` here.

Storage equation per step of length ``dt`` (energy ``e`` in MWh)::

    e[k+1] = e[k] + (eta_c * max(p, 0) + min(p, 0) / eta_d - p_sd) * dt / 3600

with ``eta_c * eta_d = rte`` (85 %, NREL Annual Technology Baseline) and a
constant self-discharge ``p_sd = self_discharge_per_day * e_mwh / 24`` [MW].

Limits, applied to every request (the part refused is *clipped* and recorded,
never silent), all through :func:`p_bounds_mw`:

* SOC window ``[soc_min, soc_max] x e_mwh`` (20-80 %, assumed). At the bottom
  of the window the feasible range may be a small positive charge that offsets
  self-discharge, so the SOC never leaves its window.
* power ``|p| <= p_mw``, or ``overload_factor x p_mw`` (120 %, Tesla Megapack 2
  XL data sheet) while the overload budget lasts: ``overload_s`` of overload
  (10 s), which refills after ``overload_recovery_s`` at or below the rating;
  once used up, no overload is allowed until it is full again.
* PCS current limit: at POI voltage ``V`` [pu] the PCS carries at most
  ``|S| <= V x s_mva`` (its current limit ``I_max`` is ``s_mva`` at 1 pu), times
  the overload factor while the overload lasts; ``pcs_priority`` says whether P
  or Q keeps its request. The overload budget is spent whenever ``|p|`` exceeds
  what the PCS carries continuously.
* Fault mode (``V < fault_v_pu``, 0.9 pu): the Q request is replaced by a
  reactive current injection ``I_q = min(k (fault_v_pu - V), 1) I_max`` (IEEE
  2800-2022 style; ``fault_k_factor``), and ``fault_current_priority`` decides
  whether Q ("reactive") or P ("active") is served first.
* Grid mode: a grid-following PCS needs a voltage to lock its PLL to; below
  ``gfl_min_v_pu`` (0.15 pu, assumed) it injects no current at all. A
  grid-forming PCS is a voltage source: in fault mode it injects its full
  reactive current ``I_max`` at any voltage (quasi-static simplification of a
  voltage source behind a reactance whose current is limited).

The actual power follows the clipped command through a first-order lag
``response_tau_s``. Wear: AC throughput, equivalent full cycles
``throughput / (2 e_mwh)`` and a rainflow count (ASTM E1049, :mod:`.wear`) of
the SOC turning points.

Simplified: efficiencies are constant (no dependence on power or SOC), no
thermal or calendar ageing, Q has no lag and costs no energy.

The step interface follows vessim's storage: :meth:`Bess.feasible_range`,
:meth:`Bess.set_power`, :meth:`Bess.step`, :meth:`Bess.state`; :meth:`Bess.run`
runs a block of requests in one tight loop (what the site uses).
"""

from __future__ import annotations

import math

import numpy as np

from federates.factory.bess_state import BessBlock, BessState, p_bounds_mw
from federates.factory.config import BessConfig
from federates.factory.kernels import extremes, free_run
from federates.factory.wear import RAINFLOW_BIN_EDGES, rainflow_histogram

_EPS = 1e-12

__all__ = ["RAINFLOW_BIN_EDGES", "Bess", "BessBlock", "BessState", "p_bounds_mw"]


class Bess:
    """The BESS state machine. See the module docstring for the equations."""

    def __init__(self, cfg: BessConfig) -> None:
        self.cfg = cfg
        self.p_rated_mw = cfg.p_mw
        self.e_nom_mwh = cfg.e_mwh
        self.eta_c, self.eta_d = cfg.efficiencies
        self.e_min_mwh = cfg.soc_min * cfg.e_mwh
        self.e_max_mwh = cfg.soc_max * cfg.e_mwh
        self.p_sd_mw = cfg.self_discharge_per_day * cfg.e_mwh / 24.0
        self.p_ov_mw = cfg.overload_factor * cfg.p_mw
        self.budget_max_s = cfg.overload_s
        self.recovery_rate = cfg.overload_s / cfg.overload_recovery_s  # budget seconds per second
        self.tau_s = cfg.response_tau_s
        self.e0_mwh = cfg.soc_init * cfg.e_mwh
        self.st = BessState(
            e_mwh=self.e0_mwh,
            budget_s=self.budget_max_s,
            soc_min_seen=cfg.soc_init,
            soc_max_seen=cfg.soc_init,
        )
        self._turns: list[float] = [self.e0_mwh]
        self._request = (0.0, 0.0)
        self._ov_steps: list[int] = []

    # ------------------------------------------------------------ state views

    @property
    def e_mwh(self) -> float:
        """Stored energy [MWh]."""
        return self.st.e_mwh

    @property
    def soc(self) -> float:
        """State of charge [fraction of ``e_mwh``]."""
        return self.st.e_mwh / self.e_nom_mwh if self.e_nom_mwh > 0 else 0.0

    @property
    def p_actual_mw(self) -> float:
        """Actual active power at the end of the last step [MW] (+ charging)."""
        return self.st.p_actual_mw

    @property
    def budget_s(self) -> float:
        """Overload seconds left [s]."""
        return self.st.budget_s

    @property
    def clipped_mwh(self) -> float:
        """Energy of all refused active-power requests so far [MWh]."""
        return self.st.clipped_mwh

    def start_at(self, p_mw: float) -> None:
        """Set the actual power [MW] as if the BESS had been running (clipped to its rating).

        Parameters
        ----------
        p_mw : float
            Active power [MW], positive = charging.
        """
        self.st.p_actual_mw = min(max(float(p_mw), -self.p_rated_mw), self.p_rated_mw)

    # ------------------------------------------------------------ vessim-style API

    def _overload_ok(self, dt_s: float) -> bool:
        st = self.st
        return st.budget_s >= dt_s - 1e-9 and self.budget_max_s > 0 and not st.overload_locked

    def s_limit_mva(self, vm_pu: float, overload_ok: bool = False) -> float:
        """Apparent power the PCS can carry [MVA] at ``vm_pu`` [pu]: ``V x s_mva`` (x overload
        factor when ``overload_ok``); 0 for a grid-following PCS below ``gfl_min_v_pu``.

        Parameters
        ----------
        vm_pu : float
            Terminal voltage magnitude [pu].
        overload_ok : bool, default False
            Apply the overload factor [-] to the PCS rating.

        Returns
        -------
        float
            Apparent power limit [MVA].
        """
        cfg = self.cfg
        if cfg.grid_mode == "grid_following" and vm_pu < cfg.gfl_min_v_pu:
            return 0.0
        return max(vm_pu, 0.0) * cfg.s_mva * (cfg.overload_factor if overload_ok else 1.0)

    def in_fault(self, vm_pu: float) -> bool:
        """The PCS is in fault mode at ``vm_pu`` [pu] (below ``fault_v_pu``).

        Parameters
        ----------
        vm_pu : float
            Terminal voltage magnitude [pu].

        Returns
        -------
        bool
            ``True`` when ``vm_pu`` is below ``fault_v_pu`` [pu].
        """
        return vm_pu < self.cfg.fault_v_pu

    def fault_q_mvar(self, vm_pu: float) -> float:
        """Reactive power [Mvar, load convention: < 0 injects] of the fault-mode current injection
        at ``vm_pu`` [pu]; 0 outside fault mode.

        Parameters
        ----------
        vm_pu : float
            Terminal voltage magnitude [pu].

        Returns
        -------
        float
            Reactive power [Mvar], load convention (negative = injection).
        """
        cfg = self.cfg
        if not self.in_fault(vm_pu):
            return 0.0
        i_q = (
            1.0
            if cfg.grid_mode == "grid_forming"
            else cfg.fault_k_factor * (cfg.fault_v_pu - vm_pu)
        )
        return -min(max(i_q, 0.0), 1.0) * self.s_limit_mva(vm_pu)

    def _q_first(self, q_mvar: float, vm_pu: float) -> bool:
        if q_mvar == 0.0:
            return False
        if self.in_fault(vm_pu):
            return self.cfg.fault_current_priority == "reactive"
        return self.cfg.pcs_priority == "q"

    def _p_limit(self, overload_ok: bool, q_mvar: float, vm_pu: float = 1.0) -> float:
        """Power limit [MW] for a step: rating or overload, within what the PCS carries at
        ``vm_pu``, less what Q takes when Q comes first."""
        p_lim = self.p_ov_mw if overload_ok else self.p_rated_mw
        s_lim = self.s_limit_mva(vm_pu, overload_ok)
        if self._q_first(q_mvar, vm_pu):
            return min(p_lim, math.sqrt(max(s_lim * s_lim - q_mvar * q_mvar, 0.0)))
        return min(p_lim, s_lim)

    def feasible_range(
        self, dt_s: float, q_mvar: float = 0.0, vm_pu: float = 1.0
    ) -> tuple[float, float]:
        """Feasible request for the next step.

        Parameters
        ----------
        dt_s : float
            Step length [s], > 0.
        q_mvar : float
            Reactive power the step will carry [Mvar] (matters with Q priority); in fault mode
            the fault-mode injection replaces it.
        vm_pu : float
            Voltage at the PCS [pu].

        Returns
        -------
        (p_min_mw, p_max_mw) : tuple of float
            What a request may take [MW] (+ charging).
        """
        if dt_s <= 0:
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        if self.in_fault(vm_pu):
            q_mvar = self.fault_q_mvar(vm_pu)
        p_lim = self._p_limit(self._overload_ok(dt_s), q_mvar, vm_pu)
        return self._bounds(self.st.e_mwh, dt_s, p_lim)

    def _bounds(self, e_mwh: float, dt_s: float, p_lim_mw: float) -> tuple[float, float]:
        return p_bounds_mw(
            e_mwh,
            dt_s,
            p_lim_mw,
            self.e_min_mwh,
            self.e_max_mwh,
            self.eta_c,
            self.eta_d,
            self.p_sd_mw,
        )

    def set_power(self, p_mw: float, q_mvar: float = 0.0) -> None:
        """Request power for the next :meth:`step` (clipped there, and the clipping recorded).

        Parameters
        ----------
        p_mw : float
            Requested active power [MW], positive = charging.
        q_mvar : float, default 0.0
            Requested reactive power [Mvar], load convention (positive = consumption).
        """
        if not (math.isfinite(p_mw) and math.isfinite(q_mvar)):
            raise ValueError(f"BESS request must be finite, got p={p_mw}, q={q_mvar}")
        self._request = (float(p_mw), float(q_mvar))

    def step(self, dt_s: float, vm_pu: float = 1.0) -> BessBlock:
        """Advance one step of ``dt_s`` [s] at ``vm_pu`` [pu] with the last request.

        Parameters
        ----------
        dt_s : float
            Step length [s].
        vm_pu : float, default 1.0
            Terminal voltage magnitude [pu].

        Returns
        -------
        BessBlock
            The step's result (one sample).
        """
        p, q = self._request
        return self.run(np.array([p]), np.array([dt_s]), q, vm_pu=vm_pu)

    def state(self) -> BessState:
        """A copy of the current state."""
        snap = self.st.copy()
        snap.n_turns = len(self._turns)
        return snap

    # ------------------------------------------------------------ block kernel

    def run(
        self,
        req_mw: np.ndarray | list[float],
        dt_s: np.ndarray,
        q_req_mvar: float = 0.0,
        *,
        vm_pu: float = 1.0,
        uniform: bool | None = None,
        total_s: float | None = None,
    ) -> BessBlock:
        """Run a block of steps: request ``req_mw[k]`` [MW] for ``dt_s[k]`` [s].

        Parameters
        ----------
        req_mw : numpy.ndarray or list of float
            Requested active power per step [MW] (+ charging).
        dt_s : numpy.ndarray
            Step lengths [s].
        q_req_mvar : float
            Reactive-power request held over the block [Mvar]; in fault mode the
            fault-mode injection (:meth:`fault_q_mvar`) replaces it.
        vm_pu : float
            Voltage at the PCS, held over the block [pu].
        uniform : bool, optional
            All steps equally long; worked out when not given.
        total_s : float, optional
            ``dt_s.sum()`` [s] when the caller has it; worked out when not given.

        Returns
        -------
        BessBlock
            Actual P and Q per step and the stored energy after each step.
        """
        req = np.asarray(req_mw, dtype=float)
        n = len(req)
        d = np.asarray(dt_s, dtype=float)
        st = self.st
        if n == 0:
            return BessBlock(np.empty(0), np.empty(0), np.empty(0), 0.0, 0.0, False)
        if self.e_nom_mwh <= 0 or self.p_rated_mw <= 0:  # an empty BESS refuses everything
            clip = float(np.dot(np.abs(req), d)) / 3600.0
            st.clipped_mwh += clip
            z = np.zeros(n)
            return BessBlock(
                z,
                z.copy(),
                np.full(n, st.e_mwh),
                clip,
                float(np.max(np.abs(req))),
                bool(req[-1] != 0.0),
            )
        if uniform is None:
            uniform = bool(d[0] == d[-1] and (n < 3 or d.min() == d.max()))
        if self.in_fault(vm_pu):
            q_req_mvar = self.fault_q_mvar(vm_pu)
        if total_s is None:
            total_s = float(d.sum())
        if uniform and self._nothing_binds(req, total_s, q_req_mvar, vm_pu):
            p_arr, e_arr, e_lo, e_hi = self._run_free(req, float(d[0]))
            clip_mwh, clip_max, clip_last = 0.0, 0.0, False
            self._ov_steps = []
        else:
            p_out, e_out, clip_mwh, clip_max, clip_last = self._run_full(
                req.tolist(), d.tolist(), q_req_mvar, vm_pu
            )
            p_arr, e_arr = np.array(p_out), np.array(e_out)
            e_lo, e_hi = min(e_out), max(e_out)
        st.clipped_mwh += clip_mwh
        st.clipped_max_mw = max(st.clipped_max_mw, clip_max)
        over = np.zeros(n, dtype=bool)
        if self._ov_steps:
            over[self._ov_steps] = True
        q_arr = self._q(p_arr, d, q_req_mvar, vm_pu, over)
        st.soc_min_seen = min(st.soc_min_seen, e_lo / self.e_nom_mwh)
        st.soc_max_seen = max(st.soc_max_seen, e_hi / self.e_nom_mwh)
        return BessBlock(p_arr, q_arr, e_arr, clip_mwh, clip_max, clip_last, over)

    def _nothing_binds(
        self, req: np.ndarray | list[float], total_s: float, q_req_mvar: float, vm_pu: float = 1.0
    ) -> bool:
        """True when no limit can bind over the block: every request and the present power stay
        within the continuous limit, and the SOC window cannot be reached even at that limit."""
        p_cont = self._p_limit(False, q_req_mvar, vm_pu)
        e = self.st.e_mwh
        lo, hi = extremes(np.asarray(req, dtype=float))  # NaN with a NaN: then something binds
        return (
            -p_cont <= lo
            and hi <= p_cont
            and abs(self.st.p_actual_mw) <= p_cont
            and e + p_cont * self.eta_c * total_s / 3600.0 <= self.e_max_mwh
            and e - (p_cont / self.eta_d + self.p_sd_mw) * total_s / 3600.0 >= self.e_min_mwh
        )

    def _q(
        self, p_arr: np.ndarray, d: np.ndarray, q_req: float, vm_pu: float, over: np.ndarray
    ) -> np.ndarray:
        """Reactive power per step [Mvar]: the request within what the PCS leaves after P
        (with the overload factor in the steps ``over`` that spent overload budget)."""
        if q_req == 0.0:
            self.st.q_actual_mvar = 0.0
            return np.zeros(len(p_arr))
        s_lim = np.where(over, self.s_limit_mva(vm_pu, True), self.s_limit_mva(vm_pu))
        q_lim = np.sqrt(np.maximum(s_lim * s_lim - p_arr * p_arr, 0.0))
        q = np.clip(q_req, -q_lim, q_lim)
        self.st.q_clipped_mvarh += float(np.dot(np.abs(q_req - q), d)) / 3600.0
        self.st.q_actual_mvar = float(q[-1])
        return q

    def _lag(self, dt: float) -> float:
        return 1.0 if self.tau_s <= 0 else 1.0 - math.exp(-dt / self.tau_s)

    def _run_free(
        self, req: list[float] | np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray, float, float]:
        """:meth:`_run_full` for a block in which no limit can bind (:meth:`_nothing_binds`):
        lag, energy, ledger and turning points only, in one compiled pass
        (:func:`.kernels.free_run`). A test checks that both agree. Also returns the least
        and the most stored energy [MWh]."""
        st = self.st
        p_out, e_out, act, e, up, cin, cout, turns, e_lo, e_hi = free_run(
            np.asarray(req, dtype=float),
            self._lag(dt),
            self.eta_c * dt / 3600.0,
            dt / (self.eta_d * 3600.0),
            self.p_sd_mw * dt / 3600.0,
            st.p_actual_mw,
            st.e_mwh,
            st.rising,
        )
        if len(turns):
            self._turns.extend(turns.tolist())
        n = len(p_out)
        st.p_actual_mw, st.e_mwh, st.rising = act, e, up
        st.ac_in_mwh += cin * dt / 3600.0
        st.ac_out_mwh += cout * dt / 3600.0
        st.self_discharge_mwh += self.p_sd_mw * dt / 3600.0 * n
        total_s = n * dt
        st.budget_s = min(self.budget_max_s, st.budget_s + total_s * self.recovery_rate)
        if st.budget_s >= self.budget_max_s:
            st.overload_locked = False
        return p_out, e_out, e_lo, e_hi

    def _run_full(
        self, req: list[float], d: list[float], q_req: float, vm_pu: float = 1.0
    ) -> tuple[list[float], list[float], float, float, bool]:
        """Every limit checked at every step (energy, power, overload, PCS current)."""
        st = self.st
        b_max, rec = self.budget_max_s, self.recovery_rate
        eta_c, eta_d, p_sd = self.eta_c, self.eta_d, self.p_sd_mw
        e_min, e_max = self.e_min_mwh, self.e_max_mwh
        p_lim_ov = self._p_limit(True, q_req, vm_pu)
        p_lim_cont = self._p_limit(False, q_req, vm_pu)
        act, e, b, up, locked = st.p_actual_mw, st.e_mwh, st.budget_s, st.rising, st.overload_locked
        cin = cout = sd = clip_e = clip_max = ov_s = 0.0
        n_clip = 0
        clipped = False
        turns = self._turns
        p_out = []
        e_out = []
        tau = self.tau_s
        last_dt = -1.0
        la = 1.0
        ov_steps: list[int] = []
        for k, (r, dt) in enumerate(zip(req, d, strict=True)):
            if dt != last_dt:
                la = 1.0 if tau <= 0 else 1.0 - math.exp(-dt / tau)
                last_dt = dt
            ok = not locked and b >= dt - 1e-9 and b_max > 0
            lo, hi = p_bounds_mw(
                e, dt, p_lim_ov if ok else p_lim_cont, e_min, e_max, eta_c, eta_d, p_sd
            )
            cmd = r
            if cmd > hi:
                cmd = hi
            elif cmd < lo:
                cmd = lo
            clipped = cmd != r
            if clipped:
                dev = abs(r - cmd)
                clip_e += dev * dt
                n_clip += 1
                if dev > clip_max:
                    clip_max = dev
            act += la * (cmd - act)
            if act > hi:
                act = hi
            elif act < lo:
                act = lo
            if act >= 0.0:
                cin += act * dt
                de = (act * eta_c - p_sd) * dt / 3600.0
            else:
                cout -= act * dt
                de = (act / eta_d - p_sd) * dt / 3600.0
            sd += p_sd * dt
            if de > 0.0:
                if not up:
                    turns.append(e)
                    up = True
            elif de < 0.0 and up:
                turns.append(e)
                up = False
            e += de
            if act > p_lim_cont + _EPS or act < -p_lim_cont - _EPS:
                ov_steps.append(k)
                b -= dt
                ov_s += dt
                if b < 0.0:
                    b = 0.0
            else:
                b += dt * rec
                if b >= b_max:
                    b = b_max
                    locked = False
            if b < dt - 1e-9 and b < b_max:
                locked = True
            p_out.append(act)
            e_out.append(e)
        st.p_actual_mw, st.e_mwh, st.budget_s, st.rising, st.overload_locked = (
            act,
            e,
            b,
            up,
            locked,
        )
        st.ac_in_mwh += cin / 3600.0
        st.ac_out_mwh += cout / 3600.0
        st.self_discharge_mwh += sd / 3600.0
        st.clipped_steps += n_clip
        st.overload_s += ov_s
        self._ov_steps = ov_steps
        return p_out, e_out, clip_e / 3600.0, clip_max, clipped

    # ------------------------------------------------------------ wear and ledger

    def energy_balance_error_mwh(self) -> float:
        """Stored-energy change minus what the ledger says went in and out [MWh]."""
        st = self.st
        stored = st.ac_in_mwh * self.eta_c - st.ac_out_mwh / self.eta_d - st.self_discharge_mwh
        return (st.e_mwh - self.e0_mwh) - stored

    def rainflow_histogram(self) -> tuple[list[float], list[float]]:
        """Rainflow cycle counts per SOC-depth bin (:data:`RAINFLOW_BIN_EDGES`) and the edges."""
        if self.e_nom_mwh <= 0:
            return [0.0] * (len(RAINFLOW_BIN_EDGES) - 1), list(RAINFLOW_BIN_EDGES)
        soc = np.array([*self._turns, self.st.e_mwh]) / self.e_nom_mwh
        return rainflow_histogram(soc)

    def summary(self) -> dict[str, float | list[float]]:
        """Run totals: wear, ledger, clipping (keys ``bess.*``; units in the names)."""
        st = self.st
        thr = st.ac_in_mwh + st.ac_out_mwh
        hist, edges = self.rainflow_histogram()
        return {
            "bess.efc": thr / (2 * self.e_nom_mwh) if self.e_nom_mwh > 0 else 0.0,
            "bess.throughput_mwh": thr,
            "bess.ac_in_mwh": st.ac_in_mwh,
            "bess.ac_out_mwh": st.ac_out_mwh,
            "bess.losses_mwh": st.ac_in_mwh - st.ac_out_mwh - (st.e_mwh - self.e0_mwh),
            "bess.self_discharge_mwh": st.self_discharge_mwh,
            "bess.soc_min": st.soc_min_seen,
            "bess.soc_max": st.soc_max_seen,
            "bess.soc_end": self.soc,
            "bess.energy_balance_error_mwh": self.energy_balance_error_mwh(),
            "bess.clipped_mwh": st.clipped_mwh,
            "bess.clipped_max_mw": st.clipped_max_mw,
            "bess.clipped_steps": float(st.clipped_steps),
            "bess.q_clipped_mvarh": st.q_clipped_mvarh,
            "bess.overload_s": st.overload_s,
            "bess.rainflow_cycles": float(sum(hist)),
            "bess.rainflow_hist": hist,
            "bess.rainflow_bin_edges": edges,
        }

    # ------------------------------------------------------------ re-run support

    def snapshot(self) -> BessState:
        """A copy of the state to :meth:`restore` (a re-run of the same interval)."""
        return self.state()

    def restore(self, snap: BessState) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : BessState
            State returned by :meth:`snapshot`.
        """
        self.st = snap.copy()
        del self._turns[snap.n_turns :]
