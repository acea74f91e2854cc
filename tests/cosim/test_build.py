"""The build: configs and runner JSON are consistent and need no helics."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cosim.case import load_case
from cosim.engine.build import MIN_MESSAGE_BYTES, BuildError, build, max_message_bytes, wiring
from cosim.engine.federation import FederateSpec, Port


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("build")
    return build(load_case("ieee118_factory", ["horizon.duration_s=30"]), out, broker_port=23777)


def _configs(b) -> dict[str, dict]:
    return {name: json.loads(path.read_text()) for name, path in b.configs.items()}


def test_every_subscription_has_a_publisher_with_the_same_unit(built) -> None:
    cfgs = _configs(built)
    assert {"factory", "transmission"} <= set(cfgs)
    pubs = {p["key"]: p for c in cfgs.values() for p in c["publications"]}
    for cfg in cfgs.values():
        for sub in cfg["subscriptions"]:
            assert sub["key"] in pubs, f"{cfg['name']} subscribes to unpublished {sub['key']}"
            assert sub["unit"] == pubs[sub["key"]]["unit"]
            assert sub["type"] == pubs[sub["key"]]["type"]
    assert pubs["factory/p_mw"]["unit"] == "MW"
    assert pubs["transmission/poi_vm_pu"]["unit"] == "pu"


def test_configs_point_at_the_broker_and_carry_their_own_parameters(built) -> None:
    case = load_case("ieee118_factory", ["horizon.duration_s=30"])
    for cfg in _configs(built).values():
        assert "--broker_address=tcp://127.0.0.1:23777" in cfg["coreInitString"]
        assert cfg["coreType"] == "tcp"
        assert f"--maxsize={MIN_MESSAGE_BYTES}" in cfg["coreInitString"]
        assert "case" not in cfg["cosim"]  # self-contained: no case file
        assert ":" in cfg["cosim"]["adapter"]
        assert cfg["cosim"]["time_grid"]["duration_s"] == 30
        assert isinstance(cfg["cosim"]["params"], dict) and cfg["cosim"]["params"]
    cfgs = _configs(built)
    assert cfgs["factory"]["cosim"]["params"]["bess"]["p_mw"] == case.bess.p_mw
    assert cfgs["transmission"]["cosim"]["params"]["poi_bus"] == case.factory.poi_bus
    resolved = tomllib.loads(built.case_path.read_text())
    assert resolved["horizon"]["duration_s"] == 30
    assert resolved["meta"]["seed"] == 42
    assert "helics" in resolved["meta"]["versions"]


def test_runner_json_is_what_helics_run_accepts(built) -> None:
    runner = json.loads(built.runner.read_text())
    names = [f["name"] for f in runner["federates"]]
    assert names[0] == "broker" and set(names[1:]) == set(built.configs)
    assert runner["broker"] is False
    assert "--port=23777" in runner["federates"][0]["exec"]
    assert "--federates=2" in runner["federates"][0]["exec"]
    assert f"--maxsize={MIN_MESSAGE_BYTES}" in runner["federates"][0]["exec"]
    for fed in runner["federates"][1:]:
        assert f"configs/{fed['name']}.json" in fed["exec"]
        assert fed["directory"] == "."


def test_consumer_waits_for_current_time_update(built) -> None:
    cfgs = _configs(built)
    assert cfgs["transmission"]["wait_for_current_time_update"] is True
    assert cfgs["factory"]["wait_for_current_time_update"] is False


def test_wiring_rejects_a_dangling_subscription() -> None:
    a = FederateSpec("a", "m", (Port("a/x", "MW"),), ("b/y",))
    with pytest.raises(BuildError, match="subscribes to \\['b/y'\\]"):
        wiring([a])
    b = FederateSpec("b", "m", (Port("a/x", "MW"),))
    with pytest.raises(BuildError, match="registered twice"):
        wiring([a, b])


def test_each_federate_builds_its_adapter_from_its_config_alone(built, tmp_path: Path) -> None:
    """An adapter factory reads only its own config: no case file, no cosim import."""
    code = (
        "import json, sys, importlib, pathlib\n"
        "for path in sys.argv[1:]:\n"
        "    cfg = json.loads(pathlib.Path(path).read_text())\n"
        "    mod, fn = cfg['cosim']['adapter'].split(':')\n"
        "    adapter, t, d = getattr(importlib.import_module(mod), fn)(cfg, pathlib.Path('.'))\n"
        "    assert len(t) == 30 and d == 30.0, (len(t), d)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'cosim'], 'cosim imported'\n"
    )
    (built.dir / "case.toml").rename(tmp_path / "case.toml")
    try:
        paths = [str(p) for p in built.configs.values()]
        subprocess.run([sys.executable, "-c", code, *paths], check=True, timeout=120, cwd=tmp_path)
    finally:
        (tmp_path / "case.toml").rename(built.dir / "case.toml")


def test_build_imports_no_helics(tmp_path: Path) -> None:
    code = (
        "import sys; from cosim.engine.build import build; from cosim.case import load_case; "
        f"build(load_case('ieee118_factory'), {str(tmp_path)!r}); "
        "assert 'helics' not in sys.modules, 'helics imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_message_size_fits_the_longest_sync_block() -> None:
    """HELICS tcp comms drop a connection on a message above --maxsize: it holds a whole block."""
    assert max_message_bytes(load_case("ieee118_factory")) == MIN_MESSAGE_BYTES
    day = load_case("ieee118_factory", {"horizon.sync_interval_s": 86400.0})
    assert max_message_bytes(day) >= 8 * 86400


def test_cores_listen_on_one_interface_only(tmp_path: Path) -> None:
    """Issue 12, item 1: loopback by default, the named interface otherwise, never 0.0.0.0."""
    from cosim.case import load_case
    from cosim.engine.build import build
    from federates.common.loop import join_init_string, route_interface

    b = build(load_case("ieee118_factory"), tmp_path / "lo")
    for path in b.configs.values():
        assert "--local_interface=127.0.0.1" in json.loads(path.read_text())["coreInitString"]
    assert "--local_interface=127.0.0.1" in b.broker_cmd
    b2 = build(load_case("ieee118_factory"), tmp_path / "named", host="10.1.2.3", broker_port=23900)
    init = json.loads(b2.configs["factory"].read_text())["coreInitString"]
    assert "--local_interface=10.1.2.3" in init
    # a federate on another host replaces the broker and its own listening address
    joined = join_init_string(init, "tcp://10.9.9.9:23900", "10.9.9.8")
    assert joined.count("--local_interface=") == 1 and "--local_interface=10.9.9.8" in joined
    assert "--broker_address=tcp://10.9.9.9:23900" in joined and "--maxsize=" in joined
    assert route_interface("tcp://127.0.0.1:23900") == "127.0.0.1"


def test_broker_found_from_the_helics_package() -> None:
    """Issue 12, item 13: the native broker of the helics wheel, without PATH."""
    from cosim.engine.build import find_broker

    path = Path(find_broker())
    assert path.is_absolute() and path.is_file() and "helics" in str(path)


@pytest.mark.parametrize("hosts", [True, False])
def test_td_order_within_a_step_is_fixed(tmp_path: Path, hosts: bool) -> None:
    """Feeder hosting the factory: it awaits the factory's value, the transmission its import."""
    over = {"distribution.hosts_factory": hosts, "factory.poi_bus": 1 if hosts else 59}
    case = load_case("td_cigre_mv", over)
    b = build(case, tmp_path / "b", broker_port=23778)
    cfg = {
        n: json.loads((b.dir / "configs" / f"{n}.json").read_text())["cosim"]
        for n in ("distribution", "transmission")
    }
    if hosts:
        assert cfg["distribution"]["await_inputs"] == ["factory/p_mw", "factory/q_mvar"]
        assert cfg["transmission"]["await_inputs"] == ["distribution/p_mw", "distribution/q_mvar"]
    else:  # the feeder waits for the current time update: HELICS fixes the order already
        assert "await_inputs" not in cfg["distribution"]
        assert "await_inputs" not in cfg["transmission"]
