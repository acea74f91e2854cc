"""A pandapower network as a dynamic case in the engine's dict format.

The network comes from pandapower's own per-unit model (its internal MATPOWER-like
case after a power flow), so what the engine solves is what pandapower solves:

* buses: pandapower's internal buses (buses joined by closed bus-bus switches are
  one bus), named by the first pandapower bus's ``name`` (its index when the names
  are missing or not unique); ``V_n`` its rated voltage [kV];
* branches without tap or phase shift and without shunt conductance: engine lines
  (per unit on the system base); other branches (transformers, three-winding
  transformers' star branches): engine transformers with ``ratio_from = 1 / conj(t)``
  (``t`` pandapower's complex tap at the from end) and their charging / magnetising
  admittance as shunts at both ends (the from end's divided by ``|t|^2``);
* bus loads (loads, static generators as negative loads, wards): one engine load
  per bus (constant power in the power flow, constant impedance in dynamics);
* bus shunts: engine shunts (``Q`` [Mvar at 1 pu], capacitive positive; a
  conductance makes it complex, ``B + jG`` times the base);
* machines: in-service ``gen`` (PV: ``p_mw``, ``vm_pu``) and ``ext_grid`` (the slack:
  its bus is the engine's slack bus, its power the power flow's).

Dynamic data: a machine's entry in ``machines`` (e.g. from a PSS/E DYR file) gives
its model and controllers. A machine without any is completed only when
``defaults = "typical"``: :mod:`federates.dynamics.typical` by rating, listed in the
case's ``typical_dynamics``. Ratings: ``sn_mva`` when given and at least the unit's
maximum (or present) active power; otherwise ``max(max_p_mw, |P|) / 0.85`` (a rated
power factor of 0.85, assumed; 100 MVA when neither is known), listed in
``rating_assumed``.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandapower as pp

from federates.dynamics.typical import GEN_COLUMNS, SEXS, TGOV1, typical_machine
from federates.errors import ConfigError

RATED_PF = 0.85  # rated power factor used to guess a missing rating [-] (assumed)
FALLBACK_RATING_MVA = 100.0  # rating when neither sn_mva nor any power is known (assumed)


@dataclass
class MachineDynamics:
    """Dynamic data of one machine: ``gen`` the engine's GEN columns, ``controllers`` the rest.

    ``controllers`` holds ``(table, model, params)`` triples, e.g.
    ``("avr", "SEXS", {"K": 100.0, ...})``; ``source`` says where the data came from.
    """

    gen: dict[str, float] | None = None
    controllers: list[tuple[str, str, dict[str, float]]] = field(default_factory=list)
    source: str = ""


def _bus_names(net: pp.pandapowerNet) -> dict[int, str]:
    names = net.bus["name"]
    usable = names.notna().all() and names.astype(str).is_unique
    return {int(i): (str(n) if usable else str(i)) for i, n in names.items()}


def _rating(sn: Any, max_p: Any, p_mw: float) -> tuple[float, bool]:
    """Machine rating [MVA] and whether it was assumed.

    ``sn`` is used when it covers the unit's maximum (or present) active power; a smaller
    or missing one (e.g. a MATPOWER ``mBase`` left at the system base) is replaced by
    ``max(max_p, |p_mw|) / RATED_PF``.
    """
    known = [abs(p_mw)]
    if max_p is not None and np.isfinite(float(max_p)):
        known.append(float(max_p))
    best = max(known)
    if sn is not None and np.isfinite(float(sn)) and float(sn) >= best and float(sn) > 0:
        return float(sn), False
    return (best / RATED_PF if best > 0 else FALLBACK_RATING_MVA), True


def _solved(net: pp.pandapowerNet, name: str) -> pp.pandapowerNet:
    out = copy.deepcopy(net)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(out, calculate_voltage_angles=True, init="dc")
    except Exception as exc:  # noqa: BLE001 - any solver failure is a case error
        raise ConfigError(f"network {name}: pandapower power flow failed ({exc})") from None
    return out


def _machines(net: pp.pandapowerNet, bus_of: Any) -> list[dict[str, Any]]:
    """In-service machines: name, engine bus, P [MW], V [pu], rating [MVA], rating assumed."""
    out = []
    for kind in ("ext_grid", "gen"):
        table = net[kind]
        res = net[f"res_{kind}"]
        for i, row in table.iterrows():
            if not bool(row.get("in_service", True)):
                continue
            p_mw = float(res.at[i, "p_mw"]) if kind == "ext_grid" else float(row["p_mw"])
            s_n, assumed = _rating(row.get("sn_mva"), row.get("max_p_mw"), p_mw)
            raw = row.get("name")
            out.append(
                {
                    "name": None
                    if raw is None or (isinstance(raw, float) and math.isnan(raw))
                    else str(raw),
                    "bus": bus_of(int(row["bus"])),
                    "P": p_mw,
                    "V": float(row["vm_pu"]),
                    "S_n": s_n,
                    "assumed": assumed,
                    "slack": kind == "ext_grid",
                }
            )
    names = [m["name"] for m in out]
    if any(n is None for n in names) or len(set(names)) != len(names):
        count: dict[str, int] = {}
        for m in out:
            k = count[m["bus"]] = count.get(m["bus"], 0) + 1
            m["name"] = f"G{m['bus']}" if k == 1 else f"G{m['bus']}_{k}"
    return out


def from_pandapower(
    net: pp.pandapowerNet,
    *,
    name: str = "network",
    defaults: str = "none",
    machines: dict[str, MachineDynamics] | None = None,
) -> dict[str, Any]:
    """The engine's dict case of a pandapower network (see the module docstring).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network; it must have one in-service ``ext_grid`` (the slack) and solve.
    name : str, default "network"
        Name of the network in error messages and in the case.
    defaults : {"none", "typical"}, default "none"
        Dynamic data for machines without an entry in ``machines``: ``"none"`` refuses
        them, ``"typical"`` uses :mod:`federates.dynamics.typical` by rating [MVA].
    machines : dict of str to MachineDynamics, optional
        Dynamic data by machine name.

    Returns
    -------
    dict of str to Any
        The case; ``typical_dynamics`` lists the machines given typical data and
        ``rating_assumed`` those whose rating [MVA] was guessed.
    """
    from pandapower.pypower.idx_brch import (
        BR_B,
        BR_G,
        BR_R,
        BR_STATUS,
        BR_X,
        F_BUS,
        SHIFT,
        T_BUS,
        TAP,
    )
    from pandapower.pypower.idx_bus import BASE_KV, BS, GS, PD, QD

    machines = machines or {}
    if len(net.ext_grid[net.ext_grid.in_service]) != 1:
        raise ConfigError(f"network {name}: needs exactly one in-service ext_grid (the slack)")
    solved = _solved(net, name)
    ppc = solved._ppc
    lookup = solved._pd2ppc_lookups["bus"]
    pp_names = _bus_names(net)
    ppc_name: dict[int, str] = {}
    for b in net.bus.index:
        ppc_name.setdefault(int(lookup[b]), pp_names[int(b)])
    base = float(net.sn_mva)
    buses = [["name", "V_n"]]
    loads = [["name", "bus", "P", "Q", "model"]]
    shunts: dict[str, complex] = {}
    for k, row in enumerate(ppc["bus"]):
        if k not in ppc_name:  # auxiliary bus (e.g. three-winding transformer star point)
            ppc_name[k] = f"aux{k}"
        b = ppc_name[k]
        buses.append([b, float(row[BASE_KV].real)])
        if row[PD].real != 0.0 or row[QD].real != 0.0:
            loads.append([f"L{b}", b, float(row[PD].real), float(row[QD].real), "Z"])
        if row[GS].real != 0.0 or row[BS].real != 0.0:
            shunts[b] = shunts.get(b, 0j) + complex(row[BS].real, row[GS].real)
    lines = [["name", "from_bus", "to_bus", "length", "unit", "R", "X", "B"]]
    trafos = [["name", "from_bus", "to_bus", "S_n", "R", "X", "ratio_from", "ratio_to"]]
    for k, br in enumerate(ppc["branch"]):
        if br[BR_STATUS].real == 0:
            continue
        f, t = ppc_name[int(br[F_BUS].real)], ppc_name[int(br[T_BUS].real)]
        r, x, b_pu, g_pu = (float(br[c].real) for c in (BR_R, BR_X, BR_B, BR_G))
        tap = float(br[TAP].real) or 1.0
        shift = float(br[SHIFT].real)
        if tap == 1.0 and shift == 0.0 and g_pu == 0.0:
            lines.append([f"BR{k}", f, t, 1.0, "p.u.", r, x, b_pu])
            continue
        t_c = tap * np.exp(1j * np.deg2rad(shift))
        ratio = 1.0 / np.conj(t_c)
        trafos.append([f"BR{k}", f, t, base, r, x, ratio if shift else float(ratio.real), 1.0])
        y_half = complex(b_pu, g_pu) / 2 * base
        if y_half:
            shunts[f] = shunts.get(f, 0j) + y_half / abs(t_c) ** 2
            shunts[t] = shunts.get(t, 0j) + y_half
    shunt_rows = [["name", "bus", "V_n", "Q", "model"]]
    vn = dict(buses[1:])
    for b, q in shunts.items():
        shunt_rows.append([f"SH{b}", b, vn[b], q if q.imag else q.real, "Z"])
    gens = _machines(solved, lambda b: ppc_name[int(lookup[b])])
    slack = next(m["bus"] for m in gens if m["slack"])
    data: dict[str, Any] = {
        "name": name,
        "base_mva": base,
        "f": float(net.f_hz),
        "slack_bus": slack,
        "buses": buses,
        "lines": lines,
        "transformers": trafos,
        "loads": loads,
        "shunts": shunt_rows,
    }
    _dynamics(data, gens, machines, defaults, name, vn)
    return data


def _dynamics(
    data: dict[str, Any],
    gens: list[dict[str, Any]],
    machines: dict[str, MachineDynamics],
    defaults: str,
    name: str,
    vn: dict[str, float],
) -> None:
    """Fill the machine tables (GEN and controllers) of ``data`` in place."""
    missing = [m["name"] for m in gens if machines.get(m["name"], MachineDynamics()).gen is None]
    if missing and defaults != "typical":
        raise ConfigError(
            f"network {name}: no dynamic data for machine(s) {', '.join(missing)} "
            '(give a DYR file, or set dynamics.defaults = "typical")'
        )
    header = ["name", "bus", "S_n", "V_n", "P", "V", *GEN_COLUMNS]
    rows = [header]
    blocks: dict[str, dict[str, list[list[Any]]]] = {}
    typical = []
    for m in gens:
        dyn = machines.get(m["name"])
        if dyn is None or dyn.gen is None:
            gen = asdict(typical_machine(m["S_n"]))
            controllers = [("avr", "SEXS", dict(SEXS)), ("gov", "TGOV1", dict(TGOV1))]
            typical.append(m["name"])
        else:
            gen, controllers = dyn.gen, dyn.controllers
        rows.append(
            [m["name"], m["bus"], m["S_n"], vn[m["bus"]], m["P"], m["V"]]
            + [float(gen[c]) for c in GEN_COLUMNS]
        )
        for key, model, params in controllers:
            block = blocks.setdefault(key, {}).setdefault(model, [["name", "gen", *params]])
            block.append([f"{model}_{m['name']}", m["name"], *(params[h] for h in block[0][2:])])
    data["generators"] = {"GEN": rows}
    data.update(blocks)
    data["typical_dynamics"] = typical
    data["rating_assumed"] = [m["name"] for m in gens if m["assumed"]]
