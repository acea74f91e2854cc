"""Battery energy storage at the site (pure, no helics).

Sign: ``p_mw`` > 0 while **charging** (pandapower ``storage``, see
``federates/__init__.py``); ``q_mvar`` > 0 absorbs reactive power.

Storage equation per step of length ``dt`` (energy ``e`` in MWh)::

    e[k+1] = e[k] + (eta_c * max(p, 0) + min(p, 0) / eta_d - p_sd) * dt / 3600

with ``eta_c * eta_d = rte`` (DOMAIN: 85 %, NREL ATB) and a constant
self-discharge ``p_sd = self_discharge_per_day * e_mwh / 24`` [MW].

Limits, applied to every request (the part refused is *clipped* and recorded,
never silent):

* SOC window ``[soc_min, soc_max] x e_mwh`` (DOMAIN 20-80 %). At the bottom of
  the window the feasible range may be a small positive charge that offsets
  self-discharge, so the SOC never leaves its window.
* power ``|p| <= p_mw``, or ``overload_factor x p_mw`` (DOMAIN 120 %, Megapack
  2 XL) while the overload budget lasts: ``overload_s`` of overload (10 s), which
  refills after ``overload_recovery_s`` at or below the rating; once used up, no
  overload is allowed until it is full again.
* PCS circle ``p^2 + q^2 <= s_mva^2`` (x overload factor while overloaded);
  ``pcs_priority`` says whether P or Q keeps its request.

The actual power follows the clipped command through a first-order lag
``response_tau_s``. Wear: AC throughput, equivalent full cycles
``throughput / (2 e_mwh)`` (DOMAIN) and a rainflow count (ASTM E1049, ``rainflow``
package) of the SOC turning points.

Simplified: efficiencies are constant (no dependence on power or SOC), no
thermal or calendar ageing, Q has no lag and costs no energy.

The step interface follows vessim's storage: :meth:`Bess.feasible_range`,
:meth:`Bess.set_power`, :meth:`Bess.step`, :meth:`Bess.state`; :meth:`Bess.run`
runs a block of requests in one tight loop (what the site uses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rainflow

from federates.factory.config import BessConfig

_EPS = 1e-12
RAINFLOW_BIN_EDGES = (0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 1.0)
"""SOC-depth bins of the rainflow histogram (fraction of capacity)."""


@dataclass
class BessState:
    """Snapshot of the BESS (units in names)."""

    e_mwh: float
    soc: float
    p_mw: float
    q_mvar: float
    overload_budget_s: float
    throughput_mwh: float
    efc: float
    clipped_mwh: float


@dataclass
class BessBlock:
    """Result of :meth:`Bess.run` over a block of steps."""

    p_mw: np.ndarray  # actual power at each step (+ charging)
    q_mvar: np.ndarray
    e_mwh: np.ndarray  # stored energy at the end of each step
    clipped_mwh: float  # energy of the refused requests in the block (P)
    clipped_max_mw: float  # largest refused request in the block
    clipped_last: bool  # the last step's request was clipped


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
        # state
        self.e_mwh = cfg.soc_init * cfg.e_mwh
        self.e0_mwh = self.e_mwh
        self.p_mw = 0.0
        self.q_mvar = 0.0
        self.budget_s = self.budget_max_s
        self.ov_locked = False  # budget used up: no overload until it is full again
        self._request = (0.0, 0.0)
        # ledger
        self.ac_in_mwh = 0.0  # energy drawn from the grid while charging
        self.ac_out_mwh = 0.0  # energy delivered while discharging
        self.sd_mwh = 0.0  # self-discharge
        self.clipped_mwh = 0.0
        self.clipped_max_mw = 0.0
        self.clipped_steps = 0
        self.q_clipped_mvarh = 0.0
        self.overload_s = 0.0
        self.soc_seen = [cfg.soc_init, cfg.soc_init]  # min, max
        self._turns: list[float] = [self.e_mwh]
        self._up = True

    # ------------------------------------------------------------ vessim-style API

    @property
    def soc(self) -> float:
        return self.e_mwh / self.e_nom_mwh if self.e_nom_mwh > 0 else 0.0

    def _p_limit(self, dt_s: float, q_mvar: float) -> float:
        ok = self.budget_s >= dt_s - 1e-9 and self.budget_max_s > 0 and not self.ov_locked
        p_lim = self.p_ov_mw if ok else self.p_rated_mw
        if self.cfg.pcs_priority == "q":
            s_lim = self.cfg.s_mva * (p_lim / self.p_rated_mw if self.p_rated_mw > 0 else 1.0)
            p_lim = min(p_lim, math.sqrt(max(s_lim * s_lim - q_mvar * q_mvar, 0.0)))
        return p_lim

    def feasible_range(self, dt_s: float, q_mvar: float = 0.0) -> tuple[float, float]:
        """(p_min, p_max) [MW] that a request may take for a step of ``dt_s``."""
        if dt_s <= 0:
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        return self._bounds(dt_s, self._p_limit(dt_s, q_mvar), self.e_mwh)

    def _bounds(self, dt_s: float, p_lim: float, e: float) -> tuple[float, float]:
        h = 3600.0 / dt_s
        hi = ((self.e_max_mwh - e) * h + self.p_sd_mw) / self.eta_c
        room = (e - self.e_min_mwh) * h - self.p_sd_mw
        lo = -room * self.eta_d if room >= 0 else -room / self.eta_c
        return max(lo, -p_lim), max(min(hi, p_lim), max(lo, -p_lim))

    def set_power(self, p_mw: float, q_mvar: float = 0.0) -> None:
        """Request power for the next :meth:`step` (clipped there, and the clipping recorded)."""
        if not (math.isfinite(p_mw) and math.isfinite(q_mvar)):
            raise ValueError(f"BESS request must be finite, got p={p_mw}, q={q_mvar}")
        self._request = (float(p_mw), float(q_mvar))

    def step(self, dt_s: float) -> BessBlock:
        """Advance one step of ``dt_s`` with the last request."""
        p, q = self._request
        return self.run(np.array([p]), np.array([dt_s]), q)

    def state(self) -> BessState:
        thr = self.ac_in_mwh + self.ac_out_mwh
        return BessState(
            e_mwh=self.e_mwh,
            soc=self.soc,
            p_mw=self.p_mw,
            q_mvar=self.q_mvar,
            overload_budget_s=self.budget_s,
            throughput_mwh=thr,
            efc=thr / (2 * self.e_nom_mwh) if self.e_nom_mwh > 0 else 0.0,
            clipped_mwh=self.clipped_mwh,
        )

    # ------------------------------------------------------------ block kernel

    def run(
        self,
        req_mw: np.ndarray,
        dt_s: np.ndarray,
        q_req_mvar: float = 0.0,
        *,
        uniform: bool | None = None,
    ) -> BessBlock:
        """Run a block of steps: request ``req_mw[k]`` for ``dt_s[k]`` seconds.

        Returns actual P and Q per step and the stored energy after each step.
        ``uniform`` (all steps equally long) is worked out when not given.
        """
        n = len(req_mw)
        d = np.asarray(dt_s, dtype=float)
        if n == 0:
            return BessBlock(np.empty(0), np.empty(0), np.empty(0), 0.0, 0.0, False)
        if self.e_nom_mwh <= 0 or self.p_rated_mw <= 0:  # an empty BESS refuses everything
            clip = float(np.dot(np.abs(req_mw), d)) / 3600.0
            self.clipped_mwh += clip
            z = np.zeros(n)
            return BessBlock(
                z,
                z.copy(),
                np.full(n, self.e_mwh),
                clip,
                float(np.max(np.abs(req_mw))),
                bool(req_mw[-1] != 0),
            )
        if uniform is None:
            uniform = bool(d[0] == d[-1] and (n < 3 or d.min() == d.max()))
        total_s = float(d.sum())
        p_cont = self.p_rated_mw
        if self.cfg.pcs_priority == "q" and q_req_mvar:
            p_cont = min(p_cont, math.sqrt(max(self.cfg.s_mva**2 - q_req_mvar**2, 0.0)))
        lo_req, hi_req = float(req_mw.min()), float(req_mw.max())
        e = self.e_mwh
        free = (
            uniform
            and -p_cont <= lo_req
            and hi_req <= p_cont
            and abs(self.p_mw) <= p_cont
            and e + p_cont * self.eta_c * total_s / 3600.0 <= self.e_max_mwh
            and e - (p_cont / self.eta_d + self.p_sd_mw) * total_s / 3600.0 >= self.e_min_mwh
        )
        if free:
            p_out, e_out = self._run_free(req_mw.tolist(), float(d[0]))
            clip_mwh, clip_max, clip_last = 0.0, 0.0, False
            self.budget_s = min(self.budget_max_s, self.budget_s + total_s * self.recovery_rate)
            if self.budget_s >= self.budget_max_s:
                self.ov_locked = False
        else:
            p_out, e_out, clip_mwh, clip_max, clip_last = self._run_full(
                req_mw.tolist(), d.tolist(), q_req_mvar
            )
        p_arr = np.array(p_out)
        e_arr = np.array(e_out)
        self.clipped_mwh += clip_mwh
        self.clipped_max_mw = max(self.clipped_max_mw, clip_max)
        q_arr = self._q(p_arr, d, q_req_mvar)
        if e_out:
            lo, hi = min(e_out), max(e_out)
            self.soc_seen[0] = min(self.soc_seen[0], lo / self.e_nom_mwh)
            self.soc_seen[1] = max(self.soc_seen[1], hi / self.e_nom_mwh)
        return BessBlock(p_arr, q_arr, e_arr, clip_mwh, clip_max, clip_last)

    def _q(self, p_arr: np.ndarray, d: np.ndarray, q_req: float) -> np.ndarray:
        if q_req == 0.0:
            self.q_mvar = 0.0
            return np.zeros(len(p_arr))
        s_lim = self.cfg.s_mva * np.where(
            np.abs(p_arr) > self.p_rated_mw + _EPS, self.cfg.overload_factor, 1.0
        )
        q_lim = np.sqrt(np.maximum(s_lim * s_lim - p_arr * p_arr, 0.0))
        q = np.clip(q_req, -q_lim, q_lim)
        self.q_clipped_mvarh += float(np.dot(np.abs(q_req - q), d)) / 3600.0
        self.q_mvar = float(q[-1])
        return q

    def _lag(self, dt: float) -> float:
        return 1.0 if self.tau_s <= 0 else 1.0 - math.exp(-dt / self.tau_s)

    def _run_free(self, req: list[float], dt: float) -> tuple[list[float], list[float]]:
        """No limit can bind in this block: lag, energy, ledger and turning points only."""
        la = self._lag(dt)
        c_h = self.eta_c * dt / 3600.0
        d_h = dt / (self.eta_d * 3600.0)
        sd_h = self.p_sd_mw * dt / 3600.0
        act, e, up = self.p_mw, self.e_mwh, self._up
        cin = cout = 0.0
        turns = self._turns
        p_out = []
        e_out = []
        for r in req:
            act += la * (r - act)
            if act >= 0.0:
                cin += act
                de = act * c_h - sd_h
            else:
                cout -= act
                de = act * d_h - sd_h
            if de > 0.0:
                if not up:
                    turns.append(e)
                    up = True
            elif de < 0.0 and up:
                turns.append(e)
                up = False
            e += de
            p_out.append(act)
            e_out.append(e)
        n = len(req)
        self.p_mw, self.e_mwh, self._up = act, e, up
        self.ac_in_mwh += cin * dt / 3600.0
        self.ac_out_mwh += cout * dt / 3600.0
        self.sd_mwh += sd_h * n
        return p_out, e_out

    def _run_full(
        self, req: list[float], d: list[float], q_req: float
    ) -> tuple[list[float], list[float], float, float, bool]:
        """Every limit checked at every step (energy, power, overload, PCS)."""
        eta_c, eta_d, p_sd = self.eta_c, self.eta_d, self.p_sd_mw
        e_min, e_max = self.e_min_mwh, self.e_max_mwh
        p_rated, p_ov = self.p_rated_mw, self.p_ov_mw
        b_max, rec = self.budget_max_s, self.recovery_rate
        s_q = q_req * q_req
        s_rated = self.cfg.s_mva
        q_prio = self.cfg.pcs_priority == "q" and q_req != 0.0
        act, e, b, up, locked = self.p_mw, self.e_mwh, self.budget_s, self._up, self.ov_locked
        cin = cout = sd = clip_e = clip_max = ov_s = 0.0
        n_clip = 0
        clipped = False
        turns = self._turns
        p_out = []
        e_out = []
        tau = self.tau_s
        last_dt = -1.0
        la = 1.0
        for r, dt in zip(req, d, strict=True):
            if dt != last_dt:
                la = 1.0 if tau <= 0 else 1.0 - math.exp(-dt / tau)
                h = 3600.0 / dt
                last_dt = dt
            if not locked and b >= dt - 1e-9 and b_max > 0:
                p_lim = p_ov
                s_lim = s_rated * p_ov / p_rated
            else:
                p_lim = p_rated
                s_lim = s_rated
            if q_prio:
                p_lim = min(p_lim, math.sqrt(max(s_lim * s_lim - s_q, 0.0)))
            hi = ((e_max - e) * h + p_sd) / eta_c
            room = (e - e_min) * h - p_sd
            lo = -room * eta_d if room >= 0.0 else -room / eta_c
            if lo < -p_lim:
                lo = -p_lim
            if hi > p_lim:
                hi = p_lim
            if hi < lo:
                hi = lo
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
            if act > p_rated + _EPS or act < -p_rated - _EPS:
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
        self.p_mw, self.e_mwh, self.budget_s, self._up, self.ov_locked = act, e, b, up, locked
        self.ac_in_mwh += cin / 3600.0
        self.ac_out_mwh += cout / 3600.0
        self.sd_mwh += sd / 3600.0
        self.clipped_steps += n_clip
        self.overload_s += ov_s
        return p_out, e_out, clip_e / 3600.0, clip_max, clipped

    # ------------------------------------------------------------ wear and ledger

    def energy_balance_error_mwh(self) -> float:
        """Stored-energy change minus what the ledger says went in and out [MWh]."""
        stored = self.ac_in_mwh * self.eta_c - self.ac_out_mwh / self.eta_d - self.sd_mwh
        return (self.e_mwh - self.e0_mwh) - stored

    def rainflow_histogram(self) -> tuple[list[float], list[float]]:
        """Rainflow cycle counts per SOC-depth bin (:data:`RAINFLOW_BIN_EDGES`)."""
        series = [*self._turns, self.e_mwh]
        edges = list(RAINFLOW_BIN_EDGES)
        counts = [0.0] * (len(edges) - 1)
        if len(series) < 3 or self.e_nom_mwh <= 0:
            return counts, edges
        for rng_mwh, _mean, count, _i0, _i1 in rainflow.extract_cycles(series):
            depth = rng_mwh / self.e_nom_mwh
            j = int(np.searchsorted(edges, depth, side="right")) - 1
            counts[min(max(j, 0), len(counts) - 1)] += count
        return counts, edges

    def summary(self) -> dict[str, float | list[float]]:
        thr = self.ac_in_mwh + self.ac_out_mwh
        hist, edges = self.rainflow_histogram()
        return {
            "bess.efc": thr / (2 * self.e_nom_mwh) if self.e_nom_mwh > 0 else 0.0,
            "bess.throughput_mwh": thr,
            "bess.ac_in_mwh": self.ac_in_mwh,
            "bess.ac_out_mwh": self.ac_out_mwh,
            "bess.losses_mwh": self.ac_in_mwh - self.ac_out_mwh - (self.e_mwh - self.e0_mwh),
            "bess.self_discharge_mwh": self.sd_mwh,
            "bess.soc_min": self.soc_seen[0],
            "bess.soc_max": self.soc_seen[1],
            "bess.soc_end": self.soc,
            "bess.energy_balance_error_mwh": self.energy_balance_error_mwh(),
            "bess.clipped_mwh": self.clipped_mwh,
            "bess.clipped_max_mw": self.clipped_max_mw,
            "bess.clipped_steps": float(self.clipped_steps),
            "bess.q_clipped_mvarh": self.q_clipped_mvarh,
            "bess.overload_s": self.overload_s,
            "bess.rainflow_cycles": float(sum(hist)),
            "bess.rainflow_hist": hist,
            "bess.rainflow_bin_edges": edges,
        }

    # ------------------------------------------------------------ re-run support

    def snapshot(self) -> tuple:
        return (
            self.e_mwh,
            self.p_mw,
            self.q_mvar,
            self.budget_s,
            self._up,
            self.ac_in_mwh,
            self.ac_out_mwh,
            self.sd_mwh,
            self.clipped_mwh,
            self.clipped_max_mw,
            self.clipped_steps,
            self.q_clipped_mvarh,
            self.overload_s,
            tuple(self.soc_seen),
            len(self._turns),
            self.ov_locked,
        )

    def restore(self, snap: tuple) -> None:
        (
            self.e_mwh,
            self.p_mw,
            self.q_mvar,
            self.budget_s,
            self._up,
            self.ac_in_mwh,
            self.ac_out_mwh,
            self.sd_mwh,
            self.clipped_mwh,
            self.clipped_max_mw,
            self.clipped_steps,
            self.q_clipped_mvarh,
            self.overload_s,
            soc_seen,
            n_turns,
            self.ov_locked,
        ) = snap
        self.soc_seen = list(soc_seen)
        del self._turns[n_turns:]
