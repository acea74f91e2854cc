"""Typical machine, exciter and governor data for networks without dynamic data (pure).

Used only when a case says ``dynamics.defaults = "typical"``; every machine that
received these values is listed in the case's ``typical_dynamics`` entry, so a
report can say so. Sources:

* Inertia constant ``H`` by rating: Kundur, *Power System Stability and Control*
  (1994), Table 3.2 (thermal units 2.5-6 s for two-pole and 4-10 s for four-pole
  machines, hydro 2-4 s); here 3.0 s below 100 MVA, 4.0 s to 500 MVA, 5.0 s above
  (round values inside the thermal ranges, assumed).
* Reactances [pu on the machine rating] and open-circuit time constants [s]: the
  round-rotor machines of Kundur's two-area example (Kundur 1994, Example 12.6:
  ``X_d`` 1.8, ``X_q`` 1.7, ``X'_d`` 0.3, ``X'_q`` 0.55, ``X''`` 0.25, ``T'_d0`` 8,
  ``T'_q0`` 0.4, ``T''_d0`` 0.03, ``T''_q0`` 0.05), all inside the typical ranges of
  Kundur 1994 Table 4.2. Below 100 MVA the transient reactance is 0.25 and
  ``T'_d0`` 6 s (smaller units, within the same ranges; assumed).
* Exciter (simplified excitation system SEXS): ``K`` 100, ``T_a/T_b`` 2/10 s,
  ``T_e`` 0.5 s, limits +/-3 pu: the values of the engine's (tops) Kundur case,
  a high-gain static exciter as in Kundur 1994 Example 12.6 (``K_A`` 200 there).
* Governor (TGOV1, steam): droop ``R`` 0.05 (5 %, common practice), valve limits 0-1 pu,
  ``T_1`` 0.5 s, lead-lag ``T_2/T_3`` 3/10 s: the PSS/E TGOV1 sample values.
* No power system stabiliser (assumed; the least damping, the conservative choice).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

from federates.dynamics.cases import table

GEN_COLUMNS = (
    "H",
    "D",
    "X_d",
    "X_q",
    "X_d_t",
    "X_q_t",
    "X_d_st",
    "X_q_st",
    "T_d0_t",
    "T_q0_t",
    "T_d0_st",
    "T_q0_st",
)


@dataclass(frozen=True)
class TypicalMachine:
    """Sixth-order (GENROU-like) machine data [pu on the machine rating, s]."""

    H: float
    D: float
    X_d: float
    X_q: float
    X_d_t: float
    X_q_t: float
    X_d_st: float
    X_q_st: float
    T_d0_t: float
    T_q0_t: float
    T_d0_st: float
    T_q0_st: float


def typical_machine(s_n_mva: float) -> TypicalMachine:
    """Typical machine data for a unit of rating ``s_n_mva`` [MVA] (see the module docstring).

    Parameters
    ----------
    s_n_mva : float
        Unit rating [MVA].

    Returns
    -------
    TypicalMachine
        Inertia [s], damping, reactances [pu] and time constants [s].
    """
    if s_n_mva < 100.0:
        return TypicalMachine(3.0, 0.0, 1.8, 1.7, 0.25, 0.55, 0.2, 0.2, 6.0, 0.4, 0.03, 0.05)
    h_s = 4.0 if s_n_mva <= 500.0 else 5.0
    return TypicalMachine(h_s, 0.0, 1.8, 1.7, 0.3, 0.55, 0.25, 0.25, 8.0, 0.4, 0.03, 0.05)


SEXS = {"K": 100.0, "T_a": 2.0, "T_b": 10.0, "T_e": 0.5, "E_min": -3.0, "E_max": 3.0}
TGOV1 = {"R": 0.05, "D_t": 0.0, "V_min": 0.0, "V_max": 1.0, "T_1": 0.5, "T_2": 3.0, "T_3": 10.0}


def with_typical_dynamics(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` whose machines without dynamic data get typical values.

    A generator row missing any of :data:`GEN_COLUMNS` (or with it empty) gets the
    :func:`typical_machine` of its rating; a generator without an exciter or governor
    gets :data:`SEXS` / :data:`TGOV1`. The names of the machines so completed are
    listed under ``typical_dynamics``.

    Parameters
    ----------
    data : dynamic case (``generators.GEN`` needs ``name``, ``bus``, ``S_n``, ``V_n``,
        ``P``, ``V``)

    Returns
    -------
    the completed copy
    """
    out = copy.deepcopy(data)
    gens = table(out, "generators", "GEN")
    header = list(out["generators"]["GEN"][0])
    for col in GEN_COLUMNS:
        if col not in header:
            header.append(col)
    rows, completed = [], []
    for g in gens:
        missing = [c for c in GEN_COLUMNS if g.get(c) is None]
        if missing:
            typ = asdict(typical_machine(float(g["S_n"])))
            g.update({c: typ[c] for c in missing})
            completed.append(str(g["name"]))
        rows.append([g.get(c) for c in header])
    out["generators"]["GEN"] = [header, *rows]
    names = [str(g["name"]) for g in gens]
    for key, kind, params in (("avr", "SEXS", SEXS), ("gov", "TGOV1", TGOV1)):
        have = {str(r["gen"]) for sub in (out.get(key) or {}) for r in table(out, key, sub)}
        new = [n for n in names if n not in have]
        if not new:
            continue
        block = out.setdefault(key, {}).setdefault(kind, [["name", "gen", *params]])
        block += [[f"{kind}_{n}", n, *params.values()] for n in new]
        completed += [n for n in new if n not in completed]
    out["typical_dynamics"] = sorted(set(completed))
    return out
