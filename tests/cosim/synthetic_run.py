"""A synthetic run directory with the documented layout (no federation needed).

Shapes are chosen so that expected metrics can be worked out by hand:

* site power: 0.5 Hz square wave 180 <-> 300 MW (70 % duty, like a training job);
* POI power with the BESS: 240 MW flat except a load drop to 0 MW during a
  voltage sag at t = 60.00-60.10 s, back at t = 60.50 s (recovery 0.40 s after
  the voltage); without the BESS the POI sees the site power (and the drop);
* POI voltage ``1.0 - 0.02 * P / 300`` pu, 0.5 pu during the sag;
* five transmission buses, bus 3 at 0.94 pu (below Range A) during t = [30, 40) s;
* line 1 loaded 110 % during t = [80, 85) s, else 50 %; one OLTC tap moves
  0 -> 1 -> 2 -> 1 (3 operations); losses 5 MW;
* frequency 60 Hz with a dip to 59.9 Hz at the sag.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from cosim.case import Case, load_case

DURATION_S = 120.0
SITE_HI_MW, SITE_LO_MW, POI_FLAT_MW = 300.0, 180.0, 240.0
SAG = (60.0, 0.1)  # start, duration [s]
LOAD_BACK_S = 60.5


def site_power(t: np.ndarray) -> np.ndarray:
    """0.5 Hz square wave, 70 % at the high level."""
    phase = np.mod(t, 2.0) / 2.0
    return np.where(phase < 0.7, SITE_HI_MW, SITE_LO_MW)


def _dropped(t: np.ndarray) -> np.ndarray:
    return (t >= SAG[0]) & (t < LOAD_BACK_S)


def synthetic_case(bess: bool = True, extra_case: dict | None = None) -> Case:
    """The case of the synthetic run: 120 s on case9, a 100 ms sag at 60 s."""
    return load_case(
        {
            "name": "synthetic",
            "seed": 1,
            "horizon": {
                "duration_s": DURATION_S,
                "grid_dt_s": 1.0,
                "factory_dt_s": 0.05,
                "event_dt_s": 0.01,
                "event_margin_s": 1.0,
            },
            "factory": {"it_mw": 250.0, "pue": 1.2, "poi_bus": 4},
            "bess": {"enabled": bess, "p_mw": 100.0, "e_mwh": 100.0},
            "grid": {"network": "case9"},
            "events": [
                {"kind": "sag", "t_s": SAG[0], "duration_s": SAG[1], "bus": 4, "vm_pu": 0.5}
            ],
            **(extra_case or {}),
        }
    )


def make_run_dir(
    root: Path,
    *,
    bess: bool = True,
    frequency: bool = True,
    high_rate: bool = True,
    status: str = "ok",
    truncate_s: float | None = None,
    extra_case: dict | None = None,
) -> Path:
    """Write a run directory under ``root`` and return it.

    ``truncate_s`` cuts every series there (a failed run's partial results).
    """
    root.mkdir(parents=True, exist_ok=True)
    case = synthetic_case(bess, extra_case)
    (root / "case.toml").write_text(tomli_w.dumps({**case.to_dict(), "meta": {"seed": 1}}))
    ts = root / "timeseries"
    ts.mkdir(exist_ok=True)
    end = truncate_s if truncate_s is not None else DURATION_S

    # factory, internal step
    th = np.round(np.arange(0.0, end, 0.05), 9)
    p_site = site_power(th)
    p_poi = np.full_like(th, POI_FLAT_MW) if bess else p_site.copy()
    p_poi[_dropped(th)] = 0.0
    p_bess = p_poi - p_site if bess else np.zeros_like(th)
    p_bess[_dropped(th)] = 0.0
    soc = 0.55 + np.cumsum(p_bess * 0.05) / 3600.0 / 100.0
    hr = pd.DataFrame(
        {
            "t_s": th,
            "p_site_mw": p_site,
            "p_bess_mw": p_bess,
            "p_mw": p_poi,
            "q_mvar": 0.2 * p_poi,
            "soc": soc,
            "on_backup": _dropped(th).astype(float),
        }
    )
    if high_rate:
        hr.to_parquet(ts / "factory_hr.parquet")

    # grid step (refined around the sag)
    t = case.time_grid()
    t = t[t < end]
    ends = np.append(t[1:], min(end, DURATION_S))

    def interval_mean(x: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(x * 0.05)])
        knots = np.append(th, th[-1] + 0.05)
        return (np.interp(ends, knots, c) - np.interp(t, knots, c)) / (ends - t)

    p_mean = interval_mean(p_poi)
    sag = (t >= SAG[0]) & (t < SAG[0] + SAG[1])
    vm = np.where(sag, 0.5, 1.0 - 0.02 * p_mean / 300.0)
    fac = pd.DataFrame(
        {
            "t_s": t,
            "p_mw": p_mean,
            "q_mvar": 0.2 * p_mean,
            "p_max_mw": [
                p_poi[(th >= a) & (th < b)].max(initial=-np.inf)
                for a, b in zip(t, ends, strict=True)
            ],
            "p_min_mw": [
                p_poi[(th >= a) & (th < b)].min(initial=np.inf)
                for a, b in zip(t, ends, strict=True)
            ],
            "p_site_mw": interval_mean(p_site),
            "q_site_mvar": 0.2 * interval_mean(p_site),
            "p_bess_mw": interval_mean(p_bess),
            "q_bess_mvar": 0.0,
            "soc": np.interp(t, th, soc),
            "on_backup": interval_mean(_dropped(th).astype(float)),
            "clipped_mw": 0.0,
            "p_setpoint_mw": POI_FLAT_MW,
            "vm_pu": vm,
            "f_hz": 60.0,
        }
    )
    fac.to_parquet(ts / "factory.parquet")

    tr = {"t_s": t, "poi_vm_pu": vm, "converged": 1.0, "p_loss_mw": 5.0}
    for b in range(5):
        tr[f"vm_pu.{b}"] = np.full_like(t, 1.0 - 0.01 * b)
    tr["vm_pu.3"] = np.where((t >= 30) & (t < 40), 0.94, tr["vm_pu.3"])
    tr["vm_pu.4"] = vm
    tr["loading_percent.line.0"] = np.full_like(t, 40.0)
    tr["loading_percent.line.1"] = np.where((t >= 80) & (t < 85), 110.0, 50.0)
    tr["loading_percent.trafo.0"] = np.full_like(t, 70.0)
    tr["tap_pos.trafo.0"] = np.select([t < 20, t < 50, t < 90], [0.0, 1.0, 2.0], 1.0)
    pd.DataFrame(tr).to_parquet(ts / "transmission.parquet")

    if frequency:
        f = 60.0 - 0.1 * np.exp(-np.maximum(t - SAG[0], 0.0) / 2.0) * (t >= SAG[0])
        pd.DataFrame({"t_s": t, "f_hz": f, "rocof_hz_per_s": np.gradient(f, t)}).to_parquet(
            ts / "frequency.parquet"
        )

    (ts / "factory.info.json").write_text(json.dumps({"status": status, "steps": len(t)}))
    (ts / "transmission.info.json").write_text(json.dumps({"status": status, "steps": len(t)}))
    run = {
        "status": status,
        "wall_s": 1.5,
        "failed": None if status == "ok" else "transmission",
        "reason": "" if status == "ok" else "killed",
        "returncodes": {},
    }
    (root / "summary.json").write_text(json.dumps({"status": status, "wall_s": 1.5, "run": run}))
    (root / "logs").mkdir(exist_ok=True)
    return root
