"""A BESS spec: the BESS (and controls) part of a case file, plus the suite's options.

A spec is a TOML file like any case file. Its tables are deep-merged onto the
reference case (``[qualify] reference``, default the bundled
``ieee118_factory``): a spec with only ``[bess]`` and ``[controls]`` tests that
BESS at the reference site; a full case file works too and replaces whatever
it sets (site, network, requirements). Each test then adds its own stimulus
(training profile, events, calls, grid) on top; a spec's own ``events`` and
demand-response calls are replaced by the test's.

Suite options and per-test parameters live under ``[qualify]``::

    [bess]
    p_mw = 100.0
    e_mwh = 100.0

    [qualify]
    reference = "ieee118_factory"      # bundled case name or a path (relative to the spec)
    wall_limit_s = 1800                # per federation, optional

    [qualify.weak_grid]                # the weak grid of Q9 (see cosim.studies.qualify.weakgrid)
    scr = 2.0
    rx_ratio = 0.5

    [qualify.Q1]                       # thresholds and stimulus figures of one test
    osc_limit_percent = 1.5
    sources = { osc_limit_percent = "utility X agreement, 2026" }

:func:`cosim.studies.qualify.spec_loader.load_spec` reads a spec file; the
merged case is validated before anything runs (a bad key is a
:class:`cosim.errors.CaseError`, one line per problem).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cosim.case import Case, apply_overrides, case_from_dict

#: tables a BESS-only spec may hold (anything else makes it a full case)
SPEC_TABLES = ("name", "description", "bess", "controls", "qualify")


class WeakGridConfig(BaseModel):
    """The weak reference grid (Q9). Defaults: docs/domain.md grid-strength row, R/X assumed."""

    model_config = ConfigDict(extra="forbid")

    scr: float = Field(
        2.0,
        gt=0,
        description="short-circuit ratio S_sc / site POI peak; NVIDIA test 5 (docs/domain.md)",
    )
    rx_ratio: float = Field(
        0.5,
        ge=0,
        description="R/X of the Thevenin impedance; 'high R/X' of NVIDIA test 5, assumed 0.5 "
        "(138 kV lines ~0.1). "
        "At 1.0 a 300 MW site cannot be supplied at SCR 2 at all",
    )
    vn_kv: float = Field(138.0, gt=0, description="POI voltage level [kV] (as the reference POI)")
    v_source_pu: float = Field(1.0, gt=0, description="Thevenin source voltage [pu]")
    compensate: bool = Field(
        True,
        description="POI capacitors: a fixed part for the site's lowest slow import and a "
        "switched bank up to its highest (assumed: a utility requires compensation of a large "
        "load on a weak grid)",
    )
    v_target_pu: float = Field(
        1.0, gt=0, description="POI voltage the compensation is sized for [pu]"
    )
    bank_step_mvar: float = Field(
        10.0, gt=0, description="switched bank step [Mvar] (assumed; ~1.5 % of V at SCR 2)"
    )
    bank_v_band_pu: tuple[float, float] = Field(
        (0.97, 1.03), description="bank switching band [pu] (assumed)"
    )
    bank_delay_s: float = Field(5.0, ge=0, description="bank switching delay [s] (assumed)")
    network: str | None = Field(None, description="use this network file instead (with poi_bus)")
    poi_bus: int | None = Field(None, ge=0, description="POI bus of `network`")


class QualifyOptions(BaseModel):
    """``[qualify]`` without the per-test tables."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field("ieee118_factory", description="reference case: bundled name or path")
    wall_limit_s: float | None = Field(
        None, gt=0, description="wall-clock limit of each federation [s]"
    )
    weak_grid: WeakGridConfig = WeakGridConfig()


@dataclass
class QualifySpec:
    """A validated spec: merged case data, suite options and per-test tables."""

    name: str
    source: str | None
    base_dir: Path
    case_data: dict[str, Any]
    options: QualifyOptions
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    full_case: bool = False

    def case(self, overrides: dict[str, Any] | None = None) -> Case:
        """The reference case with this spec and ``overrides`` (dotted keys) applied, validated."""
        data = copy.deepcopy(self.case_data)
        if overrides:
            data = apply_overrides(data, dict(overrides))
        return case_from_dict(data, self.base_dir, self.source)

    def test_table(self, test_id: str) -> dict[str, Any]:
        return dict(self.tests.get(test_id, {}))


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` onto ``base``: tables merge key by key, anything else (lists too) replaces."""
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
