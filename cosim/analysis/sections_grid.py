"""Summary sections of the networks: bus voltages, branch loadings, losses, taps, SCR, N-1.

Each function fills ``s["grid"]`` (or ``oltc``, ``n1``, the POI's SCR keys) from
the network frames of a run and the :class:`cosim.analysis.context.NetworkContext`.
Element names are ``network:element`` (``transmission:75``, ``transmission:line.6``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cosim.analysis.frames import site_rating_mw
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics import network, wear
from cosim.metrics._series import finite_or_none
from cosim.metrics.grid_strength import InverterInteraction, ShortCircuitRatio


def selected_buses(req: RequirementsConfig, case: Any, name: str) -> list[int] | None:
    """The buses of network ``name`` judged against the voltage band (None = all recorded)."""
    if req.voltage_buses == "all":
        return None
    if req.voltage_buses == "poi":
        return [int(case.factory.poi_bus)] if case is not None and name == "transmission" else []
    return list(req.voltage_buses) if name == "transmission" else []


def merge_bands(parts: dict[str, Any], worst_key: str, value_key: str) -> dict[str, Any]:
    """Combine per-network band statistics; element names become ``network:element``.

    Parameters
    ----------
    parts : network -> :class:`cosim.metrics.network.VoltageBand` or ``ThermalLoading``
    worst_key, value_key : names of the worst element and its value in the result
    """
    sums = ("count", "count_low", "count_high", "duration_s", "duration_low_s", "duration_high_s")
    out: dict[str, Any] = {
        **dict.fromkeys(sums, 0),
        "max_episode_s": 0.0,
        "violated": 0,
        "worst": None,
        "worst_value": None,
        "worst_t_s": None,
        "episodes": [],
    }
    for name, r in parts.items():
        for k in sums:
            out[k] += r[k]
        out["max_episode_s"] = max(out["max_episode_s"], r.max_episode_s)
        violated = r.buses_violated if "buses_violated" in r else r.branches_violated
        out["violated"] += violated
        out["episodes"] += [{**e, "element": f"{name}:{e['element']}"} for e in r.episodes]
    out["episodes"].sort(key=lambda e: -e["excess"])
    out["episodes"] = out["episodes"][:20]
    if out["episodes"]:
        w = out["episodes"][0]
        out.update(worst=w["element"], worst_value=w["worst"], worst_t_s=w["t_worst_s"])
    out[worst_key] = out.pop("worst")
    out[value_key] = out.pop("worst_value")
    return out


def grid_voltage(
    s: dict,
    req: RequirementsConfig,
    case: Any,
    nets: dict[str, pd.DataFrame],
    t_end: float | None,
    v_pre: dict[str, dict[str, float]] | None = None,
) -> None:
    """``grid``: voltage extremes, Range A / B episodes and pre-existing violations.

    ``v_pre`` holds each network's pre-connection bus voltages [pu]; a bus outside
    the band before the site connects is left out of the band check and judged
    on worsening (``range_<x>_preexisting``: buses as ``network:bus``).
    """
    g = s["grid"]
    g.update(v_min_pu=None, v_max_pu=None)
    v_pre = v_pre or {}
    allv = {n: network.voltage_band(df, -np.inf, np.inf, t_end) for n, df in nets.items()}
    mins = [
        (r.v_min_pu, f"{n}:{r.v_min_bus}", r.v_min_t_s)
        for n, r in allv.items()
        if r.v_min_pu is not None
    ]
    maxs = [
        (r.v_max_pu, f"{n}:{r.v_max_bus}", r.v_max_t_s)
        for n, r in allv.items()
        if r.v_max_pu is not None
    ]
    if mins:
        v, bus, t = min(mins)
        g.update(v_min_pu=v, v_min_bus=bus, v_min_t_s=t)
    if maxs:
        v, bus, t = max(maxs)
        g.update(v_max_pu=v, v_max_bus=bus, v_max_t_s=t)
    g["buses"] = sum(r.buses for r in allv.values())
    for key, lo, hi in (
        ("range_a", req.v_range_a_min_pu, req.v_range_a_max_pu),
        ("range_b", req.v_range_b_min_pu, req.v_range_b_max_pu),
    ):
        parts, pre_parts = {}, {}
        for n, df in nets.items():
            buses = selected_buses(req, case, n)
            if buses == []:
                continue
            pre = network.preexisting_violations(v_pre.get(n) or {}, lo, hi)
            if pre:
                recorded = [int(b) for b in network.bus_voltages(df)] if buses is None else buses
                buses = [b for b in recorded if str(b) not in pre]
                pre_parts[n] = (pre, network.worsening(df, v_pre[n], pre))
            parts[n] = network.voltage_band(df, lo, hi, t_end, buses=buses)
        if pre_parts:
            g[f"{key}_preexisting"] = _merge_preexisting(pre_parts, v_pre)
        if req.voltage_buses == "poi" and not parts:
            continue
        merged = merge_bands(parts, "worst_bus", "worst_vm_pu")
        merged["buses_checked"] = sum(r.buses for r in parts.values())
        sel = [(n, r) for n, r in parts.items() if r.v_min_pu is not None]
        lo_at = min(((r.v_min_pu, f"{n}:{r.v_min_bus}", r.v_min_t_s) for n, r in sel), default=None)
        hi_at = max(((r.v_max_pu, f"{n}:{r.v_max_bus}", r.v_max_t_s) for n, r in sel), default=None)
        merged["v_min_pu"], merged["v_min_bus"], merged["v_min_t_s"] = lo_at or (None, None, None)
        merged["v_max_pu"], merged["v_max_bus"], merged["v_max_t_s"] = hi_at or (None, None, None)
        g[key] = merged
    g["nonconverged_steps"] = {n: int((~network.valid_rows(df)).sum()) for n, df in nets.items()}


def _merge_preexisting(
    parts: dict[str, tuple[dict[str, str], network.Worsening]], v_pre: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Pre-existing violations of every network: buses, and the largest worsening of any."""
    buses = {f"{n}:{b}": round(v_pre[n][b], 6) for n, (pre, _) in parts.items() for b in pre}
    worst = network.Worsening()
    for n, (_, w) in parts.items():
        if w.worsening_pu is not None and (
            worst.worsening_pu is None or w.worsening_pu > worst.worsening_pu
        ):
            worst = network.Worsening(w.worsening_pu, f"{n}:{w.bus}", w.t_s)
    return {"buses": buses, **worst.as_dict()}


def grid_thermal(
    s: dict,
    req: RequirementsConfig,
    nets: dict[str, pd.DataFrame],
    t_end: float | None,
    loading_pre: dict[str, dict[str, float]] | None = None,
    unrated: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """``grid``: the largest branch loading and the episodes above the rating.

    ``loading_max_percent`` covers every recorded branch. The judged figures
    (``thermal``, ``thermal_loading_max_percent``) leave out the branches
    without a usable rating (``unrated``) and those already over the normal
    rating before the site connects (``loading_pre``), which are judged on
    worsening instead (``thermal_preexisting``: branches as ``network:branch``).
    """
    g = s["grid"]
    g["loading_max_percent"] = None
    loading_pre, unrated = loading_pre or {}, unrated or {}
    overall = {
        n: network.thermal_loading(df, req.thermal_max_percent, t_end) for n, df in nets.items()
    }
    best = [
        (r.loading_max_percent, f"{n}:{r.loading_max_branch}", r.loading_max_t_s)
        for n, r in overall.items()
        if r.loading_max_percent is not None
    ]
    if best:
        v, br, t = max(best)
        g.update(loading_max_percent=v, loading_max_branch=br, loading_max_t_s=t)
    parts, pre_parts = {}, {}
    for n, df in nets.items():
        recorded = list(network.branch_loadings(df))
        over = {
            b: x
            for b, x in (loading_pre.get(n) or {}).items()
            if x > req.thermal_max_percent and b not in unrated.get(n, ())
        }
        if over:
            pre_parts[n] = (over, network.loading_worsening(df, over))
        judged = [b for b in recorded if b not in over and b not in unrated.get(n, ())]
        r = network.thermal_loading(
            df, req.thermal_max_percent, t_end, req.thermal_emergency_percent, branches=judged
        )
        if r.branches:
            parts[n] = r
    judged_best = [
        (r.loading_max_percent, f"{n}:{r.loading_max_branch}", r.loading_max_t_s)
        for n, r in parts.items()
        if r.loading_max_percent is not None
    ]
    v, br, t = max(judged_best) if judged_best else (None, None, None)
    g.update(
        thermal_loading_max_percent=v, thermal_loading_max_branch=br, thermal_loading_max_t_s=t
    )
    th = merge_bands(parts, "worst_branch", "worst_loading_percent")
    th["branches"] = sum(r.branches for r in parts.values())
    if req.thermal_emergency_percent is not None:
        th["emergency_count"] = sum(r.emergency_count or 0 for r in parts.values())
    g["thermal"] = th
    if pre_parts:
        g["thermal_preexisting"] = _merge_thermal_preexisting(pre_parts)


def _merge_thermal_preexisting(
    parts: dict[str, tuple[dict[str, float], network.LoadingWorsening]],
) -> dict[str, Any]:
    branches = {f"{n}:{b}": round(x, 3) for n, (over, _) in parts.items() for b, x in over.items()}
    worst = network.LoadingWorsening()
    for n, (_, w) in parts.items():
        if w.worsening_percent is not None and (
            worst.worsening_percent is None or w.worsening_percent > worst.worsening_percent
        ):
            worst = network.LoadingWorsening(w.worsening_percent, f"{n}:{w.branch}", w.t_s)
    return {"branches": branches, **worst.as_dict()}


def grid_losses(s: dict, nets: dict[str, pd.DataFrame], t_end: float | None) -> None:
    """``grid``: network losses [MWh], in total and by network."""
    g = s["grid"]
    parts = {n: network.energy_loss_mwh(df, t_end) for n, df in nets.items()}
    parts = {n: v for n, v in parts.items() if v is not None}
    g["losses_mwh"] = sum(parts.values()) if parts else None
    g["losses_mwh_by_network"] = parts


def oltc(s: dict, nets: dict[str, pd.DataFrame]) -> None:
    """``oltc``: tap operations, in total and per transformer."""
    o = s["oltc"]
    o["tap_ops"] = None
    per: dict[str, int] = {}
    for n, df in nets.items():
        r = wear.tap_operations(df)
        per.update({f"{n}:{k}": v for k, v in r.per_trafo.items()})
    if per:
        o.update(tap_ops=int(sum(per.values())), per_trafo=per)


def scr(s: dict, case: Any, r: ShortCircuitRatio, near: InverterInteraction | None) -> None:
    """``poi``: the short-circuit ratio, what it rests on, and ESCR / WSCR with near plants."""
    s["poi"].update(
        scr=r.scr,
        s_sc_mva=r.s_sc_mva,
        sc_rx_ratio=r.rx_ratio,
        scr_site_rating_mw=site_rating_mw(case),
        sc_defaults_applied=list(r.defaults_applied),
    )
    if near is not None:
        s["poi"].update(
            escr=near.escr,
            wscr=near.wscr,
            near_inverter_plants=[dict(p) for p in near.plants],
            near_branches=near.near_branches,
        )


def n1(s: dict, req: RequirementsConfig, case: Any, net: Any, fac: pd.DataFrame) -> None:
    """``n1``: N-1 screening at the site's peak import and deepest swing trough."""
    from cosim.metrics.grid_strength import n1_screening

    if "p_mw" not in fac or not fac["p_mw"].notna().any():
        s["n1"] = None
        return
    p = fac["p_mw"].to_numpy(dtype=float)
    q = fac["q_mvar"].to_numpy(dtype=float) if "q_mvar" in fac else np.zeros_like(p)
    i_hi, i_lo = int(np.nanargmax(p)), int(np.nanargmin(p))
    snaps = [
        ("peak import", float(p[i_hi]), float(np.nan_to_num(q[i_hi]))),
        ("swing trough", float(p[i_lo]), float(np.nan_to_num(q[i_lo]))),
    ]
    lo, hi = (
        (req.v_range_a_min_pu, req.v_range_a_max_pu)
        if req.voltage_range == "A"
        else (req.v_range_b_min_pu, req.v_range_b_max_pu)
    )
    df = n1_screening(
        net,
        int(case.factory.poi_bus),
        snaps,
        lo,
        hi,
        req.thermal_max_percent,
        max_outages=req.n1_max_outages,
    )
    outages = df[df["outage"] != "none"]
    bad = outages[(outages["severity"] > 0) | ~outages["converged"].astype(bool)]
    s["n1"] = {
        "snapshots": [{"name": n, "p_mw": pm, "q_mvar": qm} for n, pm, qm in snaps],
        "outages_screened": len(outages),
        "outages_with_violations": len(bad),
        "diverged": int((~outages["converged"].astype(bool)).sum()),
        "worst_severity": finite_or_none(outages["severity"].max()) if len(outages) else None,
        "worst_outage": None
        if not len(outages)
        else f"{outages.iloc[0]['outage']} at {outages.iloc[0]['snapshot']}",
        "intact": df[df["outage"] == "none"].to_dict("records"),
        "ranking": df.head(20).to_dict("records"),
    }
    if len(outages) and not np.isfinite(outages["severity"].max()):
        s["n1"]["worst_severity"] = None
        s["n1"]["worst_diverged_or_isolated"] = True
