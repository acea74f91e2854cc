"""Grid strength at the POI (short-circuit ratio) and N-1 contingency screening.

These take a pandapower network *without* the site and never modify it (they
work on copies). Short-circuit data missing from the network (NaN or absent
columns) is filled from :class:`cosim.analysis.requirements.ShortCircuitDefaults`; what
was filled is returned, so the summary can say the SCR rests on assumptions.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cosim.analysis.requirements import ShortCircuitDefaults
from cosim.metrics._result import MetricResult

N1_COLUMNS = [
    "snapshot",
    "outage",
    "converged",
    "poi_isolated",
    "isolated_buses",
    "v_min_pu",
    "v_min_bus",
    "v_max_pu",
    "v_max_bus",
    "loading_max_percent",
    "loading_max_branch",
    "violations",
    "severity",
]


def _fill(df: pd.DataFrame, col: str, values: Any, label: str, notes: list[str]) -> None:
    if not len(df):
        return
    if col not in df.columns:
        df[col] = np.nan
    missing = df[col].isna().to_numpy()
    if missing.any():
        vals = np.broadcast_to(np.asarray(values, dtype=float), (len(df),))
        df.loc[missing, col] = vals[missing]
        shown = np.unique(np.round(vals[missing], 4))
        val = f"{shown[0]:g}" if shown.size == 1 else f"{shown.min():g}..{shown.max():g}"
        notes.append(f"{label}.{col} = {val} for {int(missing.sum())} element(s)")


def with_short_circuit_defaults(
    net: Any, defaults: ShortCircuitDefaults | None = None
) -> tuple[Any, list[str]]:
    """A copy of ``net`` with missing IEC 60909 data filled in, and what was filled.

    * ext_grid: ``s_sc_max_mva``, ``rx_max``;
    * gen: ``vn_kv`` (its bus), ``cos_phi``, ``sn_mva`` (``max_p_mw / cos_phi``,
      else ``|p_mw| / cos_phi``, at least 1 MVA), ``xdss_pu``,
      ``rdss_ohm = ratio * xdss_pu * vn_kv^2 / sn_mva``;
    * sgen: ``k`` and ``sn_mva`` (``|p_mw|``, at least 1 MVA).

    Parameters
    ----------
    net : pandapower network (not modified)
    defaults : the data assumed where the network has none

    Returns
    -------
    net : the filled copy
    notes : what was filled, one line each (``"gen.xdss_pu = 0.2 for 53 element(s)"``)
    """
    d = defaults or ShortCircuitDefaults()
    net = copy.deepcopy(net)
    notes: list[str] = []
    _fill(net.ext_grid, "s_sc_max_mva", d.ext_grid_s_sc_max_mva, "ext_grid", notes)
    _fill(net.ext_grid, "rx_max", d.ext_grid_rx_max, "ext_grid", notes)
    gen = net.gen
    if len(gen):
        _fill(gen, "vn_kv", net.bus.loc[gen.bus, "vn_kv"].to_numpy(dtype=float), "gen", notes)
        _fill(gen, "cos_phi", d.gen_cos_phi, "gen", notes)
        pmax = (
            gen["max_p_mw"].to_numpy(dtype=float)
            if "max_p_mw" in gen
            else np.full(len(gen), np.nan)
        )
        p = np.where(
            np.isfinite(pmax) & (pmax > 0), pmax, np.abs(gen["p_mw"].to_numpy(dtype=float))
        )
        _fill(
            gen, "sn_mva", np.maximum(p / gen["cos_phi"].to_numpy(dtype=float), 1.0), "gen", notes
        )
        _fill(gen, "xdss_pu", d.gen_xdss_pu, "gen", notes)
        rdss = (
            d.gen_rdss_ratio
            * gen["xdss_pu"].to_numpy(dtype=float)
            * gen["vn_kv"].to_numpy(dtype=float) ** 2
            / gen["sn_mva"].to_numpy(dtype=float)
        )
        _fill(gen, "rdss_ohm", rdss, "gen", notes)
    if len(net.sgen):
        _fill(net.sgen, "k", d.sgen_k, "sgen", notes)
        _fill(
            net.sgen,
            "sn_mva",
            np.maximum(np.abs(net.sgen["p_mw"].to_numpy(dtype=float)), 1.0),
            "sgen",
            notes,
        )
    return net, notes


@contextlib.contextmanager
def _python_ybus() -> Iterator[None]:
    """Use pypower's Ybus builder inside calc_sc.

    pandapower's numba version is compiled uncached on first use in every
    process (10-30 s); the plain one takes milliseconds for one calculation.
    """
    from pandapower.pypower.makeYbus import makeYbus
    from pandapower.shortcircuit import impedance

    saved = impedance.makeYbus
    impedance.makeYbus = makeYbus
    try:
        yield
    finally:
        impedance.makeYbus = saved


@dataclass(frozen=True)
class ShortCircuitRatio(MetricResult):
    """Short-circuit strength at a bus.

    Attributes
    ----------
    scr : ``s_sc_mva / p_site_mw`` [1] (None without a site rating)
    s_sc_mva : three-phase short-circuit power ``sqrt(3) Ik'' Vn`` [MVA]
    ikss_ka : initial symmetrical short-circuit current [kA]
    rx_ratio : R/X of the Thevenin impedance [1]
    vn_kv : nominal voltage of the bus [kV]
    defaults_applied : what was filled in from the defaults, one line each
    """

    scr: float | None
    s_sc_mva: float
    ikss_ka: float
    rx_ratio: float | None
    vn_kv: float
    defaults_applied: tuple[str, ...]


def short_circuit_ratio(
    net: Any,
    bus: int,
    p_site_mw: float,
    defaults: ShortCircuitDefaults | None = None,
) -> ShortCircuitRatio:
    """Short-circuit ratio at ``bus``: ``SCR = S_sc / P_site``.

    ``S_sc = sqrt(3) * Ik'' * Vn`` [MVA] from pandapower's IEC 60909 maximum
    three-phase short circuit (``pandapower.shortcircuit.calc_sc``, case
    "max") on a copy of ``net`` with missing data filled
    (:func:`with_short_circuit_defaults`).

    Parameters
    ----------
    net : pandapower network without the site (not modified)
    bus : the POI bus
    p_site_mw : site rating [MW]
    defaults : short-circuit data assumed where the network has none

    Returns
    -------
    ShortCircuitRatio
    """
    import pandapower.shortcircuit as sc

    work, notes = with_short_circuit_defaults(net, defaults)
    with warnings.catch_warnings(), _python_ybus():
        warnings.simplefilter("ignore")
        sc.calc_sc(work, case="max", bus=[bus])
    res = work.res_bus_sc.loc[bus]
    vn = float(work.bus.at[bus, "vn_kv"])
    s_sc = float(np.sqrt(3.0) * res["ikss_ka"] * vn)
    x = float(res["xk_ohm"])
    return ShortCircuitRatio(
        scr=s_sc / p_site_mw if p_site_mw > 0 else None,
        s_sc_mva=s_sc,
        ikss_ka=float(res["ikss_ka"]),
        rx_ratio=float(res["rk_ohm"]) / x if x else None,
        vn_kv=vn,
        defaults_applied=tuple(notes),
    )


#: an inverter plant is "near" the POI within this many branches (lines, transformers,
#: impedances, bus couplers) of it: the plants whose controls interact with the site's
NEAR_BRANCHES = 2


@dataclass(frozen=True)
class InverterInteraction(MetricResult):
    """Grid strength shared with the inverter plants near the POI.

    Attributes
    ----------
    plants : the near plants: ``{"sgen": index, "bus": bus, "p_mw": rating, "branches": hops,
        "s_sc_mva": short-circuit power at its bus}``
    escr : equivalent SCR ``S_sc,POI / (P_site + sum P_i)`` [1] (None without near plants)
    wscr : weighted SCR ``sum S_sc,i P_i / (sum P_i)^2`` over the site and the plants [1]
        (ERCOT's WSCR; None without near plants)
    near_branches : the distance that counts as near [branches]
    """

    plants: tuple[dict[str, Any], ...]
    escr: float | None
    wscr: float | None
    near_branches: int


def near_inverter_plants(
    net: Any, bus: int, max_branches: int = NEAR_BRANCHES
) -> list[tuple[int, int, int]]:
    """In-service static generators (inverter plants) within ``max_branches`` of ``bus``.

    Parameters
    ----------
    net : pandapower network
    bus : the POI bus
    max_branches : largest distance counted as near [branches]

    Returns
    -------
    list
        ``(sgen index, its bus, distance [branches])``, nearest first.
    """
    import networkx as nx
    import pandapower.topology as top

    if not len(net.sgen):
        return []
    graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    hops = nx.single_source_shortest_path_length(graph, bus, cutoff=max_branches)
    sg = net.sgen[net.sgen.in_service.astype(bool)]
    found = [(int(i), int(b), int(hops[b])) for i, b in sg.bus.items() if b in hops]
    return sorted(found, key=lambda r: (r[2], r[0]))


def inverter_interaction(
    net: Any,
    bus: int,
    p_site_mw: float,
    defaults: ShortCircuitDefaults | None = None,
    max_branches: int = NEAR_BRANCHES,
) -> InverterInteraction:
    """ESCR and WSCR of the site with the inverter plants near it.

    ``P_i`` is a plant's rating (``sn_mva``, else ``|p_mw|``). The short-circuit
    power at each bus is IEC 60909 maximum (:func:`short_circuit_ratio`'s
    method) without the inverter plants' own contribution (as ERCOT computes
    the WSCR). Without near plants both ratios are None.

    Parameters
    ----------
    net : pandapower network without the site (not modified)
    bus : the POI bus
    p_site_mw : site rating [MW]
    defaults : short-circuit data assumed where the network has none
    max_branches : largest distance counted as near [branches]

    Returns
    -------
    InverterInteraction
    """
    import pandapower.shortcircuit as sc

    near = near_inverter_plants(net, bus, max_branches)
    if not near or p_site_mw <= 0:
        return InverterInteraction((), None, None, max_branches)
    work, _ = with_short_circuit_defaults(net, defaults)
    work.sgen["in_service"] = False
    buses = sorted({bus, *(b for _, b, _ in near)})
    with warnings.catch_warnings(), _python_ybus():
        warnings.simplefilter("ignore")
        sc.calc_sc(work, case="max", bus=buses)
    s_sc = {
        b: float(np.sqrt(3.0) * work.res_bus_sc.at[b, "ikss_ka"] * work.bus.at[b, "vn_kv"])
        for b in buses
    }
    plants = []
    for i, b, hops in near:
        sn = float(net.sgen.at[i, "sn_mva"]) if "sn_mva" in net.sgen else float("nan")
        p = sn if np.isfinite(sn) and sn > 0 else abs(float(net.sgen.at[i, "p_mw"]))
        plants.append({"sgen": i, "bus": b, "p_mw": p, "branches": hops, "s_sc_mva": s_sc[b]})
    p_sum = p_site_mw + sum(pl["p_mw"] for pl in plants)
    weighted = s_sc[bus] * p_site_mw + sum(pl["s_sc_mva"] * pl["p_mw"] for pl in plants)
    return InverterInteraction(tuple(plants), s_sc[bus] / p_sum, weighted / p_sum**2, max_branches)


def _snapshot_rows(
    net: Any, sol: Any, poi_bus: int, v_min_pu: float, v_max_pu: float, loading_max_percent: float
) -> dict[str, Any]:
    vm = pd.Series(sol.vm_pu, index=net.bus.index)
    served = vm.notna() & net.bus.in_service
    row: dict[str, Any] = {
        "converged": True,
        "poi_isolated": bool(np.isnan(vm.get(poi_bus, np.nan))),
        "isolated_buses": int((~served & net.bus.in_service).sum()),
    }
    v = vm[served]
    row.update(
        v_min_pu=float(v.min()),
        v_min_bus=int(v.idxmin()),
        v_max_pu=float(v.max()),
        v_max_bus=int(v.idxmax()),
    )
    loads = []
    for kind, values in (
        ("line", sol.line_loading_percent),
        ("trafo", sol.trafo_loading_percent),
        ("trafo3w", sol.trafo3w_loading_percent),
    ):
        if len(values):
            loads.append(pd.Series(values, index=[f"{kind}.{i}" for i in net[kind].index]))
    if len(net.impedance) and len(sol.impedance_loading_percent):
        from federates.grid.ratings import impedance_equivalents

        keep = ~impedance_equivalents(net)
        imp = pd.Series(sol.impedance_loading_percent, index=net.impedance.index)[keep]
        loads.append(imp.rename(lambda i: f"impedance.{i}"))
    lp = pd.concat(loads).dropna() if loads else pd.Series(dtype=float)
    row.update(
        loading_max_percent=float(lp.max()) if len(lp) else None,
        loading_max_branch=str(lp.idxmax()) if len(lp) else None,
    )
    n_v = int(((v < v_min_pu) | (v > v_max_pu)).sum())
    n_l = int((lp > loading_max_percent).sum())
    row["violations"] = n_v + n_l
    sev = max(
        0.0,
        100.0 * (v_min_pu - row["v_min_pu"]),
        100.0 * (row["v_max_pu"] - v_max_pu),
        (row["loading_max_percent"] or 0.0) - loading_max_percent,
    )
    row["severity"] = float("inf") if row["poi_isolated"] else sev
    return row


def n1_screening(
    net: Any,
    poi_bus: int,
    snapshots: Sequence[tuple[str, float, float]],
    v_min_pu: float = 0.95,
    v_max_pu: float = 1.05,
    loading_max_percent: float = 100.0,
    elements: Iterable[str] = ("line", "trafo"),
    max_outages: int | None = None,
) -> pd.DataFrame:
    """N-1 screening: each in-service line / transformer out, at each snapshot.

    Solved by :func:`federates.grid.contingency.n1_solves` (lightsim2grid's KLU
    Newton-Raphson on a rank-2 update of the intact admittance matrix, generator
    reactive limits enforced; outages that split the network are rebuilt as
    ``runpp`` would).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        Network without the site (not modified).
    poi_bus : int
        Bus the site is added to as a load.
    snapshots : sequence of (str, float, float)
        ``(name, p_mw, q_mvar)`` of the site [MW, Mvar], e.g. peak import and the deepest
        swing trough.
    v_min_pu, v_max_pu : float
        Voltage limits judged at every bus [pu].
    loading_max_percent : float
        Loading limit judged at every branch [%].
    elements : iterable of str
        Element tables to outage (``line``, ``trafo``).
    max_outages : int, optional
        Screen only the first n outages of each snapshot.

    Returns
    -------
    pandas.DataFrame
        :data:`N1_COLUMNS`, one row per (snapshot, outage) plus the intact case
        (``outage == "none"``), sorted by ``severity`` (descending): the largest
        excess over a limit in percent points (voltage in % of 1 pu, loading in %
        of rating); ``inf`` when the power flow diverges or the POI is isolated.
    """
    from federates.grid.contingency import n1_solves

    rows = []
    for s in n1_solves(net, poi_bus, snapshots, elements, max_outages):
        if s.solution.converged:
            limits = (v_min_pu, v_max_pu, loading_max_percent)
            rows.append(
                {
                    "snapshot": s.snapshot,
                    "outage": s.outage,
                    **_snapshot_rows(net, s.solution, poi_bus, *limits),
                }
            )
        else:
            rows.append(_diverged(s.snapshot, s.outage))
    df = pd.DataFrame(rows, columns=N1_COLUMNS)
    return df.sort_values("severity", ascending=False, kind="stable").reset_index(drop=True)


def _diverged(snapshot: str, outage: str) -> dict[str, Any]:
    return {
        "snapshot": snapshot,
        "outage": outage,
        "converged": False,
        "poi_isolated": None,
        "isolated_buses": None,
        "v_min_pu": None,
        "v_min_bus": None,
        "v_max_pu": None,
        "v_max_bus": None,
        "loading_max_percent": None,
        "loading_max_branch": None,
        "violations": None,
        "severity": float("inf"),
    }
