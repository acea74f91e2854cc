"""``summary.json`` -> ``dynamics``: the dynamic grid's response in a run (dynamic cases only).

Read from the ``transmission`` frame of the dynamic federate (one row per exchange
step): ``speed_dev_mhz.<gen>``, ``p_mw.<branch>``, ``poi_vm_pu``. Keys:

* ``speed_dev_pp_max_mhz``: peak-to-peak generator speed deviation, max over generators [mHz];
* ``branch_osc_max_mw``: peak-to-peak active power of a branch, max over branches [MW];
* ``poi_v_osc_percent``: peak-to-peak POI voltage over its mean [%];
* ``min_damping_ratio``: the least damped oscillatory mode (>= 0.1 Hz) at the initial point [-];
* ``defaults``: "typical" when the dynamic data are the documented typical values;
  ``typical_machines`` the machines that got them, ``rating_assumed`` those whose
  rating was guessed (see :mod:`federates.dynamics.from_pandapower`).

Checks (basis "assessed": the dynamic grid represents the electromechanical physics):
``damping`` (``requirements.damping_min``) and ``oscillation``
(``requirements.speed_osc_pp_max_mhz``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cosim.analysis.checks import Check, judge


def _cols(df: pd.DataFrame, prefix: str) -> list[str]:
    return [c for c in df.columns if c.startswith(prefix)]


def _ptp_max(df: pd.DataFrame, prefix: str) -> tuple[float | None, str | None]:
    cols = _cols(df, prefix)
    if not cols or not len(df):
        return None, None
    ptp = df[cols].max() - df[cols].min()
    name = str(ptp.idxmax())
    return float(ptp.max()), name.removeprefix(prefix)


def dynamics_section(case: Any, tr: pd.DataFrame | None) -> dict[str, Any]:
    """The ``dynamics`` keys of a run of a dynamic case (None where there is no data)."""
    from cosim.studies.modes import dynamic_grid, judged
    from federates.dynamics.modes import modes

    out: dict[str, Any] = {
        "engine": "tops (MIT)",
        "network": case.dynamics.case,
        "poi_bus": case.dynamics.poi_bus,
        "defaults": case.dynamics.defaults,
        "exchange_dt_s": case.horizon.grid_dt_s,
        "integration_dt_s": case.dynamics.dt_s,
    }
    tr = tr if tr is not None else pd.DataFrame()
    speed, gen = _ptp_max(tr, "speed_dev_mhz.")
    branch, br_name = _ptp_max(tr, "p_mw.")
    v_osc = None
    if "poi_vm_pu" in tr and len(tr):
        v = tr["poi_vm_pu"].to_numpy(dtype=float)
        v_osc = float(100 * np.ptp(v) / np.mean(v))
    out.update(
        speed_dev_pp_max_mhz=speed,
        speed_dev_pp_max_gen=gen,
        branch_osc_max_mw=branch,
        branch_osc_max_branch=br_name,
        poi_v_osc_percent=v_osc,
    )
    grid = dynamic_grid(case)
    out["typical_machines"] = grid.typical_machines
    out["rating_assumed"] = grid.rating_assumed
    found = judged(modes(grid))
    worst = min(found, key=lambda m: m.damping_ratio, default=None)
    out["min_damping_ratio"] = None if worst is None else worst.damping_ratio
    out["min_damping_freq_hz"] = None if worst is None else worst.freq_hz
    out["modes"] = [m.as_dict() for m in found if m.kind != "control"]
    return out


def dynamics_checks(d: dict[str, Any] | None, req: Any) -> list[Check]:
    """The ``damping`` and ``oscillation`` checks (basis "assessed": the dynamic grid has the
    machines that could oscillate); [] without data."""
    if not d:
        return []
    ratio, speed = d.get("min_damping_ratio"), d.get("speed_dev_pp_max_mhz")
    kind = lambda cid: "info" if cid in req.informational else "limit"  # noqa: E731
    checks = [
        Check(
            id="damping",
            name="Damping of oscillatory modes (min)",
            value=ratio,
            limit=req.damping_min,
            unit="1",
            source=req.limit("damping_min").source,
            passed=judge(ratio, req.damping_min, ">="),
            op=">=",
            kind=kind("damping"),
            note=f"least damped at {d.get('min_damping_freq_hz') or 0:.3f} Hz "
            "(linearised at t = 0)",
        ),
        Check(
            id="oscillation",
            name="Generator speed oscillation, peak to peak (max)",
            value=speed,
            limit=req.speed_osc_pp_max_mhz,
            unit="mHz",
            source=req.limit("speed_osc_pp_max_mhz").source,
            passed=judge(speed, req.speed_osc_pp_max_mhz, "<="),
            kind=kind("oscillation"),
            note="from the dynamic grid at the exchange step",
            where=d.get("speed_dev_pp_max_gen"),
        ),
    ]
    return checks
