"""Argument helpers shared by every ``cosim`` command group."""

from __future__ import annotations

import argparse
import ipaddress
import math
from typing import Any

from cosim.errors import CaseError, UsageError

OVERRIDE_HELP = "override a case key, e.g. --set horizon.duration_s=600 (repeatable)"


def add_overrides(p: argparse.ArgumentParser, help: str = OVERRIDE_HELP) -> None:
    """``--set KEY=VALUE`` (repeatable), collected in ``args.overrides``."""
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def add_case_args(p: argparse.ArgumentParser) -> None:
    """The positional case (file or bundled name) and ``--set``."""
    p.add_argument(
        "case", help="case file (.toml) or the name of a bundled case (see `cosim cases`)"
    )
    add_overrides(p)


def checked_case(case: str, overrides: list[str]) -> Any:
    """Load, validate and check a case against its files and networks (raises CaseError)."""
    from cosim.case import load_case
    from cosim.checks import check_case

    c = load_case(case, overrides)
    check_case(c)
    return c


def split_ints(values: list[str], flag: str = "--bus") -> list[int]:
    """Integers from repeated and comma-separated option values."""
    out = []
    for v in values:
        for part in v.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                out.append(int(part))
            except ValueError:
                raise CaseError(f"{flag} {part!r}: not a whole number") from None
    return out


def wall_limit(value: float | None, flag: str = "--wall-limit") -> float | None:
    """A wall-clock limit [s]: None, or a finite number > 0 (else :class:`UsageError`)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{flag} {value:g}: expected a number of seconds > 0")
    return value


def interface_address(value: str, flag: str = "--interface") -> str:
    """An IP address to bind (``127.0.0.1``, ``0.0.0.0``, ``10.0.0.5``); else a UsageError."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise UsageError(
            f"{flag} {value!r}: not an IP address (e.g. 127.0.0.1, 10.0.0.5, 0.0.0.0)"
        ) from None
