"""Where the runs of a study execute: one run as a unit of work, and a pool of them.

:func:`execute_run` runs one case into its own directory and returns its
record ``{status, error, summary}`` (it never raises); a finished run is read
back instead (:func:`is_finished`, :func:`finished_record`). :class:`RunPool`
executes many: a local process pool of ``workers`` processes (by default one
per CPU; each run starts its own federation processes, so ``N`` workers mean
``N`` concurrent federations; the workers, and their federates, are forks of
the study's warm process, :mod:`cosim.engine.warm_start`; with no more workers
than cores, each worker's runs keep to a core of its own), or with
``scheduler="tcp://HOST:PORT"`` one task per run on that Dask distributed
cluster. Sweeps (:mod:`cosim.studies.sweep`)
and hosting-capacity studies (:mod:`cosim.studies.hosting`) use it.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cosim.case import Case, load_case
from cosim.engine import cpu_affinity, warm_start
from cosim.errors import CosimError, RunError


def execute_run(case: Case, run_dir: str) -> dict[str, Any]:
    """Run one case into ``run_dir`` and return ``{status, error, summary}``; never raises.

    This is the unit of work of a pool or a Dask task (a top-level function, so
    it pickles). Reports are not written (``cosim report RUN_DIR`` makes one).
    """
    from cosim.engine.runner import run_case

    cpu_affinity.share_cores()  # other runs share this machine's cores: pin none
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
    want, got = case.to_dict(), done.to_dict()
    if case.horizon.sync_interval_s is None:  # the build recorded the default it chose
        got.get("horizon", {}).pop("sync_interval_s", None)
    return got == want


def finished_record(run_dir: Path) -> dict[str, Any]:
    """The record of a finished run, read from its directory."""
    return {"status": "ok", "error": "", "summary": read_summary(run_dir)}


def default_workers() -> int:
    """Concurrent federations on this machine: one per CPU the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def prepare(scheduler: Any = None) -> None:
    """Start what a local pool's workers fork from now, while the study checks its cases.

    The study's runs go to a local pool (no ``scheduler``): this process's warm
    server (:func:`cosim.engine.warm_start.start_server`, about 3 s in the
    background) preloads what every worker and federate needs.
    """
    if scheduler is None and warm_start.available():
        warm_start.for_study()
        warm_start.start_server()


def known_for(cases: Iterable[Case]) -> dict[str, Any]:
    """What every run of ``cases`` computes before its federation, computed once here.

    The site-voltage screens that set the exchange interval and the network
    contexts of the summary (:func:`cosim.engine.exchange.known_voltage_ranges`,
    :func:`cosim.analysis.context.known_contexts`), for a study's own process, which has
    loaded the networks to check them: a local pool's workers start with them
    (:class:`RunPool` ``known``) instead of each computing them on its first run.
    """
    from cosim.analysis.context import known_contexts
    from cosim.engine.exchange import known_voltage_ranges

    cases = list(cases)
    return {"screens": known_voltage_ranges(cases), "contexts": known_contexts(cases)}


def _start_worker(cores: Any, known: dict[str, Any] | None) -> None:
    """A local pool's worker: it forks its federates warm, from its parent's server.

    ``cores``: the cores of the pool's workers, one each, in a shared counter's
    order (None: the workers share every core). ``known``: :func:`known_for`'s.
    """
    warm_start.enable()
    warm_start.use_parent_server()
    if known:
        from cosim.analysis.context import learn_contexts
        from cosim.engine.exchange import learn_voltage_ranges

        learn_voltage_ranges(known["screens"])
        learn_contexts(known["contexts"])
    if cores is not None:
        with cores.get_lock():
            k = cores[0]
            cores[0] += 1
        cpu_affinity.keep_runs_on([cores[1 + k % (len(cores) - 1)]])


def worker_cores(workers: int) -> list[int] | None:
    """The core of each worker of a local pool, or None (they share the cores).

    One core each (:func:`cosim.engine.cpu_affinity.keep_runs_on`) where there are at
    least as many usable cores as workers, more than one worker, and no other
    federation on the machine (whose processes would not keep out of the workers'
    cores); on Linux.
    """
    cores = cpu_affinity.usable_cores()
    if not 1 < workers <= len(cores) or cpu_affinity.other_federations():
        return None
    return cores[:workers]


class RunPool:
    """Where runs execute: a local process pool, or a Dask cluster (one task per run).

    Use as a context manager. ``scheduler`` is a Dask scheduler address
    (``tcp://HOST:PORT``) or a ``distributed.Client``; without it, a local
    process pool of ``workers`` processes (default :func:`default_workers`),
    each started with ``known`` (:func:`known_for` of the study's cases, or None).
    """

    def __init__(
        self, workers: int | None = None, scheduler: Any = None, known: dict | None = None
    ) -> None:
        self.scheduler = scheduler
        self.known = known  # :func:`known_for` of the study's cases, for a local pool's workers
        self.workers = workers or default_workers()
        self._client: Any = None
        self._own_client = False
        self._pool: cf.ProcessPoolExecutor | None = None

    def __enter__(self) -> RunPool:
        if self.scheduler is not None:
            self._client = _connect(self.scheduler)
            self._own_client = isinstance(self.scheduler, str)
        else:
            # the workers are forks of this process's warm server (cosim.engine.warm_start),
            # and so are their federates: one preload for the whole study
            warm = warm_start.available()
            if warm:
                warm_start.for_study()
            ctx = warm_start.context() if warm else multiprocessing.get_context("spawn")
            cores = worker_cores(self.workers)
            # a shared array: the next worker's index, then the cores
            shared = None if cores is None else ctx.Array("i", [0, *cores])
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=_start_worker,
                initargs=(shared, self.known),
            )
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
