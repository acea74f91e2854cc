"""The July-2024 sag train through a real federation: PCS current limit and the site's load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cosim import run_case

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def july_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first two sags (0.25 pu for 42 ms at 20 s, 0.40 pu for 66 ms at 26.5 s)."""
    from cosim.case import load_case

    out = tmp_path_factory.mktemp("run") / "july"
    first_two = [e.model_dump(mode="json") for e in load_case("july2024_sags").events[:2]]
    run_case("july2024_sags", out, horizon__duration_s=30, events=first_two, outputs__report=False)
    return out


def test_bess_apparent_power_within_its_current_limit_below_0p9_pu(july_run: Path) -> None:
    fac = pd.read_parquet(july_run / "timeseries" / "factory.parquet")
    case_bess = {"s_mva": 110.0, "overload_factor": 1.2}  # the case's PCS (defaults)
    v = fac["vm_pu"].to_numpy()
    s = np.hypot(fac["p_bess_mw"], fac["q_bess_mvar"]).to_numpy()
    low = v < 0.9
    assert low.sum() > 50  # the sags are in the record at 1 ms
    limit = v[low] * case_bess["s_mva"] * case_bess["overload_factor"]
    assert np.all(s[low] <= 1.02 * limit)
    # reactive current first: the BESS injects Q in every fault step
    assert np.all(fac["q_bess_mvar"].to_numpy()[low] < 0)


def test_deepest_sag_site_draws_at_most_60_percent_or_has_transferred(july_run: Path) -> None:
    fac = pd.read_parquet(july_run / "timeseries" / "factory.parquet")
    t, v = fac["t_s"].to_numpy(), fac["vm_pu"].to_numpy()
    p_site = fac["p_site_mw"].to_numpy()
    deepest = v <= v.min() + 1e-9
    pre = p_site[(t >= 18.0) & (t < 19.7)].mean()  # pre-event draw
    on_backup = fac["on_backup"].to_numpy()[deepest]
    assert np.all((p_site[deepest] <= 0.6 * pre) | (on_backup >= 0.999))
    info = json.loads((july_run / "timeseries" / "factory.info.json").read_text())
    # the 66 ms sag at 0.40 pu crosses the UPS curve (V < 0.85 pu for > 50 ms): one transfer
    assert info["site.backup_transfers"] == 1.0
    assert info["site.transfers_ups_curve"] == 1.0 and info["site.transfers_dip_counter"] == 0.0
