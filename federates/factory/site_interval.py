"""The records of one grid interval of :class:`.site.FactorySite` (pure, no helics).

:class:`Interval` is what one call of ``FactorySite.advance`` fills in, stage by
stage (its steps, then the IT load, the site's P and Q, the BESS); :class:`IntervalOutput`
is what the call returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ALIGN_TOL = 1e-6  # tolerance of the internal grid [fraction of a step]


@dataclass
class IntervalOutput:
    """What :meth:`FactorySite.advance` returns for one grid step."""

    p_mw: float  # interval mean POI active power (load convention, + = import)
    q_mvar: float  # interval mean POI reactive power
    p_max_mw: float  # max of the internal-step POI power in the interval
    p_min_mw: float  # min of the internal-step POI power in the interval
    record: dict[str, float] = field(default_factory=dict)  # grid-step row
    hr: dict[str, np.ndarray] = field(default_factory=dict)  # internal-step rows (t_s = step start)


_EMPTY = np.empty(0)
_EMPTY.flags.writeable = False


def _empty() -> np.ndarray:
    return _EMPTY


@dataclass(slots=True)
class Interval:
    """One call of :meth:`FactorySite.advance`: its steps and what each site step adds."""

    t_s: float
    t_end_s: float
    vm_pu: float
    f_hz: float
    a: np.ndarray  # step starts [s]
    b: np.ndarray  # step ends [s]
    d: np.ndarray  # step lengths [s]
    w: np.ndarray  # step weights of the interval mean (d / span)
    i0: int  # internal-grid index of the first step
    idx: np.ndarray | None  # internal-grid index of every step (None: contiguous from i0)
    uniform: bool  # all steps have the nominal length
    d_sum_s: float | None = None  # d.sum() [s] when known (cached with the nominal steps)
    it: np.ndarray = field(default_factory=_empty)  # IT power [MW]
    it_mean: float = 0.0  # interval mean IT power [MW]
    poi_cap: np.ndarray | None = None  # demand-response cap on POI import [MW]
    site_cap: np.ndarray | None = None  # demand-response cap on the site [MW]
    g: np.ndarray | None = None  # share of the load on the grid (None: all of it)
    gate: np.ndarray | None = None  # chiller gate (None: fully on)
    cool: np.ndarray = field(default_factory=_empty)  # cooling power [MW]
    on_backup: np.ndarray = field(default_factory=_empty)  # share on backup
    p_site: np.ndarray = field(default_factory=_empty)  # site P [MW]
    q_site: np.ndarray = field(default_factory=_empty)  # site Q [Mvar]
    y: np.ndarray = field(default_factory=_empty)  # POI setpoint [MW]
    p_b: np.ndarray = field(default_factory=_empty)  # BESS P [MW]
    q_b: np.ndarray = field(default_factory=_empty)  # BESS Q [Mvar]
    soc: np.ndarray = field(default_factory=_empty)  # BESS SOC at step ends
    q_req: float = 0.0  # BESS Q request [Mvar]
    clipped_mw: float = 0.0  # mean refused BESS power over the interval [MW]

    @property
    def n(self) -> int:
        """Number of internal steps."""
        return len(self.a)

    @property
    def span(self) -> float:
        """Interval length [s]."""
        return self.t_end_s - self.t_s


def finite_min(a: np.ndarray | None) -> float:
    """Smallest finite value (NaN when none): the active demand-response cap of an interval.

    Parameters
    ----------
    a : numpy.ndarray or None
        Caps per step [MW] (``inf``: no cap), or None.

    Returns
    -------
    float
        The smallest cap [MW], NaN when there is none.
    """
    if a is None:
        return math.nan
    v = float(np.min(a))
    return v if math.isfinite(v) else math.nan


def frozen(a: np.ndarray) -> np.ndarray:
    """``a``, made read-only (a cached array handed out to every interval).

    Parameters
    ----------
    a : numpy.ndarray
        Any array.

    Returns
    -------
    numpy.ndarray
        The same array, no longer writeable.
    """
    a.flags.writeable = False
    return a
