"""Run the qualification: each test as real federations, in parallel, never one hiding another.

:func:`run_qualification` plans the selected tests, runs each in a worker
process (``jobs`` at a time; every test's federations go through
:func:`cosim.engine.runner.run_case`, so each is a real HELICS federation with the
real broker), judges it, renders its evidence, and writes
``qualification.json`` and ``qualification.html`` into the output directory.

Layout of ``DIR``::

    qualification.json, qualification.html
    Q1/main/            a run directory (cosim.engine.results layout) per federation
    Q1/plots/*.png      the evidence figures
    Q2/chirp_trace.csv  generated stimulus files (Q2 trace, Q9 weak grid)

A test whose federation stops because a power flow diverged (the grid
collapsed under the site) is judged on its partial series and marked failed;
a federate that crashes for another reason, or a test that raises, is
recorded as an error with the reason (not judged); a test the models cannot
run is ``not run`` with the reason. What happened to a federation comes from
:class:`cosim.errors.RunError`'s ``cause``, never from its message. The
overall verdict is ``pass`` only when every selected test passed; ``fail`` when
any failed; otherwise ``incomplete``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from cosim.analysis.checks import Check
from cosim.errors import CaseError, RunError
from cosim.studies.qualify.shortfall import classify
from cosim.studies.qualify.spec import QualifySpec
from cosim.studies.qualify.tests import (
    REGISTRY,
    Context,
    GridInfeasible,
    NotAvailable,
    QualTest,
    resolve_values,
)
from cosim.studies.qualify.verdict import check_record, num


def select_tests(only: str | list[str] | None) -> list[str]:
    """Test ids in suite order; ``only`` as ``"Q1,Q7"`` or a list (case-insensitive)."""
    if not only:
        return list(REGISTRY)
    items = only.split(",") if isinstance(only, str) else list(only)
    ids = [i.strip().upper() for i in items if i.strip()]
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise CaseError(
            f"--only: unknown test(s) {', '.join(unknown)} (known: {', '.join(REGISTRY)})"
        )
    return [i for i in REGISTRY if i in ids]


def default_jobs() -> int:
    """Parallel tests: one per core (each federation is mostly one busy process at a time)."""
    return max(1, os.cpu_count() or 1)


def _base_record(test_id: str, ctx: Context | None, scale: float) -> dict[str, Any]:
    p = REGISTRY[test_id]
    rec: dict[str, Any] = {
        "id": test_id,
        "name": p.name,
        "stimulus": p.stimulus,
        "criterion": p.criterion,
        "grid": p.grid,
        "metric": None,
        "value": None,
        "threshold": None,
        "unit": None,
        "source": None,
        "passed": None,
        "status": "error",
        "reason": "",
        "shortfall": None,
        "cause": None,
        "duration_s": p.duration(scale),
        "full_duration_s": p.full_duration_s,
        "shortened": scale < 1.0,
        "checks": [],
        "params": {},
        "runs": {},
        "figures": [],
        "measures": {},
        "need": None,
        "info": {},
        "wall_s": None,
    }
    if ctx is not None:
        rec["params"] = {k: v.as_dict() for k, v in ctx.values.items()}
    return rec


def run_test(
    test_id: str, spec: QualifySpec, out_dir: Path, duration_scale: float = 1.0
) -> dict[str, Any]:
    """Run and judge one test; never raises (errors are recorded in the returned record)."""
    t_start = time.monotonic()
    test = REGISTRY[test_id]
    t_dir = Path(out_dir) / test_id
    t_dir.mkdir(parents=True, exist_ok=True)
    ctx: Context | None = None
    rec = _base_record(test_id, None, duration_scale)
    try:
        ctx = Context(
            spec,
            test_id,
            t_dir,
            duration_scale,
            resolve_values(spec, test_id),
            duration_s=test.duration(duration_scale),
        )
        rec = _base_record(test_id, ctx, duration_scale)
        _run_and_judge(test, ctx, rec)
    except Exception as exc:  # noqa: BLE001 - one test's crash must not hide the others
        rec.update(
            status="error",
            passed=None,
            reason=f"{type(exc).__name__}: {exc}".strip(),
            traceback=traceback.format_exc(limit=8),
        )
    if ctx is not None:
        rec["info"] = _plain(ctx.info)
    rec["wall_s"] = round(time.monotonic() - t_start, 2)
    return rec


def _run_and_judge(test: QualTest, ctx: Context, rec: dict[str, Any]) -> None:
    from cosim.engine.results import load_results
    from cosim.engine.runner import run_case
    from cosim.studies.qualify.report import render_figures

    spec = ctx.spec
    try:
        plans = test.plan(ctx)
    except NotAvailable as exc:
        rec.update(status="not_run", passed=None, reason=f"not run: {exc}")
        return
    except GridInfeasible as exc:
        b = spec.case().bess
        rec.update(
            status="not_run",
            passed=False,
            cause="grid",
            reason=f"the grid cannot carry the site: {exc}",
        )
        rec["shortfall"] = classify(False, "grid", None, b.p_mw, b.e_mwh, b.overload_factor)
        rec["metric"] = "grid can carry the site"
        return
    runs: dict[str, Any] = {}
    failures: list[str] = []
    causes: list[str] = []  # RunError.cause of each failed run
    for plan in plans:
        case = spec.case(plan.overrides)
        run_dir = ctx.out_dir / plan.name
        t0 = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                res = run_case(case, run_dir, report=False)
                status = "ok"
                break
            except RunError as exc:
                first = str(exc).splitlines()[0] if str(exc) else "federation failed"
                if attempts < START_ATTEMPTS and exc.cause == "start":
                    continue  # the broker could not start or be reached: infrastructure, try again
                failures.append(f"{plan.name}: {first}")
                causes.append(exc.cause)
                status = "failed"
                try:
                    res = load_results(run_dir)
                except Exception:  # noqa: BLE001 - nothing on disk to judge
                    res = None
                break
        rec["runs"][plan.name] = {
            "dir": str(run_dir),
            "status": status,
            "attempts": attempts,
            "wall_s": round(time.monotonic() - t0, 2),
        }
        if res is not None:
            runs[plan.name] = res
    if len(runs) < len(plans):
        rec.update(status="error", passed=None, reason="; ".join(failures) or "no results")
        return
    verdict = test.evaluate(ctx, runs)
    diverged = bool(causes) and all(c == "diverged" for c in causes)
    if diverged:
        verdict.checks.insert(0, _completion_check(ctx, runs))
    g = verdict.governing
    rec.update(
        checks=[check_record(c) for c in verdict.checks],
        cause=verdict.cause,
        measures=_plain(verdict.measures),
    )
    if g is not None:
        rec.update(
            metric=g.name,
            value=num(g.value),
            threshold=g.limit,
            unit=g.unit,
            source=g.source,
        )
    passed = verdict.passed
    reason = verdict.reason
    if verdict.cause == "stimulus":
        reason = "stimulus not applied, not judged: " + "; ".join(
            c.note for c in verdict.checks if c.note
        )
    status = "ok"
    if diverged:
        passed, status = False, "failed"  # the grid collapsed under the site: a genuine failure
        reason = (
            "power flow diverged ("
            + "; ".join(failures)
            + "); judged on the partial series: "
            + reason
        )
    elif failures:
        passed, status = (
            None,
            "error",
        )  # a federate crashed: a model/software error, not a verdict on the BESS
        reason = (
            "federation failed, not judged (" + "; ".join(failures) + "); partial series: " + reason
        )
    rec.update(passed=passed, reason=reason, status=status)
    _shortfall(test, ctx, rec, runs, verdict.cause)
    out = ctx.out_dir / "plots"
    rec["figures"] = [
        {"name": f.name, "title": f.title, "caption": f.caption, "png": str(p)}
        for f, p in zip(verdict.figures, render_figures(verdict.figures, out), strict=True)
    ]


def _completion_check(ctx: Context, runs: dict[str, Any]) -> Check:
    """A failed check: how far the federation got before the power flow diverged [s]."""
    reached = []
    for res in runs.values():
        nets = [res.frame(n) for n in ("transmission", "distribution")]
        f = next(
            (df for df in nets if len(df)), res.frame("factory")
        )  # the network's last solved step
        reached.append(float(f["t_s"].max()) if len(f) else 0.0)
    return Check(
        id="completion",
        name="simulated time before the power flow diverged",
        value=min(reached) if reached else 0.0,
        limit=float(ctx.duration_s),
        unit="s",
        source="the test's duration",
        passed=False,
        op=">=",
        note="the grid could not carry the POI power flow any further",
    )


#: tries of a federation whose broker could not start or be reached (a port taken meanwhile, ...)
START_ATTEMPTS = 3


def _shortfall(
    test: QualTest, ctx: Context, rec: dict[str, Any], runs: dict[str, Any], cause: str | None
) -> None:
    b = ctx.spec.case().bess
    need = None
    if test.need is not None and runs:
        try:
            need = test.need(ctx, runs)
        except Exception as exc:  # noqa: BLE001 - the verdict stands without a rating analysis
            rec["need_error"] = f"{type(exc).__name__}: {exc}"
    rec["need"] = need.as_dict() if need is not None else None
    rec["shortfall"] = classify(rec["passed"], cause, need, b.p_mw, b.e_mwh, b.overload_factor)


def _plain(x: Any) -> Any:
    from cosim.analysis.jsonio import jsonable

    return jsonable(x)


def overall_verdict(tests: list[dict[str, Any]]) -> str:
    """``pass`` when all passed, ``fail`` when any failed, else ``incomplete``."""
    states = [t.get("passed") for t in tests]
    if any(s is False for s in states):
        return "fail"
    if states and all(s is True for s in states):
        return "pass"
    return "incomplete"


def run_qualification(
    spec: QualifySpec,
    out_dir: str | Path,
    only: str | list[str] | None = None,
    *,
    jobs: int | None = None,
    duration_scale: float = 1.0,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the selected tests (in parallel) and write qualification.json / .html.

    Parameters
    ----------
    spec : a loaded :class:`QualifySpec`
    out_dir : output directory (created)
    only : test ids to run (default all)
    jobs : tests run at a time (default: one per core)
    duration_scale : multiply each test's duration (< 1 for CI; never below a test's minimum)
    on_done : called with each test's record as it finishes (progress)

    Returns
    -------
    The content of qualification.json.
    """
    from cosim.studies.qualify.report import write_reports

    if not duration_scale > 0:
        raise CaseError(f"--duration-scale must be > 0, got {duration_scale}")
    ids = select_tests(only)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    n = max(1, min(jobs or default_jobs(), len(ids)))
    t0 = time.monotonic()
    records: dict[str, dict[str, Any]] = {}
    if n == 1:
        for tid in ids:
            records[tid] = run_test(tid, spec, out, duration_scale)
            if on_done:
                on_done(records[tid])
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            futs = {pool.submit(run_test, tid, spec, out, duration_scale): tid for tid in ids}
            for fut in as_completed(futs):
                tid = futs[fut]
                try:
                    records[tid] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker is one failed test
                    rec = _base_record(tid, None, duration_scale)
                    rec.update(status="error", reason=f"worker failed: {type(exc).__name__}: {exc}")
                    records[tid] = rec
                if on_done:
                    on_done(records[tid])
    tests = [records[t] for t in ids]
    result = {
        "spec": {
            "name": spec.name,
            "source": spec.source,
            "full_case": spec.full_case,
            "bess": spec.case().bess.model_dump(mode="json"),
            "controls": spec.case().controls.model_dump(mode="json"),
            "reference": spec.options.reference,
            "weak_grid": spec.options.weak_grid.model_dump(mode="json"),
        },
        "duration_scale": duration_scale,
        "shortened": duration_scale < 1.0,
        "jobs": n,
        "wall_s": round(time.monotonic() - t0, 2),
        "tests": tests,
        "verdict": overall_verdict(tests),
    }
    write_reports(result, out)
    return result
