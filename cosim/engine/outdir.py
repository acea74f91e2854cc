"""Run directories: checked before anything starts, marked as ours, locked while in use.

A run directory carries the marker file :data:`RUN_MARKER`, written when the
run creates it (or finds it empty). Only a directory with the marker is ever
cleaned (:func:`prepare_out_dir`): a case name or ``-o`` that points at some
other non-empty directory is refused, never emptied.

While a run uses a directory it holds an exclusive ``fcntl`` lock on
:data:`LOCK_FILE` inside it, whose text names the holder (pid, host, start
time); a second run into the same directory stops at once with exit code 2 and
names the first (:func:`claim_out_dir`). The lock ends with the holding process,
whatever kills it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from cosim.errors import UsageError

#: marker file of a directory that this project created for a run (and may clean)
RUN_MARKER = ".cosim-run"
#: lock file held by the run that uses the directory
LOCK_FILE = ".cosim-run.lock"
#: what :func:`prepare_out_dir` removes: the generated parts of a previous run
GENERATED_DIRS = ("timeseries", "logs", "configs", "plots", "baseline")
GENERATED_FILES = ("summary.json", "report.html", "runner.json", "case.toml")


def check_out_dir(out: Path | str, flag: str = "-o") -> Path:
    """Make sure ``out`` is (or can become) a writable directory; return it resolved.

    Creates it (and its parents) when missing. Raises :class:`UsageError` (exit
    2, one line) when it is a file, cannot be created or is not writable.
    """
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create the directory: {exc.strerror}") from None
    probe = path / f".cosim-write-test-{os.getpid()}"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{flag} {path}: not writable: {exc.strerror}") from None
    return path.resolve()


def is_run_dir(out: Path) -> bool:
    """True when ``out`` carries this project's run marker."""
    return (out / RUN_MARKER).is_file()


def mark_run_dir(out: Path, flag: str = "-o") -> None:
    """Mark ``out`` as a run directory; refuse a non-empty directory that is not one."""
    if is_run_dir(out):
        return
    if any(out.iterdir()):
        raise UsageError(
            f"{flag} {out}: not empty and not a run directory (no {RUN_MARKER}); "
            "nothing was touched: choose an empty or new directory"
        )
    (out / RUN_MARKER).write_text("a cosim run directory: `cosim run` may clean its contents\n")


def prepare_out_dir(out: Path) -> None:
    """Empty the generated parts of a previous run in ``out`` (never other files).

    Raises
    ------
    UsageError
        ``out`` is not empty and carries no run marker: nothing is deleted.
    """
    out = check_out_dir(out)
    mark_run_dir(out)
    for sub in GENERATED_DIRS:
        shutil.rmtree(out / sub, ignore_errors=True)
    for f in GENERATED_FILES:
        (out / f).unlink(missing_ok=True)


@contextmanager
def claim_out_dir(out: Path | str, flag: str = "-o") -> Iterator[Path]:
    """Check, mark and lock the run directory ``out`` for the duration of the block.

    Raises
    ------
    UsageError
        ``out`` is unusable (:func:`check_out_dir`), foreign (:func:`mark_run_dir`)
        or held by another run, which the message names (pid, host, start time).
    """
    path = check_out_dir(out, flag)
    mark_run_dir(path, flag)
    fh = open(path / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise UsageError(
                f"{flag} {path}: in use by another run ({_describe_holder(fh.read())})"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": datetime.now().astimezone().isoformat(timespec="seconds"),
                }
            )
        )
        fh.flush()
        yield path
    finally:
        fh.close()  # releases the lock


def _describe_holder(text: str) -> str:
    try:
        info = json.loads(text)
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"
