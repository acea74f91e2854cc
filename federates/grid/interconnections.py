"""Interconnection presets for the aggregate frequency model (pure data, no helics).

A site's frequency is that of the synchronous interconnection it sits in, not of
the study network's own generation: a 100 MW step barely moves the Eastern
Interconnection but is 4 % of a 2.5 GW island. Each preset gives the aggregate
system frequency response (SFR) parameters on the interconnection's online
generation (``s_base_gw``):

* ``kinetic_energy_gw_s``: stored rotating energy ``sum(H_i S_i)`` [GW s];
  ``h_s = kinetic_energy_gw_s / s_base_gw`` [s];
* ``d_pu``: load damping [pu P / pu f];
* ``droop_pu``, ``deadband_hz``: governor droop [pu f / pu P] and dead band [Hz];
* ``t_reheat_s``, ``f_hp``, ``t_gov_s``: the Anderson & Mirheydar reheat-turbine
  governor (reheat time constant [s], high-pressure fraction [-], valve lag [s]);
* ``resource_loss_mw``: the design-basis resource loss of NERC BAL-003 [MW],
  a sanity scale for the load steps a study applies.

Every figure names its source in :attr:`InterconnectionPreset.sources`; figures
not taken from a source are listed in :attr:`InterconnectionPreset.assumed`.
The frequency model using them is an aggregate (one frequency, no network):
its verdicts are screening, not assessment.

Sources
-------
* ERCOT, "Inertia: Basic Concepts and Impacts on the ERCOT Grid", April 2018:
  critical inertia 100 GW s (the system operating limit), lowest recorded
  inertia 130 GW s (27 Oct 2017), design contingency 2,750 MW.
* ERCOT news release, 10 Aug 2023: all-time peak demand 85,508 MW.
* NERC, Frequency Response Annual Analysis (BAL-003-1.1 informational filings
  to FERC, Docket RM13-11): Resource Loss Protection Criteria 4,500 MW
  (Eastern), 2,626 MW (Western, two Palo Verde units), 2,750 MW (Texas).
* NERC BAL-001-TRE-1 (Texas RE regional standard): governor droop no more than
  5 %, dead band no more than +/- 0.036 Hz; NERC Reliability Guideline "Primary
  Frequency Control" (2019) recommends the same for all interconnections.
* P. Kundur, "Power System Stability and Control", 1994: load damping D of
  1-2 % load change per 1 % frequency change (section 11.1); machine inertia
  constants H of 2.5-10 s for thermal units, 2-4 s for hydro (table 3.2).
* P. M. Anderson and M. Mirheydar, "A low-order system frequency response
  model", IEEE Trans. Power Systems 5(3), 1990: F_H = 0.3, T_R = 8 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_ERCOT_INERTIA = 'ERCOT, "Inertia: Basic Concepts and Impacts on the ERCOT Grid" (2018)'
_ERCOT_PEAK = "ERCOT news release, 10 Aug 2023 (peak demand 85,508 MW)"
_NERC_RLPC = "NERC Frequency Response Annual Analysis, BAL-003 Resource Loss Protection Criteria"
_GOV = 'NERC BAL-001-TRE-1; NERC Reliability Guideline "Primary Frequency Control" (2019)'
_KUNDUR_D = "Kundur (1994) sec. 11.1: D = 1-2 % per % (mid value)"
_AM = "Anderson & Mirheydar (1990)"
_ASSUMED = "assumed"


@dataclass(frozen=True)
class InterconnectionPreset:
    """Aggregate frequency-response parameters of one interconnection.

    Attributes
    ----------
    name : str
        Preset name (``"ERCOT"``, ``"Eastern"``, ``"Western"``).
    f_nom_hz : float
        Nominal frequency [Hz].
    s_base_gw : float
        Online generation of a representative (not peak) hour; the SFR base [GW].
    peak_demand_gw : float
        Peak demand, for scale [GW].
    kinetic_energy_gw_s : float
        Stored rotating kinetic energy of the online machines [GW s].
    d_pu : float
        Load damping [pu P / pu f].
    droop_pu : float
        Governor droop [pu f / pu P].
    deadband_hz : float
        Governor dead band [Hz].
    t_gov_s : float
        Governor / valve time constant [s].
    t_reheat_s : float
        Reheat time constant [s].
    f_hp : float
        High-pressure turbine fraction [-].
    resource_loss_mw : float
        Design-basis resource loss (NERC BAL-003 Resource Loss Protection Criteria) [MW].
    sources : Mapping[str, str]
        Source of each numeric attribute (``"assumed"`` when none).
    """

    name: str
    f_nom_hz: float
    s_base_gw: float
    peak_demand_gw: float
    kinetic_energy_gw_s: float
    d_pu: float
    droop_pu: float
    deadband_hz: float
    t_gov_s: float
    t_reheat_s: float
    f_hp: float
    resource_loss_mw: float
    sources: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def h_s(self) -> float:
        """Aggregate inertia constant on ``s_base_gw`` [s]."""
        return self.kinetic_energy_gw_s / self.s_base_gw

    @property
    def assumed(self) -> tuple[str, ...]:
        """Attributes not taken from a source."""
        return tuple(k for k, v in self.sources.items() if v.startswith(_ASSUMED))

    def frequency_config(self) -> dict[str, Any]:
        """Overrides for the aggregate frequency model's configuration (units as there)."""
        return {
            "f_nom_hz": self.f_nom_hz,
            "h_s": self.h_s,
            "d_pu": self.d_pu,
            "r_pu": self.droop_pu,
            "deadband_hz": self.deadband_hz,
            "t_gov_s": self.t_gov_s,
            "t_reheat_s": self.t_reheat_s,
            "f_hp": self.f_hp,
            "s_base_mva": self.s_base_gw * 1000.0,
        }


def _common(**over: str) -> dict[str, str]:
    s = {
        "f_nom_hz": "NERC: all three interconnections run at 60 Hz",
        "d_pu": _KUNDUR_D,
        "droop_pu": _GOV,
        "deadband_hz": _GOV,
        "t_gov_s": f"{_ASSUMED} (valve lag, as the frequency model's default)",
        "t_reheat_s": _AM,
        "f_hp": _AM,
        "resource_loss_mw": _NERC_RLPC,
    }
    s.update(over)
    return s


PRESETS: MappingProxyType[str, InterconnectionPreset] = MappingProxyType(
    {
        "ercot": InterconnectionPreset(
            name="ERCOT",
            f_nom_hz=60.0,
            s_base_gw=55.0,
            peak_demand_gw=85.5,
            kinetic_energy_gw_s=250.0,
            d_pu=1.5,
            droop_pu=0.05,
            deadband_hz=0.036,
            t_gov_s=0.2,
            t_reheat_s=8.0,
            f_hp=0.3,
            resource_loss_mw=2750.0,
            sources=MappingProxyType(
                _common(
                    s_base_gw=f"{_ASSUMED}: a mid-load hour, about 2/3 of the peak",
                    peak_demand_gw=_ERCOT_PEAK,
                    kinetic_energy_gw_s=(
                        f"{_ASSUMED}: a mid value above {_ERCOT_INERTIA}'s lowest recorded "
                        "130 GW s and critical 100 GW s"
                    ),
                    resource_loss_mw=f"{_NERC_RLPC}; {_ERCOT_INERTIA} (2,750 MW)",
                )
            ),
        ),
        "eastern": InterconnectionPreset(
            name="Eastern",
            f_nom_hz=60.0,
            s_base_gw=450.0,
            peak_demand_gw=650.0,
            kinetic_energy_gw_s=2000.0,
            d_pu=1.5,
            droop_pu=0.05,
            deadband_hz=0.036,
            t_gov_s=0.2,
            t_reheat_s=8.0,
            f_hp=0.3,
            resource_loss_mw=4500.0,
            sources=MappingProxyType(
                _common(
                    s_base_gw=f"{_ASSUMED}: a mid-load hour, about 2/3 of the peak",
                    peak_demand_gw=(
                        f"{_ASSUMED}: order of magnitude (about 70 % of North American "
                        "peak load, US and Canada)"
                    ),
                    kinetic_energy_gw_s=(
                        f"{_ASSUMED}: H about 4.5 s on s_base_gw, within Kundur (1994) "
                        "table 3.2 for a thermal-dominated fleet"
                    ),
                )
            ),
        ),
        "western": InterconnectionPreset(
            name="Western",
            f_nom_hz=60.0,
            s_base_gw=110.0,
            peak_demand_gw=165.0,
            kinetic_energy_gw_s=440.0,
            d_pu=1.5,
            droop_pu=0.05,
            deadband_hz=0.036,
            t_gov_s=0.2,
            t_reheat_s=8.0,
            f_hp=0.3,
            resource_loss_mw=2626.0,
            sources=MappingProxyType(
                _common(
                    s_base_gw=f"{_ASSUMED}: a mid-load hour, about 2/3 of the peak",
                    peak_demand_gw=(
                        f"{_ASSUMED}: order of magnitude of the WECC coincident peak "
                        "(US, Canada, Baja California)"
                    ),
                    kinetic_energy_gw_s=(
                        f"{_ASSUMED}: H about 4 s on s_base_gw (more hydro, H 2-4 s, "
                        "Kundur (1994) table 3.2)"
                    ),
                    resource_loss_mw=f"{_NERC_RLPC} (two Palo Verde units)",
                )
            ),
        ),
    }
)


def preset(name: str) -> InterconnectionPreset:
    """The preset of an interconnection by name (case-insensitive).

    Parameters
    ----------
    name : str
        ``"ERCOT"``, ``"Eastern"`` or ``"Western"``.

    Returns
    -------
    InterconnectionPreset

    Raises
    ------
    ValueError
        An unknown name; the message lists the allowed names.
    """
    key = str(name).strip().lower()
    if key not in PRESETS:
        allowed = ", ".join(p.name for p in PRESETS.values())
        raise ValueError(
            f"unknown interconnection {name!r}; allowed: {allowed} "
            "(or leave it unset to use the study network's own generation)"
        )
    return PRESETS[key]
