"""Dynamic cases: the bundled networks and JSON files in the engine's dict format (pure).

A case is the dict that ``tops.dynamic.PowerSystemModel`` accepts: ``base_mva``,
``f`` [Hz], ``slack_bus``, tables (a header row, then one row per element) of
``buses``, ``lines``, ``transformers``, ``loads``, ``shunts`` and nested tables of
``generators`` (``GEN``), ``avr`` (``SEXS``), ``gov`` (``TGOV1``) and ``pss``
(``STAB1``). Bundled cases live in ``cases/data/dynamic`` (see its README for
sources and licenses).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[2] / "cases" / "data" / "dynamic"
BUNDLED = {"kundur": "kundur_two_area.json", "ieee39": "ieee39.json"}


def case_path(case: str, base_dir: Path | None = None) -> Path:
    """The JSON file of a bundled case name or a path (relative to ``base_dir``).

    Parameters
    ----------
    case : str
        Bundled case name or path of a JSON case file.
    base_dir : pathlib.Path, optional
        Directory that a relative path is resolved against.

    Returns
    -------
    pathlib.Path
        The case file.
    """
    if case in BUNDLED:
        return DATA_DIR / BUNDLED[case]
    p = Path(case).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    if not p.is_file():
        raise FileNotFoundError(f"dynamic case not found: {p} (bundled: {sorted(BUNDLED)})")
    return p


def load_case(case: str, base_dir: Path | None = None) -> dict[str, Any]:
    """Read a dynamic case (a deep copy: the engine mutates what it is given).

    Parameters
    ----------
    case : str
        Bundled case name or path of a JSON case file.
    base_dir : pathlib.Path, optional
        Directory that a relative path is resolved against.

    Returns
    -------
    dict of str to Any
        The decoded case.
    """
    return json.loads(case_path(case, base_dir).read_text())


def table(data: dict[str, Any], key: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Rows of one table as dicts (``kind`` picks a model of a nested table, e.g. ``GEN``).

    Parameters
    ----------
    data : dict of str to Any
        A decoded case.
    key : str
        Table name; a table is a header row followed by data rows.
    kind : str, optional
        Model of a nested table; ``None`` takes the first.

    Returns
    -------
    list of dict of str to Any
        One dict per data row, keyed by the header; empty when the table is missing or empty.
    """
    raw = data.get(key)
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = raw.get(kind, []) if kind is not None else next(iter(raw.values()), [])
    if len(raw) < 2:
        return []
    header = raw[0]
    return [dict(zip(header, row, strict=True)) for row in raw[1:]]


def with_site_load(
    data: dict[str, Any], bus: str, p_mw: float, q_mvar: float, *, carve: bool = True
) -> dict[str, Any]:
    """A copy of ``data`` with the site's initial consumption as an extra load ``SITE``.

    Parameters
    ----------
    data : dynamic case
    bus : the site's bus name
    p_mw, q_mvar : the site's initial consumption [MW, Mvar]
    carve : take the site's consumption out of the loads already at ``bus`` (the
        initial power flow, and so every machine's dispatch, stays the case's own);
        otherwise add it and let the slack machine serve it

    Returns
    -------
    the modified copy
    """
    out = copy.deepcopy(data)
    if p_mw == 0.0 and q_mvar == 0.0:
        return out
    nested = isinstance(out.get("loads"), dict)
    loads = (out["loads"].get("Load") if nested else out.get("loads")) or [
        ["name", "bus", "P", "Q", "model"]
    ]
    header = loads[0]
    rows = [list(r) for r in loads[1:]]
    if carve:
        at_bus = [r for r in rows if r[header.index("bus")] == bus]
        p_there = sum(r[header.index("P")] for r in at_bus)
        if not at_bus or p_there < p_mw:
            raise ValueError(
                f"bus {bus!r} has {p_there:.1f} MW of load, less than the site's {p_mw:.1f} MW "
                "(choose another POI or add the site on top of the case's loads)"
            )
        for r in at_bus:  # pro rata
            share = r[header.index("P")] / p_there
            r[header.index("P")] -= share * p_mw
            r[header.index("Q")] -= share * q_mvar
    site = {"name": "SITE", "bus": bus, "P": p_mw, "Q": q_mvar, "model": "Z"}
    new = [header, *rows, [site.get(h, 0.0) for h in header]]
    if nested:
        out["loads"]["Load"] = new
    else:
        out["loads"] = new
    return out
