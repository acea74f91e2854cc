"""Checks of a case against the files and networks it names, before any process starts."""

from __future__ import annotations

from typing import Any

from cosim.case import Case
from cosim.errors import CaseError
from federates.errors import ConfigError
from federates.grid.network import bus_problem, load_network


def check_case(case: Case) -> None:
    """Raise :class:`CaseError` listing every problem the case has with its network."""
    problems = case_problems(case)
    if problems:
        raise CaseError(problems, case.name)


def _element_problem(net: Any, table: str, idx: int, key: str) -> str | None:
    if idx not in net[table].index:
        n = len(net[table])
        return f"{key}: {idx} is not a {table} of the network ({n} {table}s)"
    return None


def _controls_problems(
    net: Any,
    oltc: list,
    shunts: list,
    prefix: str,
    label: str,
    extra_trafos: tuple[str, ...],
) -> list[str]:
    out = []
    for i, o in enumerate(oltc):
        if isinstance(o.trafo, str):
            if o.trafo not in extra_trafos:
                out.append(
                    f"{prefix}.oltc.{i}.trafo: {o.trafo!r} needs the case's {o.trafo} transformer"
                )
        elif (p := _element_problem(net, "trafo", o.trafo, f"{prefix}.oltc.{i}.trafo")) is not None:
            out.append(p)
        if o.bus is not None and o.bus not in net.bus.index:
            out.append(f"{prefix}.oltc.{i}.bus: {o.bus} is not a bus of {label}")
    for i, s in enumerate(shunts):
        if isinstance(s.bus, int) and s.bus not in net.bus.index:
            out.append(f"{prefix}.shunts.{i}.bus: {s.bus} is not a bus of {label}")
    return out


def case_problems(case: Case) -> list[str]:
    """Problems of a case with its networks, events, traces and grid files, one line each.

    Empty when the case is fine.
    """
    problems: list[str] = _trace_problems(case)
    try:
        net = load_network(case.grid.network, case.base_dir)
    except ConfigError as exc:
        return problems + list(exc.problems)
    dist = case.distribution
    label = case.grid.network
    on_transmission = dist is None or not dist.hosts_factory
    if (
        on_transmission
        and (p := bus_problem(net, case.factory.poi_bus, "factory.poi_bus", label)) is not None
    ):
        problems.append(p)
    if case.grid.poi_transformer is not None and (dist is not None and dist.hosts_factory):
        problems.append(
            "grid.poi_transformer: the factory sits on the distribution feeder; "
            "use distribution.substation_transformer instead"
        )
    problems += _controls_problems(
        net,
        case.grid.oltc,
        case.grid.shunts,
        "grid",
        label,
        ("poi",) if case.grid.poi_transformer is not None else (),
    )
    if case.grid.profiles is not None:
        problems += _profile_problems(case.grid.profiles, net, case, "grid.profiles")
    feeder = None
    if dist is not None:
        if (
            p := bus_problem(net, dist.substation_bus, "distribution.substation_bus", label)
        ) is not None:
            problems.append(p)
        try:
            feeder = load_network(dist.network, case.base_dir, key="distribution.network")
        except ConfigError as exc:
            problems += exc.problems
        if feeder is not None:
            flabel = dist.network
            if len(feeder.ext_grid) != 1:
                problems.append(
                    f"distribution.network: {flabel} has {len(feeder.ext_grid)} ext_grids; "
                    "a feeder needs exactly one (its substation)"
                )
            if (
                dist.hosts_factory
                and (
                    p := bus_problem(
                        feeder, case.factory.poi_bus, "factory.poi_bus", f"feeder {flabel}"
                    )
                )
                is not None
            ):
                problems.append(p)
            problems += _controls_problems(
                feeder,
                dist.oltc,
                dist.shunts,
                "distribution",
                flabel,
                ("substation",) if dist.substation_transformer is not None else (),
            )
            if dist.profiles is not None:
                problems += _profile_problems(dist.profiles, feeder, case, "distribution.profiles")
    for i, ev in enumerate(case.events):
        target = net if ev.network == "transmission" else feeder
        if target is None:
            if ev.network == "distribution" and dist is None:
                problems.append(
                    f"events.{i}.network: 'distribution' but the case has no [distribution]"
                )
            continue
        key = f"events.{i}"
        if ev.bus is not None and ev.bus not in target.bus.index:
            problems.append(f"{key}.bus: {ev.bus} is not a bus of the {ev.network} network")
        table = {"line_outage": "line", "trafo_outage": "trafo", "gen_trip": "gen"}.get(ev.kind)
        if (
            table
            and (p := _element_problem(target, table, int(ev.element), f"{key}.element"))
            is not None
        ):
            problems.append(p)
    return problems


def _profile_problems(cfg: Any, net: Any, case: Case, key: str) -> list[str]:
    from federates.grid.profiles import ProfileError, load_profiles

    try:
        load_profiles(cfg, net, case.base_dir)
    except ProfileError as exc:
        return [f"{key}: {exc}"]
    return []


def _trace_problems(case: Case) -> list[str]:
    """Every trace the case names, read and checked as the factory will (one line per problem)."""
    from federates.factory.trace import read_trace

    traces = []
    if case.factory.profile == "trace" and case.factory.trace is not None:
        traces.append(("factory.trace", case.factory.trace))
    for i, job in enumerate(case.factory.training.jobs):
        if job.trace is not None:
            traces.append((f"factory.training.jobs.{i}.trace", job.trace))
    out = []
    for key, cfg in traces:
        try:
            read_trace(case.resolve(cfg.path), cfg.time_column, cfg.power_column, cfg.max_gap_s)
        except ValueError as exc:
            lines = [ln for ln in str(exc).splitlines() if ln.strip() and ln != "bad trace:"]
            out += [f"{key}: {ln}" for ln in lines]
    return out
