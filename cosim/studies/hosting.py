"""Hosting capacity: the largest AI factory a bus can take while every check passes.

For each bus (and with and/or without the BESS) a bisection over the factory
size ``factory.it_mw`` finds the largest size whose run passes every check
(``summary.json`` ``verdict == "pass"``), to within ``tol_mw``. The sizes tried
lie on the grid ``min_mw + k * tol_mw`` (plus ``max_mw``), so run ids are
readable and repeat across studies. The search assumes that passing is monotone
in the size (a larger site never passes where a smaller one failed).

The *binding constraint* is what fails at the smallest failing size tried: the
failing check (of those that decide the verdict) with the largest relative
excess over its limit, with where and when it was worst: a check's own
``where`` / ``t_s`` keys when it has them, else the summary's metrics for that
check (:data:`LOCATE`: the worst bus of a voltage range, the most loaded branch,
the POI). A run that fails outright (e.g. a power flow that does not converge) binds
as the check ``run``; a run whose power flow did not converge at some grid step
never passes (check ``power_flow_converged``), since its voltage and thermal
checks had no data.

Layout of ``DIR``: ``runs/<run-id>/`` (one normal run per size tried; finished
runs are reused, so an interrupted study resumes), ``hosting.parquet`` (one row
per bus and BESS setting), ``hosting_runs.parquet`` (every size tried) and
``plots/hosting_capacity.png`` (capacity per bus, with and without BESS).

:func:`bisect_capacity` is the pure search; :func:`hosting_capacity` runs it
(:mod:`cosim.studies.hosting_search`) with real federations through a
:class:`cosim.studies.run_pool.RunPool` (local processes or a Dask cluster),
one search per bus and BESS setting in parallel.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cosim.case import Case, load_case
from cosim.errors import CaseError
from cosim.studies.hosting_search import (
    LOCATE,
    Capacity,
    Evaluation,
    Violation,
    bisect_capacity,
    evaluation_from_record,
    format_number,
    locate,
    relative_excess,
    size_grid,
    violations,
)
from cosim.studies.run_pool import (
    RunPool,
    finished_record,
    future_record,
    is_finished,
)
from cosim.studies.run_pool import prepare as prepare_pool
from cosim.studies.sweep import run_id_for, write_table
from federates.errors import ConfigError

SIZE_KEY = "factory.it_mw"
BUS_KEY = "factory.poi_bus"
BESS_KEY = "bess.enabled"

__all__ = [
    "LOCATE",
    "Capacity",
    "Evaluation",
    "HostingResult",
    "RunEvaluator",
    "Violation",
    "bisect_capacity",
    "capacity_frame",
    "describe",
    "evaluation_from_record",
    "hosting_capacity",
    "locate",
    "plot_capacity",
    "relative_excess",
    "runs_frame",
    "size_grid",
    "violations",
]


# ---------------------------------------------------------------- real runs


class _Interrupted(Exception):
    """Raised in a search thread when the study is being stopped."""


class RunEvaluator:
    """Evaluate factory sizes for one bus and BESS setting with real runs in a pool.

    Finished runs (resume) are read back; other sizes are submitted to the
    pool; :meth:`prefetch` submits several sizes at once.
    """

    def __init__(
        self,
        base: Case,
        params: Mapping[str, Any],
        pool: RunPool,
        runs_dir: Path,
        stop: threading.Event,
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self.base = base
        self.params = dict(params)
        self.pool = pool
        self.runs_dir = runs_dir
        self.stop = stop
        self.on_done = on_done
        self._futures: dict[float, tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def _start(self, it_mw: float) -> tuple[str, Any]:
        with self._lock:
            if it_mw not in self._futures:
                if self.stop.is_set():
                    raise _Interrupted()
                params = {**self.params, SIZE_KEY: it_mw}
                run_id = run_id_for(params)
                case = load_case(self.base, params)
                run_dir = self.runs_dir / run_id
                fut = (
                    finished_record(run_dir)
                    if is_finished(run_dir, case)
                    else self.pool.submit(case, run_dir)
                )
                self._futures[it_mw] = (run_id, fut)
            return self._futures[it_mw]

    def prefetch(self, sizes: Iterable[float]) -> None:
        """Start the runs of ``sizes`` now (they are waited for when evaluated)."""
        for s in sizes:
            self._start(float(s))

    def __call__(self, it_mw: float) -> Evaluation:
        run_id, fut = self._start(float(it_mw))
        record = fut if isinstance(fut, dict) else future_record(fut)
        if self.stop.is_set():
            raise _Interrupted()
        self.on_done()
        return evaluation_from_record(it_mw, record, run_id)


@dataclass
class HostingResult:
    """What a hosting-capacity study produced."""

    dir: Path
    frame: pd.DataFrame  # one row per bus and BESS setting
    runs: pd.DataFrame  # every size tried
    table: Path
    plot: Path | None
    capacities: dict[tuple[int, bool], Capacity]


def hosting_capacity(
    case: str | Path | Case,
    buses: Sequence[int],
    out_dir: str | Path,
    *,
    bess: Sequence[bool] = (True, False),
    min_mw: float = 10.0,
    max_mw: float = 1000.0,
    tol_mw: float = 10.0,
    overrides: list[str] | dict[str, Any] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> HostingResult:
    """Find the hosting capacity (largest passing ``factory.it_mw``) at each bus.

    One bisection per bus and BESS setting (``bess``: True = with the case's
    BESS, False = ``bess.enabled = false``), all of them at the same time in a
    :class:`~cosim.studies.run_pool.RunPool`. Every bus is checked against the network
    before any run starts.
    """
    from cosim.checks import check_case

    if not buses:
        raise CaseError("hosting capacity: give at least one bus (--bus 12,49)")
    if not bess:
        raise CaseError("hosting capacity: nothing to do (neither with nor without BESS)")
    base = load_case(case, overrides)
    grid = size_grid(min_mw, max_mw, tol_mw)
    prepare_pool(scheduler)  # in the background, while the buses are checked
    problems: list[str] = []
    chains: dict[tuple[int, bool], dict[str, Any]] = {}
    for bus in dict.fromkeys(int(b) for b in buses):
        try:
            check_case(load_case(base, {BUS_KEY: bus}))
        except ConfigError as exc:
            problems += exc.problems
        for with_bess in dict.fromkeys(bess):
            chains[(bus, with_bess)] = {BUS_KEY: bus, BESS_KEY: with_bess}
    if problems:
        raise CaseError(problems, base.name)
    out = Path(out_dir).resolve()
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    bar, lock = None, threading.Lock()
    per_chain = 2 + math.ceil(math.log2(max(len(grid) - 1, 1)))
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=per_chain * len(chains),
            unit="run",
            desc="hosting",
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def tick() -> None:
        if bar is not None:
            with lock:
                bar.update(1)

    capacities: dict[tuple[int, bool], Capacity] = {}
    with (
        RunPool(workers, scheduler) as pool,
        ThreadPoolExecutor(max_workers=len(chains)) as threads,
    ):

        def search(key: tuple[int, bool]) -> Capacity:
            ev = RunEvaluator(base, chains[key], pool, runs_dir, stop, tick)
            cap = bisect_capacity(ev, min_mw, max_mw, tol_mw, prefetch=ev.prefetch)
            if bar is not None:
                with lock:  # a search that ended early needs fewer runs than estimated
                    bar.total -= per_chain - len(cap.history)
                    bar.refresh()
            return cap

        futures = {key: threads.submit(search, key) for key in chains}
        try:
            for key, fut in futures.items():
                capacities[key] = fut.result()
        except BaseException:
            stop.set()
            pool.close(cancel=True)
            raise
        finally:
            if bar is not None:
                bar.close()

    frame = capacity_frame(capacities, min_mw, max_mw, tol_mw)
    runs = runs_frame(capacities)
    table = write_table(frame, out / "hosting.parquet")
    write_table(runs, out / "hosting_runs.parquet")
    plot = plot_capacity(frame, out / "plots" / "hosting_capacity.png")
    return HostingResult(out, frame, runs, table, plot, capacities)


def capacity_frame(
    capacities: Mapping[tuple[int, bool], Capacity], min_mw: float, max_mw: float, tol_mw: float
) -> pd.DataFrame:
    """One row per bus and BESS setting: capacity, status and the binding constraint."""
    rows = []
    for (bus, with_bess), cap in sorted(
        capacities.items(), key=lambda kv: (kv[0][0], not kv[0][1])
    ):
        b = cap.binding
        rows.append(
            {
                "bus": bus,
                "bess": with_bess,
                "capacity_it_mw": cap.capacity_mw,
                "status": cap.status,
                "poi_p_max_mw": cap.passing.poi_p_max_mw if cap.passing else None,
                "binding": b.describe() if b else None,
                "binding_check": b.check if b else None,
                "binding_value": _text(b.value) if b else None,
                "binding_limit": _text(b.limit) if b else None,
                "binding_unit": b.unit if b else None,
                "binding_where": b.where if b else None,
                "binding_t_s": b.t_s if b else None,
                "binding_source": b.source if b else None,
                "binding_detail": b.detail if b else None,
                "binding_at_it_mw": cap.failing.it_mw if cap.failing else None,
                "binding_run": cap.failing.run_id if cap.failing else None,
                "failing_checks": ",".join(v.check for v in cap.failing.violations)
                if cap.failing
                else "",
                "passing_run": cap.passing.run_id if cap.passing else None,
                "evaluations": len(cap.history),
                "min_mw": min_mw,
                "max_mw": max_mw,
                "tol_mw": tol_mw,
            }
        )
    return pd.DataFrame(rows)


def runs_frame(capacities: Mapping[tuple[int, bool], Capacity]) -> pd.DataFrame:
    """Every size tried, in the order tried per search."""
    rows = [
        {
            "bus": bus,
            "bess": with_bess,
            "step": n,
            "it_mw": e.it_mw,
            "passed": e.passed,
            "run_id": e.run_id,
            "poi_p_max_mw": e.poi_p_max_mw,
            "failing_checks": ",".join(v.check for v in e.violations),
            "error": e.error,
        }
        for (bus, with_bess), cap in capacities.items()
        for n, e in enumerate(cap.history)
    ]
    return pd.DataFrame(rows)


def describe(frame: pd.DataFrame) -> list[str]:
    """Terminal lines: one per bus and BESS setting."""
    lines = []
    for r in frame.itertuples():
        label = "with BESS   " if r.bess else "without BESS"
        cap = f"{r.capacity_it_mw:8.1f} MW"
        if r.status == "above_range":
            lines.append(
                f"bus {r.bus:>4} {label} >= {cap.strip()} (passes at the top of the range)"
            )
            continue
        if r.status == "below_range":
            cap = f"< {r.min_mw:g} MW"
        lines.append(
            f"bus {r.bus:>4} {label} {cap}  binding at {r.binding_at_it_mw:g} MW: {r.binding}"
        )
    return lines


def plot_capacity(frame: pd.DataFrame, path: Path) -> Path | None:
    """Grouped bars: capacity per bus, with and without BESS, labelled with the binding check."""
    if frame.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buses = sorted(frame["bus"].unique())
    settings = [s for s in (True, False) if s in set(frame["bess"])]
    width = 0.8 / len(settings)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(buses) + 2), 4.0))
    for n, with_bess in enumerate(settings):
        sub = frame[frame["bess"] == with_bess].set_index("bus")
        xs = [i + (n - (len(settings) - 1) / 2) * width for i in range(len(buses))]
        heights = [float(sub.loc[b, "capacity_it_mw"]) if b in sub.index else 0.0 for b in buses]
        bars = ax.bar(
            xs,
            heights,
            width,
            label="with BESS" if with_bess else "without BESS",
            color="tab:green" if with_bess else "tab:gray",
        )
        for bar_, b in zip(bars, buses, strict=True):
            if b not in sub.index:
                continue
            row = sub.loc[b]
            text = "≥ max" if row["status"] == "above_range" else str(row["binding_check"] or "")
            ax.annotate(
                text,
                (bar_.get_x() + bar_.get_width() / 2, bar_.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                rotation=90 if len(text) > 6 else 0,
            )
    ax.set_xticks(range(len(buses)), [str(b) for b in buses])
    ax.set_xlabel("POI bus")
    ax.set_ylabel("hosting capacity, IT power [MW]")
    ax.set_title("largest site passing every check (label: binding check)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _text(x: Any) -> str | None:
    return None if x is None else format_number(x)
