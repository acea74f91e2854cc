"""Unit conversion of exchanged values (pure; no helics).

HELICS converts units for scalar values but not for vectors, and every
exchange of this project is a vector (one value per step of a sync block). So
the federate loop converts each input itself, from the unit its publisher
declared to the unit the subscriber declared: a peer that publishes kW with
unit ``"kW"`` is read as MW / 1000, never as MW x 1000.
"""

from __future__ import annotations

#: unit -> (quantity, factor to the quantity's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "w": ("power", 1e-6),
    "kw": ("power", 1e-3),
    "mw": ("power", 1.0),
    "gw": ("power", 1e3),
    "var": ("reactive", 1e-6),
    "kvar": ("reactive", 1e-3),
    "mvar": ("reactive", 1.0),
    "gvar": ("reactive", 1e3),
    "va": ("apparent", 1e-6),
    "kva": ("apparent", 1e-3),
    "mva": ("apparent", 1.0),
    "pu": ("per-unit", 1.0),
    "hz": ("frequency", 1.0),
    "mhz_milli": ("frequency", 1e-3),
    "khz": ("frequency", 1e3),
    "s": ("time", 1.0),
    "ms": ("time", 1e-3),
}
# Case matters only where SI prefixes collide: "mW" (milli) vs "MW" (mega), "mHz" vs "MHz".
_EXACT: dict[str, str] = {"mW": "w_milli", "MW": "mw", "mHz": "mhz_milli", "MHz": "mhz_mega"}
_UNITS["w_milli"] = ("power", 1e-9)
_UNITS["mhz_mega"] = ("frequency", 1e6)


class UnitError(ValueError):
    """Two units that cannot be converted into each other, or an unknown unit."""


def _lookup(unit: str) -> tuple[str, float]:
    u = unit.strip()
    key = _EXACT.get(u, u.lower())
    if key not in _UNITS:
        raise UnitError(f"unknown unit {unit!r} (known: W, kW, MW, GW, var .. MVar, VA .. MVA, pu)")
    return _UNITS[key]


def unit_scale(from_unit: str, to_unit: str) -> float:
    """Factor that converts a value in ``from_unit`` into ``to_unit``.

    Parameters
    ----------
    from_unit : the publisher's unit ("" when it declared none: no conversion)
    to_unit : the subscriber's unit ("" when it declared none: no conversion)

    Returns
    -------
    float
        Multiply a value in ``from_unit`` by this to get it in ``to_unit``.

    Raises
    ------
    UnitError
        An unknown unit, or units of different quantities (MW into pu).
    """
    if not from_unit.strip() or not to_unit.strip() or from_unit.strip() == to_unit.strip():
        return 1.0
    q_from, f_from = _lookup(from_unit)
    q_to, f_to = _lookup(to_unit)
    if q_from != q_to:
        raise UnitError(f"{from_unit!r} ({q_from}) cannot be read as {to_unit!r} ({q_to})")
    return f_from / f_to
