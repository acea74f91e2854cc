"""Networks by name or file, the factory's attachment and one-line case errors."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest

from cosim.case import load_case
from cosim.errors import CaseError
from federates.grid.config import PoiTransformerConfig
from federates.grid.network import (
    NETWORKS,
    attach_factory,
    case_problems,
    load_network,
    network_source,
    thevenin_network,
)


def test_every_bundled_network_states_its_source() -> None:
    for name, info in NETWORKS.items():
        assert len(info.source) > 20, name
    assert "Baran" in network_source("case33bw")
    assert network_source("ieee118") == NETWORKS["case118"].source
    assert "SimBench" in network_source("1-MV-rural--0-sw")


def test_pandapower_json_and_matpower_files_load(tmp_path: Path) -> None:
    net = load_network("case14")
    pp.to_json(net, tmp_path / "n.json")
    assert len(load_network(str(tmp_path / "n.json")).bus) == 14
    from pandapower.converter.matpower.to_mpc import to_mpc

    pp.runpp(net)
    to_mpc(net, str(tmp_path / "n.mat"))
    assert len(load_network("n.mat", tmp_path).bus) == 14


def test_matpower_m_file_loads_and_solves() -> None:
    """A MATPOWER case file (text .m, read through matpowercaseframes) becomes a solvable network."""
    net = load_network("case3_mpc.m", Path(__file__).parents[2] / "data")
    assert len(net.bus) == 3 and len(net.gen) + len(net.ext_grid) == 2 and len(net.line) == 3
    pp.runpp(net)
    assert net.converged and net.res_bus.vm_pu.at[0] == pytest.approx(1.02)
    assert net.res_load.p_mw.sum() == pytest.approx(110.0)


def test_unparsable_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CaseError) as exc:
        load_network(str(bad))
    assert len(exc.value.problems) == 1 and "does not parse" in exc.value.problems[0]


def test_factory_behind_a_poi_transformer() -> None:
    net = load_network("case118")
    site = attach_factory(net, 59, 100.0, 20.0, PoiTransformerConfig(lv_kv=34.5))
    assert site.site_bus != site.poi_bus and net.bus.at[site.site_bus, "vn_kv"] == 34.5
    assert (
        net.trafo.at[site.trafo, "hv_bus"] == 59 and net.load.at[site.load, "bus"] == site.site_bus
    )


def _case(tmp_path: Path, text: str):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return load_case(p)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[factory]\npoi_bus = 500\n", "factory.poi_bus: 500 is not a bus of case118"),
        (
            '[grid]\nnetwork = "case14"\n[factory]\npoi_bus = 7\n[[events]]\nkind = "line_outage"\nt_s = 1.0\nelement = 99\n',
            "events.0.element: 99 is not a line",
        ),
        (
            "[distribution]\nsubstation_bus = 999\n[factory]\npoi_bus = 59\n",
            "distribution.substation_bus: 999",
        ),
        (
            "[distribution]\nsubstation_bus = 59\nhosts_factory = true\n[factory]\npoi_bus = 40\n",
            "factory.poi_bus: 40 is not a bus of feeder case33bw",
        ),
        ('[grid]\nnetwork = "nope"\n', "grid.network: 'nope' is not a pandapower network name"),
        (
            '[factory]\npoi_bus = 59\n[[grid.oltc]]\ntrafo = "poi"\n',
            "grid.oltc.0.trafo: 'poi' needs the case's poi transformer",
        ),
    ],
)
def test_case_problems_are_one_line_each(tmp_path: Path, text: str, expected: str) -> None:
    problems = case_problems(_case(tmp_path, text))
    assert len(problems) == 1 and expected in problems[0], problems


def test_disconnected_poi_is_a_case_error(tmp_path: Path) -> None:
    net = thevenin_network(2.0, 0.1, 300.0)
    net.impedance["in_service"] = False
    pp.to_json(net, tmp_path / "island.json")
    problems = case_problems(
        _case(tmp_path, '[grid]\nnetwork = "island.json"\n[factory]\npoi_bus = 1\n')
    )
    assert problems == [
        f"factory.poi_bus: bus 1 of {tmp_path / 'island.json'} is not connected to any slack "
        "(ext_grid) through in-service branches"
    ]


def test_missing_network_file_fails_validation(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="grid.network: file not found"):
        _case(tmp_path, '[grid]\nnetwork = "missing.json"\n')


def test_bundled_grid_cases_check_clean() -> None:
    for name in ("ieee118_grid_controls", "td_cigre_mv", "july2024_sags", "weak_grid"):
        assert case_problems(load_case(name)) == [], name
