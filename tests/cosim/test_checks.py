"""Case checks against the networks, events and files a case names: one line per problem."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest

from cosim.case import load_case
from cosim.checks import case_problems
from cosim.errors import CaseError
from federates.grid.network import thevenin_network


def _case(tmp_path: Path, text: str):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return load_case(p)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[factory]\npoi_bus = 500\n", "factory.poi_bus: 500 is not a bus of case118"),
        (
            '[grid]\nnetwork = "case14"\n[factory]\npoi_bus = 7\n[[events]]\nkind = '
            '"line_outage"\nt_s = 1.0\nelement = 99\n',
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
