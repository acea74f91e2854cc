"""Networks by name or file, the factory's attachment and one-line case errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import pytest

from federates.errors import ConfigError
from federates.grid.config import PoiTransformerConfig
from federates.grid.network import (
    NETWORKS,
    attach_factory,
    load_network,
    network_source,
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
    """A MATPOWER case file (text .m, read via matpowercaseframes) becomes a solvable network."""
    net = load_network("case3_mpc.m", Path(__file__).parents[2] / "data")
    assert len(net.bus) == 3 and len(net.gen) + len(net.ext_grid) == 2 and len(net.line) == 3
    pp.runpp(net)
    assert net.converged and net.res_bus.vm_pu.at[0] == pytest.approx(1.02)
    assert net.res_load.p_mw.sum() == pytest.approx(110.0)


def test_unparsable_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError) as exc:
        load_network(str(bad))
    assert len(exc.value.problems) == 1 and "does not parse" in exc.value.problems[0]


def test_factory_behind_a_poi_transformer() -> None:
    net = load_network("case118")
    site = attach_factory(net, 59, 100.0, 20.0, PoiTransformerConfig(lv_kv=34.5))
    assert site.site_bus != site.poi_bus and net.bus.at[site.site_bus, "vn_kv"] == 34.5
    assert (
        net.trafo.at[site.trafo, "hv_bus"] == 59 and net.load.at[site.load, "bus"] == site.site_bus
    )


# ---------------------------------------------------------------- issue 12, item 3: class paths


def _evil_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module on sys.path whose import leaves a file behind (what from_json would run)."""
    marker = tmp_path / "imported"
    (tmp_path / "evil_mod_cosim.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nclass Boom:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.mark.parametrize(
    "payload",
    [
        '{"_module": "evil_mod_cosim", "_class": "Boom", "_object": "{}"}',
        # escaped key, as any JSON reader decodes it
        '{"\\u005fmodule": "evil_mod_cosim", "_class": "Boom", "_object": "{}"}',
        # nested in a JSON string, which pandapower decodes a second time
        json.dumps(
            {
                "_module": "pandapower.auxiliary",
                "_class": "pandapowerNet",
                "_object": {
                    "controller": json.dumps(
                        {"_module": "evil_mod_cosim", "_class": "Boom", "_object": "{}"}
                    )
                },
            }
        ),
    ],
    ids=["plain", "escaped-key", "nested-string"],
)
def test_json_network_naming_a_foreign_class_is_refused_before_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    marker = _evil_module(tmp_path, monkeypatch)
    f = tmp_path / "net.json"
    f.write_text(payload)
    with pytest.raises(ConfigError) as info:
        load_network(str(f))
    msg = str(info.value)
    assert len(msg.splitlines()) == 1
    assert str(f) in msg and "refused class path evil_mod_cosim.Boom" in msg
    assert not marker.exists()  # the module was never imported


def test_pandapower_json_with_controllers_still_loads(tmp_path: Path) -> None:
    import pandapower.networks as pn
    from pandapower.control import ConstControl

    net = pn.create_cigre_network_mv(with_der=False)
    ConstControl(net, "load", "p_mw", [0])
    f = tmp_path / "mv.json"
    pp.to_json(net, str(f))
    again = load_network(str(f))
    assert len(again.bus) == len(net.bus) and len(again.controller) == 1
