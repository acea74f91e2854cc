"""Parameter sweeps: many isolated runs of a case, on a local process pool or a Dask cluster.

A sweep is the cartesian product of value lists (``--grid bess.p_mw=0,50,100``),
optionally times a list of case files. Every run is a normal federation with its
own broker on its own free port, in its own directory ``DIR/runs/<run-id>/``;
the run id is derived from the run's parameter values only (a readable part plus
a hash), so the same point of a sweep always lands in the same directory.

Layout of a sweep directory ``DIR``:

* ``runs/<run-id>/``: one run directory each (see :mod:`cosim.engine.results`);
* ``sweep.parquet``: one row per run: ``run_id``, the swept parameters (one
  column each, named by key: ``bess.p_mw``; ``case`` for a list of cases),
  ``status`` ("ok" / "failed"), ``verdict`` ("pass" / "fail" / missing),
  ``error`` (the run's error message, empty when ok), ``run_dir`` and every
  scalar of the run's ``summary.json`` flattened with dots (``poi.p_max_mw``;
  checks as ``checks.<id>.passed`` / ``.value`` / ``.limit``). A summary key
  that equals a parameter name is stored as ``summary.<key>``;
* ``plots/sweep_<param>.png``: headline metrics against each swept parameter.

Resume: a run is finished when its ``summary.json`` says ``status: ok`` and its
resolved ``case.toml`` equals the case the sweep would run now; finished runs are
read back, not run again. A failing run is recorded with its error and does not
stop the others.

Execution (:class:`RunPool`): a local process pool of ``workers`` processes (by
default one per CPU); each run starts its own federation processes, so ``N``
workers mean ``N`` concurrent federations. With ``scheduler="tcp://HOST:PORT"``
each run is one task on that Dask distributed cluster; the workers must have
this package installed and see ``DIR`` (a shared file system) for resume to
work; the sweep table itself is built from what the tasks return.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cosim.analysis.jsonio import flatten
from cosim.case import Case, load_case, parse_override
from cosim.errors import CaseError, CosimError, RunError
from federates.errors import ConfigError

#: metrics plotted against each swept parameter, when the summary has them
PLOT_METRICS = (
    "poi.p_max_mw",
    "poi.ramp_max_mw_per_min",
    "poi.v_min_pu",
    "grid.v_min_pu",
    "grid.loading_max_percent",
    "bess.throughput_mwh",
)
#: summary keys the sweep table does not flatten (duplicates of status / wall_s / error)
SKIP_SUMMARY_KEYS = ("run",)
FIXED_COLUMNS = ("run_id", "status", "verdict", "error", "wall_s", "run_dir")


# ---------------------------------------------------------------- sweep points


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["bess.p_mw=0,50,100", ...]`` -> ``{"bess.p_mw": [0, 50, 100]}``.

    Each value is parsed like a ``--set`` value (TOML scalar, else a string);
    values cannot contain commas. A key given twice is an error.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        values = [v.strip() for v in raw.split(",")]
        if not sep or not key or not all(values):
            raise CaseError(f"--grid {item!r}: expected KEY.PATH=V1,V2,...")
        if key in grid:
            raise CaseError(f"--grid {key}: given twice")
        grid[key] = [parse_override(f"{key}={v}")[1] for v in values]
    return grid


def run_id_for(params: Mapping[str, Any]) -> str:
    """A stable, file-system-safe id for a point of a sweep: readable part + hash.

    The hash covers the full keys and values (``json.dumps`` sorted), so two
    points never share an id; the readable part uses the last key component.
    """
    digest = hashlib.sha1(
        json.dumps(dict(params), sort_keys=True, default=str).encode()
    ).hexdigest()[:8]
    parts = [f"{k.rsplit('.', 1)[-1]}={_fmt_value(v)}" for k, v in params.items()]
    slug = re.sub(r"[^A-Za-z0-9._=+-]+", "-", "_".join(parts)).strip("-")[:80]
    return f"{slug}-{digest}" if slug else digest


def _fmt_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: its id, the parameters that define it and the validated case."""

    run_id: str
    params: dict[str, Any]
    case: Case


def expand(
    cases: Sequence[str | Path | Case],
    grid: Mapping[str, Sequence[Any]],
    overrides: list[str] | dict[str, Any] | None = None,
) -> list[RunSpec]:
    """Every run of ``cases`` x the cartesian product of ``grid``, validated before any runs.

    ``overrides`` (``--set``) apply to every run, before the grid values. With
    more than one case, the case's file stem is the parameter ``case``. Raises
    :class:`CaseError` listing every invalid point.
    """
    if not cases:
        raise CaseError("a sweep needs a case (CASE or --cases)")
    bases: list[tuple[str, Case]] = []
    for c in cases:
        base = load_case(c, overrides)
        label = c.name if isinstance(c, Case) else Path(str(c)).stem
        bases.append((label, base))
    labels = [label for label, _ in bases]
    if len(set(labels)) != len(labels):
        raise CaseError(f"--cases: two cases share a name ({', '.join(labels)}); rename one")
    keys = list(grid)
    specs: list[RunSpec] = []
    problems: list[str] = []
    for label, base in bases:
        for values in itertools.product(*(grid[k] for k in keys)):
            params: dict[str, Any] = {"case": label} if len(bases) > 1 else {}
            params.update(zip(keys, values, strict=True))
            point = dict(zip(keys, values, strict=True))
            try:
                case = load_case(base, point) if point else base
            except ConfigError as exc:
                problems += [f"{_describe(params)}: {p}" for p in exc.problems]
                continue
            specs.append(RunSpec(run_id_for(params), params, case))
    if problems:
        raise CaseError(problems)
    return specs


def check_networks(specs: Sequence[RunSpec]) -> None:
    """Check each distinct network / POI of the sweep against its network (before any run)."""
    from cosim.checks import check_case

    seen: set[tuple[str, ...]] = set()
    problems: list[str] = []
    for spec in specs:
        c = spec.case
        key = (
            c.grid.model_dump_json(),
            json.dumps(c.to_dict().get("distribution")),
            str(c.factory.poi_bus),
            str(c.base_dir),
        )
        if key in seen:
            continue
        seen.add(key)
        try:
            check_case(c)
        except ConfigError as exc:
            problems += [f"{_describe(spec.params)}: {p}" for p in exc.problems]
    if problems:
        raise CaseError(problems)


def _describe(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "(base case)"


# ---------------------------------------------------------------- one run


def execute_run(case: Case, run_dir: str) -> dict[str, Any]:
    """Run one case into ``run_dir`` and return ``{status, error, summary}``; never raises.

    This is the unit of work of a pool or a Dask task (a top-level function, so
    it pickles). Reports are not written (``cosim report RUN_DIR`` makes one).
    """
    from cosim.engine.runner import run_case

    error = ""
    try:
        run_case(case, run_dir, report=False)
    except RunError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one failing run must not stop a sweep
        error = f"{type(exc).__name__}: {exc}"
    summary = read_summary(Path(run_dir))
    status = "failed" if error else str(summary.get("status", "failed"))
    return {"status": status, "error": error, "summary": summary}


def read_summary(run_dir: Path) -> dict[str, Any]:
    """``run_dir/summary.json`` as a dict (empty when missing or unreadable)."""
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return {}


def is_finished(run_dir: Path, case: Case) -> bool:
    """A run is finished when its summary says ok and it ran exactly ``case``."""
    if read_summary(run_dir).get("status") != "ok":
        return False
    try:
        done = load_case(run_dir / "case.toml")
    except CosimError:
        return False
    return done.to_dict() == case.to_dict()


def finished_record(run_dir: Path) -> dict[str, Any]:
    """The record of a finished run, read from its directory."""
    return {"status": "ok", "error": "", "summary": read_summary(run_dir)}


def flatten_summary(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested summary dicts -> ``{"poi.p_max_mw": ...}``; the ``checks`` list -> per-check columns.

    :func:`cosim.analysis.jsonio.flatten` without :data:`SKIP_SUMMARY_KEYS`.
    """
    return flatten(summary, skip=SKIP_SUMMARY_KEYS, prefix=prefix)


def make_row(spec: RunSpec, record: Mapping[str, Any], run_dir: Path) -> dict[str, Any]:
    """One tidy row: id, parameters, status, verdict, error, wall time, flattened summary."""
    summary = record.get("summary") or {}
    metrics = flatten_summary(summary)
    row: dict[str, Any] = {"run_id": spec.run_id, **spec.params}
    row["status"] = record.get("status", "failed")
    row["verdict"] = summary.get("verdict")
    row["error"] = record.get("error", "")
    row["wall_s"] = summary.get("wall_s")
    row["run_dir"] = str(run_dir)
    for key, value in metrics.items():
        if key in FIXED_COLUMNS:
            continue
        row[f"summary.{key}" if key in spec.params else key] = value
    return row


# ---------------------------------------------------------------- execution


def default_workers() -> int:
    """Concurrent federations on this machine: one per CPU the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class RunPool:
    """Where runs execute: a local process pool, or a Dask cluster (one task per run).

    Use as a context manager. ``scheduler`` is a Dask scheduler address
    (``tcp://HOST:PORT``) or a ``distributed.Client``; without it, a local
    process pool of ``workers`` processes (default :func:`default_workers`).
    """

    def __init__(self, workers: int | None = None, scheduler: Any = None) -> None:
        self.scheduler = scheduler
        self.workers = workers or default_workers()
        self._client: Any = None
        self._own_client = False
        self._pool: cf.ProcessPoolExecutor | None = None

    def __enter__(self) -> RunPool:
        if self.scheduler is not None:
            self._client = _connect(self.scheduler)
            self._own_client = isinstance(self.scheduler, str)
        else:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)

    def close(self, cancel: bool = False) -> None:
        """Release the pool (waits for running runs; ``cancel`` drops queued ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None

    def submit(self, case: Case, run_dir: Path) -> Any:
        """Start one run; returns a future whose ``result()`` is the run's record."""
        if self._client is not None:
            return self._client.submit(execute_run, case, str(run_dir), pure=False)
        if self._pool is None:
            raise RuntimeError("RunPool used outside its `with` block")
        return self._pool.submit(execute_run, case, str(run_dir))

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        """Yield ``futures`` as they finish."""
        futures = list(futures)
        if not futures:
            return iter(())
        if self._client is not None:
            from distributed import as_completed

            return iter(as_completed(futures))
        return cf.as_completed(futures)

    def cancel(self, futures: Iterable[Any]) -> None:
        """Cancel queued runs (running ones finish)."""
        futures = list(futures)
        if self._client is not None:
            self._client.cancel(futures)
        else:
            for f in futures:
                f.cancel()


def _connect(scheduler: Any) -> Any:
    from distributed import Client

    if not isinstance(scheduler, str):
        return scheduler
    try:
        return Client(scheduler, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise CosimError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None


def future_record(future: Any) -> dict[str, Any]:
    """A finished future's record; a task that died (worker lost) becomes a failed record."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker is one failed run, not a failed sweep
        return {
            "status": "failed",
            "error": f"task failed: {type(exc).__name__}: {exc}",
            "summary": {},
        }


# ---------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    """What a sweep produced."""

    dir: Path
    frame: pd.DataFrame
    table: Path
    plots: list[Path] = field(default_factory=list)
    reused: int = 0

    @property
    def failed(self) -> pd.DataFrame:
        """Rows of the runs that did not end ok."""
        return self.frame[self.frame["status"] != "ok"]


def run_specs(
    specs: Sequence[RunSpec],
    runs_dir: Path,
    pool: RunPool,
    rows: dict[str, dict[str, Any]],
    *,
    progress: bool = True,
    desc: str = "sweep",
) -> int:
    """Run every spec not finished yet in ``pool``, filling ``rows`` (run id -> row) as runs end.

    Returns how many finished runs were reused. On an exception (Ctrl-C) the
    queued runs are cancelled and ``rows`` keeps every run that ended.
    """
    pending: dict[Any, RunSpec] = {}
    bar = None
    reused = 0
    try:
        for spec in specs:
            run_dir = runs_dir / spec.run_id
            if is_finished(run_dir, spec.case):
                rows[spec.run_id] = make_row(spec, finished_record(run_dir), run_dir)
                reused += 1
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=len(specs),
                initial=reused,
                unit="run",
                desc=desc,
                file=sys.stderr,
                dynamic_ncols=True,
            )
        for spec in specs:
            if spec.run_id not in rows:
                pending[pool.submit(spec.case, runs_dir / spec.run_id)] = spec
        failed = 0
        for fut in pool.as_completed(list(pending)):
            spec = pending.pop(fut)
            row = make_row(spec, future_record(fut), runs_dir / spec.run_id)
            rows[spec.run_id] = row
            failed += row["status"] != "ok"
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=failed, refresh=False)
    except BaseException:
        pool.cancel(pending)
        raise
    finally:
        if bar is not None:
            bar.close()
    return reused


def sweep_frame(rows: Sequence[Mapping[str, Any]], params: Sequence[str]) -> pd.DataFrame:
    """The tidy sweep table: fixed columns and parameters first, metrics sorted after."""
    df = pd.DataFrame(list(rows))
    if df.empty:
        return pd.DataFrame(columns=["run_id", *params, *FIXED_COLUMNS[1:]])
    first = ["run_id", *params, *FIXED_COLUMNS[1:]]
    for col in first:
        if col not in df:
            df[col] = None
    rest = sorted(c for c in df.columns if c not in first)
    df = df[first + rest]
    df["error"] = df["error"].fillna("").astype(str)
    for col in df.columns:
        if df[col].dtype == object:
            kind = pd.api.types.infer_dtype(df[col], skipna=True)
            if kind not in ("string", "boolean", "empty", "integer", "floating"):
                df[col] = df[col].map(lambda v: None if v is None else str(v))
    return df


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write the sweep table as Parquet (atomically: a reader never sees half a file)."""
    tmp = path.with_suffix(".parquet.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def run_sweep(
    case: str | Path | Case | None,
    grid: Mapping[str, Sequence[Any]] | Iterable[str],
    out_dir: str | Path,
    *,
    cases: Sequence[str | Path | Case] = (),
    overrides: list[str] | dict[str, Any] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    plots: bool = True,
) -> SweepResult:
    """Run a sweep into ``out_dir`` and return its table (also on disk as ``sweep.parquet``).

    ``grid`` maps keys to value lists (or is a list of ``"key=v1,v2"`` strings).
    ``case`` and ``cases`` are combined into the list of base cases. Every point
    is validated before any run starts. Finished runs are reused (resume);
    failing runs are recorded with their error. On Ctrl-C the table of the runs
    finished so far is written before the interrupt propagates.
    """
    grid_map = dict(grid) if isinstance(grid, Mapping) else parse_grid(grid)
    all_cases = ([case] if case is not None else []) + list(cases)
    specs = expand(all_cases, grid_map, overrides)
    check_networks(specs)
    out = Path(out_dir).resolve()
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    params = (["case"] if len(all_cases) > 1 else []) + list(grid_map)
    table = out / "sweep.parquet"
    rows: dict[str, dict[str, Any]] = {}
    try:
        with RunPool(workers, scheduler) as pool:
            reused = run_specs(specs, runs_dir, pool, rows, progress=progress)
    finally:
        done = [rows[s.run_id] for s in specs if s.run_id in rows]
        df = sweep_frame(done, params)
        if done:
            write_table(df, table)
    made = plot_sweep(df, params, out / "plots") if plots else []
    return SweepResult(out, df, table, made, reused)


# ---------------------------------------------------------------- plots


def plot_sweep(df: pd.DataFrame, params: Sequence[str], plot_dir: Path) -> list[Path]:
    """One PNG per swept parameter: headline metrics against it, pass/fail coloured.

    Points that share the other parameters are joined by a line (one line per
    combination of the other parameters).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [
        m
        for m in PLOT_METRICS
        if m in df and pd.api.types.is_numeric_dtype(df[m]) and df[m].notna().any()
    ]
    if not metrics:
        metrics = ["wall_s"] if "wall_s" in df and df["wall_s"].notna().any() else []
    plot_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for param in params:
        ncols = min(3, max(1, len(metrics)))
        nrows = max(1, math.ceil(len(metrics) / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
        x, ticks = _positions(df[param], categorical=param.endswith("bus") or param == "case")
        others = [p for p in params if p != param]
        groups = df.groupby(others, dropna=False, sort=True) if others else [((), df)]
        for ax, metric in zip(axes.flat, metrics, strict=False):
            for n, (key, g) in enumerate(groups):
                order = x[g.index].sort_values().index
                label = _describe(
                    dict(zip(others, key if isinstance(key, tuple) else (key,), strict=True))
                )
                ax.plot(
                    x[order],
                    g.loc[order, metric],
                    "-",
                    color=f"C{n % 10}",
                    alpha=0.5,
                    lw=1,
                    label=label if n < 8 and others else None,
                    zorder=1,
                )
            colors = df["verdict"].map({"pass": "tab:green", "fail": "tab:red"}).fillna("tab:blue")
            ax.scatter(x, df[metric], c=colors, s=28, zorder=2)
            ax.set_title(metric, fontsize=9)
            ax.set_xlabel(param, fontsize=8)
            if ticks is not None:
                ax.set_xticks(
                    range(len(ticks)),
                    ticks,
                    rotation=30 if max(map(len, ticks)) > 4 else 0,
                    fontsize=7,
                )
            ax.grid(alpha=0.3)
        if others and metrics:
            axes[0, 0].legend(fontsize=7, title=", ".join(others), title_fontsize=7)
        for ax in list(axes.flat)[len(metrics) :]:
            ax.axis("off")
        if not metrics:
            axes[0, 0].text(0.5, 0.5, "no metrics in the summaries", ha="center", va="center")
        n_failed = int((df["status"] != "ok").sum())
        fig.suptitle(
            f"sweep over {param}: {len(df)} runs, {n_failed} failed "
            "(green pass, red fail, blue no verdict)",
            fontsize=10,
        )
        fig.tight_layout()
        path = plot_dir / f"sweep_{re.sub(r'[^A-Za-z0-9._-]+', '_', param)}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def _positions(col: pd.Series, categorical: bool = False) -> tuple[pd.Series, list[str] | None]:
    """x positions for a parameter column: its values, or 0..n-1 with tick labels for categories
    (bus numbers, case names, strings)."""
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric and not categorical:
        return col.astype(float), None
    values = sorted(set(col), key=lambda v: (not numeric, v if numeric else str(v)))
    labels = [str(v) for v in values]
    return col.map(lambda v: float(labels.index(str(v)))), labels
