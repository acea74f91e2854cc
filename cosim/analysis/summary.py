"""summary.json: every metric of a run, the limits it is judged against, and the verdict.

:func:`build_summary` reads the frames of a :class:`cosim.engine.results.Results`
(``factory``, ``factory_hr``, ``transmission``, ``distribution``, ``frequency``)
and calls the pure functions of :mod:`cosim.metrics`. Which series feeds which
metric:

* POI power: ``factory_hr`` (internal step) when recorded, else ``factory``
  (grid step) for extremes, ramps and the spectrum; ``factory`` interval means
  for the power factor and N-1 snapshots.
* POI voltage: ``distribution.poi_vm_pu``, else ``transmission.poi_vm_pu``,
  else the voltage the factory saw (``factory.vm_pu``).
* Bus voltages, loadings, losses, taps: every network frame (converged rows only).

A metric whose data is absent is ``null`` and its check is reported with
``passed: null`` ("not applicable"), never with an invented number. A metric
that fails to compute is ``null`` with a line in ``notes``; a partial (failed)
run is summarised from whatever it recorded and its verdict is "fail".

Each check is ``{id, name, value, limit, unit, source, passed, kind, note}``;
``kind`` is "limit" (decides the verdict) or "info" (see
``requirements.informational``).
"""

from __future__ import annotations

import copy
import json
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics import events, network, poi, wear
from cosim.metrics._series import finite_or_none

NETWORKS = ("transmission", "distribution")


# ---------------------------------------------------------------- frames


def _frame(results: Any, name: str) -> pd.DataFrame:
    """A result frame sorted by ``t_s`` (one row per instant), empty when absent."""
    try:
        df = results.frame(name)
    except (AttributeError, OSError, ValueError):
        frames = getattr(results, "frames", {}) or {}
        df = frames.get(name, pd.DataFrame())
    if df is None or not len(df) or "t_s" not in df:
        return pd.DataFrame()
    df = df.sort_values("t_s", kind="stable")
    return df.drop_duplicates("t_s", keep="last").reset_index(drop=True)


def _federate_info(results: Any, name: str) -> dict[str, Any]:
    try:
        return dict(results.federate_info(name) or {})
    except (AttributeError, OSError, ValueError):
        return {}


def _dig(d: dict[str, Any], path: str) -> Any:
    """``d["a"]["b"]`` or ``d["a.b"]`` for ``path == "a.b"``; None when absent."""
    if path in d:
        return d[path]
    node: Any = d
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _col(df: pd.DataFrame, name: str) -> np.ndarray | None:
    if name in df and df[name].notna().any():
        return df[name].to_numpy(dtype=float)
    return None


def _t(df: pd.DataFrame) -> np.ndarray:
    return df["t_s"].to_numpy(dtype=float)


# ---------------------------------------------------------------- helpers


def jsonable(obj: Any) -> Any:
    """Plain JSON data: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return str(obj)


def write_summary_json(summary: dict[str, Any], path: Path | str) -> Path:
    """Write a summary as indented JSON (NaN/inf as null)."""
    path = Path(path)
    path.write_text(json.dumps(jsonable(summary), indent=2, allow_nan=False))
    return path


class _Sections:
    """Runs each metric section; a failure leaves its keys null and adds a note."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def run(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - one bad metric must not lose the summary
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            self.notes.append(
                f"{name}: not computed ({type(exc).__name__}: {exc} at {Path(tb.filename).name}:{tb.lineno})"
            )


def _site_rating_mw(case: Any) -> float | None:
    f = getattr(case, "factory", None)
    return float(f.it_mw * f.pue) if f is not None else None


# ---------------------------------------------------------------- main


@dataclass
class NetworkContext:
    """What the summary needs from the case's network alone (not from the run's series).

    net : the transmission network without the site (``grid.load_scale`` applied),
        or None when it did not load
    v_pre_pu : pre-connection bus voltages [pu] by bus id (empty unless
        ``requirements.voltage_preexisting = "attribute"``)
    scr : :func:`cosim.metrics.grid_strength.short_circuit_ratio` at the POI, or None
    notes : one line per part that failed
    """

    net: Any = None
    v_pre_pu: dict[str, float] = field(default_factory=dict)
    scr: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


_CONTEXTS: dict[
    str, NetworkContext
] = {}  # in-process cache (a sweep worker runs many cases on one network)
_CONTEXTS_MAX = 4


def _context_key(case: Any) -> str | None:
    """What a :class:`NetworkContext` depends on; None when it cannot be cached."""
    try:
        spec = Path(case.grid.network).expanduser()
        path = spec if spec.is_absolute() else Path(case.base_dir) / spec
        stamp = path.stat().st_mtime_ns if spec.suffix and path.is_file() else None
        req = case.requirements
        return json.dumps(
            [
                case.grid.network,
                str(case.base_dir),
                stamp,
                case.grid.load_scale,
                int(case.factory.poi_bus),
                _site_rating_mw(case),
                req.voltage_preexisting,
                req.short_circuit.model_dump(mode="json"),
            ],
            default=str,
        )
    except Exception:  # noqa: BLE001 - an uncacheable case is computed afresh
        return None


def network_context(case: Any, net: Any = None, *, cached: bool = False) -> NetworkContext:
    """Load the case's network and compute the pre-connection voltages and the SCR; never raises.

    It depends on the case's network, POI, site rating and requirements only, so
    :func:`cosim.engine.runner.run_case` computes it while the federation runs, reuses it
    for the baseline run, and keeps the last few in memory for the next runs of
    a sweep worker (``cached``). A cached network is shared: callers copy it
    before changing it.
    """
    if case is None:
        return NetworkContext(net=net)
    if getattr(case, "dynamic", False):  # the transmission network is the dynamic case's
        return NetworkContext(net=net, notes=["SCR and N-1 not computed on a dynamic case"])
    key = _context_key(case) if net is None and cached else None
    if key is not None and key in _CONTEXTS:
        return _CONTEXTS[key]
    ctx = _compute_network_context(case, net)
    if key is not None and ctx.net is not None and not ctx.notes:
        while len(_CONTEXTS) >= _CONTEXTS_MAX:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[key] = ctx
    return ctx


def _compute_network_context(case: Any, net: Any) -> NetworkContext:
    ctx = NetworkContext(net=net)
    req: RequirementsConfig = case.requirements
    if ctx.net is None:
        try:
            from federates.grid.network import scaled_network

            ctx.net = scaled_network(case.grid.network, case.base_dir, case.grid.load_scale)
        except Exception as exc:  # noqa: BLE001 - SCR / N-1 / pre-existing checks are skipped, not the summary
            ctx.notes.append(f"network not loaded for SCR / N-1 ({type(exc).__name__}: {exc})")
            return ctx
    sec = _Sections()
    if req.voltage_preexisting == "attribute":
        sec.run(
            "pre-connection voltages", lambda: ctx.v_pre_pu.update(_preconnection_voltages(ctx.net))
        )

    def scr() -> None:
        from cosim.metrics.grid_strength import short_circuit_ratio

        ctx.scr = short_circuit_ratio(
            ctx.net, int(case.factory.poi_bus), _site_rating_mw(case) or 0.0, req.short_circuit
        )

    sec.run("scr", scr)
    ctx.notes += sec.notes
    return ctx


def build_summary(
    results: Any, case: Any = None, *, net: Any = None, context: NetworkContext | None = None
) -> dict[str, Any]:
    """The content of summary.json for a run.

    Parameters
    ----------
    results : :class:`cosim.engine.results.Results` (``.frame(name)``, ``.info``,
        ``.federate_info(name)``, ``.case``); a failed run's partial results too
    case : the run's :class:`cosim.case.Case` (default ``results.case``)
    net : the transmission network without the site, for the SCR and the N-1
        screening (default: loaded from ``case.grid.network``; when that fails
        both are null with a note)
    context : a :func:`network_context` of ``case`` computed beforehand (then
        ``net`` is ignored)

    Returns
    -------
    dict with the keys of the foundation issue (``status``, ``steps``,
    ``wall_s``, ``poi``, ``bess``, ``grid``) and ``verdict``, ``checks``,
    ``ride_through``, ``frequency``, ``oltc``, ``site``, ``n1``,
    ``requirements`` (every limit with its unit and source) and ``notes``.
    """
    case = case if case is not None else getattr(results, "case", None)
    req: RequirementsConfig = case.requirements if case is not None else RequirementsConfig()
    info = dict(getattr(results, "info", None) or {})
    status = str(info.get("status", "unknown"))
    t_end = float(case.horizon.duration_s) if case is not None and status == "ok" else None

    fac, hr = _frame(results, "factory"), _frame(results, "factory_hr")
    nets = {n: _frame(results, n) for n in NETWORKS}
    nets = {n: df for n, df in nets.items() if len(df)}
    freq = _frame(results, "frequency")
    fac_info = _federate_info(results, "factory")

    s: dict[str, Any] = {
        "status": status,
        "steps": _steps(info, results, fac, nets),
        "wall_s": finite_or_none(info.get("wall_s")),
        "verdict": None,
        "case": _case_info(case),
        "poi": {},
        "site": {},
        "bess": {},
        "grid": {},
        "ride_through": {},
        "frequency": {},
        "oltc": {},
        "n1": None,
        "checks": [],
        "requirements": req.table(),
        "notes": [],
    }
    if info.get("error") or info.get("reason"):
        s["error"] = info.get("error") or info.get("reason")
    sec = _Sections()
    p_src = hr if "p_mw" in hr else fac  # finest POI power series
    s["poi"]["power_series"] = (
        "factory_hr" if p_src is hr and len(hr) else ("factory" if len(fac) else None)
    )
    v_t, v_pu, v_name = _poi_voltage(fac, nets)
    s["poi"]["voltage_series"] = v_name

    sec.run("poi power", lambda: _poi_power(s, req, case, fac, p_src, t_end))
    sec.run("poi voltage", lambda: _poi_voltage_quality(s, req, v_t, v_pu, t_end))
    sec.run("spectrum", lambda: _spectrum(s, req, p_src, t_end))
    sec.run("site", lambda: _site(s, req, p_src, t_end))
    sec.run("bess", lambda: _bess(s, case, fac, hr, fac_info, t_end))
    ctx = context if context is not None else network_context(case, net)
    net = ctx.net
    sec.notes += ctx.notes
    v_pre = ctx.v_pre_pu
    sec.run("grid voltage", lambda: _grid_voltage(s, req, case, nets, t_end, v_pre))
    sec.run("grid thermal", lambda: _grid_thermal(s, req, nets, t_end))
    sec.run("grid losses", lambda: _grid_losses(s, nets, t_end))
    sec.run("ride-through", lambda: _ride_through(s, req, v_t, v_pu, p_src, fac, t_end))
    sec.run("frequency", lambda: _frequency(s, req, freq))
    sec.run("oltc", lambda: _oltc(s, nets))
    if getattr(case, "dynamic", False):
        from cosim.analysis.dynamics import dynamics_section

        def _dyn() -> None:
            s["dynamics"] = dynamics_section(case, nets.get("transmission"))

        sec.run("dynamics", _dyn)
    if net is not None and case is not None:
        if ctx.scr is not None:
            _scr(s, case, ctx.scr)
        if req.n1_screening:
            sec.run("n1", lambda: _n1(s, req, case, net, fac))
    s.setdefault("poi", {}).setdefault("scr", None)
    s["notes"] = sec.notes + s["notes"]
    s["checks"] = _checks(s, req, case)
    if s.get("dynamics"):
        from cosim.analysis.dynamics import dynamics_checks

        s["checks"] += dynamics_checks(s["dynamics"], req)
    limits = [c for c in s["checks"] if c["kind"] == "limit"]
    ok = status == "ok" and all(c["passed"] is not False for c in limits)
    s["verdict"] = "pass" if ok else "fail"
    return jsonable(s)


def _steps(
    info: dict[str, Any], results: Any, fac: pd.DataFrame, nets: dict[str, pd.DataFrame]
) -> int | None:
    if info.get("steps") is not None:
        return int(info["steps"])
    for name in ("transmission", "factory"):
        st = _federate_info(results, name).get("steps")
        if st is not None:
            return int(st)
    frames = [df for df in (fac, *nets.values()) if len(df)]
    return max(len(df) for df in frames) if frames else 0


def _case_info(case: Any) -> dict[str, Any]:
    if case is None:
        return {}
    return {
        "name": case.name,
        "bess_enabled": bool(case.bess.enabled),
        "bess_p_mw": float(case.bess.p_mw),
        "bess_e_mwh": float(case.bess.e_mwh),
        "site_rating_mw": _site_rating_mw(case),
        "poi_bus": int(case.factory.poi_bus),
        "network": case.grid.network,
        "duration_s": float(case.horizon.duration_s),
    }


def _poi_voltage(
    fac: pd.DataFrame, nets: dict[str, pd.DataFrame]
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    for name in NETWORKS:
        df = nets.get(name)
        if df is not None and (v := _col(df, "poi_vm_pu")) is not None:
            ok = network.valid_rows(df)
            return _t(df), np.where(ok, v, np.nan), f"{name}.poi_vm_pu"
    if (v := _col(fac, "vm_pu")) is not None:
        return _t(fac), v, "factory.vm_pu"
    return np.empty(0), None, None


# ---------------------------------------------------------------- sections


def _poi_power(
    s: dict,
    req: RequirementsConfig,
    case: Any,
    fac: pd.DataFrame,
    src: pd.DataFrame,
    t_end: float | None,
) -> None:
    p = s["poi"]
    p.update(p_max_mw=None, p_min_mw=None, p_mean_mw=None, energy_mwh=None)
    if "p_mw" not in src:
        return
    t = _t(src)
    ext = poi.power_extremes(t, src["p_mw"], t_end)
    p.update(
        {
            k: ext[k]
            for k in ("p_max_mw", "p_max_t_s", "p_min_mw", "p_min_t_s", "p_mean_mw", "energy_mwh")
        }
    )
    if src is fac:  # grid-step series: the interval extremes are finer than the means
        if (mx := _col(fac, "p_max_mw")) is not None:
            p["p_max_mw"] = max(p["p_max_mw"], float(np.nanmax(mx)))
        if (mn := _col(fac, "p_min_mw")) is not None:
            p["p_min_mw"] = min(p["p_min_mw"], float(np.nanmin(mn)))
    r1 = poi.ramp_rates(t, src["p_mw"], 1.0, t_end)
    rw = poi.ramp_rates(t, src["p_mw"], req.ramp_window_s, t_end)
    p.update(
        ramp_max_mw_per_s=r1["max_mw_per_s"],
        ramp_p99_mw_per_s=r1["p99_mw_per_s"],
        ramp_max_mw_per_min=rw["max_mw_per_min"],
        ramp_p99_mw_per_min=rw["p99_mw_per_min"],
        ramp_max_t_s=rw["t_max_s"],
        ramp_window_s=req.ramp_window_s,
    )
    if len(fac) and "p_mw" in fac and "q_mvar" in fac:
        rating = _site_rating_mw(case) or 0.0
        pf = poi.power_factor(
            _t(fac),
            fac["p_mw"],
            fac["q_mvar"],
            req.pf_lag_min,
            req.pf_lead_min,
            s_min_mva=req.pf_min_load_percent / 100.0 * rating,
            t_end_s=t_end,
        )
        p.update(
            pf_min_lag=pf["pf_min_lag"],
            pf_min_lead=pf["pf_min_lead"],
            pf_out_of_band_percent=pf["out_of_band_percent"],
        )
        q = fac["q_mvar"].to_numpy(dtype=float)
        p.update(q_max_mvar=finite_or_none(np.nanmax(q)), q_min_mvar=finite_or_none(np.nanmin(q)))


def _poi_voltage_quality(
    s: dict, req: RequirementsConfig, t: np.ndarray, v: np.ndarray | None, t_end: float | None
) -> None:
    p = s["poi"]
    p.update(v_min_pu=None, v_max_pu=None, rvc_max_percent=None, pst_max=None, plt=None)
    if v is None or not np.isfinite(v).any():
        return
    p.update(v_min_pu=float(np.nanmin(v)), v_max_pu=float(np.nanmax(v)))
    band = (req.ride_through_v_min_pu, req.ride_through_v_max_pu)
    rvc = poi.rapid_voltage_change(t, v, req.rvc_window_s, band, t_end)
    p.update(rvc_max_percent=rvc["max_percent"], rvc_max_t_s=rvc["t_max_s"])
    fl = poi.flicker_severity(t, v, v_band_pu=band, t_end_s=t_end)
    p.update(pst_max=fl["pst_max"], plt=fl["plt"], flicker_excluded_s=fl["excluded_s"])


def _spectrum(s: dict, req: RequirementsConfig, src: pd.DataFrame, t_end: float | None) -> None:
    p = s["poi"]
    keys = [f"osc_rms_{k}_mw" for k in poi.OSC_BANDS_HZ]
    p.update(dict.fromkeys(keys), osc_rms_limit_band_mw=None)
    if "p_mw" not in src:
        return
    bands = {**poi.OSC_BANDS_HZ, "limit_band": tuple(req.osc_band_hz)}
    ob = poi.oscillation_bands(_t(src), src["p_mw"], bands, t_end)
    p.update(
        {k: ob[k] for k in keys},
        osc_rms_limit_band_mw=ob["osc_rms_limit_band_mw"],
        osc_band_hz=list(req.osc_band_hz),
        spectrum_nyquist_hz=ob["nyquist_hz"],
        spectrum_bands_truncated=ob["bands_truncated"],
    )


def _site(s: dict, req: RequirementsConfig, src: pd.DataFrame, t_end: float | None) -> None:
    """The site's own power (before the BESS): what the BESS had to absorb."""
    st = s["site"]
    if "p_site_mw" not in src:
        return
    t = _t(src)
    ext = poi.power_extremes(t, src["p_site_mw"], t_end)
    rw = poi.ramp_rates(t, src["p_site_mw"], req.ramp_window_s, t_end)
    ob = poi.oscillation_bands(t, src["p_site_mw"], {"0p2_3hz": poi.OSC_BANDS_HZ["0p2_3hz"]}, t_end)
    st.update(
        p_max_mw=ext["p_max_mw"],
        p_min_mw=ext["p_min_mw"],
        ramp_max_mw_per_min=rw["max_mw_per_min"],
        osc_rms_0p2_3hz_mw=ob["osc_rms_0p2_3hz_mw"],
    )
    s["poi"]["osc_attenuation_0p2_3hz_db"] = poi.attenuation_db(
        ob["osc_rms_0p2_3hz_mw"], s["poi"].get("osc_rms_0p2_3hz_mw")
    )


def _bess(
    s: dict, case: Any, fac: pd.DataFrame, hr: pd.DataFrame, fac_info: dict, t_end: float | None
) -> None:
    b = s["bess"]
    b.update(enabled=bool(case.bess.enabled) if case is not None else None)
    src = hr if "p_bess_mw" in hr else fac
    e_mwh = float(case.bess.e_mwh) if case is not None else float("nan")
    soc_src = fac if "soc" in fac else hr
    w = wear.bess_wear(
        _t(src) if len(src) else np.empty(0), _col(src, "p_bess_mw"), None, e_mwh, t_end
    )
    ws = wear.bess_wear(np.empty(0), None, _col(soc_src, "soc"), e_mwh, t_end)
    b.update({k: w[k] for k in ("throughput_mwh", "charge_mwh", "discharge_mwh", "efc")})
    b.update({k: ws[k] for k in ("soc_start", "soc_end", "soc_drift", "rainflow_depth_hist")})
    b.update(soc_min=ws["soc_min"], soc_max=ws["soc_max"])
    if (soc_hr := _col(hr, "soc")) is not None:  # finer extremes
        b.update(soc_min=float(np.nanmin(soc_hr)), soc_max=float(np.nanmax(soc_hr)))
    b["source"] = "computed from " + ("factory_hr" if src is hr else "factory")
    for key in ("efc", "throughput_mwh"):  # the model's own figures (full resolution) win
        val = _dig(fac_info, f"bess.{key}")
        if val is not None:
            b[key] = val
            b["source"] = "factory model (factory.info.json)"
    hist, edges = _dig(fac_info, "bess.rainflow_hist"), _dig(fac_info, "bess.rainflow_bin_edges")
    if isinstance(hist, list) and isinstance(edges, list) and len(edges) == len(hist) + 1:
        b["rainflow_depth_hist"] = {"edges": edges, "cycles": hist}
    if _col(fac, "clipped_mw") is not None:
        b["clipped_mwh"] = network.energy_loss_mwh(fac, t_end, "clipped_mw")
    if (err := _dig(fac_info, "bess.energy_balance_error_mwh")) is not None:
        b["energy_balance_error_mwh"] = err


def _selected_buses(req: RequirementsConfig, case: Any, name: str) -> list[int] | None:
    if req.voltage_buses == "all":
        return None
    if req.voltage_buses == "poi":
        return [int(case.factory.poi_bus)] if case is not None and name == "transmission" else []
    return list(req.voltage_buses) if name == "transmission" else []


def _merge_bands(
    parts: dict[str, dict[str, Any]], worst_key: str, value_key: str
) -> dict[str, Any]:
    """Combine per-network band statistics; element names become ``network:element``."""
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
        out["max_episode_s"] = max(out["max_episode_s"], r["max_episode_s"])
        out["violated"] += r.get("buses_violated", r.get("branches_violated", 0))
        out["episodes"] += [{**e, "element": f"{name}:{e['element']}"} for e in r["episodes"]]
    out["episodes"].sort(key=lambda e: -e["excess"])
    out["episodes"] = out["episodes"][:20]
    if out["episodes"]:
        w = out["episodes"][0]
        out.update(worst=w["element"], worst_value=w["worst"], worst_t_s=w["t_worst_s"])
    out[worst_key] = out.pop("worst")
    out[value_key] = out.pop("worst_value")
    return out


def _preconnection_voltages(net: Any) -> dict[str, float]:
    """Bus voltages [pu] of the case's network without the site (one power flow)."""
    import pandapower as pp

    pre = copy.deepcopy(net)
    pp.runpp(pre, numba=False, enforce_q_lims=True)
    return {str(b): float(v) for b, v in pre.res_bus.vm_pu.items()}


def _grid_voltage(
    s: dict,
    req: RequirementsConfig,
    case: Any,
    nets: dict[str, pd.DataFrame],
    t_end: float | None,
    v_pre: dict[str, float] | None = None,
) -> None:
    g = s["grid"]
    g.update(v_min_pu=None, v_max_pu=None)
    allv = {n: network.voltage_band(df, -np.inf, np.inf, t_end) for n, df in nets.items()}
    mins = [
        (r["v_min_pu"], f"{n}:{r['v_min_bus']}", r["v_min_t_s"])
        for n, r in allv.items()
        if r["v_min_pu"] is not None
    ]
    maxs = [
        (r["v_max_pu"], f"{n}:{r['v_max_bus']}", r["v_max_t_s"])
        for n, r in allv.items()
        if r["v_max_pu"] is not None
    ]
    if mins:
        v, bus, t = min(mins)
        g.update(v_min_pu=v, v_min_bus=bus, v_min_t_s=t)
    if maxs:
        v, bus, t = max(maxs)
        g.update(v_max_pu=v, v_max_bus=bus, v_max_t_s=t)
    g["buses"] = sum(r["buses"] for r in allv.values())
    for key, lo, hi in (
        ("range_a", req.v_range_a_min_pu, req.v_range_a_max_pu),
        ("range_b", req.v_range_b_min_pu, req.v_range_b_max_pu),
    ):
        parts = {}
        pre = network.preexisting_violations(v_pre or {}, lo, hi)
        for n, df in nets.items():
            buses = _selected_buses(req, case, n)
            if buses == []:
                continue
            if n == "transmission" and pre:
                recorded = [int(b) for b in network.bus_voltages(df)] if buses is None else buses
                buses = [b for b in recorded if str(b) not in pre]
                g[f"{key}_preexisting"] = {
                    "buses": {b: round(v_pre[b], 6) for b in pre},
                    **network.worsening(df, v_pre, pre),
                }
            parts[n] = network.voltage_band(df, lo, hi, t_end, buses=buses)
        if req.voltage_buses == "poi" and not parts:
            continue
        merged = _merge_bands(parts, "worst_bus", "worst_vm_pu")
        merged["buses_checked"] = sum(r["buses"] for r in parts.values())
        sel = [(n, r) for n, r in parts.items() if r["v_min_pu"] is not None]
        lo_at = min(
            ((r["v_min_pu"], f"{n}:{r['v_min_bus']}", r["v_min_t_s"]) for n, r in sel), default=None
        )
        hi_at = max(
            ((r["v_max_pu"], f"{n}:{r['v_max_bus']}", r["v_max_t_s"]) for n, r in sel), default=None
        )
        merged["v_min_pu"], merged["v_min_bus"], merged["v_min_t_s"] = lo_at or (None, None, None)
        merged["v_max_pu"], merged["v_max_bus"], merged["v_max_t_s"] = hi_at or (None, None, None)
        g[key] = merged
    g["nonconverged_steps"] = {n: int((~network.valid_rows(df)).sum()) for n, df in nets.items()}


def _grid_thermal(
    s: dict, req: RequirementsConfig, nets: dict[str, pd.DataFrame], t_end: float | None
) -> None:
    g = s["grid"]
    g["loading_max_percent"] = None
    parts = {
        n: network.thermal_loading(
            df, req.thermal_max_percent, t_end, req.thermal_emergency_percent
        )
        for n, df in nets.items()
    }
    parts = {n: r for n, r in parts.items() if r["branches"]}
    best = [
        (r["loading_max_percent"], f"{n}:{r['loading_max_branch']}", r["loading_max_t_s"])
        for n, r in parts.items()
        if r["loading_max_percent"] is not None
    ]
    if best:
        v, br, t = max(best)
        g.update(loading_max_percent=v, loading_max_branch=br, loading_max_t_s=t)
    th = _merge_bands(parts, "worst_branch", "worst_loading_percent")
    th["branches"] = sum(r["branches"] for r in parts.values())
    if req.thermal_emergency_percent is not None:
        th["emergency_count"] = sum(r.get("emergency_count", 0) for r in parts.values())
    g["thermal"] = th


def _grid_losses(s: dict, nets: dict[str, pd.DataFrame], t_end: float | None) -> None:
    g = s["grid"]
    parts = {n: network.energy_loss_mwh(df, t_end) for n, df in nets.items()}
    parts = {n: v for n, v in parts.items() if v is not None}
    g["losses_mwh"] = sum(parts.values()) if parts else None
    g["losses_mwh_by_network"] = parts


def _ride_through(
    s: dict,
    req: RequirementsConfig,
    v_t: np.ndarray,
    v: np.ndarray | None,
    src: pd.DataFrame,
    fac: pd.DataFrame,
    t_end: float | None,
) -> None:
    r = s["ride_through"]
    r.update(events=None, mw_lost_max=None, recovery_s_max=None, all_recovered=None)
    if (ob := _col(fac, "on_backup")) is not None:
        r["load_transfers"] = events.transfers(ob)
    if v is None or "p_mw" not in src:
        return
    ok = np.isfinite(v)
    rt = events.ride_through(
        v_t[ok],
        v[ok],
        _t(src),
        src["p_mw"],
        req.ride_through_v_min_pu,
        req.ride_through_v_max_pu,
        req.recovery_fraction,
        req.recovery_time_max_s,
        req.ride_through_window_s,
        req.ride_through_pre_s,
        t_end,
    )
    r.update(
        events=rt["events"],
        mw_lost_max=rt["mw_lost_max"],
        recovery_s_max=rt["recovery_s_max"],
        all_recovered=rt["all_recovered"],
        event_list=rt["event_list"][:50],
    )


def _frequency(s: dict, req: RequirementsConfig, freq: pd.DataFrame) -> None:
    f = s["frequency"]
    f.update(nadir_hz=None, zenith_hz=None, rocof_max_hz_per_s=None)
    if (fh := _col(freq, "f_hz")) is None:
        return
    st = events.frequency_stats(_t(freq), fh, _col(freq, "rocof_hz_per_s"), req.rocof_window_s)
    f.update(st)


def _oltc(s: dict, nets: dict[str, pd.DataFrame]) -> None:
    o = s["oltc"]
    o["tap_ops"] = None
    per: dict[str, int] = {}
    for n, df in nets.items():
        r = wear.tap_operations(df)
        per.update({f"{n}:{k}": v for k, v in r["per_trafo"].items()})
    if per:
        o.update(tap_ops=int(sum(per.values())), per_trafo=per)


def _scr(s: dict, case: Any, r: dict[str, Any]) -> None:
    rating = _site_rating_mw(case)
    s["poi"].update(
        scr=r["scr"],
        s_sc_mva=r["s_sc_mva"],
        sc_rx_ratio=r["rx_ratio"],
        scr_site_rating_mw=rating,
        sc_defaults_applied=r["defaults_applied"],
    )


def _n1(s: dict, req: RequirementsConfig, case: Any, net: Any, fac: pd.DataFrame) -> None:
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


# ---------------------------------------------------------------- checks


def _check(
    req: RequirementsConfig,
    cid: str,
    name: str,
    value: Any,
    limit_field: str | None,
    passed: bool | None,
    *,
    limit: Any = None,
    unit: str | None = None,
    source: str | None = None,
    note: str = "",
    where: str | None = None,
    t_s: float | None = None,
) -> dict:
    """One check; ``where`` (an element, ``network:bus`` or "POI") and ``t_s`` (simulated time [s])
    say where and when the judged value occurred, when the metric knows."""
    if limit_field is not None:
        lim = req.limit(limit_field)
        limit = lim.value if limit is None else limit
        unit = lim.unit if unit is None else unit
        source = lim.source if source is None else source
    if value is None and passed is None and not note:
        note = "not applicable: no data"
    return {
        "id": cid,
        "name": name,
        "value": value,
        "limit": list(limit) if isinstance(limit, tuple) else limit,
        "unit": unit or "",
        "source": source or "",
        "passed": passed,
        "kind": "info" if cid in req.informational else "limit",
        "note": note,
        "where": where if value is not None else None,
        "t_s": finite_or_none(t_s) if value is not None else None,
    }


def _le(v: Any, lim: float) -> bool | None:
    return None if v is None else bool(v <= lim + 1e-12)


def _ge(v: Any, lim: float) -> bool | None:
    return None if v is None else bool(v >= lim - 1e-12)


def _checks(s: dict, req: RequirementsConfig, case: Any) -> list[dict]:
    P, G, B = s["poi"], s["grid"], s["bess"]
    c = [
        _check(
            req,
            "run",
            "Run completed",
            s["status"],
            None,
            s["status"] == "ok",
            limit="ok",
            unit="-",
            source="cosim",
            note=str(s.get("error") or ""),
        )
    ]
    nonconv = G.get("nonconverged_steps")
    if nonconv is not None:
        bad = sum(nonconv.values())
        c.append(
            _check(
                req,
                "converged",
                "Power flow converged at every step",
                bad,
                None,
                bad == 0,
                limit=0,
                unit="steps",
                source="cosim",
                note=", ".join(f"{n}: {k}" for n, k in nonconv.items() if k) or "all converged",
            )
        )
    ramp = P.get("ramp_max_mw_per_min")
    c.append(
        _check(
            req,
            "ramp",
            f"POI ramp over {req.ramp_window_s:g} s",
            ramp,
            "ramp_max_mw_per_min",
            _le(ramp, req.ramp_max_mw_per_min),
            where="POI",
            t_s=P.get("ramp_max_t_s"),
        )
    )
    c.append(
        _check(
            req,
            "rvc",
            "POI rapid voltage change",
            P.get("rvc_max_percent"),
            "rvc_max_percent",
            _le(P.get("rvc_max_percent"), req.rvc_max_percent),
            where="POI",
            t_s=P.get("rvc_max_t_s"),
        )
    )
    pf_lag, pf_lead = P.get("pf_min_lag"), P.get("pf_min_lead")
    c.append(
        _check(
            req,
            "pf_lag",
            "POI power factor, lagging (min)",
            pf_lag,
            "pf_lag_min",
            _ge(pf_lag, req.pf_lag_min),
            note="" if pf_lag is not None else "not applicable: no lagging sample",
        )
    )
    c.append(
        _check(
            req,
            "pf_lead",
            "POI power factor, leading (min)",
            pf_lead,
            "pf_lead_min",
            _ge(pf_lead, req.pf_lead_min),
            note="" if pf_lead is not None else "not applicable: no leading sample",
        )
    )
    scope = (
        {"all": "all recorded buses", "poi": "POI bus"}.get(str(req.voltage_buses), "listed buses")
        if isinstance(req.voltage_buses, str)
        else "listed buses"
    )
    for key, letter in (("range_a", "A"), ("range_b", "B")):
        rng = G.get(key) or {}
        lo_f, hi_f = f"v_range_{letter.lower()}_min_pu", f"v_range_{letter.lower()}_max_pu"
        vmin, vmax = rng.get("v_min_pu"), rng.get("v_max_pu")
        for cid, nm, v, fld, fn, side in (
            (f"v_range_{letter.lower()}_min", "min", vmin, lo_f, _ge, "low"),
            (f"v_range_{letter.lower()}_max", "max", vmax, hi_f, _le, "high"),
        ):
            worst = [e for e in rng.get("episodes") or [] if e["kind"] == side]
            extra = f"; worst {worst[0]['element']}" if worst else ""
            n, dur = rng.get(f"count_{side}", 0), rng.get(f"duration_{side}_s", 0.0)
            if worst:  # the worst episode on this side
                where, t_at = worst[0]["element"], worst[0]["t_worst_s"]
            else:  # no episode: the extreme over the judged buses
                where, t_at = rng.get(f"v_{nm}_bus"), rng.get(f"v_{nm}_t_s")
            chk = _check(
                req,
                cid,
                f"Bus voltage {nm}, ANSI Range {letter} ({scope})",
                v,
                fld,
                fn(v, getattr(req, fld)),
                note=f"{n} episodes, {dur:.1f} bus-s {'below' if side == 'low' else 'above'}{extra}"
                if v is not None
                else "",
                where=where,
                t_s=t_at,
            )
            if letter != req.voltage_range and cid not in req.informational:
                chk["kind"] = "info"  # the other range is reported, the chosen one decides
            c.append(chk)
    pre = G.get(f"range_{req.voltage_range.lower()}_preexisting")
    if pre:
        w = pre.get("worsening_pu")
        c.append(
            _check(
                req,
                "v_preexisting",
                f"Worsening at pre-existing Range {req.voltage_range} violations",
                w,
                "voltage_worsening_max_pu",
                _le(w, req.voltage_worsening_max_pu),
                note=f"{len(pre['buses'])} buses outside the band before the site connects; "
                f"worst bus {pre.get('bus')}",
                where=f"transmission:{pre['bus']}" if pre.get("bus") is not None else None,
            )
        )
    lmax = G.get("loading_max_percent")
    th = G.get("thermal") or {}
    if req.thermal_emergency_percent is None:
        c.append(
            _check(
                req,
                "thermal",
                "Branch loading (max)",
                lmax,
                "thermal_max_percent",
                _le(lmax, req.thermal_max_percent),
                note=f"worst {G.get('loading_max_branch')}" if lmax is not None else "",
                where=G.get("loading_max_branch"),
                t_s=G.get("loading_max_t_s"),
            )
        )
    else:
        longest = th.get("max_episode_s") if lmax is not None else None
        c.append(
            _check(
                req,
                "thermal",
                "Longest time above normal rating",
                longest,
                "thermal_emergency_max_s",
                _le(longest, req.thermal_emergency_max_s),
                note=f"normal rating {req.thermal_max_percent:g} %",
            )
        )
        c.append(
            _check(
                req,
                "thermal_emergency",
                "Branch loading vs emergency rating",
                lmax,
                "thermal_emergency_percent",
                _le(lmax, req.thermal_emergency_percent),
                where=G.get("loading_max_branch"),
                t_s=G.get("loading_max_t_s"),
            )
        )
    c.append(
        _check(
            req,
            "pst",
            "Flicker Pst (estimate, max)",
            P.get("pst_max"),
            "pst_max",
            _le(P.get("pst_max"), req.pst_max),
            where="POI",
        )
    )
    c.append(
        _check(
            req,
            "plt",
            "Flicker Plt (estimate)",
            P.get("plt"),
            "plt_max",
            _le(P.get("plt"), req.plt_max),
        )
    )
    rt = s["ride_through"]
    if rt.get("events"):
        rec = rt.get("recovery_s_max")
        passed = rt.get("all_recovered")
        c.append(
            _check(
                req,
                "ride_through_recovery",
                f"Recovery to {100 * req.recovery_fraction:g} % of pre-disturbance load",
                rec,
                "recovery_time_max_s",
                passed,
                note=f"{rt['events']} disturbance(s), max {_fmt(rt.get('mw_lost_max'))} MW lost"
                + (
                    "" if rec is not None or passed is None else "; not recovered within the window"
                ),
            )
        )
    else:
        c.append(
            _check(
                req,
                "ride_through_recovery",
                "Recovery after a disturbance",
                None,
                "recovery_time_max_s",
                None,
                note="not applicable: no voltage disturbance" if rt.get("events") == 0 else "",
            )
        )
    F = s["frequency"]
    c.append(
        _check(
            req,
            "f_min",
            "Frequency nadir",
            F.get("nadir_hz"),
            "f_min_hz",
            _ge(F.get("nadir_hz"), req.f_min_hz),
            note="" if F.get("nadir_hz") is not None else "not applicable: no frequency federate",
        )
    )
    c.append(
        _check(
            req,
            "f_max",
            "Frequency zenith",
            F.get("zenith_hz"),
            "f_max_hz",
            _le(F.get("zenith_hz"), req.f_max_hz),
            note="" if F.get("zenith_hz") is not None else "not applicable: no frequency federate",
        )
    )
    osc = P.get("osc_rms_limit_band_mw")
    lo_hz, hi_hz = req.osc_band_hz
    if req.osc_limit_mw is not None:
        osc_lim, osc_src = req.osc_limit_mw, req.limit("osc_limit_mw").source
    else:
        ref = (
            float(case.bess.p_mw)
            if case is not None and case.bess.p_mw > 0
            else (_site_rating_mw(case) or 0.0)
        )
        osc_lim = req.osc_limit_percent_of_bess / 100.0 * ref
        osc_src = f"{req.osc_limit_percent_of_bess:g} % of {ref:g} MW; {req.limit('osc_limit_percent_of_bess').source}"
    nyq = P.get("spectrum_nyquist_hz")
    cut = f"band cut at Nyquist {nyq:g} Hz" if nyq is not None and lo_hz < nyq < hi_hz else ""
    c.append(
        _check(
            req,
            "osc",
            f"POI power RMS in {lo_hz:g}-{hi_hz:g} Hz",
            osc,
            None,
            _le(osc, osc_lim),
            limit=osc_lim,
            unit="MW",
            source=osc_src,
            note=cut,
            where="POI",
        )
    )
    bess_on = case is not None and case.bess.enabled
    if bess_on and B.get("soc_min") is not None:
        lo, hi = case.bess.soc_min, case.bess.soc_max
        inside = B["soc_min"] >= lo - 1e-6 and B["soc_max"] <= hi + 1e-6
        c.append(
            _check(
                req,
                "soc_window",
                "BESS SOC inside its window",
                [B["soc_min"], B["soc_max"]],
                None,
                bool(inside),
                limit=[lo, hi],
                unit="1",
                source="case bess.soc_min / bess.soc_max (docs/domain.md 20-80 %)",
            )
        )
        c.append(
            _check(
                req,
                "soc_drift",
                "BESS SOC drift |end - start|",
                abs(B["soc_drift"]),
                "soc_drift_max",
                _le(abs(B["soc_drift"]), req.soc_drift_max),
            )
        )
    else:
        why = "not applicable: BESS disabled" if case is not None and not case.bess.enabled else ""
        c.append(
            _check(
                req,
                "soc_window",
                "BESS SOC inside its window",
                None,
                None,
                None,
                unit="1",
                source="case bess.soc_min / bess.soc_max",
                note=why,
            )
        )
        c.append(
            _check(
                req,
                "soc_drift",
                "BESS SOC drift |end - start|",
                None,
                "soc_drift_max",
                None,
                note=why,
            )
        )
    scr = P.get("scr")
    c.append(
        _check(
            req,
            "scr",
            "Short-circuit ratio at the POI",
            scr,
            "scr_weak",
            _ge(scr, req.scr_weak),
            note=(
                f"S_sc {_fmt(P.get('s_sc_mva'))} MVA / {_fmt(P.get('scr_site_rating_mw'))} MW; "
                f"{'weak grid' if scr < req.scr_weak else 'not weak'}"
                + ("; short-circuit data partly assumed" if P.get("sc_defaults_applied") else "")
            )
            if scr is not None
            else "not computed: network not available",
        )
    )
    if req.n1_screening:
        n1 = s.get("n1")
        v = None if n1 is None else n1["outages_with_violations"]
        rng = req.voltage_range
        c.append(
            _check(
                req,
                "n1",
                "N-1 outages with violations",
                v,
                None,
                None if v is None else v == 0,
                limit=0,
                unit="outages",
                source=f"NERC TPL-001 (N-1), judged against ANSI C84.1 Range {rng} and "
                f"{req.thermal_max_percent:g} % loading",
                note=""
                if n1 is None
                else f"worst: {n1['worst_outage']} ({n1['outages_screened']} screened)",
            )
        )
    return c


def _fmt(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3g}"
