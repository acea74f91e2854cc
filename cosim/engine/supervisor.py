"""Start a built federation and watch it until it ends; never hang, leave nothing behind.

The broker and every federate run as their own OS process, each in its own
process group (``start_new_session``), with one log per process under
``DIR/logs/``, and each dies with the supervisor (Linux parent-death signal,
:mod:`federates.common.parent`): SIGTERM, so that federates still flush.

The supervisor polls them. It stops every process of the run (SIGTERM to each
group, SIGKILL after :data:`GRACE_S`) on the first federate that exits non-zero
(or dies by a signal), on the broker dying, on a hung federate, on the
wall-clock limit, and on Ctrl-C or SIGTERM to itself. It kills only the
processes it started.

A hung federate: each federate beats every 0.5 s into ``logs/<name>.heartbeat``
(``<seq> <phase> <t_s>``, :class:`federates.common.watch.Watch`). When no
federate's ``t_s`` has moved for ``hang_timeout_s``, the federation is stuck and
the supervisor names the federate the others wait for: one whose heartbeat
stopped (stopped or frozen process), else one in its model (phase ``step``)
while the others wait in HELICS, else the one furthest behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import federates
from cosim.engine.build import Build
from cosim.engine.warm_start import WarmProcess, available, start_warm
from federates.common.loop import FATAL_PREFIX

POLL_S = 0.05
GRACE_S = 3.0
BROKER_EXIT_S = 5.0
#: default of ``run.hang_timeout_s``: no federate advanced for this long -> the run is hung
HANG_TIMEOUT_S = 20.0
#: a heartbeat unchanged for this long means a stopped or frozen process (it beats every 0.5 s)
HEARTBEAT_STALE_S = 5.0


@dataclass
class Outcome:
    """How a federation ended."""

    status: str  # "ok" | "failed"
    wall_s: float
    failed: str | None = None  # name of the federate (or "broker", "wall-clock limit")
    reason: str = ""
    log_tail: str = ""
    returncodes: dict[str, int | None] = field(default_factory=dict)
    fatal: str | None = None  # the failed federate's own FATAL line ("ExceptionType: message")
    hung: bool = False  # the failed federate was named as hung
    warm_start: bool = False  # the federates were forked warm (cosim.engine.warm_start)
    cpu_affinity: dict[str, list[int]] | None = None  # the cores each process was pinned to

    @property
    def cause(self) -> str:
        """What ended the run, as :attr:`cosim.errors.RunError.CAUSES` names it."""
        if self.hung:
            return "hung"
        if self.failed == "wall-clock limit":
            return "limit"
        if self.failed == "user":
            return "interrupted"
        if self.failed == "broker" or (self.fatal or "").startswith(START_FAILURES):
            return "start"
        if (self.fatal or "").startswith(DIVERGED):
            return "diverged"
        return "crashed"


#: FATAL lines of a federate that could not join the federation (class names of
#: :mod:`federates.common.loop`): infrastructure, not the models
START_FAILURES = ("FederationJoinError",)
#: FATAL lines of a power flow that did not converge (:class:`federates.grid.model.NonConvergence`)
DIVERGED = ("NonConvergence",)


@dataclass
class _Proc:
    name: str
    # a new process, forked warm (cosim.engine.warm_start), or a thread of one (Member)
    popen: subprocess.Popen | WarmProcess | Member
    log: Path


class Member:
    """One federate of a one-process federation (``run.one_process``) seen through
    :class:`subprocess.Popen`'s interface: its status is its ``logs/<name>.exit`` file
    (:mod:`federates.common.together`), else the process's own once it ended; signals go to
    the process."""

    def __init__(self, host: subprocess.Popen | WarmProcess, exit_file: Path) -> None:
        self.host = host
        self.exit_file = exit_file

    @property
    def pid(self) -> int:
        return self.host.pid

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def own(self) -> tuple[int, bool] | None:
        """The federate's exit status and whether it failed after another one did (its
        ``logs/<name>.exit``: ``CODE`` or ``CODE after``), or None while its thread runs."""
        try:
            code, *after = self.exit_file.read_text().split()
            return int(code), bool(after)
        except (OSError, ValueError):
            return None

    @property
    def after(self) -> bool:
        """It failed after another federate of the process did (not the first failure)."""
        own = self.own()
        return own is not None and own[1]

    def poll(self) -> int | None:
        """This federate's exit status once its thread ended, else the process's (or None)."""
        own = self.own()
        return own[0] if own is not None else self.host.poll()

    def wait(self, timeout: float | None = None) -> int:
        self.host.wait(timeout)
        return int(self.poll() or 0)

    def kill(self) -> None:
        self.host.kill()


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def start_process(
    name: str, cmd: list[str], log: Path, cwd: Path, cpus: list[int] | None = None
) -> _Proc:
    """Start ``cmd`` in its own process group, logging to ``log``; it dies with this process.

    ``cpus``: the cores it is pinned to (Linux; :mod:`cosim.engine.cpu_affinity`).
    """
    fh = open(log, "w")  # noqa: SIM115 - handed to the child, closed when it ends
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # the children import the same `federates` as this process, whatever the cwd
    root = str(Path(federates.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])
    if sys.platform.startswith("linux"):  # the parent-death signal, then exec: same process
        program = shutil.which(cmd[0]) or cmd[0]
        pin = ["--cpus", ",".join(map(str, cpus))] if cpus else []
        shim = [sys.executable, "-m", "federates.common.parent", str(os.getpid()), *pin, "--"]
        cmd = [*shim, program, *cmd[1:]]
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=fh,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    fh.close()
    return _Proc(name, p, log)


def _signal_group(proc: _Proc, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.popen.pid, sig)


def stop_all(procs: list[_Proc], grace_s: float = GRACE_S) -> None:
    """SIGTERM every live process group, then SIGKILL what is left after ``grace_s``."""
    live = [p for p in procs if p.popen.poll() is None]
    for p in live:
        _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(p.popen.poll() is None for p in live):
        time.sleep(POLL_S)
    for p in procs:
        _signal_group(p, signal.SIGKILL)  # also reaps grandchildren left in the group
        if p.popen.poll() is None:
            p.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # an unkillable process
            p.popen.wait(timeout=2)


@dataclass
class _Beat:
    """What the supervisor last saw of one federate's heartbeat."""

    seq: int = -1
    phase: str = ""
    t_s: float = -math.inf
    seen: float = 0.0  # monotonic time the heartbeat last changed
    moved: float = 0.0  # monotonic time t_s last changed


class HangWatch:
    """Reads the heartbeats of a federation and names the federate it is stuck on."""

    def __init__(self, logs: Path, names: list[str], timeout_s: float = HANG_TIMEOUT_S) -> None:
        self.logs = logs
        self.timeout_s = timeout_s
        self.beats = {n: _Beat() for n in names}

    def update(self, now: float) -> None:
        """Read every heartbeat file."""
        for name, beat in self.beats.items():
            try:
                seq_text, phase, t_text = (self.logs / f"{name}.heartbeat").read_text().split()
                seq, t_s = int(seq_text), float(t_text)
            except (OSError, ValueError):
                continue
            if seq != beat.seq:
                beat.seq, beat.phase, beat.seen = seq, phase, now
            if t_s != beat.t_s:
                beat.t_s, beat.moved = t_s, now

    def stuck_for(self, now: float) -> float:
        """Seconds since any running federate's ``t_s`` last moved (0 until every one beats)."""
        live = [b for b in self.beats.values() if b.phase not in ("done", "stopped", "failed")]
        if not live or any(b.seq < 0 for b in self.beats.values()):
            return 0.0
        return now - max(b.moved for b in live)

    def all_silent(self, now: float) -> bool:
        """No federate has beaten for :data:`HEARTBEAT_STALE_S` (a stopped or frozen process
        holds them all, when they share one: ``run.one_process``)."""
        return all(b.seq < 0 or now - b.seen > HEARTBEAT_STALE_S for b in self.beats.values())

    def culprit(self, now: float, pids: dict[str, int] | None = None) -> tuple[str, str]:
        """The federate the others wait for, and why (one phrase)."""
        live = {n: b for n, b in self.beats.items() if b.phase not in ("done", "stopped")}
        if not live:
            live = self.beats
        silent = {n: b for n, b in live.items() if b.seq < 0 or now - b.seen > HEARTBEAT_STALE_S}
        if silent:
            name = min(silent, key=lambda n: silent[n].seen)
            b = silent[name]
            state = _process_state((pids or {}).get(name))
            return name, (
                f"no heartbeat for {now - b.seen:.0f} s at t = {b.t_s:g} s{state}"
                if b.seq >= 0
                else f"never beat{state}"
            )
        stepping = {n: b for n, b in live.items() if b.phase in ("step", "join")}
        if stepping and len(stepping) < len(live):
            name = min(stepping, key=lambda n: stepping[n].t_s)
            b = stepping[name]
            return name, f"stuck in its model at t = {b.t_s:g} s for {now - b.moved:.0f} s"
        name = min(live, key=lambda n: live[n].t_s)
        return name, f"furthest behind, at t = {live[name].t_s:g} s"


def _process_state(pid: int | None) -> str:
    if pid is None:
        return ""
    try:
        import psutil

        if psutil.Process(pid).status() == psutil.STATUS_STOPPED:
            return " (process stopped, e.g. SIGSTOP)"
    except Exception:  # noqa: BLE001 - only an embellishment of the message
        pass
    return ""


def _progress_reader(build: Build) -> Callable[[], float]:
    files = [build.dir / "logs" / f"{name}.progress" for name in build.configs]

    def read() -> float:
        values = []
        for f in files:
            try:
                values.append(float(f.read_text() or 0.0))
            except (OSError, ValueError):
                values.append(0.0)
        return min(values) if values else 0.0

    return read


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM to the supervisor: handled like Ctrl-C."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def supervise(
    build: Build,
    duration_s: float,
    *,
    wall_limit_s: float | None = None,
    progress: bool = False,
    hang_timeout_s: float = HANG_TIMEOUT_S,
    warm: bool = False,
    cpus: dict[str, list[int]] | None = None,
) -> Outcome:
    """Run the federation of ``build`` to its end or its first failure.

    With ``warm``, the federates are forked from this process's warm fork server
    (:mod:`cosim.engine.warm_start`; for a process that runs many federations)
    instead of started as new processes (where it can: :func:`cosim.engine.warm_start.available`).
    ``cpus`` pins the processes (``"broker"`` and federates) to cores
    (:func:`cosim.engine.cpu_affinity.plan`).

    SIGTERM to this process is handled like Ctrl-C (in the main thread): every
    process is stopped and the outcome is ``interrupted``.
    """
    logs = build.dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for pattern in ("*.progress", "*.heartbeat", "*.exit"):
        for f in logs.glob(pattern):
            f.unlink()
    t0 = time.monotonic()
    procs: list[_Proc] = []
    bar = None
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    hangs = HangWatch(logs, list(build.configs), hang_timeout_s)
    last_hang_check = 0.0
    warm = warm and available()
    try:
        cpus = cpus or {}
        if build.one_process and warm:  # python -m federates.common.together ARGS, forked
            host_log = logs / "federation.log"
            program = (build.broker_cmd[2], build.broker_cmd[3:])
            forked = start_warm(
                Path("federation"), host_log, build.dir, cpus=cpus.get("broker"), program=program
            )
            broker = _Proc("federation", forked, host_log)
        else:
            broker = start_process(
                "federation" if build.one_process else "broker",
                build.broker_cmd,
                logs / ("federation.log" if build.one_process else "broker.log"),
                build.dir,
                cpus.get("broker"),
            )
        procs.append(broker)
        for name in build.configs:
            log_path = logs / f"{name}.log"
            if build.one_process:  # a thread of the one process: its exit file says how it ended
                member = Member(broker.popen, logs / f"{name}.exit")  # type: ignore[arg-type]
                proc = _Proc(name, member, log_path)
            elif warm:
                forked = start_warm(build.configs[name], log_path, build.dir, cpus=cpus.get(name))
                proc = _Proc(name, forked, log_path)
            else:
                proc = start_process(
                    name, build.federate_cmd(name), log_path, build.dir, cpus.get(name)
                )
            procs.append(proc)
        feds = procs[1:]
        if progress and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(
                total=round(duration_s, 3),
                unit="sim s",
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} sim s [{elapsed}<{remaining}]",
            )
        read_progress = _progress_reader(build)
        last_bar = 0.0
        while True:
            time.sleep(POLL_S)
            if bar is not None and time.monotonic() - last_bar > 0.2:
                bar.n = min(read_progress(), duration_s)
                bar.refresh()
                last_bar = time.monotonic()
            # a dead broker first: the federates that lose it fail because of it
            if build.one_process and broker.popen.poll() not in (None, 0):
                # the process died with no federate's own status (a crash): it is named
                # (its log holds every thread's stack on a fatal signal: faulthandler)
                if not any(isinstance(p.popen, Member) and p.popen.own() for p in feds):
                    return _fail(procs, t0, broker, _describe_exit(broker.popen.returncode))
            elif broker.popen.poll() not in (None, 0) and any(p.popen.poll() != 0 for p in feds):
                return _fail(procs, t0, broker, _describe_exit(broker.popen.returncode))
            # (a federate of one process that failed after another one did comes last)
            failed = min(
                (p for p in feds if p.popen.poll() not in (None, 0)),
                key=lambda p: getattr(p.popen, "after", False),
                default=None,
            )
            if failed is not None:
                # HELICS's own timeout ("lost comms") fails the federates that waited for a
                # stopped or frozen one: name that one, as hung
                now = time.monotonic()
                hangs.update(now)
                name, why = hangs.culprit(now, {p.name: p.popen.pid for p in feds})
                if name != failed.name and why.startswith("no heartbeat"):
                    culprit = next(p for p in feds if p.name == name)
                    outcome = _fail(
                        procs,
                        t0,
                        culprit,
                        f"hung: {why}; {failed.name} failed waiting for it "
                        f"({_describe_exit(failed.popen.returncode)})",
                    )
                    outcome.hung = True
                    return outcome
                return _fail(procs, t0, failed, _describe_exit(failed.popen.returncode))
            if all(p.popen.poll() == 0 for p in feds):
                break
            now = time.monotonic()
            if now - last_hang_check > 0.25:
                hangs.update(now)
                last_hang_check = now
                if hangs.stuck_for(now) > hang_timeout_s:
                    name, why = hangs.culprit(now, {p.name: p.popen.pid for p in feds})
                    culprit = next(p for p in feds if p.name == name)
                    stuck = hangs.stuck_for(now)
                    others = f"the others wait for it: {why}"
                    if build.one_process and hangs.all_silent(now):  # the process is frozen
                        culprit, others = broker, f"no federate of it beats: {why}"
                    outcome = _fail(
                        procs,
                        t0,
                        culprit,
                        f"hung: no federate advanced for {stuck:.0f} s "
                        f"(run.hang_timeout_s = {hang_timeout_s:g}); {others}",
                    )
                    outcome.hung = True
                    return outcome
            if wall_limit_s is not None and now - t0 > wall_limit_s:
                hangs.update(now)
                name, why = hangs.culprit(now, {p.name: p.popen.pid for p in feds})
                slowest = next(p for p in feds if p.name == name)
                stop_all(procs)
                return Outcome(
                    "failed",
                    time.monotonic() - t0,
                    "wall-clock limit",
                    f"stopped after the {wall_limit_s:g} s wall-clock limit "
                    f"(slowest federate: {slowest.name}: {why})",
                    tail(slowest.log),
                    _codes(procs),
                )
        with contextlib.suppress(subprocess.TimeoutExpired):
            broker.popen.wait(timeout=BROKER_EXIT_S)
        if bar is not None:
            bar.n = duration_s
            bar.refresh()
        return Outcome("ok", time.monotonic() - t0, returncodes=_codes(procs))
    except KeyboardInterrupt as exc:
        by = "SIGTERM" if str(exc) == "SIGTERM" else "Ctrl-C"
        stop_all(procs)
        return Outcome(
            "failed", time.monotonic() - t0, "user", f"interrupted ({by})", "", _codes(procs)
        )
    finally:
        stop_all(procs, grace_s=0.5)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if bar is not None:
            bar.close()


def _progress_of(build: Build, name: str) -> float:
    try:
        return float((build.dir / "logs" / f"{name}.progress").read_text())
    except (OSError, ValueError):
        return 0.0


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def fatal_line(log: Path) -> str | None:
    """The federate's own one-line account of its failure, if it wrote one."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    hits = [ln[len(FATAL_PREFIX) :] for ln in lines if ln.startswith(FATAL_PREFIX)]
    return hits[-1] if hits else None


def _fail(procs: list[_Proc], t0: float, culprit: _Proc, reason: str) -> Outcome:
    stop_all(procs)
    fatal = fatal_line(culprit.log)
    if fatal:
        reason = f"{fatal} ({reason})"
    return Outcome(
        "failed",
        time.monotonic() - t0,
        culprit.name,
        reason,
        tail(culprit.log),
        _codes(procs),
        fatal=fatal,
    )


def _codes(procs: list[_Proc]) -> dict[str, int | None]:
    return {p.name: p.popen.poll() for p in procs}
