"""Start a built federation and watch it until it ends; never hang, leave nothing behind.

The broker and every federate run as their own OS process, each in its own
process group (``start_new_session``), with one log per process under
``DIR/logs/``. The supervisor polls them; on the first federate that exits
non-zero (or dies by a signal), on the wall-clock limit, or on Ctrl-C it stops
every process of the run (SIGTERM to each group, SIGKILL after a grace period),
so the whole run ends within ~10 s of a fault. It kills only the processes it
started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cosim.engine.build import Build
from federates.common.loop import FATAL_PREFIX

POLL_S = 0.05
GRACE_S = 3.0
BROKER_EXIT_S = 5.0


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

    @property
    def cause(self) -> str:
        """What ended the run, as :attr:`cosim.errors.RunError.CAUSES` names it."""
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
    popen: subprocess.Popen
    log: Path


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def start_process(name: str, cmd: list[str], log: Path, cwd: Path) -> _Proc:
    fh = open(log, "w")  # noqa: SIM115 - handed to the child, closed when it ends
    env = dict(os.environ, PYTHONUNBUFFERED="1")
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
    try:
        os.killpg(proc.popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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
        try:
            p.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable process
            pass


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


def supervise(
    build: Build,
    duration_s: float,
    *,
    wall_limit_s: float | None = None,
    progress: bool = False,
) -> Outcome:
    """Run the federation of ``build`` to its end or its first failure."""
    logs = build.dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for f in logs.glob("*.progress"):
        f.unlink()
    t0 = time.monotonic()
    procs: list[_Proc] = []
    bar = None
    try:
        broker = start_process("broker", build.broker_cmd, logs / "broker.log", build.dir)
        procs.append(broker)
        for name in build.configs:
            procs.append(
                start_process(name, build.federate_cmd(name), logs / f"{name}.log", build.dir)
            )
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
            failed = next((p for p in feds if p.popen.poll() not in (None, 0)), None)
            if failed is not None:
                return _fail(procs, t0, failed, _describe_exit(failed.popen.returncode))
            if broker.popen.poll() not in (None, 0) and any(p.popen.poll() is None for p in feds):
                return _fail(procs, t0, broker, _describe_exit(broker.popen.returncode))
            if all(p.popen.poll() == 0 for p in feds):
                break
            if wall_limit_s is not None and time.monotonic() - t0 > wall_limit_s:
                slowest = min(feds, key=lambda p: _progress_of(build, p.name))
                stop_all(procs)
                return Outcome(
                    "failed",
                    time.monotonic() - t0,
                    "wall-clock limit",
                    f"stopped after the {wall_limit_s:g} s wall-clock limit "
                    f"(slowest federate: {slowest.name})",
                    tail(slowest.log),
                    _codes(procs),
                )
        try:
            broker.popen.wait(timeout=BROKER_EXIT_S)
        except subprocess.TimeoutExpired:
            pass
        if bar is not None:
            bar.n = duration_s
            bar.refresh()
        return Outcome("ok", time.monotonic() - t0, returncodes=_codes(procs))
    except KeyboardInterrupt:
        stop_all(procs)
        return Outcome(
            "failed", time.monotonic() - t0, "user", "interrupted (Ctrl-C)", "", _codes(procs)
        )
    finally:
        stop_all(procs, grace_s=0.5)
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
