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
the POI). A run that fails outright (e.g. a power flow that does not converge) binds as the
check ``run``; a run whose power flow did not converge at some grid step
never passes (check ``power_flow_converged``), since its voltage and thermal
checks had no data.

Layout of ``DIR``: ``runs/<run-id>/`` (one normal run per size tried; finished
runs are reused, so an interrupted study resumes), ``hosting.parquet`` (one row
per bus and BESS setting), ``hosting_runs.parquet`` (every size tried) and
``plots/hosting_capacity.png`` (capacity per bus, with and without BESS).

:func:`bisect_capacity` is the pure search; :func:`hosting_capacity` runs it
with real federations through a :class:`cosim.studies.sweep.RunPool` (local processes
or a Dask cluster), one search per bus and BESS setting in parallel.
"""

from __future__ import annotations

import math
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from cosim.case import Case, load_case
from cosim.errors import CaseError, CosimError
from cosim.studies.sweep import (
    RunPool,
    finished_record,
    future_record,
    is_finished,
    run_id_for,
    write_table,
)
from federates.errors import ConfigError

SIZE_KEY = "factory.it_mw"
BUS_KEY = "factory.poi_bus"
BESS_KEY = "bess.enabled"


# ---------------------------------------------------------------- the pure search


@dataclass(frozen=True)
class Violation:
    """A failing check of one run: which, by how much, where and when."""

    check: str
    value: Any = None
    limit: Any = None
    unit: str = ""
    where: str | None = None
    t_s: float | None = None
    source: str = ""
    excess: float = math.nan  # relative excess over the limit (0.1 = 10 % beyond)
    detail: str = ""  # e.g. why a run failed

    def describe(self) -> str:
        """``thermal: 104.2 % vs limit 100 % (line 45, t=1234 s)``."""
        text = self.check + (f": {self.detail}" if self.detail and self.value is None else "")
        if self.value is not None:
            text += (
                f": {_num(self.value)} {self.unit}".rstrip()
                + f" vs limit {_num(self.limit)} {self.unit}".rstrip()
            )
        place = ", ".join(
            p for p in (self.where, None if self.t_s is None else f"t={self.t_s:g} s") if p
        )
        return f"{text} ({place})" if place else text


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one size: passed or not, and the failing checks (most severe first)."""

    it_mw: float
    passed: bool
    violations: tuple[Violation, ...] = ()
    run_id: str = ""
    error: str = ""
    poi_p_max_mw: float | None = None

    @property
    def binding(self) -> Violation | None:
        """The most severe violation (None when the size passed)."""
        return self.violations[0] if self.violations else None


@dataclass
class Capacity:
    """The result of one search.

    ``status`` is ``bracketed`` (capacity within ``tol_mw`` of the limit),
    ``below_range`` (even ``min_mw`` fails: capacity reported as 0) or
    ``above_range`` (``max_mw`` passes: capacity is at least ``max_mw``).
    """

    capacity_mw: float
    status: Literal["bracketed", "below_range", "above_range"]
    passing: Evaluation | None  # the largest passing size
    failing: Evaluation | None  # the smallest failing size (its violations bind)
    history: list[Evaluation] = field(default_factory=list)

    @property
    def binding(self) -> Violation | None:
        """What binds: the most severe violation at the smallest failing size."""
        return self.failing.binding if self.failing is not None else None


def size_grid(min_mw: float, max_mw: float, tol_mw: float) -> list[float]:
    """Sizes a search may try: ``min_mw + k * tol_mw`` below ``max_mw``, then ``max_mw``."""
    if not 0 < min_mw < max_mw:
        raise CaseError(f"hosting range: need 0 < min ({min_mw:g}) < max ({max_mw:g}) MW")
    if tol_mw <= 0:
        raise CaseError(f"hosting tolerance: {tol_mw:g} MW is not > 0")
    n = math.ceil((max_mw - min_mw) / tol_mw - 1e-9)
    return [round(min_mw + k * tol_mw, 6) for k in range(n)] + [float(max_mw)]


def bisect_capacity(
    evaluate: Callable[[float], Evaluation],
    min_mw: float,
    max_mw: float,
    tol_mw: float,
    *,
    prefetch: Callable[[Sequence[float]], None] | None = None,
) -> Capacity:
    """Largest size in ``[min_mw, max_mw]`` that passes, by bisection on :func:`size_grid`.

    ``evaluate(size)`` runs (or fakes) one size; each size is evaluated at most
    once. ``prefetch(sizes)`` is told up front that both ends will be needed, so
    an evaluator backed by a pool can run them at the same time.
    Evaluations: 2 + ceil(log2(number of grid intervals)) at most.
    """
    sizes = size_grid(min_mw, max_mw, tol_mw)
    history: list[Evaluation] = []
    cache: dict[int, Evaluation] = {}

    def at(k: int) -> Evaluation:
        if k not in cache:
            cache[k] = evaluate(sizes[k])
            history.append(cache[k])
        return cache[k]

    lo, hi = 0, len(sizes) - 1
    if prefetch is not None:
        prefetch([sizes[lo], sizes[hi]])
    if not at(lo).passed:
        return Capacity(0.0, "below_range", None, at(lo), history)
    if at(hi).passed:
        return Capacity(sizes[hi], "above_range", at(hi), None, history)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid).passed:
            lo = mid
        else:
            hi = mid
    return Capacity(sizes[lo], "bracketed", at(lo), at(hi), history)


def relative_excess(value: Any, limit: Any) -> float:
    """How far ``value`` lies beyond ``limit`` relative to it (a range ``[lo, hi]`` too); NaN if unknown."""
    try:
        v = float(value)
        if isinstance(limit, list | tuple) and len(limit) == 2:
            lo, hi = float(limit[0]), float(limit[1])
            if v < lo:
                return (lo - v) / abs(lo) if lo else lo - v
            return (v - hi) / abs(hi) if v > hi and hi else max(v - hi, 0.0)
        lim = float(limit)
    except (TypeError, ValueError):
        return math.nan
    return abs(v - lim) / abs(lim) if lim else abs(v)


#: where and when a failing check happened, as summary key paths (used when the check itself
#: carries no ``where`` / ``t_s``); "POI" / "BESS" name the place when no key does
LOCATE: dict[str, tuple[str, str | None]] = {
    "thermal": ("grid.loading_max_branch", "grid.loading_max_t_s"),
    "thermal_emergency": ("grid.loading_max_branch", "grid.loading_max_t_s"),
    "ramp": ("POI", "poi.ramp_max_t_s"),
    "rvc": ("POI", "poi.rvc_max_t_s"),
    "pf_lag": ("POI", None),
    "pf_lead": ("POI", None),
    "pst": ("POI", None),
    "plt": ("POI", None),
    "osc": ("POI", None),
    "scr": ("POI", None),
    "ride_through_recovery": ("POI", None),
    "soc_window": ("BESS", None),
    "soc_drift": ("BESS", None),
}


def _get(summary: Mapping[str, Any], path: str | None) -> Any:
    node: Any = summary
    for part in (path or "").split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def locate(check_id: str, summary: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """Where and when check ``check_id`` was worst, from the summary's metrics (None when unknown)."""
    m = re.fullmatch(r"v_range_([ab])_(min|max)", check_id)
    if m:
        side = "low" if m[2] == "min" else "high"
        episodes = [
            e for e in _get(summary, f"grid.range_{m[1]}.episodes") or [] if e.get("kind") == side
        ]
        if episodes:
            worst = max(episodes, key=lambda e: e.get("excess") or 0.0)
            return worst.get("element"), worst.get("t_worst_s")
        return _get(summary, f"grid.v_{m[2]}_bus"), _get(summary, f"grid.v_{m[2]}_t_s")
    where_key, when_key = LOCATE.get(check_id, (None, None))
    if where_key == "POI":
        bus = _get(summary, "case.poi_bus")
        where = "POI" if bus is None else f"POI bus {bus}"
    elif where_key == "BESS":
        where = "BESS"
    else:
        where = _get(summary, where_key)
    return where, _get(summary, when_key)


def violations(summary: Mapping[str, Any], error: str = "") -> tuple[Violation, ...]:
    """The failing checks that decide the verdict, most severe (largest relative excess) first.

    Informational checks (``kind: info``) are left out. Where and when come from
    the check (``where``, ``t_s``) or else from the summary's metrics
    (:func:`locate`). A run whose status is not ok gives the single violation
    ``run`` carrying the first line of its error.
    """
    if summary.get("status") != "ok" or error:
        reason = (error or (summary.get("run") or {}).get("reason") or "run failed").splitlines()[0]
        return (Violation("run", detail=reason),)
    found = _nonconverged(summary)
    for c in summary.get("checks") or []:
        if not isinstance(c, Mapping) or c.get("passed") is not False or c.get("kind") == "info":
            continue
        check_id = str(c.get("id") or c.get("name") or "?")
        where, t_s = locate(check_id, summary)
        where = c.get("where", where)
        t_s = c.get("t_s", t_s)
        found.append(
            Violation(
                check=check_id,
                value=c.get("value"),
                limit=c.get("limit"),
                unit=str(c.get("unit") or ""),
                where=None if where is None else str(where),
                t_s=None if t_s is None else float(t_s),
                source=str(c.get("source") or ""),
                excess=relative_excess(c.get("value"), c.get("limit")),
                detail=str(c.get("note") or ""),
            )
        )
    found.sort(key=lambda v: -v.excess if not math.isnan(v.excess) else math.inf)
    return tuple(found)


def _nonconverged(summary: Mapping[str, Any]) -> list[Violation]:
    """A power flow that did not converge is never a pass, whatever the verdict says.

    Without a converged power flow the voltage and thermal checks have no data
    (``not applicable``) and cannot fail, which a search toward voltage collapse
    would otherwise read as a pass.
    """
    steps = _get(summary, "grid.nonconverged_steps")
    per_net = steps if isinstance(steps, Mapping) else {"grid": steps}
    return [
        Violation(
            "power_flow_converged",
            value=int(n),
            limit=0,
            unit="steps",
            where=str(net),
            detail=f"power flow did not converge at {int(n)} grid steps",
            excess=math.inf,
        )
        for net, n in per_net.items()
        if isinstance(n, int | float) and n > 0
    ]


def evaluation_from_record(it_mw: float, record: Mapping[str, Any], run_id: str = "") -> Evaluation:
    """Judge one run's record (``{status, error, summary}``) for the search.

    Raises :class:`CosimError` when a run completed but its summary carries no
    verdict (the checks could not be evaluated), since the search would be blind.
    """
    summary = record.get("summary") or {}
    error = str(record.get("error") or "")
    ok = record.get("status") == "ok" and not error
    verdict = summary.get("verdict")
    if ok and verdict not in ("pass", "fail"):
        why = summary.get("summary_error", "no 'verdict' key")
        raise CosimError(
            f"run {run_id} has no verdict in its summary.json ({why}); "
            "hosting capacity needs the checks"
        )
    passed = ok and verdict == "pass" and not _nonconverged(summary)
    poi = summary.get("poi") if isinstance(summary.get("poi"), Mapping) else {}
    return Evaluation(
        it_mw=float(it_mw),
        passed=passed,
        violations=() if passed else violations(summary, error),
        run_id=run_id,
        error=error.splitlines()[0] if error else "",
        poi_p_max_mw=poi.get("p_max_mw"),
    )


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
    :class:`~cosim.studies.sweep.RunPool`. Every bus is checked against the network
    before any run starts.
    """
    from cosim.checks import check_case

    if not buses:
        raise CaseError("hosting capacity: give at least one bus (--bus 12,49)")
    if not bess:
        raise CaseError("hosting capacity: nothing to do (neither with nor without BESS)")
    base = load_case(case, overrides)
    grid = size_grid(min_mw, max_mw, tol_mw)
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


def _num(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _text(x: Any) -> str | None:
    return None if x is None else _num(x)
