"""Vectorised kernel of the engine's machine and controller equations (pure numpy).

``tops`` evaluates each model through structured-array views and per-block
closures (about 0.3 ms per call on IEEE 39 whatever its size). This kernel holds
the same equations on contiguous arrays, parameters gathered once from the
initialised engine model, and keeps the engine's state vector layout (the index
of every state is taken from the engine's ``state_idx_global``), so the initial
states ``ps.x_0``, linearisation and outputs are unchanged.

Supported models (the bundled cases and ``defaults = "typical"``):

* ``GEN``: 6th-order synchronous machine (speed, angle, ``e_q_t``, ``e_d_t``,
  ``e_q_st``, ``e_d_st``) and its current injection behind ``X_d_st`` / ``X_q_st``;
* ``SEXS``: lead-lag ``(1 + s T_a)/(1 + s T_b)``, gain ``K``, lag ``T_e`` with the
  state clamped to ``[E_min, E_max]``;
* ``TGOV1``: droop ``1/R``, lag ``T_1`` clamped to ``[V_min, V_max]``, lead-lag
  ``(1 + s T_2)/(1 + s T_3)``, turbine damping ``D_t``;
* ``STAB1``: gain ``K``, washout ``T``, lead-lags ``T_1/T_3`` and ``T_2/T_4``,
  output limited to ``+/- H_lim``.

Any other dynamic model makes :func:`unsupported` name it, and the caller falls
back to the engine's own functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SUPPORTED = {"gen": "GEN", "avr": "SEXS", "gov": "TGOV1", "pss": "STAB1"}
_CONTROLLERS = ("avr", "gov", "pss")
_DYNAMIC = ("state_derivatives", "current_injections")


def _has_dynamics(mdl: Any) -> bool:
    from tops.dyn_models.utils import get_submodules

    return any(hasattr(m, key) for m in get_submodules(mdl) for key in _DYNAMIC)


def _gen_index(ctrl: Any, gen: Any) -> np.ndarray | None:
    """Machine index of every unit of a controller (None if one is missing or shared)."""
    names = {str(n): i for i, n in enumerate(gen.par["name"])}
    idx = [names.get(str(g), -1) for g in ctrl.par["gen"]]
    if min(idx, default=0) < 0 or len(set(idx)) != len(idx):
        return None
    return np.asarray(idx, dtype=int)


def unsupported(ps: Any) -> str | None:
    """The first model of the engine model ``ps`` that the kernel does not cover, or None.

    Parameters
    ----------
    ps : tops.dynamic.PowerSystemModel
        Initialised engine model.

    Returns
    -------
    str or None
        ``"category:Model"`` (with the reason) of the first unsupported model; None if
        every model with states or current injections is covered.
    """
    mdls = ps.dyn_mdls_dict
    if set(mdls.get("gen", {})) != {"GEN"}:
        return f"gen:{','.join(mdls.get('gen', {})) or 'none'}"
    gen = mdls["gen"]["GEN"]
    for category, group in mdls.items():
        for key, mdl in group.items():
            if SUPPORTED.get(category) == key:
                if category in _CONTROLLERS and _gen_index(mdl, gen) is None:
                    return f"{category}:{key} (machine missing or shared by two units)"
                continue
            if _has_dynamics(mdl):
                return f"{category}:{key}"
    return None


def _slice(idx: np.ndarray) -> slice | np.ndarray:
    """A slice when the indices are evenly spaced and increasing (views instead of copies)."""
    idx = np.asarray(idx, dtype=int)
    step = int(idx[1] - idx[0]) if len(idx) > 1 else 1
    if len(idx) and step > 0 and np.array_equal(idx, idx[0] + step * np.arange(len(idx))):
        return slice(int(idx[0]), int(idx[-1]) + 1, step)
    return idx


def _gather(a: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    return a if idx is None else a[idx]


def _scatter(base: np.ndarray, idx: np.ndarray | None, values: np.ndarray) -> np.ndarray:
    """``base`` with ``values`` at ``idx`` (``values`` itself when every machine has one)."""
    if idx is None:
        return values
    out = base.copy()
    out[idx] = values
    return out


def _identity(idx: np.ndarray | None, n: int) -> np.ndarray | None:
    """None when ``idx`` maps unit k to machine k for every machine (no gather needed)."""
    return None if idx is not None and np.array_equal(idx, np.arange(n)) else idx


def _p(block: Any, name: str) -> np.ndarray:
    return np.array(block.par[name], dtype=float)


class Kernel:
    """State derivatives and current injections of GEN, SEXS, TGOV1 and STAB1 on arrays.

    Parameters
    ----------
    ps : tops.dynamic.PowerSystemModel
        Initialised engine model (``init_dyn_sim`` done) whose models are all supported
        (:func:`unsupported` returns None); parameters, initial inputs and internal
        biases are read once here.
    """

    def __init__(self, ps: Any) -> None:
        reason = unsupported(ps)
        if reason is not None:
            raise ValueError(f"model not supported by the kernel: {reason}")
        self.n_states = int(ps.n_states)
        self.n_bus = int(ps.n_bus)
        self._gen(ps.gen["GEN"], float(ps.f_n), float(ps.s_n), np.asarray(ps.sys_data["bus_v_n"]))
        self._avr(ps.avr.get("SEXS") if hasattr(ps, "avr") else None)
        self._gov(ps.gov.get("TGOV1") if hasattr(ps, "gov") else None)
        self._pss(ps.pss.get("STAB1") if hasattr(ps, "pss") else None)

    # -- construction --------------------------------------------------------------------------

    def _gen(self, g: Any, f_n: float, s_n: float, bus_v_n: np.ndarray) -> None:
        self._g = g
        idx = g.state_idx_global
        self.i_speed, self.i_angle = _slice(idx["speed"]), _slice(idx["angle"])
        self.i_eqt, self.i_edt = _slice(idx["e_q_t"]), _slice(idx["e_d_t"])
        self.i_eqs, self.i_eds = _slice(idx["e_q_st"]), _slice(idx["e_d_st"])
        self.bus = np.asarray(g.bus_idx_red["terminal"], dtype=int)
        self.bus_unique = len(set(self.bus.tolist())) == len(self.bus)
        pf_n = _p(g, "PF_n") if "PF_n" in g.par.dtype.names else np.ones(g.n_units)
        self.pf_n = pf_n
        self.inv_2h = 1.0 / (2.0 * (_p(g, "H") / pf_n))
        self.d = _p(g, "D")
        self.w_n = 2.0 * np.pi * f_n
        x_d, x_q = _p(g, "X_d"), _p(g, "X_q")
        x_dt, x_qt, x_ds, x_qs = _p(g, "X_d_t"), _p(g, "X_q_t"), _p(g, "X_d_st"), _p(g, "X_q_st")
        self.x_ds, self.x_qs = x_ds, x_qs
        self.xd_dt, self.xq_qt = x_d - x_dt, x_q - x_qt
        self.xdt_ds, self.xqt_qs = x_dt - x_ds, x_qt - x_qs
        self.k_dt, self.k_qt = 1.0 / _p(g, "T_d0_t"), 1.0 / _p(g, "T_q0_t")
        self.k_ds, self.k_qs = 1.0 / _p(g, "T_d0_st"), 1.0 / _p(g, "T_q0_st")
        v_n, s_gn, n_par = _p(g, "V_n"), _p(g, "S_n"), _p(g, "N_par")
        i_n_gen = s_gn / (np.sqrt(3) * v_n)
        i_n_sys = s_n / (np.sqrt(3) * bus_v_n)
        self.inj_scale = n_par * i_n_gen / i_n_sys[self.bus]  # machine base -> system base
        self.v_setp = _p(g, "V")
        # inputs of machines without a controller keep their initial values (as in tops)
        self.p_m0 = np.array(g._input_values["P_m"], dtype=float)
        self.e_f0 = np.array(g._input_values["E_f"], dtype=float)
        self.v_pss0 = np.array(g._input_values["v_pss"], dtype=float)

    def _avr(self, a: Any) -> None:
        self.has_avr = a is not None
        if a is None:
            return
        self.avr_gen = _identity(_gen_index(a, self._g), self._g.n_units)
        ll, tc = a.tg_red, a.time_constant_lim
        self.a_ll = _slice(ll.state_idx_global["x"])
        self.a_tc = _slice(tc.state_idx_global["x"])
        self.a_t1, self.a_t2 = _p(ll, "T_1"), _p(ll, "T_2")
        self.a_ll_k = self.a_t1 / self.a_t2 - 1.0
        self.a_k = _p(a.gain, "K")
        self.a_te = _p(tc, "T")
        self.a_min, self.a_max = _p(tc, "V_min"), _p(tc, "V_max")
        self.a_bias = np.array(a.int_par["bias"], dtype=float)
        self.a_vsetp = _gather(self.v_setp, self.avr_gen)

    def _gov(self, g: Any) -> None:
        self.has_gov = g is not None
        if g is None:
            return
        self.gov_gen = _identity(_gen_index(g, self._g), self._g.n_units)
        tc, ll = g.time_constant_lim, g.lead_lag
        self.g_tc = _slice(tc.state_idx_global["x"])
        self.g_ll = _slice(ll.state_idx_global["x"])
        self.g_droop = _p(g.droop, "K")
        self.g_bias = np.array(g.int_par["bias"], dtype=float)
        self.g_t = _p(tc, "T")
        self.g_min, self.g_max = _p(tc, "V_min"), _p(tc, "V_max")
        self.g_t1, self.g_t2 = _p(ll, "T_1"), _p(ll, "T_2")
        self.g_ll_k = self.g_t1 / self.g_t2 - 1.0
        self.g_dt = _p(g.damping_gain, "K")

    def _pss(self, s: Any) -> None:
        self.has_pss = s is not None
        if s is None:
            return
        self.pss_gen = _identity(_gen_index(s, self._g), self._g.n_units)
        self.s_k = _p(s.gain, "K")
        self.s_wo = _slice(s.washout.state_idx_global["x"])
        self.s_tw = _p(s.washout, "T_w")
        l1, l2 = s.lead_lag_1, s.lead_lag_2
        self.s_l1, self.s_l2 = _slice(l1.state_idx_global["x"]), _slice(l2.state_idx_global["x"])
        self.s_l1_t1, self.s_l1_t2 = _p(l1, "T_1"), _p(l1, "T_2")
        self.s_l2_t1, self.s_l2_t2 = _p(l2, "T_1"), _p(l2, "T_2")
        self.s_l1_k = self.s_l1_t1 / self.s_l1_t2 - 1.0
        self.s_l2_k = self.s_l2_t1 / self.s_l2_t2 - 1.0
        self.s_min, self.s_max = _p(s.limiter, "Min"), _p(s.limiter, "Max")

    # -- equations -----------------------------------------------------------------------------

    def injections(self, x: np.ndarray) -> np.ndarray:
        """The machines' current injections at every bus for the states ``x``.

        Parameters
        ----------
        x : numpy.ndarray
            State vector (the engine's layout).

        Returns
        -------
        numpy.ndarray
            Complex current injection at each bus [pu on the system base], (n_bus,).
        """
        ang = x[self.i_angle]
        c, s = np.cos(ang), np.sin(ang)
        a = x[self.i_eqs] / self.x_ds
        b = x[self.i_eds] / self.x_qs
        # (a q + b d) / j with q = e^{j angle}, d = e^{j (angle - pi/2)}
        i_re = self.inj_scale * (a * s - b * c)
        i_im = -self.inj_scale * (a * c + b * s)
        i_inj = np.zeros(self.n_bus, dtype=complex)
        if self.bus_unique:
            i_inj.real[self.bus] = i_re
            i_inj.imag[self.bus] = i_im
        else:
            i_inj.real = np.bincount(self.bus, i_re, self.n_bus)
            i_inj.imag = np.bincount(self.bus, i_im, self.n_bus)
        return i_inj

    def derivatives(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """State derivatives for the states ``x`` and the bus voltages ``v``.

        Parameters
        ----------
        x : numpy.ndarray
            State vector (the engine's layout).
        v : numpy.ndarray
            Complex bus voltages [pu].

        Returns
        -------
        numpy.ndarray
            Time derivative of each state [state unit/s].
        """
        dx = np.zeros(self.n_states)
        speed, ang = x[self.i_speed], x[self.i_angle]
        e_qt, e_dt, e_qs, e_ds = x[self.i_eqt], x[self.i_edt], x[self.i_eqs], x[self.i_eds]
        vt = v[self.bus]
        v_re, v_im = vt.real, vt.imag
        c, s = np.cos(ang), np.sin(ang)
        # current behind X_d_st: i = (e_st - v_t) / (j X_d_st), e_st = e_q_st q + e_d_st d
        i_re = (e_qs * s - e_ds * c - v_im) / self.x_ds
        i_im = (v_re - e_qs * c - e_ds * s) / self.x_ds
        i_d = i_re * s - i_im * c
        i_q = i_re * c + i_im * s
        p_e = v_re * i_re + v_im * i_im

        p_m, e_f = self.p_m0, self.e_f0
        v_pss = self.v_pss0
        if self.has_pss:
            v_pss = self._pss_eq(dx, x, speed)
        if self.has_gov:
            p_m = self._gov_eq(dx, x, speed)
        if self.has_avr:
            e_f = self._avr_eq(dx, x, np.abs(vt), v_pss)
        v_aux = self._g._input_values["v_aux"]  # not connected: read live, as tops does

        dx[self.i_speed] = self.inv_2h * (p_m / (1.0 + speed) - p_e / self.pf_n - self.d * speed)
        dx[self.i_angle] = speed * self.w_n
        dx[self.i_eqt] = self.k_dt * (e_f + v_aux - e_qt - i_d * self.xd_dt)
        dx[self.i_edt] = self.k_qt * (i_q * self.xq_qt - e_dt)
        dx[self.i_eqs] = self.k_ds * (e_qt - e_qs - i_d * self.xdt_ds)
        dx[self.i_eds] = self.k_qs * (e_dt - e_ds + i_q * self.xqt_qs)
        return dx

    def _pss_eq(self, dx: np.ndarray, x: np.ndarray, speed: np.ndarray) -> np.ndarray:
        """STAB1: derivatives into ``dx``; returns every machine's ``v_pss`` input."""
        u = self.s_k * _gather(speed, self.pss_gen)
        wo = (u - x[self.s_wo]) / self.s_tw
        dx[self.s_wo] = wo
        x1 = x[self.s_l1]
        y1 = (self.s_l1_t1 * wo - x1) / self.s_l1_t2
        dx[self.s_l1] = self.s_l1_k * wo - x1 / self.s_l1_t2
        x2 = x[self.s_l2]
        y2 = (self.s_l2_t1 * y1 - x2) / self.s_l2_t2
        dx[self.s_l2] = self.s_l2_k * y1 - x2 / self.s_l2_t2
        return _scatter(
            self.v_pss0, self.pss_gen, np.minimum(np.maximum(y2, self.s_min), self.s_max)
        )

    def _gov_eq(self, dx: np.ndarray, x: np.ndarray, speed: np.ndarray) -> np.ndarray:
        """TGOV1: derivatives into ``dx``; returns every machine's mechanical power input."""
        w = _gather(speed, self.gov_gen)
        xt = x[self.g_tc]
        d_t = (self.g_droop * (self.g_bias - w) - xt) / self.g_t
        d_t[((xt <= self.g_min) & (d_t < 0)) | ((xt >= self.g_max) & (d_t > 0))] = 0.0
        dx[self.g_tc] = d_t
        u = np.minimum(np.maximum(xt, self.g_min), self.g_max)
        xl = x[self.g_ll]
        dx[self.g_ll] = self.g_ll_k * u - xl / self.g_t2
        return _scatter(self.p_m0, self.gov_gen, (self.g_t1 * u - xl) / self.g_t2 - self.g_dt * w)

    def _avr_eq(
        self, dx: np.ndarray, x: np.ndarray, vt_abs: np.ndarray, v_pss: np.ndarray
    ) -> np.ndarray:
        """SEXS: derivatives into ``dx``; returns every machine's field voltage input."""
        gi = self.avr_gen
        u = self.a_vsetp - _gather(vt_abs, gi) + _gather(v_pss, gi) + self.a_bias
        xl = x[self.a_ll]
        y = (self.a_t1 * u - xl) / self.a_t2
        dx[self.a_ll] = self.a_ll_k * u - xl / self.a_t2
        xe = x[self.a_tc]
        d_e = (self.a_k * y - xe) / self.a_te
        d_e[((xe <= self.a_min) & (d_e < 0)) | ((xe >= self.a_max) & (d_e > 0))] = 0.0
        dx[self.a_tc] = d_e
        return _scatter(self.e_f0, gi, np.minimum(np.maximum(xe, self.a_min), self.a_max))
