"""Line faults part-way along a line: two pi sections and a Kron-eliminated fault node."""

from __future__ import annotations

import numpy as np
import pytest

from federates.dynamics.cases import load_case
from federates.dynamics.config import LineFaultConfig
from federates.dynamics.faults import LineStamp
from federates.dynamics.model import DynamicGrid

Z_PU = complex(0.001, 0.01)  # series impedance of the test line [pu]
LINE = LineStamp(0, 0, 1, 1.0 / Z_PU, 0.0)


@pytest.mark.parametrize("a", [0.1, 0.5, 0.8])
def test_bolted_fault_currents_from_both_ends(a):
    """Both ends held at 1 pu: each end feeds the fault through its own section, 1 / (a z) and
    1 / ((1 - a) z) (textbook result for a lossless-shunt line)."""
    d = LINE.fault_delta(a, 1e15)
    i_ends = (LINE.stamp(2) + d) @ np.ones(2)
    assert i_ends[0] == pytest.approx(1.0 / (a * Z_PU), rel=1e-9)
    assert i_ends[1] == pytest.approx(1.0 / ((1.0 - a) * Z_PU), rel=1e-9)


def test_fault_through_impedance_draws_its_node_voltage():
    """A fault admittance y_f at the middle: total current y_f V_m with V_m the divider."""
    y_f = 1.0 / complex(0.0, 0.05)
    d = LINE.fault_delta(0.5, y_f)
    y12 = 2.0 / Z_PU  # each half
    v_m = 2 * y12 / (2 * y12 + y_f)  # both ends at 1 pu
    assert (LINE.stamp(2) + d).sum() == pytest.approx(y_f * v_m, rel=1e-12)
    assert d[0, 0] == pytest.approx(d[1, 1]) and d[0, 1] == pytest.approx(d[1, 0])


def test_near_the_end_it_is_the_end_bus_fault():
    y_f = 1.0 / complex(0.0, 0.02)
    d = LINE.fault_delta(1e-7, y_f)
    assert d[0, 0] == pytest.approx(y_f, rel=1e-4)
    assert abs(d[1, 1]) < 1e-4 * abs(y_f) and abs(d[0, 1]) < 1e-4 * abs(y_f)
    assert np.allclose(LINE.fault_delta(0.5, 0.0), 0.0)  # no fault, no change


def _min_poi_vm(location: float | None, end: str = "from") -> float:
    fault = LineFaultConfig(
        line="L7-8-1", end=end, location=location, start_s=0.2, clear_s=0.3, x_pu=1e-3
    )
    grid = DynamicGrid(load_case("kundur"), "B7", p_site0_mw=200.0, faults=[fault])
    t = 0.01 * np.arange(1, 41)
    r = grid.run_block(t, np.full_like(t, 200.0), np.zeros_like(t))
    return float(r.poi_vm_pu[(t > 0.21) & (t < 0.29)].min())


def test_dip_at_the_poi_eases_as_the_fault_moves_away_along_the_line():
    """Line 7-8 from B7 (the POI) to B8 (110 km): the farther from B7, the shallower, until
    the fault nears B8 and the end-bus fault there is recovered."""
    at_b7 = _min_poi_vm(None, "from")
    dips = [_min_poi_vm(a) for a in (0.01, 0.25, 0.5, 0.75)]
    at_b8 = _min_poi_vm(None, "to")
    assert at_b7 < 0.1
    # 1 % along (1.1 km, 0.0011 pu) adds about the fault's own 0.001 pu: about twice the dip
    assert at_b7 < dips[0] < 0.05
    assert np.all(np.diff(dips[:3]) > 0)  # moving away from B7
    # near B8 the parallel line 7-8-2 feeds the fault too: as deep as a fault at B8 itself
    assert dips[-1] == pytest.approx(at_b8, abs=0.02)
    assert _min_poi_vm(0.999) == pytest.approx(at_b8, abs=0.02)


def test_location_outside_the_line_is_refused():
    with pytest.raises(ValueError, match="location"):
        LineFaultConfig(line="L", location=1.0, start_s=0.0, clear_s=0.1)
