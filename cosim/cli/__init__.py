"""The ``cosim`` command line.

User mistakes (a malformed case, a missing file, a failed federate) print one
line per problem to stderr and exit non-zero without a traceback: 2 for a case
error, 1 for a failed run, 130 for Ctrl-C. ``--debug`` shows tracebacks.

Command groups: :mod:`cosim.cli.run` (check, build, run, cases, report,
compare), :mod:`cosim.cli.study` (sweep, hosting-capacity, broker, federate,
summarize), :mod:`cosim.cli.qualify` and :mod:`cosim.cli.dynamics` (modes,
oscillation).
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from cosim.cli import dynamics, qualify, run, study
from cosim.engine import warm_start
from cosim.errors import CosimError
from federates.errors import ConfigError


def make_parser() -> argparse.ArgumentParser:
    """The ``cosim`` parser with every command group."""
    ap = argparse.ArgumentParser(
        prog="cosim", description="AI-factory / BESS / grid co-simulation on HELICS"
    )
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (run, study, qualify, dynamics):
        group.register(sub)
    return ap


def _sigterm(signum: int, frame: Any) -> None:
    """SIGTERM (batch schedulers, ``timeout``) is handled like Ctrl-C."""
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    ap = make_parser()
    args = ap.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        # a command's federates are forked from one warm process (cosim.engine.warm_start)
        with warm_start.enabled_within():
            return int(args.func(args) or 0)
    except (CosimError, ConfigError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"error: interrupted ({exc or 'Ctrl-C'})", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
