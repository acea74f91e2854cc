"""Linear filters the factory model applies to each grid interval's block of samples (pure numpy).

Why not ``scipy.signal``: importing it costs about 1.2 s of CPU at every
federate start (measured on the project's machine: more than stepping the
factory through a one-hour run), and the factory needs only two things from it:

* :func:`butter_bandpass_sos`, the digital Butterworth band-pass of
  ``scipy.signal.butter(order, [f_low, f_high], "bandpass", fs=fs, output="sos")``,
  by the same steps (analog prototype, low-pass to band-pass transform, bilinear
  transform with pre-warped edges; Oppenheim & Schafer, *Discrete-Time Signal
  Processing*, 3rd ed., section 7.1). The sections are grouped differently
  from SciPy's ``zpk2sos``; the transfer function is the same (tests compare
  the frequency response and the filtered output with SciPy's to 1e-9).
* :class:`BlockFilter`, a cascade of second-order sections in transposed direct
  form II run on a block of samples with a carried state, like
  ``scipy.signal.sosfilt(sos, x, zi=zi)`` (same state layout, ``(n_sections, 2)``).
  A block of ``L`` samples is one matrix product with matrices precomputed per
  ``L`` (the block's impulse-response Toeplitz matrix and the state maps), which
  is exact and costs a few microseconds for the 20-50 samples of a grid step.
"""

from __future__ import annotations

import numpy as np

MAX_CHUNK = 256  # samples per precomputed block (longer blocks are run in chunks)


def butter_bandpass_sos(order: int, f_low_hz: float, f_high_hz: float, fs_hz: float) -> np.ndarray:
    """Digital Butterworth band-pass as second-order sections ``(order, 6)``.

    Rows are ``[b0 b1 b2 1 a1 a2]``.

    ``0 < f_low_hz < f_high_hz < fs_hz / 2``; the response is -3 dB at both edges.

    Parameters
    ----------
    order : int
        Order of the low-pass prototype (>= 1); the band-pass has ``order`` sections.
    f_low_hz : float
        Lower -3 dB edge [Hz].
    f_high_hz : float
        Upper -3 dB edge [Hz].
    fs_hz : float
        Sampling frequency [Hz].

    Returns
    -------
    numpy.ndarray
        Second-order sections, shape ``(order, 6)``.
    """
    if order < 1:
        raise ValueError(f"filter order must be >= 1 (got {order})")
    if not 0.0 < f_low_hz < f_high_hz < 0.5 * fs_hz:
        raise ValueError(
            f"band edges must satisfy 0 < {f_low_hz} < {f_high_hz} < fs/2 = {0.5 * fs_hz}"
        )
    fs2 = 2.0 * fs_hz
    w1, w2 = (fs2 * np.tan(np.pi * f / fs_hz) for f in (f_low_hz, f_high_hz))  # pre-warped [rad/s]
    # analog low-pass prototype (unit cut-off): poles on the left half of the unit circle
    p = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    # low-pass -> band-pass: each pole splits in two; `order` zeros at s = 0; gain bw**order
    bw, wo = w2 - w1, np.sqrt(w1 * w2)
    p_lp = p * bw / 2.0
    root = np.sqrt(p_lp * p_lp - wo * wo + 0j)
    p_bp = np.concatenate((p_lp + root, p_lp - root))
    k = bw**order
    # bilinear transform: s = 0 -> z = 1, s = inf -> z = -1
    pz = (fs2 + p_bp) / (fs2 - p_bp)
    k *= float(np.real(fs2**order / np.prod(fs2 - p_bp)))
    # every section: one pole pair and the zeros {+1, -1} -> b = [1, 0, -1]
    sos = np.zeros((order, 6))
    sos[:, 0], sos[:, 2], sos[:, 3] = 1.0, -1.0, 1.0
    for i, (a1, a2) in enumerate(_pole_pairs(pz)):
        sos[i, 4], sos[i, 5] = a1, a2
    sos[0, :3] *= k
    return sos


def _pole_pairs(poles: np.ndarray) -> list[tuple[float, float]]:
    """Denominators ``(a1, a2)`` of ``1 + a1 z^-1 + a2 z^-2``: conjugate pairs, then real pairs."""
    tol = 1e-10
    upper = sorted((p for p in poles if p.imag > tol), key=lambda p: abs(p))
    real = sorted(float(p.real) for p in poles if abs(p.imag) <= tol)
    pairs = [(-2.0 * p.real, abs(p) ** 2) for p in upper]
    if len(real) % 2:
        raise ValueError("an odd number of real poles cannot form second-order sections")
    pairs += [(-(a + b), a * b) for a, b in zip(real[0::2], real[1::2], strict=True)]
    return pairs


def sos_state_space(sos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """State space ``(A, B, C, D)`` of the cascade; the state is the sections' ``(z0, z1)``.

    Parameters
    ----------
    sos : array_like
        Second-order sections, shape ``(n, 6)``, rows ``[b0 b1 b2 a0 a1 a2]``.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray, numpy.ndarray, float)
        ``A`` ``(2n, 2n)``, ``B`` ``(2n,)``, ``C`` ``(2n,)`` and ``D`` of the discrete-time cascade.
    """
    sos = np.atleast_2d(np.asarray(sos, dtype=float))
    n = len(sos)
    a_m = np.zeros((2 * n, 2 * n))
    b_v = np.zeros(2 * n)
    c_v = np.zeros(2 * n)
    d = 1.0
    # running output map of the cascade so far: y_prev = c_prev . x + d_prev . u
    c_prev = np.zeros(2 * n)
    for i, (b0, b1, b2, a0, a1, a2) in enumerate(sos):
        b0, b1, b2, a1, a2 = b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0
        j = 2 * i
        # section input u_i = y_prev = c_prev . x + d . u; output y_i = b0 u_i + z0
        # z0' = (b1 - a1 b0) u_i - a1 z0 + z1 ; z1' = (b2 - a2 b0) u_i - a2 z0
        g0, g1 = b1 - a1 * b0, b2 - a2 * b0
        a_m[j] += g0 * c_prev
        a_m[j + 1] += g1 * c_prev
        a_m[j, j], a_m[j, j + 1], a_m[j + 1, j] = (
            a_m[j, j] - a1,
            a_m[j, j + 1] + 1.0,
            a_m[j + 1, j] - a2,
        )
        b_v[j] += g0 * d
        b_v[j + 1] += g1 * d
        c_prev = b0 * c_prev
        c_prev[j] += 1.0
        d = b0 * d
    c_v = c_prev
    return a_m, b_v, c_v, d


class BlockFilter:
    """``y, zf = f.run(x, zi)`` equals ``scipy.signal.sosfilt(sos, x, zi=zi)`` (to rounding)."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = np.atleast_2d(np.asarray(sos, dtype=float))
        self.a, self.b, self.c, self.d = sos_state_space(self.sos)
        self._blocks: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the state ``zi`` / ``zf``."""
        return (len(self.sos), 2)

    def steady_state(self, u: float = 1.0) -> np.ndarray:
        """State after a long constant input ``u`` (``scipy.signal.sosfilt_zi(sos) * u``).

        Parameters
        ----------
        u : float, default 1.0
            Constant input, in the unit of the filtered signal.

        Returns
        -------
        numpy.ndarray
            Filter state, shaped like the filter's state (``self.shape``).
        """
        k = len(self.b)
        x = np.linalg.solve(np.eye(k) - self.a, self.b * u)
        return x.reshape(self.shape)

    def _matrices(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        m = self._blocks.get(n)
        if m is None:
            k = len(self.b)
            obs = np.empty((n, k))  # y[i] from x0: C A^i
            row = self.c.copy()
            h = np.empty(n)  # impulse response: h[0] = D, h[i] = C A^(i-1) B
            h[0] = self.d
            for i in range(n):
                obs[i] = row
                if i + 1 < n:
                    h[i + 1] = row @ self.b
                row = row @ self.a
            idx = np.arange(n)
            lag = idx[:, None] - idx[None, :]
            toe = np.where(lag >= 0, h[np.clip(lag, 0, None)], 0.0)
            ctrl = np.empty((k, n))  # x_n from u[j]: A^(n-1-j) B
            col = self.b.copy()
            for j in range(n - 1, -1, -1):
                ctrl[:, j] = col
                col = self.a @ col
            trans = np.linalg.matrix_power(self.a, n)
            m = (obs, toe, ctrl, trans)
            self._blocks[n] = m
        return m

    def run(self, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Filter the block ``x`` from state ``zi``; returns the output and the final state.

        Parameters
        ----------
        x : array_like
            Input samples, one per filter sample, in the unit of the filtered signal.
        zi : array_like
            Initial state, shaped like the filter's state.

        Returns
        -------
        y : numpy.ndarray
            Output samples, same length as ``x``.
        zf : numpy.ndarray
            Final state, shaped like ``zi``.
        """
        x = np.asarray(x, dtype=float)
        state = np.asarray(zi, dtype=float).reshape(-1)
        out = np.empty_like(x)
        for s in range(0, len(x), MAX_CHUNK):
            u = x[s : s + MAX_CHUNK]
            obs, toe, ctrl, trans = self._matrices(len(u))
            out[s : s + len(u)] = obs @ state + toe @ u
            state = trans @ state + ctrl @ u
        return out, state.reshape(self.shape)


def first_order_lag_sos(a: float) -> np.ndarray:
    """``y[n] = a y[n-1] + x[n]`` as one section (``lfilter([1], [1, -a], x)``).

    Parameters
    ----------
    a : float
        Pole of the lag [-], e.g. ``exp(-dt / tau)``.

    Returns
    -------
    numpy.ndarray
        One second-order section, shape ``(1, 6)``.
    """
    return np.array([[1.0, 0.0, 0.0, 1.0, -a, 0.0]])
