"""Run a case end to end: validate, build, supervise, finalize results, summarise, report."""

from __future__ import annotations

import logging
import os
import socket
import sys
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cosim.case import Case, load_case
from cosim.engine import cpu_affinity, warm_start
from cosim.engine.build import LOOPBACK, build
from cosim.engine.outdir import claim_out_dir, prepare_out_dir
from cosim.engine.results import Results, finalize_timeseries, load_results
from cosim.engine.supervisor import Outcome, supervise
from cosim.errors import RunError

log = logging.getLogger("cosim")


def default_out_dir(case: Case) -> Path:
    return Path("runs") / case.name


BROKER_START_RETRIES = 2


def run_federation(
    case: Case, out: Path, *, progress: bool = False, interface: str = LOOPBACK
) -> Outcome:
    """Build and supervise one federation; a broker that dies at start-up (its port
    taken between the pick and the bind) is retried on a new port. Every process
    listens on ``interface`` only (loopback by default)."""
    # a process that runs many federations (a sweep's worker) forks its federates warm
    warm = warm_start.enabled()
    for attempt in range(BROKER_START_RETRIES + 1):
        prepare_out_dir(out)
        b = build(case, out, host=interface)
        cpus = cpu_affinity.plan(case.run.cpu_affinity, list(b.configs))
        outcome = supervise(
            b,
            case.horizon.duration_s,
            wall_limit_s=case.run.wall_limit_s,
            progress=progress,
            hang_timeout_s=case.run.hang_timeout_s,
            warm=warm,
            cpus=cpus,
        )
        started = any((out / "logs").glob("*.progress"))
        if outcome.failed == "broker" and not started and attempt < BROKER_START_RETRIES:
            log.warning("broker failed at start-up (%s); retrying on a new port", outcome.reason)
            continue
        break
    finalize_timeseries(out)
    outcome.warm_start = warm
    outcome.cpu_affinity = cpus
    return outcome


def write_summary(out: Path, outcome: Outcome, context: Any = None) -> dict[str, Any]:
    """Summarise whatever is on disk (also for a failed run) into summary.json.

    ``context`` is the case's :class:`cosim.analysis.summary.NetworkContext`, or a future of one.
    """
    run_info = {
        "status": outcome.status,
        "wall_s": round(outcome.wall_s, 3),
        "failed": outcome.failed,
        "reason": outcome.reason,
        "returncodes": outcome.returncodes,
        # where the run was supervised (a sweep on a Dask cluster: which worker)
        "host": socket.gethostname(),
        "host_pid": os.getpid(),
        # federates forked from the host's warm process (cosim.engine.warm_start), or new ones
        "warm_start": outcome.warm_start,
        # the cores each process was pinned to (cosim.engine.cpu_affinity), or null
        "cpu_affinity": outcome.cpu_affinity,
    }
    summary: dict[str, Any] = {"status": outcome.status, "wall_s": run_info["wall_s"]}
    try:
        from cosim.analysis.summary import build_summary

        results = load_results(out)
        results.info = run_info
        if isinstance(context, Future):
            context = context.result()
        summary = build_summary(results, results.case, context=context)
    except Exception as exc:  # noqa: BLE001 - a summary failure must not lose the run
        summary["summary_error"] = f"{type(exc).__name__}: {exc}"
        log.debug("summary failed:\n%s", traceback.format_exc())
    summary["status"] = outcome.status
    summary["wall_s"] = run_info["wall_s"]
    summary["run"] = run_info
    from cosim.analysis.jsonio import write_json

    write_json(summary, out / "summary.json")
    return summary


def run_case(
    case: str | Path | Case | dict[str, Any],
    out_dir: str | Path | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    *,
    baseline: bool = False,
    progress: bool = False,
    report: bool | None = None,
    interface: str = LOOPBACK,
) -> Results:
    """Run a case and return its :class:`Results`; raise :class:`RunError` when it failed.

    On failure the partial series and a ``summary.json`` with ``status: failed``
    are on disk before the error is raised.
    """
    c = load_case(case, overrides)
    out = Path(out_dir) if out_dir is not None else default_out_dir(c)
    with claim_out_dir(out) as out:
        return _run_claimed(
            c, out, baseline=baseline, progress=progress, report=report, interface=interface
        )


def _run_claimed(
    c: Case, out: Path, *, baseline: bool, progress: bool, report: bool | None, interface: str
) -> Results:
    # the network-only part of the summary (network load, pre-connection power flow, SCR)
    # is computed while the federation runs: the supervisor's process is idle meanwhile;
    # in a child process, so that pandapower never loads in the supervisor (unless N-1 needs it)
    from cosim.analysis.context import network_context_apart
    from cosim.engine.exchange import exchange_interval

    if warm_start.enabled():  # its preload overlaps the exchange screen and the build
        warm_start.start_server()

    # the build's exchange screen first (kept for the build): the network context then
    # follows it in the same child process (cosim.engine.apart), during the federation
    exchange_interval(c)
    with ThreadPoolExecutor(1, thread_name_prefix="network-context") as pool:
        context = pool.submit(network_context_apart, c)
        outcome = run_federation(c, out, progress=progress, interface=interface)
        write_summary(out, outcome, context)
        if outcome.status != "ok":
            raise _run_error(_failure_message(outcome, out), outcome)
        if baseline:
            base_case = load_case(c, {"bess.enabled": False})
            b_out = out / "baseline"
            b_outcome = run_federation(base_case, b_out, progress=progress, interface=interface)
            write_summary(
                b_out, b_outcome, context
            )  # the same network: bess.enabled does not change it
            if b_outcome.status != "ok":
                msg = "baseline run: " + _failure_message(b_outcome, b_out)
                raise _run_error(msg, b_outcome)
    if c.outputs.report if report is None else report:
        try:
            from cosim.analysis.report import write_report

            write_report(out)
        except Exception as exc:  # noqa: BLE001 - the run's results stay valid without a report
            print(f"warning: report not written: {type(exc).__name__}: {exc}", file=sys.stderr)
    return load_results(out)


def _run_error(message: str, outcome: Outcome) -> RunError:
    named = outcome.failed not in (None, "wall-clock limit", "user")
    return RunError(
        message,
        federate=outcome.failed if named else None,
        cause=outcome.cause,
        returncode=outcome.returncodes.get(outcome.failed) if named else None,
    )


def _failure_message(outcome: Outcome, out: Path) -> str:
    msg = f"federate {outcome.failed!r} failed: {outcome.reason}"
    if outcome.failed in ("wall-clock limit", "user"):
        msg = outcome.reason
    lines = [msg, f"partial results kept in {out}"]
    if outcome.log_tail:
        lines.append(f"--- last lines of {outcome.failed}.log ---")
        lines.append(outcome.log_tail)
    return "\n".join(lines)
