"""Loading the transmission network of a case and attaching the factory (pure, no helics)."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pandapower.networks as pn

from cosim.errors import CaseError


def load_network(spec: str, base_dir: Path = Path(".")) -> pp.pandapowerNet:
    """A built-in pandapower network by name, or a pandapower JSON / MATPOWER file."""
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".json", ".m", ".mat"):
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise CaseError(f"grid.network: file not found: {path}")
        try:
            if path.suffix.lower() == ".json":
                return pp.from_json(str(path))
            from pandapower.converter import from_mpc

            return from_mpc(str(path))
        except Exception as exc:  # noqa: BLE001 - any parser failure is a case error
            raise CaseError(f"grid.network: {path.name} does not parse: {exc}") from None
    builder = getattr(pn, spec, None)
    if builder is None or not callable(builder):
        raise CaseError(f"grid.network: {spec!r} is not a pandapower network name or a .json/.m/.mat file")
    return builder()


def attach_factory(net: pp.pandapowerNet, poi_bus: int, p_mw: float, q_mvar: float) -> int:
    """Add the factory as a load at ``poi_bus``; return the load index."""
    if poi_bus not in net.bus.index:
        raise CaseError(f"factory.poi_bus: {poi_bus} is not a bus of the network (0..{net.bus.index.max()})")
    return pp.create_load(net, poi_bus, p_mw=p_mw, q_mvar=q_mvar, name="ai_factory")


def case_problems(case) -> list[str]:  # noqa: ANN001 - cosim.case.Case
    """Problems of a case with its network, one line each (empty when fine)."""
    try:
        net = load_network(case.grid.network, case.base_dir)
    except CaseError as exc:
        return exc.problems
    problems = []
    if case.factory.poi_bus not in net.bus.index:
        problems.append(f"factory.poi_bus: {case.factory.poi_bus} is not a bus of {case.grid.network} "
                        f"(buses {net.bus.index.min()}..{net.bus.index.max()})")
    return problems
