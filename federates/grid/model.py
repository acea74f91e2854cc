"""A network over time: power flow, background profiles, events, OLTC and shunt control (pure, no
helics).

:class:`GridModel` is the physics behind the ``transmission`` and
``distribution`` federates; their adapters only copy HELICS inputs into
:meth:`GridModel.step` and its results out. Per step at ``t_s``:

1. the events active at ``t_s`` are applied (outages, held sag voltages, load steps);
2. background loads / generation take their profile values at ``t_s``;
3. the factory load, boundary loads (a feeder's import) and the slack voltage (a
   feeder's substation voltage) are set from the inputs;
4. the power flow is solved; a diverged step is handled by ``on_nonconvergence``
   ("stop" raises :class:`NonConvergence`, "hold" repeats the last converged
   results, "continue" records NaN) and always flagged (``converged = 0``);
5. tap changers and shunt banks see the solved voltages and advance by the step
   length; a tap or bank move takes effect from the next step.

Recorded columns (fixed for a run, see :attr:`GridModel.columns`): ``poi_vm_pu``,
``site_vm_pu`` (the factory bus behind a POI transformer), ``converged``,
``p_loss_mw``, ``slack_p_mw``, ``slack_q_mvar``, ``gens_at_q_limit`` (generators
held at a reactive limit; their switches are in :attr:`GridModel.q_limit_switches`),
``vm_pu.<bus>``, ``loading_percent.line.<i>``, ``loading_percent.trafo.<i>``,
``loading_percent.trafo3w.<i>``, ``loading_percent.impedance.<i>`` (not for an
impedance at an ext_grid bus: an external grid's source impedance),
``tap_pos.trafo.<i>`` (controlled transformers), ``steps_on.shunt.<i>`` (banks).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandapower as pp

from federates.grid.config import EventConfig, OltcConfig, ShuntBankConfig
from federates.grid.events import EventState, state_at
from federates.grid.network import Site
from federates.grid.oltc import TapChanger
from federates.grid.powerflow import PowerFlow, Solution
from federates.grid.profiles import Profiles
from federates.grid.ratings import impedance_equivalents
from federates.grid.shunts import ShuntBank

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QLimitEvent:
    """A generator reaching (``side`` "max" / "min", held at ``q_mvar`` [Mvar]) or leaving
    ("released") a reactive limit at ``t_s`` [s]."""

    t_s: float
    gen: int
    side: str
    q_mvar: float

    def as_dict(self) -> dict[str, float | int | str | None]:
        q = None if math.isnan(self.q_mvar) else self.q_mvar
        return {"t_s": self.t_s, "gen": self.gen, "side": self.side, "q_mvar": q}


class NonConvergence(RuntimeError):
    """A power flow that diverged under ``on_nonconvergence = "stop"``."""


@dataclass(frozen=True)
class SolveOptions:
    """How a network is solved (from ``GridConfig``)."""

    solver: str = "auto"
    tolerance_mva: float = 1e-8
    max_iterations: int = 30
    lv_threshold_pu: float = 0.7
    on_nonconvergence: str = "stop"
    enforce_q_lims: bool = True


@dataclass
class StepResult:
    """What a step hands to the adapter."""

    converged: bool
    values: np.ndarray  # aligned with GridModel.columns
    poi_vm_pu: float  # voltage to publish at the POI (held when not converged)
    site_vm_pu: float  # voltage of the factory's bus (held when not converged)
    slack_p_mw: float  # slack injection (held), positive into the network
    slack_q_mvar: float

    def vm(self, model: GridModel, bus: int) -> float:
        """Voltage magnitude [pu] of a bus in the model's last converged solution.

        Parameters
        ----------
        model : GridModel
            The model that produced this result.
        bus : int
            pandapower bus index.

        Returns
        -------
        float
            Voltage magnitude [pu]; NaN before any converged solution.
        """
        return model.bus_vm(bus)


class GridModel:
    """One network through time. See the module docstring for the step sequence."""

    def __init__(
        self,
        net: pp.pandapowerNet,
        *,
        label: str,
        site: Site | None = None,
        poi_bus: int | None = None,
        options: SolveOptions = SolveOptions(),
        oltc: Sequence[OltcConfig] = (),
        shunts: Sequence[ShuntBankConfig] = (),
        events: Sequence[EventConfig] = (),
        profiles: Profiles | None = None,
        boundary_buses: Mapping[str, int] | None = None,
        named_trafos: Mapping[str, int] | None = None,
        record_buses: str | list[int] = "all",
        record_branches: str = "all",
    ) -> None:
        self.net = net
        self.label = label
        self.site = site
        self.poi_bus = poi_bus if poi_bus is not None else (site.poi_bus if site else None)
        self.options = options
        self.events = list(events)
        self.profiles = profiles
        named_trafos = dict(named_trafos or {})
        # auxiliary loads: one per load-step event, one per boundary
        self._event_load = {
            i: int(pp.create_load(net, int(ev.bus), p_mw=0.0, q_mvar=0.0, name=f"event_{i}"))
            for i, ev in enumerate(self.events)
            if ev.kind == "load_step"
        }
        self._boundary_load = {
            name: int(pp.create_load(net, int(bus), p_mw=0.0, q_mvar=0.0, name=f"boundary_{name}"))
            for name, bus in (boundary_buses or {}).items()
        }
        # switched shunt banks
        self.banks: list[tuple[int, ShuntBank, int]] = []  # (shunt index, controller, bus)
        for cfg in shunts:
            bus = self._resolve_bus(cfg.bus)
            idx = int(
                pp.create_shunt(
                    net,
                    bus,
                    q_mvar=-cfg.q_step_mvar,
                    p_mw=0.0,
                    step=cfg.steps_on,
                    max_step=cfg.steps,
                    name="switched_bank",
                )
            )
            bank = ShuntBank(
                cfg.q_step_mvar,
                cfg.steps,
                cfg.steps_on,
                v_low_pu=cfg.v_low_pu,
                v_high_pu=cfg.v_high_pu,
                delay_s=cfg.delay_s,
                controlled=cfg.controlled,
            )
            self.banks.append((idx, bank, bus))
        # tap changers
        if "tap_pos" in net.trafo:
            net.trafo["tap_pos"] = net.trafo.tap_pos.fillna(0)
        self.taps: list[
            tuple[int, TapChanger, int]
        ] = []  # (trafo index, controller, controlled bus)
        for cfg in oltc:
            t = named_trafos[cfg.trafo] if isinstance(cfg.trafo, str) else int(cfg.trafo)
            self.taps.append(
                (
                    t,
                    self._tap_changer(t, cfg),
                    int(cfg.bus if cfg.bus is not None else net.trafo.at[t, "lv_bus"]),
                )
            )
        self.pf = PowerFlow(
            net,
            solver=options.solver,
            tolerance_mva=options.tolerance_mva,
            max_iterations=options.max_iterations,
            lv_threshold_pu=options.lv_threshold_pu,
            enforce_q_lims=options.enforce_q_lims,
        )
        self._bus_pos = {int(b): i for i, b in enumerate(net.bus.index)}
        self._load_pos = {int(b): i for i, b in enumerate(net.load.index)}
        self._bg_load_p = self.pf.load_p_mw.copy()
        self._bg_load_q = self.pf.load_q_mvar.copy()
        self._gen_p0 = self.pf.gen_p_mw.copy()
        self._profile_pos = {"load": np.arange(len(net.load))}
        self._applied = EventState()
        self._in_service0 = {t: net[t].in_service.copy() for t in ("line", "trafo", "gen")}
        self._last_good: Solution | None = None
        self._nonconverged = 0
        self._steps = 0
        self._imp_rec = ~impedance_equivalents(net)  # source impedances are not branches
        self.columns = self._columns(record_buses, record_branches)
        self._snapshots: dict[float, tuple] = {}
        self._last_t: float | None = None
        self._q_limited: dict[int, str] = {}  # gen -> side, as of the last converged step
        self.q_limit_switches: list[QLimitEvent] = []

    # ------------------------------------------------------------ set-up helpers

    def _resolve_bus(self, bus: int | str) -> int:
        if bus == "poi":
            if self.poi_bus is None:
                raise ValueError(
                    f"{self.label}: 'poi' bus requested but the network hosts no factory"
                )
            return int(self.poi_bus)
        if bus == "site":
            if self.site is None:
                raise ValueError(
                    f"{self.label}: 'site' bus requested but the network hosts no factory"
                )
            return int(self.site.site_bus)
        return int(bus)

    def _tap_changer(self, t: int, cfg: OltcConfig) -> TapChanger:
        tr = self.net.trafo
        tmin = cfg.tap_min if cfg.tap_min is not None else tr.at[t, "tap_min"]
        tmax = cfg.tap_max if cfg.tap_max is not None else tr.at[t, "tap_max"]
        if not (np.isfinite(tmin) and np.isfinite(tmax)) or not np.isfinite(
            tr.at[t, "tap_step_percent"]
        ):
            raise ValueError(
                f"{self.label}: transformer {t} has no tap changer data "
                "(tap_min/tap_max/tap_step_percent)"
            )
        side = str(tr.at[t, "tap_side"]) if "tap_side" in tr else "hv"
        return TapChanger(
            int(tr.at[t, "tap_pos"]),
            int(tmin),
            int(tmax),
            vm_set_pu=cfg.vm_set_pu,
            deadband_pu=cfg.deadband_pu,
            delay_s=cfg.delay_s,
            inter_tap_delay_s=cfg.inter_tap_delay_s,
            raises_with_tap=side == "lv",
        )

    def _columns(self, record_buses: str | list[int], record_branches: str) -> tuple[str, ...]:
        net = self.net
        head = [
            "poi_vm_pu",
            "site_vm_pu",
            "converged",
            "p_loss_mw",
            "slack_p_mw",
            "slack_q_mvar",
            "gens_at_q_limit",
        ]
        if record_buses == "all":
            buses = [int(b) for b in net.bus.index]
        elif record_buses == "poi":
            buses = [
                b
                for b in {self.poi_bus, self.site.site_bus if self.site else None}
                if b is not None
            ]
        else:
            buses = [int(b) for b in record_buses if int(b) in net.bus.index]
        self._rec_bus = np.array([self._bus_pos_of(b) for b in buses], dtype=np.int64)
        cols = head + [f"vm_pu.{b}" for b in buses]
        self._rec_branches = record_branches == "all"
        n_before = len(cols)
        if self._rec_branches:
            cols += [f"loading_percent.line.{i}" for i in net.line.index]
            cols += [f"loading_percent.trafo.{i}" for i in net.trafo.index]
            cols += [f"loading_percent.trafo3w.{i}" for i in net.trafo3w.index]
            cols += [f"loading_percent.impedance.{i}" for i in net.impedance.index[self._imp_rec]]
        # where the branch loadings sit in a row, and which of [line, trafo, trafo3w, impedance]
        self._branch_cols = np.arange(n_before, len(cols))
        n_other = len(net.line) + len(net.trafo) + len(net.trafo3w)
        self._branch_keep = np.concatenate(
            [np.arange(n_other), n_other + np.flatnonzero(self._imp_rec)]
        ).astype(np.int64)
        cols += [f"tap_pos.trafo.{t}" for t, _, _ in self.taps]
        cols += [f"steps_on.shunt.{s}" for s, _, _ in self.banks]
        return tuple(cols)

    def _bus_pos_of(self, bus: int) -> int:
        return list(self.net.bus.index).index(bus)

    # ------------------------------------------------------------ state for T&D iterations

    def snapshot(self) -> tuple:
        """Controller state (restored when a step is solved again in an iteration)."""
        return (
            copy.deepcopy([c.state for _, c, _ in self.taps]),
            copy.deepcopy([b.state for _, b, _ in self.banks]),
            self._nonconverged,
            self._last_good,
        )

    def restore(self, snap: tuple) -> None:
        """Go back to a :meth:`snapshot` (tap changers, shunt banks, non-convergence count,
        last good solution).

        Parameters
        ----------
        snap : tuple
            State returned by :meth:`snapshot`.
        """
        taps, banks, self._nonconverged, self._last_good = snap
        changed = False
        for (t, c, _), st in zip(self.taps, taps, strict=True):
            c.state = copy.deepcopy(st)
            if self.net.trafo.at[t, "tap_pos"] != st.tap_pos:
                self.net.trafo.at[t, "tap_pos"] = st.tap_pos
                changed = True
        for (s, b, _), st in zip(self.banks, banks, strict=True):
            b.state = copy.deepcopy(st)
            if self.net.shunt.at[s, "step"] != st.steps_on:
                self.net.shunt.at[s, "step"] = st.steps_on
                changed = True
        if changed:
            self.pf.invalidate()

    def begin_step(self, t_s: float) -> None:
        """Call before :meth:`step` from an adapter that may solve a step again (T&D iterations).

        Going back in time (the same step, or the first step of a sync block, solved
        again) restores the controller state saved when that step was first reached;
        going forward saves the state at the start of the step.

        Parameters
        ----------
        t_s : float
            Start of the step about to be solved [s].
        """
        if self._last_t is not None and t_s <= self._last_t and t_s in self._snapshots:
            self.restore(self._snapshots[t_s])
        else:
            self._snapshots[t_s] = self.snapshot()
            if len(self._snapshots) > 256:
                for k in sorted(self._snapshots)[:128]:
                    del self._snapshots[k]
        self._last_t = t_s

    # ------------------------------------------------------------ the step

    def _apply_events(self, st: EventState) -> None:
        if st.structure != self._applied.structure:
            net = self.net
            for table, out in (
                ("line", st.lines_out),
                ("trafo", st.trafos_out),
                ("gen", st.gens_out),
            ):
                base = self._in_service0[table].copy()
                for i in out:
                    base.at[i] = False
                net[table]["in_service"] = base
            self.pf.invalidate()
        self._applied = st

    def step(
        self,
        t_s: float,
        t_next_s: float,
        *,
        factory_pq: tuple[float, float] | None = None,
        boundary_pq: Mapping[str, tuple[float, float]] | None = None,
        slack_vm_pu: float | None = None,
    ) -> StepResult:
        """Solve the network at ``t_s``; controllers advance to ``t_next_s``.

        Parameters
        ----------
        t_s : float
            Time of the solve [s].
        t_next_s : float
            Time the controllers advance to [s].
        factory_pq : tuple of (float, float), optional
            Factory load ``(p_mw, q_mvar)`` at the site bus [MW, Mvar], load convention (positive =
            consumption); ``None`` keeps the background value.
        boundary_pq : mapping of str to tuple of (float, float), optional
            Load ``(p_mw, q_mvar)`` [MW, Mvar] per boundary (e.g. distribution feeder) name, load
            convention.
        slack_vm_pu : float, optional
            Slack voltage setpoint [pu]; ``None`` or NaN keeps the current one.

        Returns
        -------
        StepResult
            Convergence, recorded values and the voltages [pu] and slack injection [MW, Mvar] to
            publish.
        """
        self._steps += 1
        pf = self.pf
        st = state_at(self.events, t_s, self.poi_bus if self.poi_bus is not None else -1)
        self._apply_events(st)
        load_p, load_q = self._bg_load_p.copy(), self._bg_load_q.copy()
        if self.profiles is not None:
            vals = self.profiles.at(t_s)
            if ("load", "p_mw") in vals:
                load_p = vals[("load", "p_mw")].copy()
            if ("load", "q_mvar") in vals:
                load_q = vals[("load", "q_mvar")].copy()
            if ("sgen", "p_mw") in vals:
                pf.set_sgens(vals[("sgen", "p_mw")], vals.get(("sgen", "q_mvar")))
            if ("gen", "p_mw") in vals:
                pf.set_gens(vals[("gen", "p_mw")])
        for i, p, q in st.load_steps:
            pos = self._load_pos[self._event_load[i]]
            load_p[pos], load_q[pos] = p, q
        if self.site is not None and factory_pq is not None:
            pos = self._load_pos[self.site.load]
            load_p[pos], load_q[pos] = factory_pq
        for name, (p, q) in (boundary_pq or {}).items():
            pos = self._load_pos[self._boundary_load[name]]
            load_p[pos], load_q[pos] = p, q
        pf.set_loads(load_p, load_q)
        if slack_vm_pu is not None and math.isfinite(slack_vm_pu):
            pf.set_slack_voltage(float(slack_vm_pu))
        sol = pf.solve(st.clamps)
        shown = sol
        if not sol.converged:
            self._nonconverged += 1
            policy = self.options.on_nonconvergence
            msg = f"{self.label}: power flow did not converge at t_s = {t_s:.6g} s"
            if policy == "stop":
                raise NonConvergence(msg + " (grid.on_nonconvergence = 'stop')")
            if self._nonconverged <= 5 or self._nonconverged % 1000 == 0:
                log.warning(
                    "%s; %s (%d so far)",
                    msg,
                    "holding the last results" if policy == "hold" else "recording NaN",
                    self._nonconverged,
                )
            if policy == "hold" and self._last_good is not None:
                shown = self._last_good
        else:
            self._last_good = sol
            self._note_q_limits(t_s, sol)
        values = self._record(shown, sol.converged)
        if sol.converged:
            self._control(sol, t_next_s - t_s)
        held = sol if sol.converged else (self._last_good or sol)
        poi = self.bus_vm_of(held, self.poi_bus)
        site = self.bus_vm_of(held, self.site.site_bus) if self.site else poi
        return StepResult(sol.converged, values, poi, site, held.slack_p_mw, held.slack_q_mvar)

    def step_block(
        self,
        t_s: np.ndarray,
        t_next_s: np.ndarray,
        *,
        factory_p_mw: np.ndarray | None = None,
        factory_q_mvar: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A sync block of :meth:`step` calls, branch results batched (:mod:`.batch`).

        Returns ``(values, poi_vm_pu, site_vm_pu)``: rows ``(n, len(columns))`` and the
        voltages to publish per step [pu]; agrees with per-step calls to round-off.

        Parameters
        ----------
        t_s : numpy.ndarray
            Times of the solves [s].
        t_next_s : numpy.ndarray
            Times the controllers advance to after each solve [s].
        factory_p_mw : numpy.ndarray, optional
            Factory active power per step [MW], positive = consumption.
        factory_q_mvar : numpy.ndarray, optional
            Factory reactive power per step [Mvar], load convention.
        """
        from federates.grid.batch import step_block

        return step_block(self, t_s, t_next_s, factory_p_mw, factory_q_mvar)

    def _note_q_limits(self, t_s: float, sol: Solution) -> None:
        """Log generators that reach or leave a reactive limit at ``t_s`` (PV-to-PQ switches)."""
        now = {s.gen: s.side for s in sol.q_limited}
        for s in sol.q_limited:
            if self._q_limited.get(s.gen) != s.side:
                self.q_limit_switches.append(QLimitEvent(t_s, s.gen, s.side, s.q_mvar))
        for g in self._q_limited:
            if g not in now:
                self.q_limit_switches.append(QLimitEvent(t_s, g, "released", math.nan))
        self._q_limited = now

    def bus_vm_of(self, sol: Solution, bus: int | None) -> float:
        """Voltage magnitude of ``bus`` in the solution ``sol``.

        Parameters
        ----------
        sol : Solution
            A power-flow solution of this model.
        bus : int or None
            pandapower bus index; ``None`` gives NaN.

        Returns
        -------
        float
            Voltage magnitude [pu].
        """
        if bus is None:
            return math.nan
        return float(sol.vm_pu[self._bus_pos[int(bus)]])

    def _record(self, sol: Solution, converged: bool) -> np.ndarray:
        head = np.array(
            [
                self.bus_vm_of(sol, self.poi_bus),
                self.bus_vm_of(sol, self.site.site_bus)
                if self.site
                else self.bus_vm_of(sol, self.poi_bus),
                1.0 if converged else 0.0,
                sol.p_loss_mw,
                sol.slack_p_mw,
                sol.slack_q_mvar,
                float(len(sol.q_limited)) if converged else math.nan,
            ]
        )
        parts = [head, sol.vm_pu[self._rec_bus]]
        if self._rec_branches:
            parts += [
                sol.line_loading_percent,
                sol.trafo_loading_percent,
                sol.trafo3w_loading_percent,
                sol.impedance_loading_percent[self._imp_rec],
            ]
        if self.taps:
            parts.append(
                np.array([float(self.net.trafo.at[t, "tap_pos"]) for t, _, _ in self.taps])
            )
        if self.banks:
            parts.append(np.array([float(b.steps_on) for _, b, _ in self.banks]))
        return np.concatenate(parts)

    def _control(self, sol: Solution, dt_s: float) -> None:
        changed = False
        for t, ctl, bus in self.taps:
            if ctl.update(self.bus_vm_of(sol, bus), dt_s):
                self.net.trafo.at[t, "tap_pos"] = ctl.tap_pos
                changed = True
        for s, bank, bus in self.banks:
            if bank.update(self.bus_vm_of(sol, bus), dt_s):
                self.net.shunt.at[s, "step"] = bank.steps_on
                changed = True
        if changed:
            self.pf.invalidate()

    def bus_vm(self, bus: int) -> float:
        """Voltage magnitude of ``bus`` in the last converged solution.

        Parameters
        ----------
        bus : int
            pandapower bus index.

        Returns
        -------
        float
            Voltage magnitude [pu]; NaN before any converged solution.
        """
        return self.bus_vm_of(self._last_good, bus) if self._last_good is not None else math.nan

    # ------------------------------------------------------------ summary

    def summary(self) -> dict:
        """Model figures for the federate's info.json."""
        out = {
            "network_buses": len(self.net.bus),
            "solver": self.pf.engine,
            "solver_fallback_reason": self.pf.fallback_reason,
            "model_rebuilds": self.pf.rebuilds,
            "pandapower_rescues": self.pf.pandapower_rescues,
            "nonconverged_steps": self._nonconverged,
            "tap_ops": {f"trafo.{t}": c.state.operations for t, c, _ in self.taps},
            "tap_ops_total": sum(c.state.operations for _, c, _ in self.taps),
            "shunt_ops": {f"shunt.{s}": b.state.operations for s, b, _ in self.banks},
            "enforce_q_lims": self.options.enforce_q_lims,
            "q_limit_switches": len(self.q_limit_switches),
            "q_limit_events": [e.as_dict() for e in self.q_limit_switches[:50]],
        }
        return out
