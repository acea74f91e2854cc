"""Federations across machines: the broker alone, and one federate at a time.

HELICS is already a distributed engine; this module only starts its pieces
separately. :func:`start_broker` builds the case into ``DIR`` and starts
``helics_broker`` bound to ``interface`` (loopback ``127.0.0.1`` unless told
otherwise; ``0.0.0.0`` = every interface) on ``port`` (a free one when not
given). :func:`run_single_federate` starts one federate of the case, on any
host, joined to a broker at ``tcp://HOST:PORT``. Each process runs in its own
process group with its log in ``DIR/logs/``.

Every host writes its federate's series to its own ``DIR/timeseries/``. When
the hosts share ``DIR`` (or the series are copied into the broker host's
``DIR/timeseries/``), :func:`finish_run` writes ``summary.json`` exactly as a
normal run does; the broker flow (:func:`run_broker_only`) calls it when the
broker ends. A federate that failed (no ``<name>.info.json`` with status ok)
makes the run ``failed``.

Every process listens on one interface only: the broker on ``interface``, a
federate on its ``--interface`` or, by default, the local address that routes
to the broker (loopback for a loopback broker), never on every interface. The
case file (and any network file it names) must exist on every host.
"""

from __future__ import annotations

import fcntl
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosim.case import Case, load_case
from cosim.engine.build import LOOPBACK, Build, build, free_port
from cosim.engine.federation import federation
from cosim.engine.outdir import check_out_dir, claim_out_dir, mark_run_dir, prepare_out_dir
from cosim.engine.supervisor import POLL_S, Outcome, start_process, stop_all, tail
from cosim.errors import CosimError, UsageError
from federates.common.recorder import arrow_to_parquet

BROKER_START_S = 15.0
ANY_INTERFACE = "0.0.0.0"
ADDRESS_RE = re.compile(r"^(?:(?P<proto>tcp|zmq)://)?(?P<host>[^:/\s]+):(?P<port>\d{1,5})$")


def parse_broker_address(address: str) -> tuple[str, int]:
    """``tcp://HOST:PORT`` -> (HOST, PORT); a :class:`CosimError` when malformed."""
    m = ADDRESS_RE.match(address.strip())
    if not m or not 0 < int(m["port"]) < 65536:
        raise CosimError(f"--broker {address!r}: expected tcp://HOST:PORT")
    return m["host"], int(m["port"])


def federate_names(case: Case) -> list[str]:
    """The federates of a case, in start order."""
    return [spec.name for spec in federation(case)]


def _apart(case: Case) -> Case:
    """``case``, whose federates may run in processes of their own (on other hosts)."""
    if case.run.one_process:
        raise UsageError(
            "run.one_process = true runs every federate in one process on this machine; "
            "a broker or a federate alone needs run.one_process = false"
        )
    return case


# ---------------------------------------------------------------- broker


@dataclass
class BrokerHandle:
    """A running broker started by :func:`start_broker`."""

    build: Build
    address: str
    interface: str
    federates: list[str]
    _proc: Any = field(repr=False)
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        """Process id of the broker (its process group leader)."""
        return self._proc.popen.pid

    @property
    def log(self) -> Path:
        """The broker's log file."""
        return self._proc.log

    def poll(self) -> int | None:
        """The broker's exit code, or None while it runs."""
        return self._proc.popen.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the broker exits (all federates done) or ``timeout`` s pass."""
        try:
            return self._proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Stop the broker (SIGTERM to its process group, SIGKILL after a grace period)."""
        stop_all([self._proc])

    def federate_commands(self, case_ref: str | None = None, out_dir: str = "DIR") -> list[str]:
        """The command that starts each federate on its host."""
        ref = case_ref or str(self.build.case_path)
        return [
            f"cosim federate {n} --case {ref} --broker {self.address} -o {out_dir}"
            for n in self.federates
        ]


def start_broker(
    case: str | Path | Case,
    out_dir: str | Path,
    interface: str = LOOPBACK,
    port: int | None = None,
) -> BrokerHandle:
    """Build ``case`` into ``out_dir`` and start only its broker, on ``interface``:``port``.

    The broker waits for every federate of the case to join (``cosim federate``
    / :func:`run_single_federate`, on any host) and exits when they are done.
    Nothing else is started. The caller owns the handle (``wait``/``stop``).
    """
    c = _apart(load_case(case))
    out = Path(out_dir).resolve()
    prepare_out_dir(out)
    if port is None:
        port = free_port(interface)  # P and P + 1 free: the zmq broker listens on both
    b = build(c, out, broker_port=port, host=interface)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    proc = start_process("broker", b.broker_cmd, logs / "broker.log", out)
    if not _wait_listening(
        proc.popen, (port, port + 1) if c.run.core_type.startswith("zmq") else (port,)
    ):
        stop_all([proc], grace_s=0.5)
        raise CosimError(
            f"helics_broker did not start listening on {interface}:{port} "
            f"(exit code {proc.popen.returncode}); {proc.log}:\n{tail(proc.log)}"
        )
    # the address federates dial: the bound one, or this host's name when bound to every interface
    address = (
        f"tcp://{socket.gethostname()}:{port}" if interface == ANY_INTERFACE else b.broker_address
    )
    return BrokerHandle(b, address, interface, federate_names(c), proc)


def _wait_listening(
    popen: subprocess.Popen, ports: tuple[int, ...], timeout_s: float = BROKER_START_S
) -> bool:
    """Wait until ``popen`` listens on every port of ``ports``; False when it exits or times out."""
    import psutil

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and popen.poll() is None:
        bound: set[int] = set()
        try:
            top = psutil.Process(popen.pid)
            for proc in [
                top,
                *top.children(recursive=True),
            ]:  # helics_broker may be a launcher script
                bound |= {
                    c.laddr.port
                    for c in proc.net_connections(kind="tcp")
                    if c.status == psutil.CONN_LISTEN
                }
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        if set(ports) <= bound:
            return True
        time.sleep(POLL_S)
    return False


def run_broker_only(
    case: str | Path | Case,
    out_dir: str | Path,
    interface: str = LOOPBACK,
    port: int | None = None,
    *,
    wall_limit_s: float | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """``cosim run CASE --broker-only`` / ``cosim broker CASE``: start the broker, wait, summarise.

    Prints the broker address and the command for each federate, waits until
    the broker exits (or ``wall_limit_s``, or Ctrl-C, which stop it), then
    writes ``summary.json`` from the series in ``out_dir`` (:func:`finish_run`).
    Returns the exit code: 0 when every federate finished, else 1.
    """
    with claim_out_dir(out_dir) as out:
        return _run_broker_claimed(case, out, interface, port, wall_limit_s, echo)


def _run_broker_claimed(
    case: str | Path | Case,
    out: Path,
    interface: str,
    port: int | None,
    wall_limit_s: float | None,
    echo: Callable[[str], None],
) -> int:
    handle = start_broker(case, out, interface, port)
    echo(f"broker listening at {handle.address} (log {handle.log}); start each federate:")
    for cmd in handle.federate_commands(out_dir=str(out)):
        echo(f"  {cmd}")
    try:
        while handle.poll() is None:
            if wall_limit_s is not None and time.monotonic() - handle.started > wall_limit_s:
                handle.stop()
                echo(f"stopped the broker after the {wall_limit_s:g} s wall-clock limit")
                break
            time.sleep(POLL_S * 4)
    except KeyboardInterrupt:
        handle.stop()
        raise
    finally:
        if handle.poll() is None:
            handle.stop()
    summary = finish_run(out, wall_s=time.monotonic() - handle.started, broker_code=handle.poll())
    echo(
        f"run {out}: {summary['status']}"
        + (f" ({summary['run']['reason']})" if summary["status"] != "ok" else "")
    )
    return 0 if summary["status"] == "ok" else 1


def finish_run(
    out_dir: str | Path, *, wall_s: float | None = None, broker_code: int | None = 0
) -> dict[str, Any]:
    """Write ``summary.json`` for a federation whose processes were started separately.

    The run is ok when every federate of the case left ``timeseries/<name>.info.json``
    with status ok (and the broker, when known, exited 0). Returns the summary.
    """
    from cosim.engine.runner import write_summary

    out = Path(out_dir).resolve()
    if not (out / "case.toml").is_file():
        raise CosimError(f"{out}: not a run directory (no case.toml)")
    case = load_case(out / "case.toml")
    infos = {name: _read_info(out, name) for name in federate_names(case)}
    bad = next((n for n, i in infos.items() if i.get("status") != "ok"), None)
    if wall_s is None:
        wall_s = max((float(i.get("wall_s", 0.0)) for i in infos.values()), default=0.0)
    codes: dict[str, int | None] = {"broker": broker_code}
    if bad is not None:
        info = infos[bad]
        reason = (
            f"federate status {info['status']!r}"
            if info
            else f"no {bad}.info.json in {out / 'timeseries'} (still running, failed, or its "
            "series were not copied from its host)"
        )
        outcome = Outcome("failed", wall_s, bad, reason, tail(out / "logs" / f"{bad}.log"), codes)
    elif broker_code not in (0, None):
        outcome = Outcome(
            "failed",
            wall_s,
            "broker",
            f"broker exited with code {broker_code}",
            tail(out / "logs" / "broker.log"),
            codes,
        )
    else:
        outcome = Outcome("ok", wall_s, returncodes=codes)
    return write_summary(out, outcome)


def _read_info(out: Path, name: str) -> dict[str, Any]:
    import json

    try:
        return json.loads((out / "timeseries" / f"{name}.info.json").read_text())
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------- one federate


@dataclass
class FederateResult:
    """How one separately started federate ended."""

    name: str
    returncode: int | None
    log: Path
    wall_s: float

    @property
    def ok(self) -> bool:
        """True when the federate exited 0."""
        return self.returncode == 0


def run_single_federate(
    name: str,
    case: str | Path | Case,
    broker: str,
    out_dir: str | Path,
    *,
    wall_limit_s: float | None = None,
    progress: bool = False,
    interface: str | None = None,
) -> FederateResult:
    """Run federate ``name`` of ``case`` joined to the broker at ``broker`` (``tcp://HOST:PORT``).

    Builds the case into ``out_dir`` unless it already holds the same resolved
    case (hosts sharing a directory reuse one build; builds are serialised by a
    lock file), starts the federate process in its own process group, waits for
    it, and turns its series into Parquet. Ctrl-C or the wall limit stop it.
    Its core listens on ``interface`` only (default: the address of this host
    that routes to the broker), never on every interface.
    """
    host, port = parse_broker_address(broker)
    address = f"tcp://{host}:{port}"
    c = _apart(load_case(case))
    names = federate_names(c)
    if name not in names:
        raise CosimError(
            f"federate {name!r} is not part of case {c.name} (federates: {', '.join(names)})"
        )
    out = check_out_dir(out_dir)
    mark_run_dir(out)  # hosts may share it: marked, not locked
    config = _ensure_build(c, out, host, port) / f"{name}.json"
    ts, logs = out / "timeseries", out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for stale in [*ts.glob(f"{name}.*"), *ts.glob(f"{name}_hr.*"), *logs.glob(f"{name}.*")]:
        stale.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "federates.common.loop", str(config), "--broker", address]
    if interface is not None:
        cmd += ["--interface", interface]
    t0 = time.monotonic()
    proc = start_process(name, cmd, logs / f"{name}.log", out)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=round(c.horizon.duration_s, 3),
            unit="sim s",
            desc=name,
            file=sys.stderr,
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} sim s [{elapsed}]",
        )
    try:
        while proc.popen.poll() is None:
            if wall_limit_s is not None and time.monotonic() - t0 > wall_limit_s:
                break
            if bar is not None:
                bar.n = min(_progress(logs / f"{name}.progress"), c.horizon.duration_s)
                bar.refresh()
            time.sleep(POLL_S * 4)
    finally:
        stop_all([proc], grace_s=3.0 if proc.popen.poll() is None else 0.5)
        if bar is not None:
            bar.close()
        for leftover in (ts / f"{name}.arrow", ts / f"{name}_hr.arrow"):
            if leftover.is_file():
                arrow_to_parquet(leftover)
    return FederateResult(name, proc.popen.returncode, proc.log, time.monotonic() - t0)


def _ensure_build(case: Case, out: Path, host: str, port: int) -> Path:
    """``out/configs`` holding ``case``'s build (reused when ``out/case.toml`` is the same case)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            same = (out / "case.toml").is_file() and load_case(
                out / "case.toml"
            ).to_dict() == case.to_dict()
        except CosimError:
            same = False
        names = federate_names(case)
        if not (same and all((out / "configs" / f"{n}.json").is_file() for n in names)):
            build(case, out, broker_port=port, host=host)
    return out / "configs"


def _progress(path: Path) -> float:
    try:
        return float(path.read_text() or 0.0)
    except (OSError, ValueError):
        return 0.0
