"""The one JSON encoder and the one flattener of results.

* :func:`jsonable` turns results into plain JSON data: typed results and checks
  (anything with ``as_dict()``) to dicts, numpy scalars and arrays to Python,
  NaN / inf to None, tuples to lists, paths and timestamps to text;
* :func:`write_json` writes that data (``allow_nan=False``: a NaN that slipped
  through is an error, never invalid JSON);
* :func:`flatten` turns a nested summary into one level of dotted keys
  (``{"poi.p_max_mw": 238.6, "checks.ramp.passed": True}``), for the sweep table
  and the comparison of two runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """Plain JSON data of ``obj`` (see the module docstring); unknown objects become text.

    Parameters
    ----------
    obj : a result, summary, check, list, scalar ...

    Returns
    -------
    Any
        dicts, lists, str, int, float (finite), bool or None.
    """
    if hasattr(obj, "as_dict") and callable(obj.as_dict):
        return jsonable(obj.as_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return str(obj)


def dumps(obj: Any, indent: int | None = 2) -> str:
    """``obj`` as JSON text (through :func:`jsonable`)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_json(obj: Any, path: Path | str, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (through :func:`jsonable`) and return the path."""
    path = Path(path)
    path.write_text(dumps(obj, indent))
    return path


def _skipped(path: str, skip: Iterable[str]) -> bool:
    return any(path == s or path.startswith(s + ".") for s in skip)


def flatten(
    summary: Mapping[str, Any], *, skip: Iterable[str] = (), prefix: str = ""
) -> dict[str, Any]:
    """One level of dotted keys from a nested summary.

    * nested mappings: ``{"poi": {"p_max_mw": x}}`` -> ``{"poi.p_max_mw": x}``;
    * the ``checks`` list: one key per check field,
      ``checks.<id>.passed`` / ``.value`` / ``.limit`` / ``.basis`` / ``.where`` / ``.t_s``
      (a repeated id gets ``_2``, ``_3`` ...);
    * lists of scalars: JSON text (a table column keeps one type);
    * other lists: left out; scalars (None included): as they are.

    Parameters
    ----------
    summary : a summary (or any nested mapping)
    skip : dotted paths left out with everything under them (``"n1.ranking"``)
    prefix : prefix of every key

    Returns
    -------
    dict
        dotted key -> scalar or JSON text.
    """
    skip = tuple(skip)
    out: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if _skipped(name, skip):
            continue
        if isinstance(value, Mapping):
            out.update(flatten(value, skip=skip, prefix=f"{name}."))
        elif key == "checks" and isinstance(value, list):
            out.update(_flatten_checks(value, name))
        elif isinstance(value, list | tuple):
            if all(_is_scalar(v) for v in value):
                out[name] = json.dumps(list(value))
        else:
            out[name] = value
    return out


CHECK_FIELDS = ("passed", "value", "limit", "basis", "where", "t_s")


def _flatten_checks(checks: list[Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for check in checks:
        if not isinstance(check, Mapping) or not (check.get("id") or check.get("name")):
            continue
        name = str(check.get("id") or check["name"])
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name}_{seen[name]}"
        for field_name in CHECK_FIELDS:
            if field_name in check:
                v = check[field_name]
                out[f"{prefix}.{label}.{field_name}"] = (
                    json.dumps(v) if isinstance(v, list | tuple) else v
                )
    return out


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)
