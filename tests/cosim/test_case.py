"""Case schema: bundled cases parse; malformed cases give one-line errors and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cosim.case import Case, apply_overrides, bundled_cases, find_case, load_case, parse_override
from cosim.cli import main
from cosim.errors import CaseError

GOOD = """
name = "t"
seed = 3
[horizon]
duration_s = 10
[factory]
poi_bus = 16
"""


def test_default_case_parses_with_domain_defaults() -> None:
    case = load_case("ieee118_factory")
    assert case.grid.network == "pglib_case118" and case.factory.poi_bus == 80
    assert case.factory.it_mw * case.factory.pue == pytest.approx(300.0)
    assert (case.bess.p_mw, case.bess.e_mwh, case.bess.rte) == (100.0, 100.0, 0.85)
    assert case.horizon.duration_s == 3600.0 and case.horizon.grid_dt_s == 1.0
    assert len(case.time_grid()) == 3600


@pytest.mark.parametrize("path", bundled_cases(), ids=lambda p: p.stem)
def test_every_bundled_case_parses(path: Path) -> None:
    case = load_case(path)
    assert case.name
    assert len(case.time_grid()) >= 1


def test_bundled_case_found_by_name() -> None:
    assert find_case("ieee118_factory").name == "ieee118_factory.toml"


def test_overrides_parse_toml_values() -> None:
    assert parse_override("horizon.duration_s=600") == (["horizon", "duration_s"], 600)
    assert parse_override("bess.enabled=false") == (["bess", "enabled"], False)
    assert parse_override("grid.network=case39") == (["grid", "network"], "case39")
    data = apply_overrides({}, ["a.b.c=1.5", "a.d='x'"])
    assert data == {"a": {"b": {"c": 1.5}, "d": "x"}}


def test_overrides_change_the_case(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text(GOOD)
    case = load_case(p, ["horizon.duration_s=600", "bess.p_mw=50", "seed=9"])
    assert (case.horizon.duration_s, case.bess.p_mw, case.seed) == (600, 50, 9)
    case2 = load_case(case, {"bess.enabled": False})
    assert case2.bess.enabled is False and case2.horizon.duration_s == 600


def test_round_trip_through_resolved_toml(tmp_path: Path) -> None:
    import tomli_w

    case = load_case("ieee118_factory")
    p = tmp_path / "resolved.toml"
    p.write_text(tomli_w.dumps(case.to_dict()))
    again = load_case(p)
    assert again.to_dict() == case.to_dict()


def test_event_windows_refine_the_time_grid() -> None:
    case = load_case(
        {
            "horizon": {"duration_s": 10, "event_dt_s": 0.01, "event_margin_s": 0.5},
            "events": [{"kind": "sag", "t_s": 5.0, "duration_s": 0.05, "vm_pu": 0.3, "bus": 16}],
        }
    )
    t = case.time_grid()
    inside = t[(t >= 4.5) & (t < 5.55)]
    assert len(inside) == pytest.approx(105, abs=1)
    assert t[0] == 0.0 and t[-1] == 9.0
    assert set(t[t < 4.5]) == {0.0, 1.0, 2.0, 3.0, 4.0}


# (case text appended to GOOD or replacing it, override list, expected fragment of the error)
MALFORMED = [
    ("[bess]\nsoc_min = 1.2", [], "bess.soc_min: 1.2 is not <= 1"),
    ("", ["bess.soc_min=-0.1"], "bess.soc_min: -0.1 is not >= 0"),
    ("", ["bess.p_mw=-5"], "bess.p_mw: -5 is not >= 0"),
    ("", ["bess.e_mwh='big'"], "bess.e_mwh: 'big' is invalid"),
    ("", ["bess.rte=1.5"], "bess.rte: 1.5 is not <= 1"),
    ("", ["bess.soc_min=0.9"], "bess: soc_min (0.9) must be below soc_max (0.8)"),
    ("", ["bess.soc_init=0.95"], "bess: soc_init (0.95) must lie in [soc_min, soc_max]"),
    ("", ["bess.enabled='maybe'"], "bess.enabled: 'maybe' is invalid"),
    ("", ["bess.p_mww=3"], "bess.p_mww: unknown key"),
    ("", ["horizon.duration_s=0"], "horizon.duration_s: 0 is not > 0"),
    ("", ["horizon.grid_dt_s=-1"], "horizon.grid_dt_s: -1 is not > 0"),
    ("", ["horizon.grid_dt_s=100"], "horizon.grid_dt_s must not exceed horizon.duration_s"),
    ("", ["horizon.factory_dt_s=2"], "horizon.factory_dt_s: 2 is not <= 1"),
    ("", ["factory.it_mw=0"], "factory.it_mw: 0 is not > 0"),
    ("", ["factory.pue=0.5"], "factory.pue: 0.5 is not >= 1"),
    ("", ["factory.power_factor=1.1"], "factory.power_factor: 1.1 is not <= 1"),
    ("", ["factory.poi_bus=-1"], "factory.poi_bus: -1 is not >= 0"),
    ("", ["factory.poi_bus=999"], "factory.poi_bus: 999 is not a bus of case118"),
    (
        "",
        ["grid.network=no_such_net"],
        "grid.network: 'no_such_net' is not a pandapower network name",
    ),
    ("", ["grid.network='missing.json'"], "grid.network: file not found"),
    ("", ["seed=-3"], "seed: -3 is not >= 0"),
    ("", ["nonsense=1"], "nonsense: unknown key"),
    ("", ["run.core_type=udp"], "run.core_type: 'udp' is invalid"),
    ("[[events]]\nkind = 'sag'\nt_s = 1.0", [], "events.0: a sag needs vm_pu and duration_s"),
    ("[[events]]\nkind = 'meteor'\nt_s = 1.0", [], "events.0.kind: 'meteor' is not one of"),
    (
        "[[events]]\nkind = 'line_outage'\nt_s = -1.0\nelement = 3",
        [],
        "events.0.t_s: -1.0 is not >= 0",
    ),
    ("[horizon\nduration_s = 1", [], "not valid TOML"),
    # issue 12, item 11: finite values and bounded runs, each naming the key
    ("", ["horizon.duration_s=inf"], "horizon.duration_s: not a finite number"),
    ("", ["bess.p_mw=nan"], "bess.p_mw: not a finite number"),
    (
        "[[events]]\nkind = 'load_step'\nt_s = 1.0\nbus = 3\ndelta_mw = -inf",
        [],
        "events.0.delta_mw",
    ),
    (
        "",
        ["horizon.duration_s=3e7", "horizon.factory_dt_s=1"],
        "horizon.grid_dt_s: 1 s over horizon.duration_s 3e+07 s (and horizon.event_dt_s 0.01 s in "
        "event windows) is 3e+07 grid steps, more than the 10,000,000 a run may have",
    ),
    (
        "",
        ["horizon.duration_s=1e-4", "horizon.grid_dt_s=1e-12", "horizon.factory_dt_s=1e-12"],
        "horizon.grid_dt_s: 1e-12 s over horizon.duration_s 0.0001 s",
    ),
    (
        "",
        ["horizon.duration_s=1e6", "horizon.factory_dt_s=0.001"],
        "horizon.factory_dt_s: 0.001 s over horizon.duration_s 1e+06 s is 1e+09 factory steps",
    ),
    ("", ["horizon.sync_interval_s=1e12"], "horizon.sync_interval_s: 1e+12 s is 1e+12 grid steps"),
    # issue 12, item 14: an event after the horizon is an error, not ignored
    (
        "[[events]]\nkind = 'line_outage'\nt_s = 10.0\nelement = 3",
        [],
        "events.0.t_s: 10 is not before the end of the horizon (horizon.duration_s = 10)",
    ),
    # issue 12, item 2: a name is a label, never a path
    ("", ["name='../../x'"], "name: a name is a label, not a path"),
    ("", ["name='/tmp/x'"], "name: a name is a label, not a path"),
    ("", ["name='..'"], "name: a name is a label, not a path"),
    ("", ['name="a\\u202eb"'], "name: bidirectional control character U+202E"),
    ("", ['name="a\\u0007b"'], "name: control character U+0007"),
    ("", ["horizon=3"], "horizon: 3 is invalid"),
]


@pytest.mark.parametrize(
    ("extra", "overrides", "expected"), MALFORMED, ids=[m[2][:40] for m in MALFORMED]
)
def test_malformed_case_is_one_line_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: str,
    overrides: list[str],
    expected: str,
) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(extra if extra.startswith("[horizon\n") else GOOD + "\n" + extra)
    args = ["check", str(p)]
    for o in overrides:
        args += ["--set", o]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err


def test_an_unbounded_horizon_names_both_step_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "ieee118_factory", "--set", "horizon.duration_s=1e15"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert "horizon.grid_dt_s: 1 s over horizon.duration_s 1e+15 s" in lines[0]
    assert "horizon.factory_dt_s: 0.05 s over horizon.duration_s 1e+15 s" in lines[1]


def test_several_problems_are_all_reported() -> None:
    with pytest.raises(CaseError) as info:
        load_case({"bess": {"soc_min": 2, "p_mw": -1}, "horizon": {"duration_s": -5}})
    assert len(info.value.problems) == 3


def test_missing_case_file_and_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/nonexistent/case.toml"]) == 2
    assert "case file not found: /nonexistent/case.toml" in capsys.readouterr().err
    assert main(["run", "no_such_bundled_case"]) == 2
    assert "no case file or bundled case named 'no_such_bundled_case'" in capsys.readouterr().err


def test_cli_error_has_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD + "\n[bess]\nsoc_min = 1.2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "cosim.cli", "run", str(p)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {p}: bess.soc_min: 1.2 is not <= 1.0"
    assert not (tmp_path / "runs").exists()


def test_case_model_is_strict() -> None:
    assert Case.model_config["extra"] == "forbid"
