"""What the BESS failed vs what the site or grid made impossible, and by how much.

For each test the suite knows the POI trajectory that would have passed (the
"target": the site's power low-passed, ramp-limited, held through a
disturbance, capped by a demand-response call). An ideal BESS must deliver
``target - p_site`` (MW, + = charging, load convention as everywhere). From
that request, computed on the site power the run recorded, follow:

* the power rating needed: ``max |target - p_site|`` [MW];
* the energy rating needed [MWh]: the ideal storage
  ``dE/dt = eta_c * r+ - r- / eta_d`` starting at ``soc_init`` must stay in
  ``[soc_min, soc_max]``, so ``E_nom >= max(depth / (soc_init - soc_min),
  height / (soc_max - soc_init))`` with ``depth`` / ``height`` the largest fall /
  rise of ``E`` from its start.

A failed test is then classified (:func:`classify`):

* ``"grid"``: the criterion found the cause outside the site (the network
  violates limits without the site, or cannot carry it);
* ``"site"``: the site itself causes it whatever the BESS does (e.g. its mean
  import alone adds N-1 violations: a BESS moves energy in time, not the mean);
* ``"rating"``: the request exceeds the rating: the site's swing is too large
  for this BESS; the report says by how much power and energy must grow;
* ``"bess"``: the rating was enough and the BESS (its controls) still failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cosim.metrics._series import durations_s

#: relative margin before a need counts as exceeding the rating (model round-off, lag)
RATING_TOL = 0.02


@dataclass(frozen=True)
class Need:
    """The rating an ideal BESS needs to make the target trajectory happen."""

    p_mw: float  # largest |request| [MW]
    e_mwh: float  # nominal energy rating needed with the spec's SOC window [MWh]
    discharge_mwh: float  # largest stored-energy fall from the start [MWh]
    charge_mwh: float  # largest stored-energy rise from the start [MWh]
    basis: str  # what the target was

    def as_dict(self) -> dict[str, Any]:
        return {
            "p_mw": self.p_mw,
            "e_mwh": self.e_mwh,
            "discharge_mwh": self.discharge_mwh,
            "charge_mwh": self.charge_mwh,
            "basis": self.basis,
        }


def required_rating(
    t_s: np.ndarray,
    p_site_mw: np.ndarray,
    target_mw: np.ndarray,
    *,
    eta_charge: float,
    eta_discharge: float,
    soc_init: float,
    soc_min: float,
    soc_max: float,
    basis: str = "",
    t_end_s: float | None = None,
) -> Need:
    """Power and energy an ideal BESS needs so that the POI follows ``target_mw``.

    Parameters
    ----------
    t_s : instants [s] (step-held samples)
    p_site_mw : site power before the BESS [MW]
    target_mw : POI power that passes the test [MW]
    eta_charge, eta_discharge : efficiencies (their product is the round trip)
    soc_init, soc_min, soc_max : SOC start and window [fraction]
    """
    t = np.asarray(t_s, dtype=float)
    r = np.nan_to_num(np.asarray(target_mw, dtype=float) - np.asarray(p_site_mw, dtype=float))
    if not r.size:
        return Need(0.0, 0.0, 0.0, 0.0, basis)
    dur = durations_s(t, t_end_s)
    de = np.where(r > 0, eta_charge * r, r / eta_discharge) * dur / 3600.0
    e = np.concatenate([[0.0], np.cumsum(de)])
    depth = float(max(-e.min(), 0.0))
    height = float(max(e.max(), 0.0))
    need_e = 0.0
    if depth > 0:
        need_e = max(need_e, depth / max(soc_init - soc_min, 1e-9))
    if height > 0:
        need_e = max(need_e, height / max(soc_max - soc_init, 1e-9))
    return Need(float(np.max(np.abs(r))), need_e, depth, height, basis)


def classify(
    passed: bool | None,
    cause: str | None,
    need: Need | None,
    p_rated_mw: float,
    e_rated_mwh: float,
    overload_factor: float = 1.0,
) -> dict[str, Any] | None:
    """The shortfall record of a test (None for a pass or a test not judged).

    ``overload_factor`` (e.g. 1.2 for 10 s) is not counted as rating: a need
    above the continuous rating is a shortfall even when the overload covered
    part of it; the record says so.
    """
    if passed is not False:
        return None
    out: dict[str, Any] = {
        "category": None,
        "explanation": "",
        "need": need.as_dict() if need else None,
        "rated": {"p_mw": p_rated_mw, "e_mwh": e_rated_mwh},
        "grow_p_mw": 0.0,
        "grow_e_mwh": 0.0,
    }
    if cause == "grid":
        out["category"] = "grid"
        out["explanation"] = "the network fails the limit for reasons outside the site and its BESS"
        return out
    if cause == "site":
        out["category"] = "site"
        out["explanation"] = (
            "the site's own (mean) load causes it: no BESS rating or control removes it"
        )
        return out
    if need is None:
        out["category"] = "bess"
        out["explanation"] = (
            "the BESS did not meet the criterion (no rating analysis for this test)"
        )
        return out
    grow_p = need.p_mw - p_rated_mw
    grow_e = need.e_mwh - e_rated_mwh
    short_p = grow_p > RATING_TOL * max(p_rated_mw, 1e-9)
    short_e = grow_e > RATING_TOL * max(e_rated_mwh, 1e-9)
    if short_p or short_e:
        out["category"] = "rating"
        out["grow_p_mw"] = max(grow_p, 0.0)
        out["grow_e_mwh"] = max(grow_e, 0.0)
        parts = []
        if short_p:
            parts.append(
                f"power {need.p_mw:.1f} MW needed vs {p_rated_mw:g} MW rated (+{grow_p:.1f} MW, "
                f"x{need.p_mw / max(p_rated_mw, 1e-9):.2f})"
            )
        if short_e:
            parts.append(
                f"energy {need.e_mwh:.2f} MWh needed vs {e_rated_mwh:g} MWh rated "
                f"(+{grow_e:.2f} MWh)"
            )
        extra = (
            f"; the {overload_factor:g}x short overload does not count as rating"
            if overload_factor > 1 and short_p
            else ""
        )
        out["explanation"] = (
            "the site demands more than this BESS's rating: "
            + "; ".join(parts)
            + f" ({need.basis}){extra}"
        )
    else:
        out["category"] = "bess"
        out["explanation"] = (
            f"the rating suffices ({need.p_mw:.1f} MW / {need.e_mwh:.2f} MWh needed vs "
            f"{p_rated_mw:g} MW / {e_rated_mwh:g} MWh) but the BESS and its controls did not "
            f"meet the criterion ({need.basis})"
        )
    return out


def describe(record: dict[str, Any] | None) -> str:
    """One line for the report."""
    if not record:
        return ""
    cat = {
        "grid": "GRID",
        "site": "SITE",
        "rating": "RATING TOO SMALL",
        "bess": "BESS / CONTROLS",
    }.get(record["category"], "?")
    return f"{cat}: {record['explanation']}"
