"""Turn a case into an inspectable federation: HELICS JSON configs and a runner JSON.

The build imports no helics. It writes, into the run directory ``DIR``:

* ``DIR/case.toml``: the resolved case (every default filled in) plus a
  ``[meta]`` table with the package versions and the seed;
* ``DIR/configs/<federate>.json``: one HELICS value-federate config per
  federate (named publications/subscriptions with units; a ``cosim`` section
  naming the adapter and the output folder, relative to the config, and carrying
  the federate's own parameters and time grid: a federate needs nothing else);
* ``DIR/runner.json``: a runner that ``helics run --path DIR/runner.json``
  accepts and that runs the same federation (broker included).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import platform
import shlex
import shutil
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import tomli_w

from cosim.case import Case
from cosim.engine.exchange import exchange_interval
from cosim.engine.federation import FederateSpec, Port, federation
from cosim.errors import CosimError
from federates.common.timegrid import TIME_OFFSET_S

LOOPBACK = "127.0.0.1"
#: ``run.one_process``: the in-process core every federate joins (federates.common.together)
CORE_NAME = "federation"
VERSIONED = (
    "aifactory-cosim",
    "helics",
    "pandapower",
    "lightsim2grid",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "pydantic",
)


class BuildError(CosimError):
    """The federation of a case is not consistent (a wiring mistake in the federate specs)."""


@dataclass(frozen=True)
class Build:
    """What the build wrote."""

    dir: Path
    case_path: Path
    configs: dict[str, Path]
    runner: Path
    broker_address: str
    broker_cmd: list[str]
    specs: list[FederateSpec]
    #: ``run.one_process``: ``broker_cmd`` runs every federate (federates.common.together)
    one_process: bool = False

    def federate_cmd(self, name: str) -> list[str]:
        return [sys.executable, "-m", "federates.common.loop", str(self.configs[name])]


def free_port(host: str = LOOPBACK, tries: int = 50) -> int:
    """A TCP port ``P`` such that ``P`` and ``P + 1`` are free now on ``host``.

    The zmq broker listens on both. The OS picks ``P``; another process may
    still take it before the broker binds, which the runner handles by retrying.
    """
    for _ in range(tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as a:
            a.bind((host, 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as b:
                try:
                    b.bind((host, port + 1))
                except OSError:
                    continue
                return port
    raise OSError(f"no pair of free ports found on {host}")


def find_broker() -> str:
    """Path of the ``helics_broker`` program, found from the installed ``helics`` package.

    Preferred: the native binary the ``helics`` wheel ships (``helics/install/bin``),
    started directly, so that its exit status and signals are its own (the
    wheel's ``helics_broker`` console script is a Python wrapper that turns a
    SIGKILL into exit code 247). Then the console script next to this Python,
    then ``PATH``. Works without the virtualenv's ``bin`` on ``PATH``.

    Raises
    ------
    BuildError
        No broker anywhere.
    """
    names = (
        ("helics_broker.exe", "helics_broker") if sys.platform == "win32" else ("helics_broker",)
    )
    dirs: list[Path] = []
    spec = importlib.util.find_spec("helics")  # located, not imported (no library load)
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        dirs.append(Path(location) / "install" / "bin")
    dirs.append(Path(sys.executable).parent)
    for d in dirs:
        for name in names:
            if (d / name).is_file() and os.access(d / name, os.X_OK):
                return str(d / name)
    found = shutil.which("helics_broker")
    if found is None:
        raise BuildError(
            "helics_broker not found: not in the helics package, next to "
            f"{sys.executable}, nor on PATH (pip install helics)"
        )
    return found


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in VERSIONED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def write_resolved_case(case: Case, path: Path) -> Path:
    data = case.to_dict()
    data["meta"] = {
        "seed": case.seed,
        "written_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_dir": str(case.base_dir),
        "versions": versions(),
    }
    path.write_text(tomli_w.dumps(data))
    return path


MIN_MESSAGE_BYTES = 65536


def max_message_bytes(case: Case) -> int:
    """HELICS ``--maxsize`` for the broker and the cores [bytes]: room for the longest vector.

    A publication carries one float64 per step of a sync block. HELICS 3.6's tcp
    comms drop the connection ("lost comms") on a message above their default
    buffer (about 4 kB, i.e. a block of ~500 steps) unless ``--maxsize`` is raised.
    """
    steps = 1
    if case.horizon.sync_interval_s:
        steps = math.ceil(case.horizon.sync_interval_s / case.horizon.grid_dt_s) + 1
    return max(MIN_MESSAGE_BYTES, 8 * steps + 4096)


def core_init_string(
    broker_address: str, maxsize: int = MIN_MESSAGE_BYTES, interface: str = LOOPBACK
) -> str:
    """Core options: the broker to join, the one interface the core listens on (loopback
    unless told otherwise: never every interface), receive ports chosen by the OS (no
    collisions), the largest message (see :func:`max_message_bytes`)."""
    return (
        f"--federates=1 --broker_address={broker_address} --local_interface={interface} "
        f"--useosport --maxsize={maxsize}"
    )


def wiring(specs: list[FederateSpec]) -> dict[str, Port]:
    """Publication key -> Port over the federation; raise when a subscription has no publisher."""
    ports: dict[str, Port] = {}
    for spec in specs:
        for port in spec.publications:
            if port.key in ports:
                raise BuildError(f"publication {port.key!r} is registered twice")
            ports[port.key] = port
    for spec in specs:
        missing = [k for k in spec.subscriptions if k not in ports]
        if missing:
            raise BuildError(
                f"federate {spec.name!r} subscribes to {missing} that no federate publishes"
            )
    return ports


def federate_config(
    spec: FederateSpec,
    case: Case,
    broker_address: str,
    ports: dict[str, Port],
    interface: str = LOOPBACK,
) -> dict:
    """The HELICS JSON config of one federate (its core listens on ``interface`` only)."""
    if case.run.one_process:  # the in-process core of federates.common.together: no socket
        core = {"coreType": "inproc", "coreName": CORE_NAME}
    else:
        core = {
            "coreType": case.run.core_type,
            "coreInitString": core_init_string(broker_address, max_message_bytes(case), interface),
        }
    cfg = {
        "name": spec.name,
        **core,
        "loglevel": case.run.log_level,
        "uninterruptible": not spec.iterative,
        "terminate_on_error": True,
        "wait_for_current_time_update": spec.wait_for_current_time_update,
        "publications": [
            {"key": p.key, "type": "vector", "unit": p.unit, "global": True}
            for p in spec.publications
        ],
        "subscriptions": [
            {"key": k, "type": "vector", "unit": ports[k].unit, "required": True}
            for k in spec.subscriptions
        ],
        "cosim": {
            "adapter": f"{spec.module}:make",
            "out_dir": "..",
            "params": spec.params,
            # HELICS time = case time + this offset (so that the first step is a real request)
            "time_offset_s": TIME_OFFSET_S,
            "time_grid": case.time_grid_params(),
            "iterative": spec.iterative,
            "max_iterations": spec.max_iterations,
            "tolerance": spec.tolerance,
            "grid_dt_s": case.horizon.grid_dt_s,
            "sync_interval_s": case.horizon.sync_interval_s or case.horizon.grid_dt_s,
            **spec.extra,
        },
    }
    return cfg


def build(
    case: Case, out_dir: Path | str, *, broker_port: int | None = None, host: str = LOOPBACK
) -> Build:
    """Write the resolved case, the federate configs and the runner JSON into ``out_dir``."""
    out = Path(out_dir).resolve()
    (out / "configs").mkdir(parents=True, exist_ok=True)
    sync_s, why = exchange_interval(case)
    if case.horizon.sync_interval_s != sync_s:  # the resolved case records the default chosen
        case = case.model_copy(deep=True)
        case.horizon.sync_interval_s = sync_s
    (out / "exchange.json").write_text(json.dumps({"sync_interval_s": sync_s, "reason": why}))
    port = broker_port or free_port(host)
    address = f"tcp://{host}:{port}"
    case_path = write_resolved_case(case, out / "case.toml")
    specs = federation(case)
    ports = wiring(specs)
    configs: dict[str, Path] = {}
    for spec in specs:
        path = out / "configs" / f"{spec.name}.json"
        path.write_text(json.dumps(federate_config(spec, case, address, ports, host), indent=2))
        configs[spec.name] = path

    def entry(name: str, cmd: list[str]) -> dict[str, str]:
        return {"name": name, "directory": ".", "host": "localhost", "exec": shlex.join(cmd)}

    if case.run.one_process:  # one process runs the broker, the core and every federate
        address = ""
        broker_cmd = [
            sys.executable,
            "-m",
            "federates.common.together",
            f"--init=--maxsize={max_message_bytes(case)} --loglevel={case.run.log_level}",
            *(f"configs/{spec.name}.json" for spec in specs),
        ]
        entries = [entry("federation", broker_cmd)]
    else:
        broker_cmd = [
            find_broker(),
            f"--coretype={case.run.core_type}",
            f"--local_interface={host}",
            f"--port={port}",
            f"--federates={len(specs)}",
            f"--loglevel={case.run.log_level}",
            f"--name=broker_{port}",
            f"--maxsize={max_message_bytes(case)}",
        ]
        loop = [sys.executable, "-m", "federates.common.loop"]
        entries = [entry("broker", broker_cmd)] + [
            entry(spec.name, [*loop, f"configs/{spec.name}.json"]) for spec in specs
        ]
    runner = {"name": case.name, "broker": False, "federates": entries}
    runner_path = out / "runner.json"
    runner_path.write_text(json.dumps(runner, indent=2))
    return Build(
        out, case_path, configs, runner_path, address, broker_cmd, specs, case.run.one_process
    )
