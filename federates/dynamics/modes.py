"""Small-signal modes of a dynamic grid at its initial operating point (pure).

The state matrix ``A = df/dx`` is built by central differences of the model's
state derivatives with the network solved at every perturbed state (the site a
PQBRAK load at its initial power). Eigenvalues ``lambda = sigma + j omega`` give
``freq_hz = omega / 2 pi`` and ``damping_ratio = -sigma / |lambda|``.

Participation factors ``p_ki = |phi_ki psi_ik|`` (right and left eigenvectors,
Perez-Arriaga, Verghese and Schweppe 1982) are summed over each generator's rotor
angle and speed states and normalised to sum 1 over generators.

Classification (oscillatory modes only):

* ``"electromechanical"`` when the rotor angle and speed states hold at least
  half of the mode's total participation and ``0.1 <= freq_hz <= 2.5`` (the
  electromechanical range, Kundur 1994 ch. 12); such a mode is then
* ``"inter-area"`` when a coherent group swings: in its speed mode shape, weighted
  by each machine's inertia (``sqrt(H S_n)``, the kinetic-energy weighting), at
  least two machines swing in phase with the largest one at half its amplitude or
  more (a group of machines against another); else ``"local"`` (one machine or
  plant against the rest, its partners in antiphase). A heuristic for systems
  without area data; it reproduces the textbook classification of the Kundur
  two-area modes;
* ``"control"`` for other oscillatory modes (exciter, stabiliser, governor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from federates.dynamics.model import DynamicGrid

EM_BAND_HZ = (0.1, 2.5)
COHERENT = 0.5  # in-phase component, relative to the largest, of a machine in the swinging group


@dataclass(frozen=True)
class Mode:
    """One oscillatory mode.

    Attributes
    ----------
    freq_hz : damped frequency [Hz]
    damping_ratio : damping ratio [-] (0.05 = 5 %)
    participation : generator -> share of the mode's angle/speed participation [-] (sums to 1)
    kind : "inter-area", "local" or "control"
    eigenvalue : the eigenvalue [1/s]
    """

    freq_hz: float
    damping_ratio: float
    participation: dict[str, float]
    kind: str
    eigenvalue: complex

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (``modes.json``)."""
        return {
            "freq_hz": self.freq_hz,
            "damping_ratio": self.damping_ratio,
            "participation": self.participation,
            "kind": self.kind,
        }


def state_matrix(grid: DynamicGrid, eps: float = 1e-6) -> np.ndarray:
    """``A = df/dx`` at the initial operating point by central differences [1/s].

    Parameters
    ----------
    grid : DynamicGrid
        The model (reset before and after).
    eps : float, default 1e-6
        Perturbation of each state, in its unit.

    Returns
    -------
    numpy.ndarray
        State matrix, shape ``(n, n)`` [1/s].
    """
    grid.reset()
    x0 = grid.x.copy()
    n = len(x0)
    a = np.empty((n, n))
    for k in range(n):
        xp, xm = x0.copy(), x0.copy()
        xp[k] += eps
        xm[k] -= eps
        a[:, k] = (grid.derivatives(xp) - grid.derivatives(xm)) / (2 * eps)
    grid.reset()
    return a


def modes(grid: DynamicGrid, min_freq_hz: float = 0.02) -> list[Mode]:
    """Oscillatory modes of ``grid`` (one per conjugate pair), lowest frequency first.

    Parameters
    ----------
    grid : the dynamic grid (reset to its initial point)
    min_freq_hz : modes below this frequency count as non-oscillatory [Hz]

    Returns
    -------
    list of :class:`Mode`
    """
    a = state_matrix(grid)
    lam, right = np.linalg.eig(a)
    left = np.linalg.inv(right)  # rows are left eigenvectors normalised to left @ right = I
    names = grid.gen_names
    angle_idx, speed_idx = grid._angle_idx, grid._speed_idx
    weight = np.sqrt(np.asarray(grid._gen.par["H"]) * np.asarray(grid._gen.par["S_n"]))
    out = []
    for i in np.flatnonzero(lam.imag > 2 * np.pi * min_freq_hz):
        p = np.abs(right[:, i] * left[i, :])
        p_gen = p[angle_idx] + p[speed_idx]
        share_em = p_gen.sum() / p.sum()
        part = p_gen / p_gen.sum() if p_gen.sum() > 0 else p_gen
        f_hz = lam[i].imag / (2 * np.pi)
        kind = "control"
        if share_em >= 0.5 and EM_BAND_HZ[0] <= f_hz <= EM_BAND_HZ[1]:
            kind = _em_kind(right[speed_idx, i] * weight)
        out.append(
            Mode(
                freq_hz=float(f_hz),
                damping_ratio=float(-lam[i].real / abs(lam[i])),
                participation={n: float(v) for n, v in zip(names, part, strict=True)},
                kind=kind,
                eigenvalue=complex(lam[i]),
            )
        )
    return sorted(out, key=lambda m: m.freq_hz)


def _em_kind(shape: np.ndarray) -> str:
    """ "inter-area" when two or more machines swing in phase with the largest one, else "local"."""
    ref = shape[np.argmax(np.abs(shape))]
    proj = (shape * np.conj(ref)).real / abs(ref) ** 2  # in-phase component, largest = 1
    return "inter-area" if int(np.sum(proj >= COHERENT)) >= 2 else "local"


def electromechanical(found: list[Mode]) -> list[Mode]:
    """The inter-area and local modes of a list.

    Parameters
    ----------
    found : list of Mode
        Modes with frequency [Hz] and damping ratio [-].

    Returns
    -------
    list of Mode
        The modes of kind ``"inter-area"`` or ``"local"``, in the given order.
    """
    return [m for m in found if m.kind in ("inter-area", "local")]
