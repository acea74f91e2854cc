"""The data-centre composite load under voltage (pure, no helics).

Pure functions of the POI voltage ``V`` [pu] (held over a grid interval) give
the share of each part's nominal power the grid sees, and its reactive power;
:class:`MotorProtection` is the motors' contactor state machine. The parts,
their defaults and sources are in :class:`.config_site.CompositeLoadConfig`;
the site (:mod:`.site`) adds them up, so the grid sees the sum
(:func:`on_grid_pq` is that sum while the whole site is on the grid).

Simplified (quasi-static): no motor dynamics (a motor runs or is stalled, as V
is above or below its stall voltage; no re-acceleration current); no PSU
hold-up energy (the UPS curve in :mod:`.ride_through` decides the transfer);
V is held over each interval.
"""

from __future__ import annotations

import math

import numpy as np

from federates.factory.config_site import CompositeLoadConfig

_TOL = 1e-9


def _tan(pf: float) -> float:
    return math.tan(math.acos(pf))


def constant_power_share(vm_pu: float, v_min_pu: float) -> float:
    """Share of nominal power a constant-power part draws [-]: 1 down to ``v_min_pu``, constant
    current (``V / v_min_pu``) below it.

    Parameters
    ----------
    vm_pu : float
        Voltage [pu].
    v_min_pu : float
        Lowest voltage at constant power [pu].

    Returns
    -------
    float
        ``P / P_nom`` [-].
    """
    return 1.0 if vm_pu >= v_min_pu else max(vm_pu, 0.0) / v_min_pu


def zip_share(vm_pu: float, cfg: CompositeLoadConfig) -> float:
    """``P / P_nom`` [-] of the ZIP rest: ``z V^2 + i V + p x`` :func:`constant_power_share`.

    Parameters
    ----------
    vm_pu : float
        Voltage magnitude [pu].
    cfg : CompositeLoadConfig
        ZIP coefficients [-] and the constant-power minimum voltage [pu].

    Returns
    -------
    float
        ``P / P_nom`` [-].
    """
    v = max(vm_pu, 0.0)
    p_part = cfg.zip_p * constant_power_share(v, cfg.it_constant_power_min_v_pu)
    return cfg.zip_z * v * v + cfg.zip_i * v + p_part


def motor_pq_share(vm_pu: float, cfg: CompositeLoadConfig) -> tuple[float, float]:
    """``(P / P_nom, Q / P_nom)`` [-] of connected motors at ``vm_pu`` [pu].

    Running (``V >= motor_stall_v_pu``): constant P, and
    ``Q = tan(phi_m) (m V^2 + (1 - m) / V^2)``. Stalled: the locked-rotor
    impedance, ``S = I_lr V^2`` at the locked-rotor power factor.

    Parameters
    ----------
    vm_pu : float
        Voltage magnitude [pu].
    cfg : CompositeLoadConfig
        Motor stall voltage [pu], power factors [-] and locked-rotor current [pu].

    Returns
    -------
    tuple of (float, float)
        ``P / P_nom`` and ``Q / P_nom`` [-].
    """
    v = max(vm_pu, 1e-3)
    if v >= cfg.motor_stall_v_pu:
        m = cfg.motor_magnetizing_share
        return 1.0, _tan(cfg.motor_power_factor) * (m * v * v + (1.0 - m) / (v * v))
    s = cfg.motor_locked_rotor_pu * v * v
    pf = cfg.motor_locked_rotor_pf
    return s * pf, s * math.sqrt(1.0 - pf * pf)


def it_pq_share(vm_pu: float, cfg: CompositeLoadConfig) -> tuple[float, float]:
    """``(P / P_nom, Q / P_nom)`` [-] of the IT load (PSUs) while it is on the grid.

    Parameters
    ----------
    vm_pu : float
        Voltage magnitude [pu].
    cfg : CompositeLoadConfig
        IT constant-power minimum voltage [pu] and power factor [-].

    Returns
    -------
    tuple of (float, float)
        ``P / P_nom`` and ``Q / P_nom`` [-].
    """
    p = constant_power_share(vm_pu, cfg.it_constant_power_min_v_pu)
    return p, p * _tan(cfg.it_power_factor)


def rest_pq_share(vm_pu: float, cfg: CompositeLoadConfig) -> tuple[float, float]:
    """``(P / P_nom, Q / P_nom)`` [-] of the ZIP rest.

    Parameters
    ----------
    vm_pu : float
        Voltage magnitude [pu].
    cfg : CompositeLoadConfig
        ZIP coefficients [-] and power factor [-].

    Returns
    -------
    tuple of (float, float)
        ``P / P_nom`` and ``Q / P_nom`` [-].
    """
    p = zip_share(vm_pu, cfg)
    return p, p * _tan(cfg.zip_power_factor)


def filter_q_mvar(vm_pu: float, it_peak_mw: float, cfg: CompositeLoadConfig) -> float:
    """Reactive power of the filters and capacitors [Mvar, load convention: < 0 injects].

    Parameters
    ----------
    vm_pu : float
        Voltage magnitude [pu].
    it_peak_mw : float
        IT peak power [MW].
    cfg : CompositeLoadConfig
        Filter size [Mvar per MW of IT].

    Returns
    -------
    float
        Reactive power [Mvar], load convention (negative = injection).
    """
    return -cfg.filter_mvar_per_mw_it * it_peak_mw * vm_pu * vm_pu


def on_grid_factors(
    vm_pu: float, cfg: CompositeLoadConfig, aux_mw: float, it_peak_mw: float
) -> tuple[float, ...]:
    """The voltage-dependent factors of the site's sum of the parts with the whole site on the
    grid and the chillers on, for :func:`on_grid_pq`.

    Parameters
    ----------
    vm_pu : float
        Voltage magnitude [pu].
    cfg : CompositeLoadConfig
        The composite load.
    aux_mw : float
        Auxiliary load [MW] (its motors and its ZIP rest).
    it_peak_mw : float
        IT peak power [MW] (sizes the filters).

    Returns
    -------
    tuple of float
        IT and motor ``P / P_nom`` and ``Q / P_nom`` [-], the ZIP rest's P [MW] and Q [Mvar],
        the auxiliary motors' P [MW] and Q [Mvar], the filters' Q [Mvar].
    """
    it_p, it_q = it_pq_share(vm_pu, cfg)
    rest_p, rest_q = rest_pq_share(vm_pu, cfg)
    mot_p, mot_q = motor_pq_share(vm_pu, cfg)
    aux_mot = cfg.aux_motor_share * aux_mw
    aux_rest = aux_mw - aux_mot
    aux_mot_on = aux_mot * 1.0  # the site multiplies by the chillers' gate, here fully on
    return (
        it_p,
        it_q,
        mot_p,
        mot_q,
        rest_p * aux_rest,
        rest_q * aux_rest,
        mot_p * aux_mot_on,
        mot_q * aux_mot_on,
        filter_q_mvar(vm_pu, it_peak_mw, cfg),
    )


def on_grid_pq(
    it_mw: np.ndarray, cool_mw: np.ndarray, factors: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Site P and Q per step with the whole site on the grid and the chillers on: the sum of
    ``FactorySite._composite_pq`` by the same operations in the same order (so the same result
    bit for bit), less its products by 1 (exact) and with the sums done in place.

    Parameters
    ----------
    it_mw : numpy.ndarray
        IT power per step [MW].
    cool_mw : numpy.ndarray
        Cooling power per step [MW].
    factors : tuple of float
        :func:`on_grid_factors` at the interval's voltage.

    Returns
    -------
    p_mw, q_mvar : numpy.ndarray
        Site active [MW] and reactive [Mvar] power per step, load convention.
    """
    it_p, it_q, mot_p, mot_q, rest_pw, rest_qv, aux_pw, aux_qv, filt_qv = factors
    if it_p == 1.0:
        p = it_mw + rest_pw
    else:
        p = it_p * it_mw
        p += rest_pw
    p += aux_pw
    q = it_q * it_mw
    q += rest_qv
    q += aux_qv
    q += filt_qv
    p += cool_mw if mot_p == 1.0 else mot_p * cool_mw
    q += mot_q * cool_mw
    return p, q


class MotorProtection:
    """Contactor drop-out and reconnection of the motor load, advanced per interval.

    Events are ``("trip", t_s)`` after ``motor_trip_s`` below ``motor_trip_v_pu``
    and ``("return", t_s)`` at the first interval with V at or above
    ``motor_return_v_pu`` (only while the site is on the grid: on backup, the
    site's own return restarts the motors).
    """

    def __init__(self, cfg: CompositeLoadConfig) -> None:
        self.cfg = cfg
        self.tripped = False
        self.below_s = 0.0
        self.trips = 0

    def advance(
        self, t_s: float, t_end_s: float, vm_pu: float, site_on_grid: bool
    ) -> list[tuple[str, float]]:
        """Events of the interval ``[t_s, t_end_s)`` [s] with ``vm_pu`` [pu] held.

        Parameters
        ----------
        t_s : float
            Start of the interval [s].
        t_end_s : float
            End of the interval [s].
        vm_pu : float
            Voltage magnitude held over the interval [pu].
        site_on_grid : bool
            The site is on the grid (tripped motors return only then).

        Returns
        -------
        list of tuple of (str, float)
            Events ``("trip" | "return", time [s])``.
        """
        c = self.cfg
        if not c.enabled:
            return []
        events: list[tuple[str, float]] = []
        if vm_pu < c.motor_trip_v_pu:
            before = self.below_s
            self.below_s += t_end_s - t_s
            if not self.tripped and self.below_s > c.motor_trip_s + _TOL:
                self.tripped = True
                self.trips += 1
                events.append(("trip", t_s + max(c.motor_trip_s - before, 0.0)))
        else:
            self.below_s = 0.0
            if self.tripped and vm_pu >= c.motor_return_v_pu and site_on_grid:
                self.tripped = False
                events.append(("return", t_s))
        return events

    def quiet(self, vm_pu: float) -> bool:
        """An interval at ``vm_pu`` [pu] brings no event: the motors are connected and V is at or
        above the trip voltage (:meth:`advance` then only resets the time below it).

        Parameters
        ----------
        vm_pu : float
            Voltage magnitude [pu].

        Returns
        -------
        bool
            True when :meth:`advance` at ``vm_pu`` returns no event.
        """
        return not self.cfg.enabled or (not self.tripped and vm_pu >= self.cfg.motor_trip_v_pu)

    def snapshot(self) -> tuple[bool, float, int]:
        """State to :meth:`restore` (a re-run of the same interval)."""
        return (self.tripped, self.below_s, self.trips)

    def restore(self, snap: tuple[bool, float, int]) -> None:
        """Go back to a :meth:`snapshot`.

        Parameters
        ----------
        snap : tuple of (bool, float, int)
            From :meth:`snapshot`: tripped, time below the trip voltage [s], trip count.
        """
        self.tripped, self.below_s, self.trips = snap
