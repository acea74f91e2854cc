"""RMS (phasor) dynamic model of a transmission grid with the site at its POI (pure, no helics).

The engine is ``tops`` (MIT): its machine, exciter, governor and stabiliser
models give the state derivatives; this module owns the network solution
(:mod:`federates.dynamics.network`: LU-factorised ``Y``, the site as a PQBRAK
load at the POI), faults (:mod:`federates.dynamics.faults`) and the time
integration (explicit Heun, i.e. tops' modified Euler for DAEs, at ``dt_s``).

Sign conventions: see :mod:`federates.dynamics.config` (site consumption
positive). Branch flows are active power at the branch's from end, positive
from -> to [MW]. Speeds are deviations from nominal [Hz]; angles are rotor
angles against the synchronous reference [deg].
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tops.dynamic as tops_dynamic

from federates.dynamics.cases import with_site_load
from federates.dynamics.config import BusFaultConfig, DynamicsConfig, LineFaultConfig
from federates.dynamics.faults import FaultSchedule, LineStamp
from federates.dynamics.kernel import Kernel, unsupported
from federates.dynamics.network import BrakeLaw, NetworkSolver
from federates.dynamics.sources import load_dynamic_case

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepResult:
    """The grid at the end of one exchange step.

    Attributes
    ----------
    t_s : end of the step [s]
    speed_dev_hz : generator speed deviations [Hz], (n_gen,)
    angle_deg : rotor angles [deg], (n_gen,)
    poi_vm_pu : POI voltage magnitude [pu]
    p_site_mw, q_site_mvar : site consumption actually drawn (after the PQ brake) [MW, Mvar]
    branch_p_mw : active power at each branch's from end [MW], (n_branch,)
    """

    t_s: float
    speed_dev_hz: np.ndarray
    angle_deg: np.ndarray
    poi_vm_pu: float
    p_site_mw: float
    q_site_mvar: float
    branch_p_mw: np.ndarray


@dataclass(frozen=True)
class BlockResult:
    """Many exchange steps at once: row k is the state at ``t_s[k]`` (the end of step k)."""

    t_s: np.ndarray
    speed_dev_hz: np.ndarray  # (n_steps, n_gen)
    angle_deg: np.ndarray  # (n_steps, n_gen)
    poi_vm_pu: np.ndarray  # (n_steps,)
    p_site_mw: np.ndarray
    q_site_mvar: np.ndarray
    branch_p_mw: np.ndarray  # (n_steps, n_branch)


def _initialised(data: dict[str, Any]) -> tops_dynamic.PowerSystemModel:
    """The engine's model at its initial power flow, the slack machine's dispatch made consistent.

    The engine initialises the slack machine's governor from its scheduled ``P``, not from
    the power flow's slack output; a case whose slack output differs from its schedule
    (any added site load) would start off equilibrium. The schedule is set to the solved
    output and the model rebuilt.
    """
    ps = tops_dynamic.PowerSystemModel(copy.deepcopy(data))
    ps.init_dyn_sim()
    if not ps.power_flow_ready:
        raise RuntimeError("the initial power flow of the dynamic case did not converge")
    mdl, unit = ps.slack_unit
    p_slack_mw = float(ps.load_flow_soln[mdl][unit].real) / float(mdl.par["N_par"][unit])
    name = str(mdl.par["name"][unit])
    fixed = copy.deepcopy(data)
    gens = fixed["generators"]["GEN"]
    col = gens[0].index("P")
    for row in gens[1:]:
        if row[0] == name:
            if abs(row[col] - p_slack_mw) < 1e-9:
                return ps
            row[col] = p_slack_mw
    ps = tops_dynamic.PowerSystemModel(fixed)
    ps.init_dyn_sim()
    return ps


class DynamicGrid:
    """A dynamic network with the site as a voltage-dependent load at ``poi_bus``.

    Parameters
    ----------
    data : dynamic case in the engine's dict format (see :mod:`federates.dynamics.cases`)
    poi_bus : bus name of the site
    p_site0_mw, q_site0_mvar : site consumption in the initial power flow [MW, Mvar]
    dt_s : integration step [s]
    law : the site load's voltage dependence (PQBRAK thresholds)
    faults : faults applied as impedances
    carve_site0 : the site's initial consumption replaces part of the POI bus's load
        (see :func:`federates.dynamics.cases.with_site_load`)
    use_kernel : evaluate the machines and controllers with the vectorised kernel
        (:mod:`federates.dynamics.kernel`) when it covers every model of the case; the
        engine's own functions otherwise (the model that forced it is logged)
    """

    def __init__(
        self,
        data: dict[str, Any],
        poi_bus: str,
        *,
        p_site0_mw: float = 0.0,
        q_site0_mvar: float = 0.0,
        dt_s: float = 0.01,
        law: BrakeLaw | None = None,
        faults: Sequence[BusFaultConfig | LineFaultConfig] = (),
        carve_site0: bool = True,
        use_kernel: bool = True,
    ) -> None:
        self.dt_s = float(dt_s)
        #: machines given typical dynamic data, and those whose rating was assumed
        self.typical_machines = [str(n) for n in data.get("typical_dynamics", [])]
        self.rating_assumed = [str(n) for n in data.get("rating_assumed", [])]
        self.ps = ps = _initialised(
            with_site_load(data, poi_bus, p_site0_mw, q_site0_mvar, carve=carve_site0)
        )
        self.s_base_mva = float(ps.s_n)
        self.f_n_hz = float(ps.f_n)
        self.bus_names = [str(b) for b in ps.buses["name"]]
        self.bus_index = {b: i for i, b in enumerate(self.bus_names)}
        if poi_bus not in self.bus_index:
            raise ValueError(f"poi_bus {poi_bus!r} not in the case (buses: {self.bus_names})")
        self.poi = self.bus_index[poi_bus]
        self.poi_bus = poi_bus
        self.v0 = np.asarray(ps.v_0, dtype=complex).copy()
        self.s_site0_pu = complex(p_site0_mw, q_site0_mvar) / self.s_base_mva
        y_bus = np.asarray(ps.y_bus_dyn, dtype=complex).copy()
        if self.s_site0_pu != 0.0:  # the site is a PQBRAK current injection, not an admittance
            loads = ps.loads["Load"]
            k = list(loads.par["name"]).index("SITE")
            y_bus[self.poi, self.poi] -= loads.y_load[k]
        self.law = law if law is not None else BrakeLaw()
        self.solver = NetworkSolver(y_bus, self.poi, self.law)
        self._injectors = list(ps.mdl_instructions["current_injections"])
        self.kernel: Kernel | None = None
        if use_kernel:
            reason = unsupported(ps)
            if reason is None:
                self.kernel = Kernel(ps)
            else:
                log.info("dynamic grid: engine's own models used (%s not in the kernel)", reason)
        self._gen = ps.gen["GEN"]
        self.gen_names = [str(g) for g in self._gen.par["name"]]
        self._speed_idx = np.asarray(self._gen.state_idx_global["speed"])
        self._angle_idx = np.asarray(self._gen.state_idx_global["angle"])
        inertia = np.asarray(self._gen.par["H"], dtype=float) * np.asarray(
            self._gen.par["S_n"], dtype=float
        )
        self._coi_weights = inertia / inertia.sum()  # H S_n: each machine's stored energy
        self._branches()
        self.faults = FaultSchedule(faults, self.bus_index, self.line_stamps, len(self.bus_names))
        self.reset()

    @classmethod
    def from_config(cls, cfg: DynamicsConfig, base_dir: Path | None = None) -> DynamicGrid:
        """Build from the ``dynamics`` section of a case (typical data added when asked).

        Parameters
        ----------
        cfg : DynamicsConfig
            The ``dynamics`` section: case, POI bus, initial site power [MW, Mvar], time step [s],
            load braking voltages [pu] and faults.
        base_dir : pathlib.Path, optional
            Directory that a relative case path is resolved against.

        Returns
        -------
        DynamicGrid
            The model.
        """
        data = load_dynamic_case(cfg.case, base_dir, dyr=cfg.dyr, defaults=cfg.defaults)
        grid = cls(
            data,
            cfg.poi_bus,
            p_site0_mw=cfg.p_site0_mw,
            q_site0_mvar=cfg.q_site0_mvar,
            dt_s=cfg.dt_s,
            law=BrakeLaw(cfg.load_brake_pu, cfg.load_z_pu),
            faults=cfg.faults,
            carve_site0=cfg.carve_site0,
        )
        return grid

    def _branches(self) -> None:
        """From-end current matrices of lines and transformers (for branch flows)."""
        mats, from_idx, names = [], [], []
        self.line_stamps: dict[str, LineStamp] = {}
        for key, kind in (("lines", "Line"), ("trafos", "Trafo")):
            mdl = getattr(self.ps, key, {}).get(kind) if hasattr(self.ps, key) else None
            if mdl is None:
                continue
            mats.append(np.asarray(mdl.v_to_i, dtype=complex))
            from_idx.append(np.asarray(mdl.bus_idx["from_bus"]))
            names += [str(n) for n in mdl.par["name"]]
            if kind == "Line":
                for i, n in enumerate(mdl.par["name"]):
                    self.line_stamps[str(n)] = LineStamp(
                        i,
                        int(mdl.bus_idx["from_bus"][i]),
                        int(mdl.bus_idx["to_bus"][i]),
                        complex(mdl.admittance[i]),
                        complex(mdl.shunt[i]),
                    )
        self.branch_names = names
        self._v_to_i = np.vstack(mats) if mats else np.zeros((0, len(self.bus_names)), complex)
        self._branch_from = np.concatenate(from_idx) if from_idx else np.zeros(0, int)
        self._n_lines = len(self.line_stamps)

    def reset(self) -> None:
        """Back to the initial operating point at ``t_s = 0``."""
        self.t_s = 0.0
        self.x = np.asarray(self.ps.x_0, dtype=float).copy()
        self.v = self.v0.copy()
        self.s_site_pu = self.s_site0_pu
        self.s_drawn_pu = self.s_site0_pu
        self._open_lines: frozenset[int] = frozenset()
        self._apply_faults(0.0)

    # -- physics -------------------------------------------------------------------------------

    def _injections(self, x: np.ndarray) -> np.ndarray:
        if self.kernel is not None:
            return self.kernel.injections(x)
        i_inj = np.zeros(len(self.bus_names), dtype=complex)
        for mdl in self._injectors:
            idx, i_mdl = mdl.current_injections(x, None)
            np.add.at(i_inj, idx, i_mdl)
        return i_inj

    def solve_network(self, x: np.ndarray, s_site_pu: complex) -> np.ndarray:
        """Bus voltages [pu] for the states ``x`` and the site's scheduled power [pu].

        Parameters
        ----------
        x : numpy.ndarray
            State vector.
        s_site_pu : complex
            Site's scheduled complex power [pu on the system base], load convention.

        Returns
        -------
        numpy.ndarray
            Complex bus voltages [pu].
        """
        v, self.s_drawn_pu = self.solver.solve(self._injections(x), s_site_pu, self.v[self.poi])
        return v

    def derivatives(self, x: np.ndarray, s_site_pu: complex | None = None) -> np.ndarray:
        """State derivatives with the network solved at ``x`` (for linearisation).

        Parameters
        ----------
        x : numpy.ndarray
            State vector.
        s_site_pu : complex, optional
            Site's scheduled complex power [pu on the system base], load convention; ``None``
            for the initial value.

        Returns
        -------
        numpy.ndarray
            Time derivative of each state [state unit/s].
        """
        s = self.s_site0_pu if s_site_pu is None else s_site_pu
        return self._derivatives(x, self.solve_network(x, s))

    def _derivatives(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        if self.kernel is not None:
            return self.kernel.derivatives(x, v)
        return self.ps.state_derivatives(0.0, x, v)

    def _apply_faults(self, t_s: float) -> None:
        state = self.faults.state(t_s)
        self.solver.modify(state.delta_y)
        self._open_lines = state.lines_open

    def _heun(self, h_s: float) -> None:
        x, s = self.x, self.s_site_pu
        dx0 = self._derivatives(x, self.v)
        x1 = x + h_s * dx0
        v1 = self.solve_network(x1, s)
        dx1 = self._derivatives(x1, v1)
        self.x = x + (0.5 * h_s) * (dx0 + dx1)
        self.t_s += h_s
        self.v = self.solve_network(self.x, s)

    def advance(self, dt_s: float, p_site_mw: float, q_site_mvar: float) -> None:
        """Integrate ``dt_s`` [s] with the site's scheduled power held constant [MW, Mvar].

        Parameters
        ----------
        dt_s : float
            Time to integrate [s].
        p_site_mw : float
            Site active power [MW], positive = consumption.
        q_site_mvar : float
            Site reactive power [Mvar], positive = consumption.
        """
        self.s_site_pu = complex(p_site_mw, q_site_mvar) / self.s_base_mva
        n = max(1, int(np.ceil(dt_s / self.dt_s - 1e-9)))
        h_s = dt_s / n
        t_end_s = self.t_s + dt_s
        for _ in range(n):
            self._apply_faults(self.t_s + 1e-9)
            self._heun(h_s)
        self.t_s = t_end_s  # no drift from summing sub-steps

    # -- outputs -------------------------------------------------------------------------------

    def speed_dev_hz(self) -> np.ndarray:
        """Generator speed deviations from nominal [Hz]."""
        return self.x[self._speed_idx] * self.f_n_hz

    def coi_speed_dev_pu(self) -> float:
        """Speed deviation of the centre of inertia (``sum(H S_n w) / sum(H S_n)``) [pu].

        The system frequency a site's controls see is ``f_n (1 + this)``: the frequency
        common to every bus once the electromechanical swings have averaged out (a local
        PLL would also see the inter-area swing, and spikes at faults; not modelled).
        """
        return float(self._coi_weights @ self.x[self._speed_idx])

    def angle_deg(self) -> np.ndarray:
        """Rotor angles against the synchronous reference [deg]."""
        return np.degrees(self.x[self._angle_idx])

    def branch_p_mw(self) -> np.ndarray:
        """Active power at each branch's from end [MW] (0 on an open line)."""
        i_from = self._v_to_i @ self.v
        p = (self.v[self._branch_from] * np.conj(i_from)).real * self.s_base_mva
        for k in self._open_lines:
            p[k] = 0.0
        return p

    def result(self) -> StepResult:
        """The grid now."""
        return StepResult(
            t_s=self.t_s,
            speed_dev_hz=self.speed_dev_hz(),
            angle_deg=self.angle_deg(),
            poi_vm_pu=float(abs(self.v[self.poi])),
            p_site_mw=self.s_drawn_pu.real * self.s_base_mva,
            q_site_mvar=self.s_drawn_pu.imag * self.s_base_mva,
            branch_p_mw=self.branch_p_mw(),
        )

    def step(self, t_s: float, dt_s: float, p_site_mw: float, q_site_mvar: float) -> StepResult:
        """Advance the exchange step ``[t_s, t_s + dt_s)`` and return the state at its end.

        Parameters
        ----------
        t_s : start of the step [s]; must be the model's current time
        dt_s : step length [s]
        p_site_mw, q_site_mvar : site consumption over the step [MW, Mvar]

        Returns
        -------
        StepResult at ``t_s + dt_s``
        """
        if abs(t_s - self.t_s) > 1e-6:
            raise ValueError(f"step starts at {t_s} s but the model is at {self.t_s} s")
        self.advance(dt_s, p_site_mw, q_site_mvar)
        return self.result()

    def run_block(
        self, t_end_s: np.ndarray, p_site_mw: np.ndarray, q_site_mvar: np.ndarray
    ) -> BlockResult:
        """Advance through many exchange steps; step k ends at ``t_end_s[k]`` [s].

        Parameters
        ----------
        t_end_s : increasing step ends [s], (n,)
        p_site_mw, q_site_mvar : site consumption during each step [MW, Mvar], (n,)

        Returns
        -------
        BlockResult with one row per step end
        """
        n = len(t_end_s)
        n_gen, n_br = len(self.gen_names), len(self.branch_names)
        speed, angle = np.empty((n, n_gen)), np.empty((n, n_gen))
        vm, p_out, q_out, br = np.empty(n), np.empty(n), np.empty(n), np.empty((n, n_br))
        for k in range(n):
            self.advance(float(t_end_s[k]) - self.t_s, float(p_site_mw[k]), float(q_site_mvar[k]))
            speed[k] = self.x[self._speed_idx]
            angle[k] = self.x[self._angle_idx]
            vm[k] = abs(self.v[self.poi])
            p_out[k], q_out[k] = self.s_drawn_pu.real, self.s_drawn_pu.imag
            br[k] = self.branch_p_mw()
        return BlockResult(
            t_s=np.asarray(t_end_s, dtype=float),
            speed_dev_hz=speed * self.f_n_hz,
            angle_deg=np.degrees(angle),
            poi_vm_pu=vm,
            p_site_mw=p_out * self.s_base_mva,
            q_site_mvar=q_out * self.s_base_mva,
            branch_p_mw=br,
        )
