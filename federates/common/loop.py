"""The one HELICS federate loop that every federate reuses.

A federate is an *adapter* (copies inputs into a pure model and its outputs
out) driven by :func:`run_federate`: create the federate from its JSON config,
enter executing mode, for every instant of the shared time grid request that
time, read the subscriptions, call ``adapter.step``, publish, record; then
finalize, disconnect and free.

HELICS time is ``t_s + time_offset_s`` (the config's ``cosim.time_offset_s``,
written by the build; :data:`TIME_OFFSET_S` by default) so that the first step
is a real time request (time 0 is granted without synchronisation).

Inputs are converted from their publisher's unit to the subscriber's
(:mod:`federates.common.units`; HELICS does not convert vectors), and an input
that has received nothing after two exchanges fails the federate, naming it. Federates that consume
values published at the same instant set ``wait_for_current_time_update`` in
their config; the build decides that, not the adapter.

Iterative federates (T&D coupling) request ``ITERATE_IF_NEEDED`` and are called
again at the same ``t_s`` with ``iteration`` incremented while their inputs
change; they publish a value only when it moved by more than the config's
``tolerance``, which is what lets the exchange settle. An iterative federate
whose config lists ``cosim.await_inputs`` does not solve a step before each of
those inputs carries a value published at that step (it requests iterations
until they do): this fixes the order of the solves within a step (e.g. factory,
then feeder, then transmission, then feeder again ...), so that which solve sees
which value does not depend on message timing and one seed gives one result.

Multi-rate exchange: publications are HELICS vectors holding one value per
step of a *sync block* (``federates.common.timegrid.sync_blocks``). A block is
every step (exact, the default) or, with ``horizon.sync_interval_s`` above the
grid step, up to that many seconds of base steps; inside event windows every
step is its own block. A federate that waits for the current time update
receives the same block's values step by step; the others hold the latest
value received (the last step of the previous block). An adapter with a
``step_block`` method (:mod:`federates.common.block`) is called once per block
with per-step arrays and its block is recorded as one array; the others see one
step at a time and publish scalars.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from federates.common.block import PartialBlock, block_inputs
from federates.common.interface import join_init_string, route_interface
from federates.common.recorder import ArrayRow
from federates.common.timegrid import TIME_OFFSET_S, sync_blocks
from federates.common.values import Inputs, MissingInputError, Outputs, input_scales
from federates.common.watch import Stop, Watch, on_sigterm
from federates.common.writer import SeriesWriter

__all__ = [
    "FATAL_PREFIX",
    "Adapter",
    "FederationJoinError",
    "MissingInputError",
    "StepOutput",
    "input_scales",
    "join_init_string",
    "main",
    "route_interface",
    "run_config",
    "run_federate",
]

FATAL_PREFIX = "FATAL: "  # the one line the supervisor quotes when a federate fails
log = logging.getLogger("federates.loop")


@dataclass
class StepOutput:
    """What an adapter hands back for one step.

    publish : publication key -> value of this step (float)
    record : one row of the federate's grid-step series at ``t_s``: a dict, or an
        :class:`~federates.common.recorder.ArrayRow` (wide float rows, recorded cheaply)
    block : optional high-rate rows (equal-length arrays, include ``t_s``),
        recorded in ``<name>_hr``
    """

    publish: dict[str, Any]
    record: dict[str, float] | ArrayRow = field(default_factory=dict)
    block: dict[str, np.ndarray] | None = None


class Adapter(Protocol):
    """The adapter interface: copy inputs in, outputs out; physics lives elsewhere."""

    def step(
        self, t_s: float, t_next_s: float, inputs: Mapping[str, Any], iteration: int
    ) -> StepOutput: ...

    def finalize(self) -> dict[str, Any]: ...


AdapterFactory = Callable[[dict[str, Any], Path], Adapter]

#: iteration grants an iterative federate waits for its ``cosim.await_inputs`` within one step
AWAIT_MAX_GRANTS = 1000


def load_adapter_factory(spec: str) -> AdapterFactory:
    """Resolve ``"package.module:function"``."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def run_federate(
    config: dict[str, Any],
    adapter: Adapter,
    times_s: np.ndarray,
    duration_s: float,
    out_dir: Path,
    *,
    broker_address: str | None = None,
    local_interface: str | None = None,
    progress_every_s: float = 0.5,
    close_library: bool = True,
) -> dict[str, Any]:
    """Run one federate to the end of ``times_s``. Returns the adapter's final info.

    ``config`` is the federate's HELICS JSON config (as written by the build),
    whose ``cosim`` section carries ``iterative``, ``max_iterations`` and
    ``tolerance``. Time series go to ``out_dir/timeseries``; a progress file
    (last simulated ``t_s``) goes to ``out_dir/logs/<name>.progress``.

    ``broker_address`` replaces the config's broker (a federate started on
    another host); its core then listens on ``local_interface`` only, by
    default the address of this host that routes to the broker. ``close_library``:
    close the HELICS library at the end (not while other federates of this process run).
    """
    import helics as h  # the only helics import of the loop

    name = config["name"]
    opts = config.get("cosim", {})
    iterative = bool(opts.get("iterative", False))
    max_iter = int(opts.get("max_iterations", 20))
    tol = float(opts.get("tolerance", 1e-6))
    helics_cfg = {k: v for k, v in config.items() if k != "cosim"}
    time_offset_s = float(opts.get("time_offset_s", TIME_OFFSET_S))
    # A plain federate (neither iterating nor waiting for the current time) is granted a time only
    # once every dependency is past it, so it never reads an intermediate value of federates still
    # iterating at the previous instant (T&D coupling): iterative federations stay deterministic.
    # (Set on iterating or waiting federates too, HELICS deadlocks at the first time request.)
    if not iterative and not config.get("wait_for_current_time_update", False):
        helics_cfg.setdefault("restrictive_time_policy", True)
    if broker_address:  # keep the build's other core options (--maxsize), replace the broker
        helics_cfg["coreInitString"] = join_init_string(
            str(helics_cfg.get("coreInitString", "--federates=1")),
            broker_address,
            local_interface or route_interface(broker_address),
        )

    ts_dir = out_dir / "timeseries"
    ts_dir.mkdir(parents=True, exist_ok=True)
    progress = out_dir / "logs" / f"{name}.progress"
    progress.parent.mkdir(parents=True, exist_ok=True)
    watch = Watch(out_dir / "logs" / f"{name}.heartbeat", h)
    watch.check()

    try:
        fed = h.helicsCreateValueFederateFromConfig(json.dumps(helics_cfg))
    except h.HelicsException as exc:
        watch.close("failed")
        watch.check()
        raise FederationJoinError(str(exc)) from exc
    watch.fed = fed
    pubs = {
        h.helicsPublicationGetName(p): p
        for p in (
            h.helicsFederateGetPublicationByIndex(fed, i)
            for i in range(h.helicsFederateGetPublicationCount(fed))
        )
    }
    subs = {
        h.helicsInputGetTarget(s): s
        for s in (
            h.helicsFederateGetInputByIndex(fed, i)
            for i in range(h.helicsFederateGetInputCount(fed))
        )
    }
    for key, default in opts.get("defaults", {}).items():
        if key in subs:
            h.helicsInputSetDefaultVector(subs[key], [float(default)])
    aligned = bool(config.get("wait_for_current_time_update", False))
    unknown = [k for k in opts.get("await_inputs", []) if k not in subs]
    if unknown:
        raise KeyError(f"{name}: cosim.await_inputs names {unknown[0]!r}, not an input")
    awaited = [(k, subs[k]) for k in opts.get("await_inputs", [])] if iterative else []
    blocks = sync_blocks(
        times_s,
        duration_s,
        float(opts.get("grid_dt_s", np.inf)),
        float(opts.get("sync_interval_s", 0.0)),
    )
    ends = np.append(times_s[1:], duration_s)
    # blocks of several steps are recorded on a thread while this federate waits for the others
    # (measured: +5 % with 60 s blocks); one-step blocks at once (a thread's wake-up per step
    # costs what it would save)
    series = SeriesWriter(ts_dir, name, iterative, threaded=len(blocks) < len(times_s))
    inputs = Inputs(h, subs, name, time_offset_s)  # converted to the subscriber's units
    outputs = Outputs(  # per-publication tolerances
        h, pubs, name, tol, {key: float(v) for key, v in opts.get("tolerances", {}).items()}
    )
    info: dict[str, Any] = {}
    t_wall = time.monotonic()
    t_progress = 0.0

    def step_inputs(vectors: dict[str, np.ndarray], j: int, n_block: int) -> dict[str, float]:
        # same-block values for a federate that waits for the current time; else the latest held
        return {
            key: float(v[j] if aligned and len(v) == n_block else v[-1]) if len(v) else math.nan
            for key, v in vectors.items()
        }

    def helics_wait(call: Callable[..., Any], *args: Any) -> Any:
        # a time request: phase "wait" for the heartbeat; SIGTERM makes it raise, then stop
        watch.phase = "wait"
        try:
            result = call(*args)
        except h.HelicsException:
            watch.check()
            raise
        watch.check()
        watch.phase = "step"
        return result

    def await_current(t_s: float, request: float) -> None:
        # before the first solve of a step: iterate (without solving) until every awaited input
        # holds a value published at this step, so that the first solve never depends on timing
        now = t_s + time_offset_s
        for _ in range(AWAIT_MAX_GRANTS):
            stale = [k for k, sub in awaited if h.helicsInputLastUpdateTime(sub) < now - 1e-9]
            if not stale:
                return
            granted, state = helics_wait(
                h.helicsFederateRequestTimeIterative,
                fed,
                request,
                h.HELICS_ITERATION_REQUEST_ITERATE_IF_NEEDED,
            )
            if state != h.HELICS_ITERATION_RESULT_ITERATING and granted >= request - 1e-9:
                break  # granted the next time: the publisher skipped this step
        raise MissingInputError(
            f"{name}: input {stale[0]!r} received no value at t_s = {t_s:.6g} s "
            "(cosim.await_inputs: its publisher must publish every step)"
        )

    def record(bout: Any, outs: list[StepOutput], i0: int, i1: int, iters: float | None) -> None:
        if bout is not None:
            series.block(bout.record, bout.block, times_s[i0:i1], iters, i1)
        else:
            series.rows(outs, times_s[i0:i1], iters, i1)

    try:
        helics_wait(h.helicsFederateEnterExecutingMode, fed)
        for b, (i0, i1) in enumerate(blocks):
            if b == 0:
                helics_wait(h.helicsFederateRequestTime, fed, float(times_s[0]) + time_offset_s)
            elif b == 2:  # after two exchanges every input must have received a value
                inputs.check_received()
            request = (float(times_s[i1]) if i1 < len(times_s) else duration_s) + time_offset_s
            iteration = 0
            watch.t_s = float(times_s[i0])
            if awaited:
                await_current(float(times_s[i0]), request)
            while True:
                vectors = inputs.read()
                if hasattr(adapter, "step_block"):  # the whole block in one call, arrays in and out
                    try:
                        bout = adapter.step_block(
                            times_s[i0:i1],
                            ends[i0:i1],
                            block_inputs(vectors, i1 - i0, aligned),
                            iteration,
                        )
                    except PartialBlock as exc:  # record the steps done before the failing one
                        k = len(exc.output.record[1])
                        if k:
                            series.block(
                                exc.output.record,
                                exc.output.block,
                                times_s[i0 : i0 + k],
                                iteration + 1 if iterative else None,
                                i0 + k,
                            )
                        raise exc.cause from None
                    outs = []
                    published = dict(bout.publish)
                else:
                    bout = None
                    outs = [
                        adapter.step(
                            float(times_s[i]),
                            float(ends[i]),
                            step_inputs(vectors, i - i0, i1 - i0),
                            iteration,
                        )
                        for i in range(i0, i1)
                    ]
                    published = {}
                    for out in outs:
                        for key, value in out.publish.items():
                            published.setdefault(key, []).append(float(value))
                outputs.publish(published, force=iteration == 0)
                if iterative and iteration < max_iter:
                    granted, state = helics_wait(
                        h.helicsFederateRequestTimeIterative,
                        fed,
                        request,
                        h.HELICS_ITERATION_REQUEST_ITERATE_IF_NEEDED,
                    )
                    # a grant at the current time (an input updated after the request) is an
                    # iteration too
                    if state == h.HELICS_ITERATION_RESULT_ITERATING or granted < request - 1e-9:
                        iteration += 1
                        continue
                    record(bout, outs, i0, i1, float(iteration + 1))  # settled
                else:
                    # the block is recorded (on the writer's thread) while we wait for the others
                    record(bout, outs, i0, i1, float(iteration + 1) if iterative else None)
                    if b + 1 < len(blocks):
                        helics_wait(h.helicsFederateRequestTime, fed, request)
                break
            now = time.monotonic()
            if now - t_progress >= progress_every_s or i1 == len(times_s):
                progress.write_text(f"{float(ends[i1 - 1]):.6f}\n")
                t_progress = now
        series.drain()
        info = adapter.finalize() or {}
        info.update(steps=series.steps, wall_s=round(time.monotonic() - t_wall, 3), status="ok")
    except (Stop, h.HelicsException) as exc:
        if not watch.stop.is_set() and not isinstance(exc, Stop):
            # a HELICS failure of its own (a lost broker): as any other failure below
            info = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
            raise
        # SIGTERM: its local error may surface in any HELICS call (a publication too)
        info = {"status": "stopped", "reason": watch.reason or str(exc)}
        raise Stop(info["reason"]) from None
    except Exception as exc:
        # what was flushed stays readable: the info says how far the series go
        info = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
        raise
    finally:
        watch.close({"ok": "done", "stopped": "stopped"}.get(info.get("status", ""), "failed"))
        try:
            series.close()
        finally:
            info.setdefault("steps", series.steps)
        (ts_dir / f"{name}.info.json").write_text(json.dumps(info, indent=1, default=float))
        watch.flushed.set()
        watch.release()  # its federate is about to be freed: leave_all no longer touches it
        try:
            h.helicsFederateDisconnect(fed)
            h.helicsFederateFree(fed)
        except Exception:  # noqa: BLE001 - the broker may already be gone
            pass
        if close_library:
            h.helicsCloseLibrary()
    return info


class FederationJoinError(RuntimeError):
    """The federate could not be created or join its broker (infrastructure, not the model)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of one federate process: ``python -m federates.common.loop CONFIG``.

    The config JSON is self-contained: it names the adapter factory
    (``cosim.adapter``) and the output directory (``cosim.out_dir``, relative to
    the config) and carries the federate's parameters (``cosim.params``) and
    time grid (``cosim.time_grid``).
    """
    import argparse

    ap = argparse.ArgumentParser(prog="federate")
    ap.add_argument("config", type=Path)
    ap.add_argument("--broker", default=None, help="broker address, e.g. tcp://127.0.0.1:23500")
    ap.add_argument(
        "--out", type=Path, default=None, help="output directory (overrides the config)"
    )
    ap.add_argument(
        "--interface",
        default=None,
        help="with --broker: the local address the core listens on (default: the one that "
        "routes to the broker)",
    )
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)  # until run_federate's watcher takes over
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return run_config(args.config, args.out, args.broker, args.interface)


def run_config(
    path: Path,
    out: Path | None = None,
    broker: str | None = None,
    interface: str | None = None,
    fatal: TextIO | None = None,
    close_library: bool = True,
) -> int:
    """Run the federate of the config file ``path`` to its end: its exit status (0, 1 failed,
    143 stopped); a failure's one :data:`FATAL_PREFIX` line goes to ``fatal`` (stderr)."""
    config = json.loads(path.read_text())
    name = config.get("name", path.stem)
    try:
        opts = config["cosim"]
        out_dir = (out or (path.resolve().parent / opts["out_dir"])).resolve()
        factory = load_adapter_factory(opts["adapter"])
        adapter, times_s, duration_s = factory(config, out_dir)
        log.info("federate %s: %d steps over %.1f s", name, len(times_s), duration_s)
        info = run_federate(
            config,
            adapter,
            times_s,
            duration_s,
            out_dir,
            broker_address=broker,
            local_interface=interface,
            close_library=close_library,
        )
    except Stop as exc:
        log.warning("federate %s stopped: %s", name, exc)
        return 143
    except Exception as exc:  # noqa: BLE001 - reported as one FATAL line the supervisor shows
        log.exception("federate %s failed", name)
        print(f"{FATAL_PREFIX}{type(exc).__name__}: {exc}", file=fatal or sys.stderr, flush=True)
        return 1
    log.info("federate %s done: %s", name, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
