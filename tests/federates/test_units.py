"""Unit conversion of exchanged values."""

from __future__ import annotations

import pytest

from federates.common.units import UnitError, unit_scale


@pytest.mark.parametrize(
    ("src", "dst", "factor"),
    [
        ("kW", "MW", 1e-3),
        ("MW", "kW", 1e3),
        ("W", "MW", 1e-6),
        ("GW", "MW", 1e3),
        ("kvar", "MVar", 1e-3),
        ("MVAr", "MVar", 1.0),
        ("mW", "MW", 1e-9),
        ("mHz", "Hz", 1e-3),
        ("pu", "pu", 1.0),
        ("", "MW", 1.0),
        ("MW", "", 1.0),
    ],
)
def test_scale_converts_publisher_units_into_subscriber_units(
    src: str, dst: str, factor: float
) -> None:
    assert unit_scale(src, dst) == pytest.approx(factor, rel=1e-12)


def test_incompatible_or_unknown_units_are_refused() -> None:
    with pytest.raises(UnitError, match="cannot be read"):
        unit_scale("MW", "pu")
    with pytest.raises(UnitError, match="unknown unit"):
        unit_scale("furlong", "MW")
