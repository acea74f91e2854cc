"""The default exchange (60 s sync blocks where nothing voltage-sensitive acts) vs every step.

Tolerances on the default case (a real federation, 10 min): POI and site voltage
1e-4 pu, every branch loading 0.01 % points, POI P and Q 0.05 MW / Mvar. The
site's composite load (ZIP and motor parts) depends on the voltage it is given,
which a block holds for up to 60 s: measured differences are about 2e-6 pu. The
lag shows fully in the voltage the factory recorded as its input: up to the
change of the site voltage over one block.

Every other bundled quasi-static case exchanges every step by default (volt-var
can respond, a frequency federate, T&D iterations), so its default *is* the
every-step exchange.
"""

from __future__ import annotations

import numpy as np
import pytest

from cosim import run_case
from cosim.case import load_case
from cosim.engine.exchange import DEFAULT_SYNC_INTERVAL_S, exchange_interval

pytestmark = pytest.mark.integration

V_TOL_PU = 1e-4
LOADING_TOL_PERCENT = 1e-2
PQ_TOL = 0.05


def test_default_exchange_matches_every_step(tmp_path) -> None:
    kw = {"horizon__duration_s": 600, "outputs__report": False}
    case = load_case("ieee118_factory", {"horizon.duration_s": 600.0})
    assert exchange_interval(case)[0] == DEFAULT_SYNC_INTERVAL_S
    blocks = run_case("ieee118_factory", tmp_path / "default", **kw)
    every = run_case("ieee118_factory", tmp_path / "every", horizon__sync_interval_s=1.0, **kw)
    assert blocks.case.horizon.sync_interval_s == DEFAULT_SYNC_INTERVAL_S
    ta, tb = blocks.frame("transmission"), every.frame("transmission")
    fa, fb = blocks.frame("factory"), every.frame("factory")
    assert len(ta) == len(tb) == 600
    for col in ("poi_vm_pu", "site_vm_pu"):
        assert np.max(np.abs(ta[col] - tb[col])) <= V_TOL_PU
    lc = [c for c in ta.columns if c.startswith("loading_percent.")]
    assert np.nanmax(np.abs(ta[lc].to_numpy() - tb[lc].to_numpy())) <= LOADING_TOL_PERCENT
    for col in ("p_mw", "q_mvar"):
        assert np.max(np.abs(fa[col] - fb[col])) <= PQ_TOL
    # the lag: inside a block the factory holds the previous block's last site voltage
    held = fa["vm_pu"].to_numpy()
    assert (held[:60] == 1.0).all() and (held[60:120] == ta["site_vm_pu"].iloc[59]).all()


@pytest.mark.parametrize(
    "name",
    ["training_heavy", "inference_heavy", "trace_driven", "july2024_sags", "td_cigre_mv"],
)
def test_other_quasi_static_cases_exchange_every_step(name: str) -> None:
    case = load_case(name)
    assert exchange_interval(case)[0] == case.horizon.grid_dt_s
