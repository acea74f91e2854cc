"""A dynamic case's network as a pandapower net, for the quasi-static federates (pure).

Element by element (the engine's conventions, tops 0.3.0):

* buses: ``vn_kv = V_n``; lines: a pi model of ``length_km = 1`` whose totals are the
  engine's impedance (``p.u.`` per km on the line's own ``S_n``/``V_n`` base, or
  ``pf``/``Ohm`` per km with capacitance as ``B`` in uS/km for ``pf``);
* transformers: ``vk_percent = 100 |R + jX|``, ``vkr_percent = 100 R`` on the
  transformer's ``S_n``, ``N_par`` parallel units; an off-nominal ratio
  (``ratio_from = 1/t``) becomes a rated voltage ``t`` times the bus voltage on
  that side;
* loads: ``P``, ``Q`` (MW, Mvar); shunts: ``Q`` [Mvar] at 1 pu, capacitive
  positive in the engine, so ``q_mvar = -Q`` in pandapower's load convention;
* generators: PV units (``P`` times ``N_par``, ``V``); the slack bus's unit becomes
  the ``ext_grid`` at ``V`` and 0 deg.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandapower as pp

from federates.dynamics.cases import table


def to_pandapower(data: dict[str, Any]) -> pp.pandapowerNet:
    """Build the pandapower net of a dynamic case (see the module docstring for the mapping).

    Parameters
    ----------
    data : dynamic case in the engine's dict format

    Returns
    -------
    pandapower net; bus ``name`` is the case's bus name, element ``name`` the case's name
    """
    f_hz = float(data["f"])
    net = pp.create_empty_network(f_hz=f_hz, sn_mva=float(data["base_mva"]))
    bus = {}
    vn = {}
    for row in table(data, "buses"):
        name = str(row["name"])
        bus[name] = pp.create_bus(net, vn_kv=float(row["V_n"]), name=name)
        vn[name] = float(row["V_n"])
    s_base = float(data["base_mva"])
    for row in table(data, "lines"):
        _line(net, row, bus, vn, s_base, f_hz)
    for row in table(data, "transformers") or table(data, "trafos"):
        _trafo(net, row, bus, vn)
    for row in table(data, "loads"):
        pp.create_load(
            net, bus[row["bus"]], p_mw=float(row["P"]), q_mvar=float(row["Q"]), name=row["name"]
        )
    for row in table(data, "shunts"):
        pp.create_shunt(net, bus[row["bus"]], q_mvar=-float(row["Q"]), p_mw=0.0, name=row["name"])
    slack = str(data["slack_bus"])
    for row in table(data, "generators", "GEN"):
        n_par = float(row.get("N_par", 1))
        if str(row["bus"]) == slack:
            pp.create_ext_grid(
                net, bus[slack], vm_pu=float(row["V"]), va_degree=0.0, name=row["name"]
            )
        else:
            pp.create_gen(
                net,
                bus[row["bus"]],
                p_mw=float(row["P"]) * n_par,
                vm_pu=float(row["V"]),
                sn_mva=float(row["S_n"]) * n_par,
                name=row["name"],
            )
    return net


def _line(
    net: pp.pandapowerNet,
    row: dict[str, Any],
    bus: dict[str, int],
    vn: dict[str, float],
    s_base: float,
    f_hz: float,
) -> None:
    """One line as a 1 km pi model with the engine's total impedance."""
    f_bus = str(row["from_bus"])
    z_base_ohm = vn[f_bus] ** 2 / s_base
    length = float(row.get("length", 1.0))
    unit = str(row.get("unit", "p.u."))
    if unit in ("p.u.", "pu", "pu/km"):
        s_n, v_n = float(row.get("S_n", 0) or 0), float(row.get("V_n", 0) or 0)
        own_base = v_n**2 / s_n if s_n and v_n else z_base_ohm
        z_ohm = complex(row["R"], row["X"]) * length * own_base
        b_s = float(row["B"]) * length / own_base
    elif unit in ("PF", "pf", "PowerFactory", "powerfactory"):
        z_ohm = complex(row["R"], row["X"]) * length
        b_s = float(row["B"]) * length * 1e-6
    else:  # Ohm per km, B in S per km
        z_ohm = complex(row["R"], row["X"]) * length
        b_s = float(row["B"]) * length
    pp.create_line_from_parameters(
        net,
        bus[f_bus],
        bus[str(row["to_bus"])],
        length_km=1.0,
        r_ohm_per_km=z_ohm.real,
        x_ohm_per_km=z_ohm.imag,
        c_nf_per_km=b_s / (2 * np.pi * f_hz) * 1e9,
        max_i_ka=10.0,
        name=row["name"],
    )


def _trafo(
    net: pp.pandapowerNet, row: dict[str, Any], bus: dict[str, int], vn: dict[str, float]
) -> None:
    """One two-winding transformer; the higher-voltage end is pandapower's hv side."""
    a, b = str(row["from_bus"]), str(row["to_bus"])
    t_a = 1.0 / float(row.get("ratio_from", 1.0) or 1.0)
    t_b = 1.0 / float(row.get("ratio_to", 1.0) or 1.0)
    if vn[a] < vn[b]:
        a, b, t_a, t_b = b, a, t_b, t_a
    s_n = float(row["S_n"])
    z_pu = complex(row["R"], row["X"])  # on S_n; per unit is side-independent at nominal ratio
    pp.create_transformer_from_parameters(
        net,
        bus[a],
        bus[b],
        sn_mva=s_n,
        vn_hv_kv=vn[a] * t_a,
        vn_lv_kv=vn[b] * t_b,
        vkr_percent=100 * z_pu.real,
        vk_percent=100 * abs(z_pu),
        pfe_kw=0.0,
        i0_percent=0.0,
        parallel=int(row.get("N_par", 1)),
        name=row["name"],
    )
