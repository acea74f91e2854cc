"""Dynamic cases end to end: `cosim modes`, `cosim run` through the real broker, the July-2024
fault train as impedance faults, and the forced response of the Kundur system (issue 15)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cosim.case import load_case
from cosim.cli import main
from cosim.engine.runner import run_case
from cosim.studies.oscillation import training_point

pytestmark = pytest.mark.integration


def test_cosim_modes_kundur_factory(tmp_path, capsys):
    assert main(["modes", "kundur_factory", "-o", str(tmp_path)]) == 0
    found = json.loads((tmp_path / "modes.json").read_text())["modes"]
    inter = [m for m in found if m["kind"] == "inter-area"]
    local = [m for m in found if m["kind"] == "local"]
    assert len(inter) == 1 and 0.45 <= inter[0]["freq_hz"] <= 0.8
    assert len(local) == 2 and all(0.9 <= m["freq_hz"] <= 1.4 for m in local)
    assert set(found[0]) >= {"freq_hz", "damping_ratio", "participation", "kind"}
    assert "inter-area" in capsys.readouterr().out


def test_cosim_run_dynamic_case_through_the_broker(tmp_path):
    out = tmp_path / "run"
    rc = main(
        ["run", "kundur_factory", "--set", "horizon.duration_s=3", "--no-report", "-o", str(out)]
    )
    assert rc == 0
    tr = pd.read_parquet(out / "timeseries" / "transmission.parquet")
    assert {"speed_dev_mhz.G1", "angle_deg.G4", "poi_vm_pu"} <= set(tr.columns)
    assert np.allclose(np.diff(tr["t_s"]), 0.02)  # the dynamic step
    # the factory sees the dynamic grid's centre-of-inertia frequency (per unit on its 60 Hz)
    fac = pd.read_parquet(out / "timeseries" / "factory.parquet")
    assert fac["f_hz"].nunique() > 10 and (fac["f_hz"] - 60.0).abs().max() < 0.5
    coi = np.interp(fac["t_s"], tr["t_s"], tr["f_coi_hz"])
    assert np.corrcoef(fac["f_hz"][5:], coi[5:])[0, 1] > 0.9
    s = json.loads((out / "summary.json").read_text())
    d = s["dynamics"]
    for key in ("speed_dev_pp_max_mhz", "branch_osc_max_mw", "poi_v_osc_percent"):
        assert d[key] is not None and d[key] >= 0
    assert 0.05 < d["min_damping_ratio"] < 0.3
    assert s["poi"]["voltage_series"] == "transmission.poi_vm_pu"
    ids = {c["id"]: c for c in s["checks"]}
    assert ids["damping"]["passed"] is True and ids["damping"]["basis"] == "assessed"
    assert ids["oscillation"]["basis"] == "assessed"


def test_july2024_fault_train_six_dips(tmp_path):
    """The bundled train compressed in time (same depths and durations) to keep the test short."""
    case = load_case("kundur_july2024")
    t0 = case.dynamics.faults[0].start_s
    faults = []
    for f in case.dynamics.faults:
        start = 1.0 + (f.start_s - t0) / 12.0  # 82 s -> 6.8 s
        faults.append(
            f.model_copy(update={"start_s": start, "clear_s": start + f.clear_s - f.start_s})
        )
    case.dynamics = case.dynamics.model_copy(update={"faults": faults})
    case.horizon.duration_s = 9.0
    res = run_case(case, tmp_path / "july", report=True)
    tr = res.frame("transmission")
    low = tr["poi_vm_pu"].to_numpy() < 0.45
    starts = np.flatnonzero(low[1:] & ~low[:-1])
    assert len(starts) == 6  # six separate dips
    assert 0.2 <= tr["poi_vm_pu"].min() <= 0.3
    assert (tmp_path / "july" / "plots" / "dynamics.png").is_file()
    assert {"p_site_mw", "speed_dev_mhz.G1"} <= set(tr.columns)


def test_forced_response_peaks_at_the_inter_area_mode_and_bess_reduces_it():
    case = load_case("kundur_factory")
    kw = {"settle_s": 5.0, "measure_s": 5.0}
    at_mode = training_point(case, 0.643, bess=False, **kw)
    at_2hz = training_point(case, 2.0, bess=False, **kw)
    with_bess = training_point(case, 0.643, bess=True, **kw)
    assert at_mode.speed_dev_pp_max_mhz >= 1.5 * at_2hz.speed_dev_pp_max_mhz
    assert with_bess.speed_dev_pp_max_mhz < at_mode.speed_dev_pp_max_mhz


def test_cosim_run_psse_case_through_the_broker(tmp_path):
    """The RAW + DYR case runs as a federation and starts in equilibrium (no typical data)."""
    out = tmp_path / "run"
    args = ["run", "kundur_psse_factory", "--set", "horizon.duration_s=2", "--no-report"]
    assert main([*args, "-o", str(out)]) == 0
    tr = pd.read_parquet(out / "timeseries" / "transmission.parquet")
    assert {"speed_dev_mhz.G1", "speed_dev_mhz.G3", "poi_vm_pu"} <= set(tr.columns)
    d = json.loads((out / "summary.json").read_text())["dynamics"]
    assert d["typical_machines"] == [] and d["network"].endswith(".raw")
    assert 0.05 < d["min_damping_ratio"] < 0.3
