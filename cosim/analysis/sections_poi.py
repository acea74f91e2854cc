"""Summary sections of the site and its point of interconnection.

Each function fills one section of the summary dict ``s`` from the run's frames
(POI power and voltage, spectrum, the site's own power, BESS, ride-through,
frequency); a section whose data is absent keeps its keys null.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cosim.analysis import voltage_quality
from cosim.analysis.frames import col, dig, site_rating_mw, times
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics import events, network, poi, wear
from cosim.metrics._series import finite_or_none


def poi_power(
    s: dict,
    req: RequirementsConfig,
    case: Any,
    fac: pd.DataFrame,
    src: pd.DataFrame,
    t_end: float | None,
) -> None:
    """``poi``: extremes, energy, ramps, power factor and reactive range of POI power."""
    p = s["poi"]
    p.update(p_max_mw=None, p_min_mw=None, p_mean_mw=None, energy_mwh=None)
    if "p_mw" not in src:
        return
    t = times(src)
    p.update(poi.power_extremes(t, src["p_mw"], t_end).as_dict())
    if src is fac:  # grid-step series: the interval extremes are finer than the means
        if (mx := col(fac, "p_max_mw")) is not None:
            p["p_max_mw"] = max(p["p_max_mw"], float(np.nanmax(mx)))
        if (mn := col(fac, "p_min_mw")) is not None:
            p["p_min_mw"] = min(p["p_min_mw"], float(np.nanmin(mn)))
    r1 = poi.ramp_rates(t, src["p_mw"], 1.0, t_end)
    rw = poi.ramp_rates(t, src["p_mw"], req.ramp_window_s, t_end)
    p.update(
        ramp_max_mw_per_s=r1.max_mw_per_s,
        ramp_p99_mw_per_s=r1.p99_mw_per_s,
        ramp_max_mw_per_min=rw.max_mw_per_min,
        ramp_p99_mw_per_min=rw.p99_mw_per_min,
        ramp_max_t_s=rw.t_max_s,
        ramp_window_s=req.ramp_window_s,
    )
    if len(fac) and "p_mw" in fac and "q_mvar" in fac:
        rating = site_rating_mw(case) or 0.0
        pf = poi.power_factor(
            times(fac),
            fac["p_mw"],
            fac["q_mvar"],
            req.pf_lag_min,
            req.pf_lead_min,
            s_min_mva=req.pf_min_load_percent / 100.0 * rating,
            t_end_s=t_end,
        )
        p.update(
            pf_min_lag=pf.pf_min_lag,
            pf_min_lead=pf.pf_min_lead,
            pf_out_of_band_percent=pf.out_of_band_percent,
        )
        q = fac["q_mvar"].to_numpy(dtype=float)
        p.update(q_max_mvar=finite_or_none(np.nanmax(q)), q_min_mvar=finite_or_none(np.nanmin(q)))


def poi_voltage_quality(
    s: dict,
    req: RequirementsConfig,
    case: Any,
    t: np.ndarray,
    v: np.ndarray | None,
    t_end: float | None,
    series: str | None,
    dynamic: bool = False,
) -> None:
    """``poi``: voltage extremes, rapid voltage change and flicker, with their basis.

    See :mod:`cosim.analysis.voltage_quality` for when flicker and RVC are
    assessed (POI voltage at 0.1 s or finer) or screening.
    """
    p = s["poi"]
    p.update(v_min_pu=None, v_max_pu=None, rvc_max_percent=None, pst_max=None, plt=None)
    if v is None or not np.isfinite(v).any():
        return
    p.update(v_min_pu=float(np.nanmin(v)), v_max_pu=float(np.nanmax(v)))
    band = (req.ride_through_v_min_pu, req.ride_through_v_max_pu)
    rvc = poi.rapid_voltage_change(t, v, req.rvc_window_s, band, t_end)
    basis, note = voltage_quality.rvc_basis(t, series)
    p.update(
        rvc_max_percent=rvc.max_percent,
        rvc_max_t_s=rvc.t_max_s,
        voltage_step_s=voltage_quality.series_step_s(t),
        rvc_basis=basis,
        rvc_note=note,
    )
    f_nom = float(case.frequency.f_nom_hz) if case is not None else 60.0
    p.update(
        voltage_quality.flicker_figures(
            t,
            v,
            series or "POI voltage",
            dynamic=dynamic,
            f_nom_hz=f_nom,
            v_band_pu=band,
            t_end_s=t_end,
        )
    )


def spectrum(s: dict, req: RequirementsConfig, src: pd.DataFrame, t_end: float | None) -> None:
    """``poi``: RMS of POI power in the reporting bands and in the limit band."""
    p = s["poi"]
    keys = [f"osc_rms_{k}_mw" for k in poi.OSC_BANDS_HZ]
    p.update(dict.fromkeys(keys), osc_rms_limit_band_mw=None)
    if "p_mw" not in src:
        return
    bands = {**poi.OSC_BANDS_HZ, "limit_band": tuple(req.osc_band_hz)}
    ob = poi.oscillation_bands(times(src), src["p_mw"], bands, t_end)
    p.update(
        {f"osc_rms_{k}_mw": ob.rms_mw[k] for k in poi.OSC_BANDS_HZ},
        osc_rms_limit_band_mw=ob.rms_mw["limit_band"],
        osc_band_hz=list(req.osc_band_hz),
        spectrum_nyquist_hz=ob.nyquist_hz,
        spectrum_bands_truncated=list(ob.bands_truncated),
    )


def site(s: dict, req: RequirementsConfig, src: pd.DataFrame, t_end: float | None) -> None:
    """``site``: the site's own power (before the BESS): what the BESS had to absorb."""
    st = s["site"]
    if "p_site_mw" not in src:
        return
    t = times(src)
    ext = poi.power_extremes(t, src["p_site_mw"], t_end)
    rw = poi.ramp_rates(t, src["p_site_mw"], req.ramp_window_s, t_end)
    ob = poi.oscillation_bands(t, src["p_site_mw"], {"0p2_3hz": poi.OSC_BANDS_HZ["0p2_3hz"]}, t_end)
    st.update(
        p_max_mw=ext.p_max_mw,
        p_min_mw=ext.p_min_mw,
        ramp_max_mw_per_min=rw.max_mw_per_min,
        osc_rms_0p2_3hz_mw=ob.rms_mw["0p2_3hz"],
    )
    s["poi"]["osc_attenuation_0p2_3hz_db"] = poi.attenuation_db(
        ob.rms_mw["0p2_3hz"], s["poi"].get("osc_rms_0p2_3hz_mw")
    )


def bess(
    s: dict, case: Any, fac: pd.DataFrame, hr: pd.DataFrame, fac_info: dict, t_end: float | None
) -> None:
    """``bess``: throughput, cycles and SOC; the factory model's own figures win."""
    b = s["bess"]
    b.update(enabled=bool(case.bess.enabled) if case is not None else None)
    src = hr if "p_bess_mw" in hr else fac
    e_mwh = float(case.bess.e_mwh) if case is not None else float("nan")
    soc_src = fac if "soc" in fac else hr
    t = times(src) if len(src) else np.empty(0)
    w = wear.bess_wear(t, col(src, "p_bess_mw"), None, e_mwh, t_end).as_dict()
    ws = wear.bess_wear(np.empty(0), None, col(soc_src, "soc"), e_mwh, t_end).as_dict()
    b.update({k: w[k] for k in ("throughput_mwh", "charge_mwh", "discharge_mwh", "efc")})
    b.update({k: ws[k] for k in ("soc_start", "soc_end", "soc_drift", "rainflow_depth_hist")})
    b.update(soc_min=ws["soc_min"], soc_max=ws["soc_max"])
    if (soc_hr := col(hr, "soc")) is not None:  # finer extremes
        b.update(soc_min=float(np.nanmin(soc_hr)), soc_max=float(np.nanmax(soc_hr)))
    b["source"] = "computed from " + ("factory_hr" if src is hr else "factory")
    for key in ("efc", "throughput_mwh"):  # the model's own figures (full resolution) win
        val = dig(fac_info, f"bess.{key}")
        if val is not None:
            b[key] = val
            b["source"] = "factory model (factory.info.json)"
    hist, edges = dig(fac_info, "bess.rainflow_hist"), dig(fac_info, "bess.rainflow_bin_edges")
    if isinstance(hist, list) and isinstance(edges, list) and len(edges) == len(hist) + 1:
        b["rainflow_depth_hist"] = {"edges": edges, "cycles": hist}
    if col(fac, "clipped_mw") is not None:
        b["clipped_mwh"] = network.energy_loss_mwh(fac, t_end, "clipped_mw")
    if (err := dig(fac_info, "bess.energy_balance_error_mwh")) is not None:
        b["energy_balance_error_mwh"] = err


def ride_through(
    s: dict,
    req: RequirementsConfig,
    v_t: np.ndarray,
    v: np.ndarray | None,
    src: pd.DataFrame,
    fac: pd.DataFrame,
    t_end: float | None,
) -> None:
    """``ride_through``: voltage disturbances at the POI, load lost and recovery."""
    r = s["ride_through"]
    r.update(events=None, mw_lost_max=None, recovery_s_max=None, all_recovered=None)
    if (ob := col(fac, "on_backup")) is not None:
        r["load_transfers"] = events.transfers(ob)
    if v is None or "p_mw" not in src:
        return
    ok = np.isfinite(v)
    rt = events.ride_through(
        v_t[ok],
        v[ok],
        times(src),
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
        events=rt.events,
        mw_lost_max=rt.mw_lost_max,
        recovery_s_max=rt.recovery_s_max,
        all_recovered=rt.all_recovered,
        event_list=[e.as_dict() for e in rt.event_list[:50]],
    )


def frequency(s: dict, req: RequirementsConfig, case: Any, freq: pd.DataFrame) -> None:
    """``frequency``: nadir, zenith and RoCoF of the frequency federate, and its model's base."""
    f = s["frequency"]
    f.update(nadir_hz=None, zenith_hz=None, rocof_max_hz_per_s=None)
    cfg = getattr(case, "frequency", None)
    if cfg is not None:
        name = getattr(cfg, "interconnection", "none")
        if name != "none":
            base = f"the {name} interconnection preset (federates.grid.interconnections)"
        elif cfg.s_base_mva is not None:
            base = "the case's frequency.s_base_mva and h_s"
        else:
            base = "the study network's own generation (an island of the study network's size)"
        f.update(
            interconnection=name,
            s_base_mva=cfg.s_base_mva,
            h_s=cfg.h_s,
            system_base_source=base,
        )
    if (fh := col(freq, "f_hz")) is None:
        return
    st = events.frequency_stats(times(freq), fh, col(freq, "rocof_hz_per_s"), req.rocof_window_s)
    f.update(st.as_dict())


def dynamics(s: dict, req: RequirementsConfig, dyn: pd.DataFrame, t_end: float | None) -> None:
    """``dynamics``: what a dynamic grid federate recorded (POI power oscillation in the band)."""
    d = s.setdefault("dynamics", {})
    d["steps"] = len(dyn)
    d["step_s"] = voltage_quality.series_step_s(times(dyn))
    if "poi_p_mw" in dyn and dyn["poi_p_mw"].notna().any():
        band = {"limit_band": tuple(req.osc_band_hz)}
        ob = poi.oscillation_bands(times(dyn), dyn["poi_p_mw"], band, t_end)
        d["osc_rms_limit_band_mw"] = ob.rms_mw["limit_band"]
