"""Every federate of a federation as a thread of one process (``run.one_process``).

``python -m federates.common.together [--init ARGS] CONFIG...`` creates HELICS's
in-process broker and one ``inproc`` core named by the configs' ``coreName`` (the
build writes the same name into each), then runs the federate of each config on a
thread of its own, named after it, with :func:`federates.common.loop.run_config`:
the same loop, the same adapters and the same time requests as a federate of its
own process, so the results are the same bit for bit. What changes is the way a
value travels: from one thread to another through the shared core, with no
socket and no broker process. With every-step exchange the federates run in turn,
so one core serves them all; the supervisor pins the process to one.

What each federate leaves is what its own process would leave:

* ``logs/<name>.log``: its log records (routed by thread) and its one ``FATAL:``
  line when it fails;
* ``logs/<name>.heartbeat`` and ``.progress``, its series and its info, from the loop;
* ``logs/<name>.exit``: its exit status (0, 1 failed, 143 stopped) once its thread
  ended. The first failure is written at once; the failures that follow it (the
  others losing the federation) only when every thread has ended, marked
  ``CODE after``, so that the supervisor names the federate that failed first.

SIGTERM (or the supervisor gone) stops every federate of the process: each
flushes its series and writes its info, then the process leaves by a deadline
(:func:`federates.common.watch.leave_all`). A crash of native code ends every
federate at once: the supervisor names the process (``federation``), whose log
holds the stack of every thread then (:mod:`faulthandler`); so it does for a
frozen process, in which no federate beats any more.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from federates.common.loop import run_config
from federates.common.watch import leave_on_sigterm

log = logging.getLogger("federates.together")


class _ByThread(logging.Handler):
    """Each federate thread's log records into that federate's own log; others to stderr."""

    def __init__(self, streams: dict[str, TextIO]) -> None:
        super().__init__()
        self.streams = streams
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        stream = self.streams.get(record.threadName or "", sys.stderr)
        try:
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging never fails the federate
            self.handleError(record)


class _Exits:
    """Writes ``logs/<name>.exit`` files: the first failure at once, later ones at the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first_failure: int | None = None
        self._held: list[tuple[Path, int]] = []

    def ended(self, path: Path, code: int) -> None:
        with self._lock:
            if code != 0 and self.first_failure is not None:
                self._held.append((path, code))
                return
            if code != 0:
                self.first_failure = code
            _write_exit(path, code)

    def release(self) -> None:
        with self._lock:
            for path, code in self._held:
                _write_exit(path, code, after=True)
            self._held.clear()


def _write_exit(path: Path, code: int, after: bool = False) -> None:
    tmp = path.with_suffix(".exit.tmp")
    tmp.write_text(f"{code} after\n" if after else f"{code}\n")
    os.replace(tmp, path)


def run_together(configs: list[Path], init: str = "") -> int:
    """Run the federates of ``configs`` as threads of this process; the exit status.

    Parameters
    ----------
    configs : list of Path
        Federate configs (as ``python -m federates.common.loop CONFIG`` takes), each naming
        the same in-process core in ``coreName``.
    init : str
        More arguments of the broker and the core (``--maxsize=N``).

    Returns
    -------
    int
        0 when every federate ended well, else the status of the first that did not.
    """
    import helics as h

    loaded = [(path, json.loads(path.read_text())) for path in configs]
    names = {c.get("coreName") for _, c in loaded}
    if len(names) != 1 or None in names:
        raise ValueError(f"the configs must name one core (coreName): {sorted(map(str, names))}")
    core_name = names.pop()
    broker = h.helicsCreateBroker("inproc", f"{core_name}_broker", f"--federates=1 {init}")
    core = h.helicsCreateCore(
        "inproc", core_name, f"--federates={len(loaded)} --broker={core_name}_broker {init}"
    )
    streams: dict[str, TextIO] = {}
    exits = _Exits()
    threads = []
    for path, cfg in loaded:
        name = str(cfg.get("name", path.stem))
        logs = (path.resolve().parent / cfg["cosim"]["out_dir"]).resolve() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        streams[name] = open(logs / f"{name}.log", "w", buffering=1)  # noqa: SIM115
        exit_file = logs / f"{name}.exit"
        exit_file.unlink(missing_ok=True)

        def member(
            path: Path = path, exit_file: Path = exit_file, fatal: TextIO = streams[name]
        ) -> None:
            code = 1
            try:
                code = run_config(path, fatal=fatal, close_library=False)
            finally:
                exits.ended(exit_file, code)

        threads.append(threading.Thread(target=member, name=name))
    logging.getLogger().addHandler(_ByThread(streams))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exits.release()
    for stream in streams.values():
        stream.close()
    _close(h, core, broker)
    h.helicsCloseLibrary()
    return exits.first_failure or 0


def _close(h: Any, core: Any, broker: Any) -> None:
    try:
        h.helicsCoreDisconnect(core)
        h.helicsBrokerDisconnect(broker)
        h.helicsCoreFree(core)
        h.helicsBrokerFree(broker)
    except Exception:  # noqa: BLE001 - leaving: the federates' results are on disk
        log.warning("the in-process core did not close cleanly", exc_info=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m federates.common.together [--init ARGS] CONFIG...``."""
    ap = argparse.ArgumentParser(prog="together")
    ap.add_argument("configs", type=Path, nargs="+")
    ap.add_argument("--init", default="", help="more broker and core arguments (--maxsize=N)")
    args = ap.parse_args(argv)
    logging.getLogger().setLevel(logging.INFO)  # records go through _ByThread only
    faulthandler.enable(all_threads=True)  # a crash of native code: every thread's stack
    leave_on_sigterm()
    return run_together(args.configs, args.init)


if __name__ == "__main__":
    sys.exit(main())
