"""Test parameters of the qualification suite: value, unit and source of each.

Every threshold and stimulus figure of a test is a :class:`Param` with a default
from ``docs/domain.md`` ("Qualification test profiles" and the requirement
tables) or marked "assumed". A spec overrides any of them under
``[qualify.Q<n>]``; the value used and where it comes from are reported::

    [qualify.Q1]
    osc_limit_percent = 1.5
    sources = { osc_limit_percent = "utility X agreement, 2026" }

An overridden value without a named source is reported as
``case file (default <x> from <source>)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """A test parameter as defined by the suite.

    ``kind`` is ``"threshold"`` (decides pass/fail) or ``"stimulus"`` (shapes
    the test profile).
    """

    name: str
    default: Any
    unit: str
    source: str
    description: str
    kind: str = "threshold"


@dataclass(frozen=True)
class Value:
    """A parameter as used in one qualification: its value and the value's source."""

    name: str
    value: Any
    unit: str
    source: str
    overridden: bool = False

    def as_dict(self) -> dict[str, Any]:
        v = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"value": v, "unit": self.unit, "source": self.source, "overridden": self.overridden}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return list(a) == list(b)
    return bool(a == b)


def _coerce(p: Param, value: Any, where: str) -> Any:
    """Check an override against the default's type (bool, number, string, [low, high])."""
    d = p.default
    if isinstance(d, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {value!r} is not true/false")
        return value
    if isinstance(d, int | float) or (d is None and isinstance(value, int | float)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: {value!r} is not a number")
        return float(value) if isinstance(d, float) else value
    if isinstance(d, tuple | list):
        if not isinstance(value, list | tuple) or len(value) != len(d):
            raise ValueError(f"{where}: {value!r} is not a list of {len(d)} values")
        return tuple(value)
    if isinstance(d, str) and not isinstance(value, str):
        raise ValueError(f"{where}: {value!r} is not a string")
    return value


def resolve(
    test_id: str,
    params: list[Param],
    overrides: dict[str, Any] | None,
) -> dict[str, Value]:
    """The value and source of every parameter of a test.

    Parameters
    ----------
    test_id : e.g. ``"Q1"`` (for messages)
    params : the test's parameters
    overrides : the spec's ``[qualify.Q<n>]`` table (may hold ``sources``)

    Raises
    ------
    ValueError
        one line per unknown name or badly typed value, naming the known ones.
    """
    table = dict(overrides or {})
    sources = table.pop("sources", {}) or {}
    known = {p.name: p for p in params}
    problems = []
    if not isinstance(sources, dict):
        problems.append(f"qualify.{test_id}.sources: must be a table of name = source")
        sources = {}
    unknown = [k for k in [*table, *sources] if k not in known]
    if unknown:
        names = ", ".join(known) or "none"
        problems.append(
            f"qualify.{test_id}: unknown parameter(s) {sorted(set(unknown))} (known: {names})"
        )
    out: dict[str, Value] = {}
    for p in params:
        value, src, over = p.default, p.source, False
        if p.name in table:
            try:
                value = _coerce(p, table[p.name], f"qualify.{test_id}.{p.name}")
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if not _same(value, p.default):
                over = True
                src = f"case file (default {p.default} from {p.source})"
        if p.name in sources:
            src = str(sources[p.name])
        out[p.name] = Value(p.name, value, p.unit, src, over)
    if problems:
        raise ValueError("\n".join(problems))
    return out
