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

Execution (:class:`cosim.studies.run_pool.RunPool`): a local process pool of
``workers`` processes (by default one per CPU); each run starts its own
federation processes, so ``N`` workers mean ``N`` concurrent federations. With
``scheduler="tcp://HOST:PORT"`` each run is one task on that Dask distributed
cluster; the workers must have this package installed and see ``DIR`` (a shared
file system) for resume to work; the sweep table itself is built from what the
tasks return. The plots are :mod:`cosim.studies.sweep_plots`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cosim.analysis.jsonio import flatten
from cosim.case import Case, load_case, parse_override
from cosim.errors import CaseError
from cosim.studies.run_pool import (
    RunPool,
    finished_record,
    future_record,
    is_finished,
    known_for,
)
from cosim.studies.run_pool import prepare as prepare_pool
from cosim.studies.sweep_plots import describe_params, plot_sweep
from federates.errors import ConfigError

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
                problems += [f"{describe_params(params)}: {p}" for p in exc.problems]
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
            problems += [f"{describe_params(spec.params)}: {p}" for p in exc.problems]
    if problems:
        raise CaseError(problems)


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
    prepare_pool(scheduler)  # in the background, while the networks are checked
    check_networks(specs)
    out = Path(out_dir).resolve()
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    # the networks are loaded here now: what each run to do computes first, computed once
    todo = [s.case for s in specs if not is_finished(runs_dir / s.run_id, s.case)]
    known = known_for(todo) if scheduler is None and todo else None
    params = (["case"] if len(all_cases) > 1 else []) + list(grid_map)
    table = out / "sweep.parquet"
    rows: dict[str, dict[str, Any]] = {}
    try:
        with RunPool(workers, scheduler, known) as pool:
            reused = run_specs(specs, runs_dir, pool, rows, progress=progress)
    finally:
        done = [rows[s.run_id] for s in specs if s.run_id in rows]
        df = sweep_frame(done, params)
        if done:
            write_table(df, table)
    made = plot_sweep(df, params, out / "plots") if plots else []
    return SweepResult(out, df, table, made, reused)
