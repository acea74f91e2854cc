"""The network equations of the RMS model: ``Y V = I`` with the site as a voltage-dependent load.

The bus admittance matrix ``Y`` holds lines, transformers, constant-impedance
loads, shunts and the generators' subtransient admittances (the engine's
``dyn_const_adm``) plus faults and line trips (:meth:`NetworkSolver.modify`). It is
factorised once per topology (inverted when it has at most ``DENSE_MAX_BUSES`` buses,
a matrix-vector product being cheaper than two triangular substitutions on small
networks; LU-factorised otherwise), so a solve is one product or two substitutions
plus a scalar Newton iteration at the POI:

``V = V_lin + z_p * I_site(V_poi)``, with ``V_lin = Y^-1 I_gen`` and ``z_p = Y^-1 e_poi``.

The site draws ``S(|V|)`` (pu on the system base, consumption positive), the PSS/E
PQBRAK law: constant power above ``brake_pu``, constant current between ``z_pu``
and ``brake_pu``, constant impedance below ``z_pu`` (continuous at both
thresholds), so a deep fault at the POI never leaves the network unsolvable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lu_factor, lu_solve

DENSE_MAX_BUSES = 400  # inverse kept (n^2 complex) up to this size; LU factors above


@dataclass(frozen=True)
class BrakeLaw:
    """Voltage dependence of the site's load (PQBRAK).

    Parameters
    ----------
    brake_pu : voltage below which constant power becomes constant current [pu]
    z_pu : voltage below which constant current becomes constant impedance [pu]
    """

    brake_pu: float = 0.7
    z_pu: float = 0.5

    def factor(self, vm_pu: float) -> float:
        """Served fraction of the scheduled power at ``vm_pu`` [-] (1 above ``brake_pu``).

        Parameters
        ----------
        vm_pu : float
            Bus voltage magnitude [pu].

        Returns
        -------
        float
            Served fraction [-], 0 to 1.
        """
        if vm_pu >= self.brake_pu:
            return 1.0
        if vm_pu >= self.z_pu:
            return vm_pu / self.brake_pu
        return (self.z_pu / self.brake_pu) * (vm_pu / self.z_pu) ** 2


class NetworkSolver:
    """Solve the network for bus voltages given the machines' current injections.

    Parameters
    ----------
    y_bus : bus admittance matrix [pu on the system base], complex (n_bus, n_bus)
    poi : index of the site's bus
    law : the site load's voltage dependence
    """

    def __init__(self, y_bus: np.ndarray, poi: int, law: BrakeLaw) -> None:
        self.y_base = np.array(y_bus, dtype=complex)
        self.n_bus = self.y_base.shape[0]
        self.poi = poi
        self.law = law
        self.delta = np.zeros_like(self.y_base)
        self._last_delta: np.ndarray | None = None
        self.newton_failures = 0  # solves that fell back off the law (should stay 0)
        self._factorise()

    def modify(self, delta: np.ndarray) -> None:
        """Set the admittance changes (faults, trips) on top of the base matrix and refactorise.

        Parameters
        ----------
        delta : numpy.ndarray
            Admittance change [pu], complex, same shape as the base matrix.
        """
        if delta is self._last_delta:  # the fault schedule hands back the same array
            return
        self._last_delta = delta
        if np.array_equal(delta, self.delta):
            return
        self.delta = np.array(delta, dtype=complex)
        self._factorise()

    def _factorise(self) -> None:
        y = self.y_base + self.delta
        if self.n_bus <= DENSE_MAX_BUSES:
            self._z: np.ndarray | None = np.linalg.inv(y)
            self.z_col = self._z[:, self.poi].copy()
        else:
            self._z = None
            self._lu = lu_factor(y, check_finite=False)
            e = np.zeros(self.n_bus, dtype=complex)
            e[self.poi] = 1.0
            self.z_col = lu_solve(self._lu, e, check_finite=False)
        self.z_pp = complex(self.z_col[self.poi])

    def solve(
        self, i_inj: np.ndarray, s_site_pu: complex, v_poi_guess: complex
    ) -> tuple[np.ndarray, complex]:
        """Bus voltages [pu] and the site's drawn power [pu] for the injections ``i_inj`` [pu].

        Parameters
        ----------
        i_inj : current injections of the machines at every bus [pu], complex (n_bus,)
        s_site_pu : scheduled site consumption ``P + jQ`` [pu on the system base]
        v_poi_guess : starting point of the POI iteration [pu] (the last solution)

        Returns
        -------
        v : bus voltages [pu], complex (n_bus,)
        s_drawn : site consumption actually drawn at the solved voltage [pu]
        """
        if self._z is not None:
            v_lin = self._z @ i_inj
        else:
            v_lin = lu_solve(self._lu, i_inj, check_finite=False)
        if s_site_pu == 0.0:
            return v_lin, 0j
        s_site_pu, v_poi_guess = complex(s_site_pu), complex(v_poi_guess)
        v_p = self._poi_voltage(complex(v_lin[self.poi]), s_site_pu, v_poi_guess)
        s_drawn = s_site_pu * self.law.factor(abs(v_p))
        i_site = -(s_drawn / v_p).conjugate()
        return v_lin + self.z_col * i_site, s_drawn

    def _residual(self, v: complex, a: complex, s: complex) -> complex:
        return v - a + self.z_pp * (s * self.law.factor(abs(v)) / v).conjugate()

    def _poi_voltage(self, a: complex, s: complex, guess: complex) -> complex:
        """Solve ``V = a - z_pp conj(S(|V|) / V)`` at the POI by a 2-D Newton iteration."""
        for start in (guess, a, 0.5 * a, 0.2 * a):
            v = self._newton(a, s, start)
            if v is not None:
                return v
        # constant impedance (the law below z_pu): linear, always solvable; exact when |V| < z_pu
        y_load = np.conj(s) * self.law.factor(self.law.z_pu) / self.law.z_pu**2
        v = a / (1.0 + self.z_pp * y_load)
        if abs(v) >= self.law.z_pu:
            self.newton_failures += 1  # not on the law: counted, reported by the adapter
        return v

    def _newton(self, a: complex, s: complex, v: complex) -> complex | None:
        if abs(v) < 1e-3:
            return None
        h = 1e-7
        for _ in range(20):
            f = self._residual(v, a, s)
            if abs(f) < 1e-10:
                return v
            d_re = (self._residual(v + h, a, s) - f) / h
            d_im = (self._residual(v + 1j * h, a, s) - f) / h
            # 2x2 real Jacobian [[d_re.real, d_im.real], [d_re.imag, d_im.imag]], Cramer's rule
            det = d_re.real * d_im.imag - d_im.real * d_re.imag
            if det == 0.0 or not np.isfinite(det):
                return None
            step = complex(
                (-f.real * d_im.imag + f.imag * d_im.real) / det,
                (-d_re.real * f.imag + d_re.imag * f.real) / det,
            )
            if abs(step) > 0.3:  # damped: stay on the same branch of the PV curve
                step *= 0.3 / abs(step)
            v = v + step
            if abs(v) < 1e-3:
                return None
        return v if abs(self._residual(v, a, s)) < 1e-8 else None
