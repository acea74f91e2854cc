"""The AI-factory site with its BESS: the model the HELICS adapter drives (pure, no helics).

:class:`FactorySite` couples the load (:mod:`.load`, :mod:`.trace`), its
voltage/frequency behaviour (:mod:`.ride_through`), the BESS (:mod:`.bess`) and
its controls (:mod:`.controls`). The adapter calls :meth:`FactorySite.advance`
once per grid step with the POI voltage and frequency; the site runs its
internal steps (``dt_s``, 10-100 ms) and returns the interval's mean, max and
min POI power plus a grid-step record and the high-rate rows.

Signs (``federates/__init__.py``): load convention at the POI, + = import;
``p_mw = p_site_mw + p_bess_mw`` with BESS + = charging; same for Q.

Time: internal steps sit on the absolute grid ``k * dt_s``; an interval
``[t_s, t_end_s)`` is cut at those instants (so a 10 ms event step inside a
50 ms internal step gives one 10 ms step), and nothing accumulates drift.
Calling :meth:`advance` again with the same ``t_s`` re-runs that interval from
the state at ``t_s`` (an iteration of the grid exchange). A gap between
intervals is not simulated.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from federates.factory.bess import Bess, BessBlock
from federates.factory.bess_control import BessControlLoop
from federates.factory.composite import (
    MotorProtection,
    filter_q_mvar,
    it_pq_share,
    motor_pq_share,
    on_grid_factors,
    on_grid_pq,
    rest_pq_share,
)
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.factory.controls import ControlChain
from federates.factory.cooling import Cooling
from federates.factory.load import ItLoad
from federates.factory.ride_through import RideThrough
from federates.factory.site_block import QuietSiteSide
from federates.factory.site_interval import (
    ALIGN_TOL,
    Interval,
    IntervalOutput,
    finite_min,
    frozen,
)

__all__ = ["FactorySite", "IntervalOutput"]


class FactorySite(QuietSiteSide):
    """An AI factory and its BESS at one POI, advanced interval by interval."""

    def __init__(
        self,
        factory: FactoryConfig,
        bess: BessConfig,
        controls: ControlsConfig,
        *,
        seed: int,
        dt_s: float,
        base_dir: Path = Path("."),
    ) -> None:
        if not dt_s > 0:
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        self.factory = factory
        self.dt_s = float(dt_s)
        self.load = ItLoad(factory, seed=seed, dt_s=self.dt_s, base_dir=Path(base_dir))
        self.site_trace = (
            factory.profile == "trace"
            and factory.trace is not None
            and factory.trace.applies_to == "site"
        )
        cooling_cfg = (
            factory.cooling.model_copy(update={"fraction": 0.0})
            if self.site_trace
            else factory.cooling
        )
        self.cooling = Cooling(cooling_cfg)
        self.aux_mw = 0.0 if self.site_trace else factory.aux_mw
        self.rt = RideThrough(factory.ride_through)
        self.motors = MotorProtection(factory.composite)
        self.bess = Bess(bess)
        self.loop = BessControlLoop(bess)
        self.controls = ControlChain(controls, bess, dt_s=self.dt_s)
        self.bess_on = self.controls.on
        self.tan_phi = math.tan(math.acos(factory.power_factor))
        self.residual = factory.ride_through.backup_residual_fraction
        self._offsets: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
        self._shares_vm = math.nan  # voltage [pu] of the cached composite-load factors
        self._shares: tuple[float, ...] | None = None
        self._zeros: dict[int, np.ndarray] = {}
        self._snap: tuple | None = None
        self._snap_t: float | None = None
        self._t_end_last: float | None = None
        self._last_p_mw: float | None = None
        # ledger
        self.site_energy_mwh = 0.0
        self.poi_energy_mwh = 0.0
        self.poi_max_mw = -math.inf
        self.poi_min_mw = math.inf
        self.sim_s = 0.0

    # ------------------------------------------------------------ time

    def _zeros_n(self, n: int) -> np.ndarray:
        z = self._zeros.get(n)
        if z is None:
            z = self._zeros[n] = frozen(np.zeros(n))
        return z

    def _steps(
        self, t_s: float, t_end_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray | None, bool]:
        """Step starts ``a``, ends ``b``, lengths ``d``, first grid index, grid indices (None if
        contiguous), and whether all steps have the nominal length."""
        dt = self.dt_s
        i0f = t_s / dt
        i0 = round(i0f)
        nf = (t_end_s - t_s) / dt
        n = round(nf)
        if n >= 1 and abs(i0f - i0) < ALIGN_TOL and abs(nf - n) < ALIGN_TOL:
            cached = self._offsets.get(n)
            if cached is None:
                d = frozen(np.full(n, dt))
                cached = self._offsets[n] = (
                    frozen(np.arange(n) * dt),
                    d,
                    frozen(np.full(n, 1.0 / n)),
                    float(d.sum()),
                )
            off, d = cached[0], cached[1]
            a = t_s + off
            b = a + dt
            b[-1] = t_end_s
            return a, b, d, i0, None, True
        k0 = math.floor(i0f + ALIGN_TOL) + 1
        k1 = math.ceil(t_end_s / dt - ALIGN_TOL) - 1
        inner = np.arange(k0, k1 + 1) * dt
        a = np.concatenate([[t_s], inner])
        b = np.concatenate([inner, [t_end_s]])
        d = b - a
        idx = np.floor(a / dt + ALIGN_TOL).astype(np.int64)
        uniform = bool(len(d) > 1 and np.allclose(d, dt, rtol=0, atol=dt * ALIGN_TOL))
        return a, b, d, int(idx[0]), idx, uniform

    # ------------------------------------------------------------ snapshots

    def _snapshot(self) -> tuple:
        return (
            self.bess.snapshot(),
            self.loop.snapshot(),
            self.controls.snapshot(),
            self.rt.snapshot(),
            self.motors.snapshot(),
            self.cooling.snapshot(),
            (
                self.site_energy_mwh,
                self.poi_energy_mwh,
                self.poi_max_mw,
                self.poi_min_mw,
                self.sim_s,
                self._t_end_last,
                self._last_p_mw,
            ),
        )

    def _restore(self, snap: tuple) -> None:
        b, lp, c, r, mp, k, ledger = snap
        self.bess.restore(b)
        self.loop.restore(lp)
        self.controls.restore(c)
        self.rt.restore(r)
        self.motors.restore(mp)
        self.cooling.restore(k)
        (
            self.site_energy_mwh,
            self.poi_energy_mwh,
            self.poi_max_mw,
            self.poi_min_mw,
            self.sim_s,
            self._t_end_last,
            self._last_p_mw,
        ) = ledger

    # ------------------------------------------------------------ interval

    def _start_steady(self, i0: int) -> None:
        """Start as if the site had been running before the first interval, causally: the
        cooling heat and the POI filters (smoothing, ramp limit) in the steady state of the
        first internal step's IT load, or of ``factory.initial_it_mw`` when the case sets it.
        Never a mean of future load: a trace that starts with a job start must not make the
        BESS charge at t = 0."""
        it0 = self.factory.initial_it_mw
        if it0 is None:
            it0 = float(self.load.window(i0, 1)[0])
        self.cooling.heat_mw = it0
        p_mw = it0 * (1.0 + self.cooling.cfg.fraction) + self.aux_mw
        q_mvar = self._site_q_steady_mvar(it0) if self.factory.composite.enabled else None
        self.controls.start_from(p_mw, p_mw * self.tan_phi if q_mvar is None else q_mvar)

    def _site_q_steady_mvar(self, it_mw: float) -> float:
        """Site Q [Mvar] at 1 pu in the steady state of an IT power ``it_mw`` [MW]."""
        c = self.factory.composite
        motors_mw = self.cooling.cfg.fraction * it_mw + c.aux_motor_share * self.aux_mw
        return (
            it_pq_share(1.0, c)[1] * it_mw
            + rest_pq_share(1.0, c)[1] * (1.0 - c.aux_motor_share) * self.aux_mw
            + motor_pq_share(1.0, c)[1] * motors_mw
            + filter_q_mvar(1.0, self.factory.it_peak_mw, c)
        )

    def advance(
        self, t_s: float, t_end_s: float, vm_pu: float, f_hz: float, *, rerunnable: bool = True
    ) -> IntervalOutput:
        """Run the internal steps covering ``[t_s, t_end_s)`` with ``vm_pu`` and ``f_hz`` held.

        The steps below run in this order, once per call, each on the interval's
        record :class:`Interval`.

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s], exclusive.
        vm_pu : float
            POI voltage magnitude held over the interval [pu].
        f_hz : float
            Grid frequency held over the interval [Hz].
        rerunnable : bool, default True
            Keep the state at ``t_s`` so that a next call with the same ``t_s`` re-runs the
            interval. ``False`` (a caller that moves on for sure) skips that copy; a next
            call with the same ``t_s`` is then refused as time going backwards.

        Returns
        -------
        IntervalOutput
            The site's outputs for the interval.
        """
        iv = self._time_step(t_s, t_end_s, vm_pu, f_hz, rerunnable)
        self._load_step(iv)
        self._ride_through_step(iv)
        self._bess_step(iv)
        return self._finalize_step(iv)

    def advance_block(
        self,
        t_s: list[float],
        t_end_s: list[float],
        vm_pu: list[float],
        f_hz: list[float],
        *,
        keep_last: bool = True,
    ) -> list[IntervalOutput]:
        """:meth:`advance` over consecutive intervals (a sync block); only the last one is kept
        for a re-run, and none without ``keep_last``. Quiet intervals (:mod:`.site_block`) have
        their site side worked out together; the results are those of one :meth:`advance` per
        interval.

        Parameters
        ----------
        t_s, t_end_s : list of float
            Interval starts and ends [s].
        vm_pu : list of float
            POI voltage magnitude per interval [pu].
        f_hz : list of float
            Grid frequency per interval [Hz].
        keep_last : bool, default True
            Keep the state at the last interval's start for a re-run (an iterating federate).
            Without it the last interval of a block may take the quiet path too, and no
            interval copies the state. (A one-step block takes the per-interval path: for one
            interval it is the cheaper.)

        Returns
        -------
        list of IntervalOutput
            The site's outputs, one per interval.
        """
        m = len(t_s)
        q = m - 1 if keep_last or m == 1 else m
        ivs = self._quiet_site_side(t_s[:q], t_end_s[:q], vm_pu[:q], f_hz[:q])
        outs = []
        if ivs is not None:
            self._snap = self._snap_t = None
            for iv in ivs:
                self._bess_step(iv)
                outs.append(self._finalize_step(iv))
        for k in range(len(outs), m):
            keep = t_s[k + 1] == t_s[k] if k + 1 < m else keep_last
            outs.append(self.advance(t_s[k], t_end_s[k], vm_pu[k], f_hz[k], rerunnable=keep))
        return outs

    def _time_step(
        self, t_s: float, t_end_s: float, vm_pu: float, f_hz: float, rerunnable: bool = True
    ) -> Interval:
        """First, every call: check the inputs, keep (or go back to) the state at ``t_s`` for a
        re-run, cut the interval into internal steps, start the site in steady state once."""
        if not t_end_s > t_s:
            raise ValueError(f"empty interval [{t_s}, {t_end_s})")
        if not (math.isfinite(vm_pu) and math.isfinite(f_hz)):
            raise ValueError(f"POI inputs must be finite (vm_pu={vm_pu}, f_hz={f_hz})")
        if self._snap_t is not None and t_s == self._snap_t:
            self._restore(self._snap)  # re-run of the same interval
        else:
            if self._t_end_last is not None and t_s < self._t_end_last - self.dt_s * ALIGN_TOL:
                raise ValueError(
                    f"time went backwards: interval starts at {t_s} "
                    f"after one ending at {self._t_end_last}"
                )
            if rerunnable:
                self._snap, self._snap_t = self._snapshot(), t_s
            else:
                self._snap = self._snap_t = None
        a, b, d, i0, idx, uniform = self._steps(t_s, t_end_s)
        if self._last_p_mw is None and self.cooling.heat_mw is None:
            self._start_steady(i0)
        if uniform and idx is None:
            _off, _d, w, d_sum = self._offsets[len(a)]
            return Interval(t_s, t_end_s, vm_pu, f_hz, a, b, d, w, i0, idx, uniform, d_sum)
        w = d / (t_end_s - t_s)
        return Interval(t_s, t_end_s, vm_pu, f_hz, a, b, d, w, i0, idx, uniform)

    def _load_step(self, iv: Interval) -> None:
        """After :meth:`_time_step`: the IT load of each step, capped by a demand-response call
        that curtails the site (GPU power caps), and the POI cap of a call on the BESS."""
        iv.it = self.load.window(iv.i0, iv.n) if iv.idx is None else self.load.at(iv.idx)
        if not self.controls.dr.calls:
            return
        p_ref = self._last_p_mw if self._last_p_mw is not None else float(iv.it[0])
        iv.poi_cap, iv.site_cap = self.controls.dr.caps(iv.t_s, iv.t_end_s, iv.a, p_ref)
        if iv.site_cap is not None:
            heat = self.cooling.heat_mw if self.cooling.heat_mw is not None else float(iv.it.mean())
            cool_now = self.cooling.cfg.fraction * heat * self.cooling.gate_value(iv.t_s)
            iv.it = np.minimum(iv.it, np.maximum(iv.site_cap - cool_now - self.aux_mw, 0.0))

    def _ride_through_step(self, iv: Interval) -> None:
        """After :meth:`_load_step`: transfers to UPS/backup, motor trips, chiller trips and
        restarts, and the site's P and Q per step as the grid sees them."""
        g, events = self.rt.advance(iv.t_s, iv.t_end_s, iv.vm_pu, iv.f_hz, iv.a, iv.b)
        if events and any(kind == "return" for kind, _ in events):
            self.motors.tripped = False  # the site's return restarts its motors
        m_events = self.motors.advance(iv.t_s, iv.t_end_s, iv.vm_pu, self.rt.mode == "grid")
        if m_events:
            events = sorted([*events, *m_events], key=lambda e: e[1])
        iv.it_mean = float(np.dot(iv.it, iv.d)) / iv.span
        cool, iv.gate = self.cooling.advance(iv.t_s, iv.t_end_s, iv.it_mean, iv.a, iv.b, events)
        iv.g, iv.cool = g, cool
        iv.on_backup = self._zeros_n(iv.n) if g is None else 1.0 - g
        conn = 1.0 if g is None else self.residual + (1.0 - self.residual) * g
        if self.factory.composite.enabled:
            self._composite_pq(iv, conn)
            return
        if g is None:
            p_site = iv.it + cool
            if self.aux_mw:
                p_site += self.aux_mw
        else:
            p_site = conn * (iv.it + self.aux_mw) + cool
        iv.p_site = p_site
        iv.q_site = p_site * self.tan_phi

    def _composite_pq(self, iv: Interval, conn: np.ndarray | float) -> None:
        """Site P and Q from its parts at the interval's voltage: IT (PSUs), motors (cooling and
        a share of the auxiliaries, gated by the chillers' state), the ZIP rest, filters. The
        parts on the site's main supply (all but the chillers) leave the grid with a transfer."""
        c = self.factory.composite
        vm = iv.vm_pu
        if iv.gate is None and isinstance(conn, float) and conn == 1.0:  # all on the grid
            if self._shares is None or self._shares_vm != vm:
                self._shares_vm = vm
                self._shares = on_grid_factors(vm, c, self.aux_mw, self.factory.it_peak_mw)
            iv.p_site, iv.q_site = on_grid_pq(iv.it, iv.cool, self._shares)
            return
        it_p, it_q = it_pq_share(vm, c)
        rest_p, rest_q = rest_pq_share(vm, c)
        mot_p, mot_q = motor_pq_share(vm, c)
        aux_mot = c.aux_motor_share * self.aux_mw
        aux_rest = self.aux_mw - aux_mot
        gate = 1.0 if iv.gate is None else iv.gate
        aux_mot_on = aux_mot * gate  # pumps and fans follow the chillers' trips and restarts
        main_p = it_p * iv.it + rest_p * aux_rest + mot_p * aux_mot_on
        main_q = it_q * iv.it + rest_q * aux_rest + mot_q * aux_mot_on
        main_q = main_q + filter_q_mvar(vm, self.factory.it_peak_mw, c)
        iv.p_site = conn * main_p + mot_p * iv.cool
        iv.q_site = conn * main_q + mot_q * iv.cool
        if np.ndim(iv.p_site) == 0:
            iv.p_site = np.full(iv.n, float(iv.p_site))
            iv.q_site = np.full(iv.n, float(iv.q_site))

    def _hold_mask(self, iv: Interval) -> np.ndarray | None:
        """Steps in which ride-through support holds the POI power (None: none)."""
        if not self.controls.cfg.ride_through_support.enabled:
            return None
        rc = self.factory.ride_through
        if rc.enabled and not rc.v_min_pu <= iv.vm_pu <= rc.v_max_pu:
            return np.ones(iv.n, dtype=bool)
        if iv.g is None and iv.gate is None:
            return None
        m = np.zeros(iv.n, dtype=bool)
        if iv.g is not None:
            m |= iv.g < 1.0 - 1e-12
        if iv.gate is not None:
            m |= iv.gate < 1.0 - 1e-12
        return m if m.any() else None

    def _bess_step(self, iv: Interval) -> None:
        """After :meth:`_ride_through_step`: the controls' POI setpoint, the BESS request and
        what the BESS delivers (P and Q per step). Nothing when the BESS is off."""
        if not self.bess_on:
            iv.p_b = iv.q_b = self._zeros_n(iv.n)
            iv.soc = np.full(iv.n, math.nan)
            iv.y = iv.p_site
            return
        controls = self.controls
        y, capped = controls.setpoint(
            iv.p_site,
            iv.d,
            iv.uniform,
            soc=self.bess.soc,
            f_hz=iv.f_hz,
            hold=self._hold_mask(iv),
            poi_cap=iv.poi_cap,
        )
        q_req = controls.q_response(iv.vm_pu, iv.span)
        if controls.cfg.q_smoothing.enabled:
            q_req += controls.q_smooth(float(np.dot(iv.q_site, iv.d)) / iv.span, iv.span)
        blk = self._run_bess(iv, y, q_req)
        iv.y, iv.q_req = y, q_req
        iv.p_b, iv.q_b = blk.p_actual_mw, blk.q_actual_mvar
        iv.soc = blk.e_mwh * (1.0 / self.bess.e_nom_mwh)
        # the POI reached: the setpoint, unless the BESS could not follow (then what it reached)
        p_reached = float(iv.p_site[-1] + iv.p_b[-1]) if blk.clipped_last else float(y[-1])
        controls.settle(p_reached, capped or blk.clipped_last)
        iv.clipped_mw = blk.clipped_mwh * 3600.0 / iv.span

    def _run_bess(self, iv: Interval, y: np.ndarray, q_req: float) -> BessBlock:
        """The BESS controller (feedforward or feedback, with its delay and period) and the BESS
        over the interval's steps."""
        m = y - iv.p_site
        if self._last_p_mw is None:  # the controller was running before t = 0: steady state
            self.bess.start_at(float(m[0]))
            m0 = 0.0 if self.loop.feedback else float(m[0])
            self.loop.start_from(iv.t_s, m0, self.bess.p_actual_mw)
        if self.loop.feedback:
            return self.loop.run_feedback(
                self.bess, iv.a, iv.b, iv.d, y, iv.p_site, q_req, iv.vm_pu
            )
        req = self.loop.feedforward(iv.a, iv.b, m)
        return self.bess.run(
            req, iv.d, q_req, vm_pu=iv.vm_pu, uniform=iv.uniform, total_s=iv.d_sum_s
        )

    def _finalize_step(self, iv: Interval) -> IntervalOutput:
        """Last, every call: interval means, the run ledger, the demand-response baseline, and the
        grid-step and internal-step records."""
        w = iv.w
        p_poi = iv.p_site + iv.p_b
        q_poi = iv.q_site + iv.q_b
        ps_mean = float(np.dot(iv.p_site, w))
        if self.bess_on:
            pb_mean = float(np.dot(iv.p_b, w))
            qb_mean = float(np.dot(iv.q_b, w)) if iv.q_req else 0.0
            y_mean = float(np.dot(iv.y, w))
        else:
            pb_mean = qb_mean = 0.0
            y_mean = ps_mean
        p_mean = ps_mean + pb_mean  # means are linear: no need to average p_poi and q_poi again
        qs_mean = float(np.dot(iv.q_site, w))
        q_mean = qs_mean + qb_mean
        p_list = p_poi.tolist()
        total = sum(p_list)
        if total == total:  # no NaN: the builtins give numpy's max and min
            p_max, p_min = max(p_list), min(p_list)
        else:
            p_max, p_min = float(p_poi.max()), float(p_poi.min())
        span = iv.span
        self.site_energy_mwh += ps_mean * span / 3600.0
        self.poi_energy_mwh += p_mean * span / 3600.0
        self.poi_max_mw = max(self.poi_max_mw, p_max)
        self.poi_min_mw = min(self.poi_min_mw, p_min)
        self.sim_s += span
        self._t_end_last = iv.t_end_s
        self._last_p_mw = p_mean
        if self.controls.dr.calls:
            self.controls.dr.observe(iv.t_s, iv.t_end_s, p_mean)
        record = {
            "p_mw": p_mean,
            "q_mvar": q_mean,
            "p_max_mw": p_max,
            "p_min_mw": p_min,
            "p_site_mw": ps_mean,
            "q_site_mvar": qs_mean,
            "p_bess_mw": pb_mean,
            "q_bess_mvar": qb_mean,
            "soc": float(iv.soc[-1]),
            "on_backup": float(np.dot(iv.on_backup, w)) if iv.g is not None else 0.0,
            "clipped_mw": iv.clipped_mw,
            "p_setpoint_mw": y_mean,
            "p_it_mw": iv.it_mean,
            "p_cooling_mw": float(np.dot(iv.cool, w)),
            "dr_cap_mw": finite_min(iv.poi_cap if iv.poi_cap is not None else iv.site_cap),
            "vm_pu": float(iv.vm_pu),
            "f_hz": float(iv.f_hz),
        }
        hr = {
            "t_s": iv.a,
            "p_site_mw": iv.p_site,
            "p_bess_mw": iv.p_b,
            "p_mw": p_poi,
            "q_mvar": q_poi,
            "soc": iv.soc,
            "on_backup": iv.on_backup,
            "p_it_mw": iv.it,
        }
        return IntervalOutput(p_mean, q_mean, p_max, p_min, record, hr)

    # ------------------------------------------------------------ summary

    def summary(self) -> dict[str, float | list[float]]:
        """Run totals: BESS wear and ledger, clipping, backup transfers, energies."""
        out: dict[str, float | list[float]] = {}
        if self.bess_on:
            out.update(self.bess.summary())
        else:
            out.update(
                {
                    "bess.efc": 0.0,
                    "bess.throughput_mwh": 0.0,
                    "bess.energy_balance_error_mwh": 0.0,
                    "bess.clipped_mwh": 0.0,
                    "bess.soc_min": math.nan,
                    "bess.soc_max": math.nan,
                    "bess.rainflow_hist": [],
                    "bess.rainflow_cycles": 0.0,
                }
            )
        out.update(
            {
                "site.backup_transfers": float(self.rt.transfers),
                "site.backup_s": self.rt.backup_s,
                **{
                    f"site.transfers_{k}": float(v) for k, v in self.rt.transfers_by_cause().items()
                },
                "site.motor_trips": float(self.motors.trips),
                "site.energy_mwh": self.site_energy_mwh,
                "poi.energy_mwh": self.poi_energy_mwh,
                "poi.p_max_mw": self.poi_max_mw,
                "poi.p_min_mw": self.poi_min_mw,
                "sim.t_s": self.sim_s,
                "dr.calls": float(len(self.controls.dr.calls)),
            }
        )
        return out
