"""PSS/E RAW + DYR: the Kundur two-area files against the bundled case and their solved data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest

from federates.dynamics.cases import load_case
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import electromechanical, modes
from federates.dynamics.psse_dyr import DyrError, load_psse, read_dyr
from federates.errors import ConfigError
from federates.grid.psse_raw import RawError, read_raw, split_fields

PSSE = Path(__file__).resolve().parents[3] / "cases" / "data" / "psse"
RAW, DYR = PSSE / "kundur_two_area.raw", PSSE / "kundur_two_area.dyr"


def _runpp(net: pp.pandapowerNet) -> pp.pandapowerNet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    return net


def _edit(tmp_path: Path, src: Path, old: str, new: str, name: str) -> Path:
    text = src.read_text()
    assert old in text
    out = tmp_path / name
    out.write_text(text.replace(old, new, 1))
    return out


def _v34(tmp_path: Path) -> Path:
    """The Kundur RAW file rewritten as version 34 (branch NAME and twelve ratings)."""
    lines = RAW.read_text().splitlines()
    lines[0] = lines[0].replace(", 33,", ", 34,")
    start = lines.index(next(x for x in lines if "BEGIN BRANCH DATA" in x)) + 1
    k = start
    while not lines[k].startswith("0 /"):
        f = lines[k].split(",")
        lines[k] = ",".join(f[:6] + ["'LINE'"] + ["0.0"] * 12 + f[9:])
        k += 1
    out = tmp_path / "kundur_v34.raw"
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("version", [33, 34])
def test_raw_power_flow_reproduces_the_solved_case(tmp_path, version):
    net = _runpp(read_raw(RAW if version == 33 else _v34(tmp_path)))
    assert np.abs(net.res_bus.vm_pu - net.bus.vm_raw_pu).max() < 1e-4
    assert np.abs(net.res_bus.va_degree - net.bus.va_raw_degree).max() < 1e-3  # [deg]
    assert len(net.trafo) == 4 and len(net.line) == 8 and len(net.gen) == 3


def test_engine_power_flow_agrees_with_pandapower():
    data = load_psse(RAW, DYR)
    assert data["typical_dynamics"] == [] and data["rating_assumed"] == []
    grid = DynamicGrid(data, data["slack_bus"])
    net = _runpp(read_raw(RAW))
    for b, vm in zip(net.bus.name, net.res_bus.vm_pu, strict=True):
        assert abs(grid.v0[grid.bus_index[b]]) == pytest.approx(vm, abs=1e-4), b


def test_raw_and_dyr_give_the_bundled_kundur_modes():
    def em(data, poi):
        grid = DynamicGrid(data, poi, p_site0_mw=200.0, q_site0_mvar=20.0)
        return sorted((m.freq_hz, m.damping_ratio) for m in electromechanical(modes(grid)))

    found, bundled = em(load_psse(RAW, DYR), "7"), em(load_case("kundur"), "B7")
    assert len(found) == len(bundled) == 3
    for (f, z), (f_ref, z_ref) in zip(found, bundled, strict=True):
        assert f == pytest.approx(f_ref, rel=0.03)
        assert z == pytest.approx(z_ref, rel=0.05)


def test_load_current_and_admittance_parts(tmp_path):
    old = "    9,'1 ',1,   1,   1,  1767.000,   100.000,     0.000,     0.000,     0.000,"
    new = "    9,'1 ',1,   1,   1,  1667.000,   100.000,   100.000,     0.000,    50.000,"
    net = read_raw(_edit(tmp_path, RAW, old, new, "zip.raw"))
    vm9 = float(net.bus.set_index("name").at["9", "vm_raw_pu"])
    load = net.load[net.load.bus == net.bus.index[net.bus.name == "9"][0]]
    assert float(load.p_mw.sum()) == pytest.approx(1667.0 + 100.0 * vm9)
    assert float(net.shunt.p_mw.sum()) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    7,'B7  ", "    x,'B7  ", r"kundur\.raw:10: bus number is not a number"),
        (", 33, 0, 1, 50.00", ", 30, 0, 1, 50.00", r"kundur\.raw:1: RAW version 30 is not read"),
        ("    1,     5,     0,'1 '", "    1,     5,     7,'1 '", r"kundur\.raw:36: three-winding"),
        (
            "    1,     5,     0,'1 ',1,2,1",
            "    1,     5,     0,'1 ',1,3,1",
            r"kundur\.raw:36: .*CZ=3",
        ),
        (
            "    5,     6,'1 '",
            "   55,     6,'1 '",
            r"kundur\.raw:27: bus 55 is not in the bus data",
        ),
    ],
)
def test_malformed_raw_names_file_and_line(tmp_path, old, new, message):
    with pytest.raises(RawError, match=message):
        read_raw(_edit(tmp_path, RAW, old, new, "kundur.raw"))


def test_split_fields_keeps_quoted_commas_and_blanks():
    assert split_fields("1,'A, B ', 2.0 / comment") == ["1", "A, B ", "2.0"]
    assert split_fields("1 'GEN 1' 3") == ["1", "GEN 1", "3"]
    assert split_fields("1,,3") == ["1", "", "3"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("1 'SEXS' 1  0.2", "1 'SEXS' 1  abc", r"kundur\.dyr:5: SEXS parameter 'abc'"),
        ("1 'TGOV1' 1  0.05 0.1 1 0 0.09 0.2 0.02 /", "1 'TGOV1' 1  0.05 /", r":6: TGOV1 needs 7"),
        ("4 'STAB1' 1  5 10.0 10 0.05 10 0.05 0.03 /", "4 'STAB1' 1  5", r":22: .*not terminated"),
        ("3 'STAB1' 1  5 10.0 10 0.05 10 0.05 0.03 /", "3 'STAB1' 1  5", r":17: .*'GENROU'"),
    ],
)
def test_malformed_dyr_names_file_and_line(tmp_path, old, new, message):
    with pytest.raises(DyrError, match=message):
        read_dyr(_edit(tmp_path, DYR, old, new, "kundur.dyr"), read_raw(RAW))


def test_unknown_model_refused_or_typical(tmp_path):
    dyr = _edit(tmp_path, DYR, "2 'SEXS' 1", "2 'ESST1A' 1", "kundur.dyr")
    with pytest.raises(DyrError, match=r"G2: ESST1A \(kundur\.dyr:\d+\)"):
        load_psse(RAW, dyr)
    with pytest.warns(UserWarning, match="ESST1A"):
        data = load_psse(RAW, dyr, defaults="typical")
    assert data["typical_dynamics"] == ["G2"]
    with pytest.raises(ConfigError, match="no dynamic data for machine"):
        load_psse(RAW)  # no DYR, no typical data


def test_gensal_and_gencls_initialise(tmp_path):
    text = DYR.read_text().splitlines()
    keep = text[:2] + text[12:]  # without the records of G1 and G2
    assert keep[2].startswith("3 'GENROU'")
    keep += [
        "1 'GENSAL' 1  8.0 0.03 0.05 6.5 0  1.8 1.7 0.3 0.25 0.2 0 0 /",
        "1 'SEXS' 1  0.2 10.0 100 0.5 -3 3 /",
        "2 'GENCLS' 1  6.5 0 /",
    ]
    dyr = tmp_path / "mixed.dyr"
    dyr.write_text("\n".join(keep) + "\n")
    data = load_psse(RAW, dyr)
    grid = DynamicGrid(data, "7")
    dx = grid.ps.state_derivatives(0.0, grid.x, grid.v)
    assert np.abs(dx).max() < 1e-6
    assert any(0.1 <= m.freq_hz <= 2.5 for m in electromechanical(modes(grid)))


def test_off_nominal_tap_and_phase_shift_agree_with_pandapower(tmp_path):
    raw = _edit(tmp_path, RAW, "1.00000,   0.000,   0.000,", "1.02000,   0.000,  10.000,", "ps.raw")
    grid = DynamicGrid(load_psse(raw, DYR), "7")
    net = _runpp(read_raw(raw))
    v = dict(zip(grid.bus_names, grid.v0, strict=True))
    va_ref = net.res_bus.va_degree - float(net.res_bus.va_degree[net.bus.name == "3"].iloc[0])
    for b, vm, va in zip(net.bus.name, net.res_bus.vm_pu, va_ref, strict=True):
        assert abs(v[b]) == pytest.approx(vm, abs=1e-4), b
        assert np.angle(v[b] / v["3"], deg=True) == pytest.approx(va, abs=1e-3), b
    assert np.abs(grid.ps.state_derivatives(0.0, grid.x, grid.v)).max() < 1e-6
