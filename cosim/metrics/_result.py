"""The base of the metrics' typed results: frozen dataclasses with ``as_dict()``.

Every metric that returns more than one figure returns a small frozen dataclass
with one documented field (and unit) per figure. ``as_dict()`` gives the plain
data ``summary.json`` writes (nested results and tuples become dicts and lists);
``result["field"]`` reads a field by name, for callers written against the
former dicts, and raises ``KeyError`` for a name that is not a field (a typo is
an error, never a silent None).
"""

from __future__ import annotations

import dataclasses
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as plain data: results to dicts, tuples to lists, mappings copied.

    Parameters
    ----------
    value : a result, mapping, sequence or scalar

    Returns
    -------
    Any
        dicts, lists and scalars (units unchanged).
    """
    if isinstance(value, MetricResult):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class MetricResult:
    """Base of the typed metric results (no fields of its own)."""

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain data, in declaration order."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def __getitem__(self, key: str) -> Any:
        if key not in self._field_names():
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._field_names()

    @classmethod
    def _field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))

    @classmethod
    def empty(cls, **known: Any) -> Any:
        """An instance with every field None except ``known``."""
        values = dict.fromkeys(cls._field_names())
        values.update(known)
        return cls(**values)
