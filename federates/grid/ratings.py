"""Branch ratings judged honestly: which branches of a network have a rating a real branch could
have.

A thermal check is only as good as the ratings behind it. Network files often
carry none: MATPOWER's ``rateA = 0`` means "unlimited" and pandapower's
converter turns it into 99,999 kA (lines) or 99,999 MVA (transformers,
impedances); pandapower's ``case118`` has 3,960-9,900 MVA lines and 9,900 MVA
transformers. :func:`assess_ratings` returns, for every line, two- and
three-winding transformer and ``impedance`` element, its rating [MVA] at 100 %
loading (the base of pandapower's ``loading_percent``) and whether it is
plausible, i.e. at most :func:`plausible_max_mva` for its voltage.

Plausible maximum per voltage class: the thermal rating of the heaviest
conductor bundle in common use for that class, ``sqrt(3) * V * n * I_c`` with
``I_c = 1.6 kA`` per sub-conductor (2,156 kcmil ACSR "Bluebird", about 1.6 kA
at 75 degC conductor, 25 degC ambient, 0.6 m/s wind: IEEE Std 738 conditions,
Aluminum Association / Southwire conductor tables) and ``n`` sub-conductors:

========  ===  ==========  ===============  ===========================
class     n    I_max [kA]  max at nominal   SIL (Glover et al., Tab. 5.2)
========  ===  ==========  ===============  ===========================
<= 69 kV  1    1.6         191 MVA (69)     12-13 MW
115-161   2    3.2         765 MVA (138)    47-52 MW (138 kV)
230 kV    2    3.2         1,275 MVA        134-145 MW
345 kV    3    4.8         2,868 MVA        325-425 MW
500 kV    4    6.4         5,543 MVA        850-1,075 MW
765 kV    6    9.6         12,720 MVA       2,200-2,300 MW
========  ===  ==========  ===============  ===========================

The bound is generous on purpose (two to six times the St. Clair loadability
of 3 x SIL for short lines; Dunlop, Gutman & Marchenko, IEEE Trans. PAS-98(2),
1979; SIL from Glover, Sarma & Overbye, *Power System Analysis and Design*):
it never rejects a real rating, only ratings no real circuit has. A
transformer or impedance is judged at its highest voltage (a transformer
rated above what one circuit at its high-voltage side can carry is taken as a
placeholder). An ``impedance`` at a bus with an ext_grid is a network
equivalent (a source impedance), not a branch, and has no thermal rating.

The network status is ``"file"`` (ratings read from the network data),
``"assumed"`` (the caller says the ratings were filled in by assumption) or
``"none"`` (fewer than ``min_rated_share`` of the in-service branches rated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandapower as pp

SQRT3 = math.sqrt(3.0)
SUBCONDUCTOR_KA = 1.6  # 2,156 kcmil ACSR at IEEE 738 conditions [kA]
MATPOWER_UNLIMITED = 99999.0  # pandapower's converter value for rateA = 0 (kA for lines, else MVA)
BRANCH_KINDS = ("line", "trafo", "trafo3w", "impedance")

# (upper bound of the class [kV], sub-conductors per phase)
KV_CLASSES: tuple[tuple[float, int], ...] = (
    (100.0, 1),
    (200.0, 2),
    (300.0, 2),
    (400.0, 3),
    (600.0, 4),
    (math.inf, 6),
)

RatingsStatus = Literal["file", "assumed", "none"]


def plausible_max_mva(vn_kv: float) -> float:
    """Largest rating a real circuit at ``vn_kv`` could have [MVA] (see the module table).

    Parameters
    ----------
    vn_kv : nominal line-to-line voltage [kV]
    """
    n = next(k for top, k in KV_CLASSES if vn_kv <= top)
    return SQRT3 * float(vn_kv) * n * SUBCONDUCTOR_KA


@dataclass(frozen=True)
class BranchRating:
    """One branch's rating and the verdict on it.

    Attributes
    ----------
    kind : "line", "trafo", "trafo3w" or "impedance"
    index : pandapower index in ``net.<kind>``
    vn_kv : voltage the rating is judged at (highest end / winding) [kV]
    rating_mva : rating at 100 % loading [MVA] (NaN when there is none)
    plausible_max_mva : bound of :func:`plausible_max_mva` at ``vn_kv`` [MVA]
    rated : True when the rating is plausible
    in_service : the element's in_service flag
    reason : one line saying why (unrated) or what the rating is
    """

    kind: str
    index: int
    vn_kv: float
    rating_mva: float
    plausible_max_mva: float
    rated: bool
    in_service: bool
    reason: str

    @property
    def name(self) -> str:
        """``"line.3"``: the suffix of the recorded ``loading_percent.line.3`` column."""
        return f"{self.kind}.{self.index}"


@dataclass(frozen=True)
class RatingsAssessment:
    """Ratings of every branch of a network and the network-level status.

    Attributes
    ----------
    status : "file", "assumed" or "none"
    branches : one :class:`BranchRating` per branch, in kind then index order
    rated_share : share of in-service branches with a plausible rating [0-1]
    note : one line for a report
    """

    status: RatingsStatus
    branches: tuple[BranchRating, ...]
    rated_share: float
    note: str

    def rated_names(self) -> frozenset[str]:
        """Names (``"trafo.2"``) of in-service branches with a plausible rating."""
        return frozenset(b.name for b in self.branches if b.rated and b.in_service)

    def unrated(self) -> tuple[BranchRating, ...]:
        """In-service branches judged unrated, with their reasons."""
        return tuple(b for b in self.branches if b.in_service and not b.rated)

    def by_name(self) -> dict[str, BranchRating]:
        return {b.name: b for b in self.branches}


def _judge(
    kind: str, idx: int, vn_kv: float, rating: float, on: bool, sentinel: bool, extra: str = ""
) -> BranchRating:
    bound = plausible_max_mva(vn_kv)
    if sentinel:
        ok, why = False, "rateA = 0 in the MATPOWER data (converted to 99,999)"
    elif not math.isfinite(rating) or rating <= 0:
        ok, why = False, "no rating in the data"
    elif rating > bound:
        ok = False
        why = f"{rating:,.0f} MVA exceeds what a {vn_kv:g} kV circuit can carry ({bound:,.0f} MVA)"
    else:
        ok, why = True, f"{rating:,.0f} MVA (plausible at {vn_kv:g} kV, bound {bound:,.0f} MVA)"
    if extra:
        ok, why = False, extra
    return BranchRating(kind, int(idx), float(vn_kv), float(rating), bound, ok, bool(on), why)


def _col(df: object, name: str, default: float) -> np.ndarray:
    if name in df:  # type: ignore[operator]
        return np.nan_to_num(df[name].to_numpy(float), nan=default)  # type: ignore[index]
    return np.full(len(df), default)  # type: ignore[arg-type]


def impedance_equivalents(net: pp.pandapowerNet) -> np.ndarray:
    """Per ``net.impedance`` row: True for a network equivalent (an end at an in-service
    ext_grid's bus, i.e. the source impedance of an external grid), not a branch.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network.

    Returns
    -------
    numpy.ndarray
        Boolean mask per ``net.impedance`` row.
    """
    im = net.impedance
    slack = net.ext_grid.bus[net.ext_grid.in_service].to_numpy()
    return (im.from_bus.isin(slack) | im.to_bus.isin(slack)).to_numpy(bool)


def branch_ratings(net: pp.pandapowerNet) -> tuple[BranchRating, ...]:
    """Rating [MVA] and verdict of every line, trafo, trafo3w and impedance of ``net``.

    Ratings are the 100 % bases of pandapower's ``loading_percent``: lines
    ``sqrt(3) * vn_kv * max_i_ka * df * parallel`` (``vn_kv`` of the from bus),
    transformers ``sn_mva * parallel * df``, three-winding transformers
    ``sn_hv_mva`` (each winding judged), impedances ``sn_mva``.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network.

    Returns
    -------
    tuple of BranchRating
        One per branch: rating [MVA] and verdict.
    """
    vn = net.bus.vn_kv
    out: list[BranchRating] = []
    ln = net.line
    if len(ln):
        kv = vn.loc[ln.from_bus].to_numpy(float)
        imax = ln.max_i_ka.to_numpy(float)
        rating = SQRT3 * kv * imax * _col(ln, "df", 1.0) * _col(ln, "parallel", 1.0)
        for k, i in enumerate(ln.index):
            sentinel = bool(imax[k] >= MATPOWER_UNLIMITED)
            out.append(_judge("line", i, kv[k], rating[k], ln.in_service.iat[k], sentinel))
    tr = net.trafo
    if len(tr):
        kv = np.maximum(tr.vn_hv_kv.to_numpy(float), tr.vn_lv_kv.to_numpy(float))
        sn = tr.sn_mva.to_numpy(float)
        rating = sn * _col(tr, "parallel", 1.0) * _col(tr, "df", 1.0)
        for k, i in enumerate(tr.index):
            sentinel = bool(sn[k] >= MATPOWER_UNLIMITED)
            out.append(_judge("trafo", i, kv[k], rating[k], tr.in_service.iat[k], sentinel))
    t3 = net.trafo3w
    if len(t3):
        for i in t3.index:
            row = t3.loc[i]
            worst = ""
            for w in ("hv", "mv", "lv"):
                s, v = float(row[f"sn_{w}_mva"]), float(row[f"vn_{w}_kv"])
                if s > plausible_max_mva(v):
                    worst = f"{w} winding {s:,.0f} MVA exceeds what a {v:g} kV circuit can carry"
            out.append(
                _judge(
                    "trafo3w",
                    i,
                    float(row.vn_hv_kv),
                    float(row.sn_hv_mva),
                    bool(row.in_service),
                    float(row.sn_hv_mva) >= MATPOWER_UNLIMITED,
                    worst,
                )
            )
    im = net.impedance
    if len(im):
        equivalents = impedance_equivalents(net)
        for k, i in enumerate(im.index):
            fb, tb = int(im.from_bus.iat[k]), int(im.to_bus.iat[k])
            sn = float(im.sn_mva.iat[k])
            equivalent = (
                "a network equivalent (source impedance at an ext_grid bus), no thermal rating"
                if equivalents[k]
                else ""
            )
            kv = max(float(vn.at[fb]), float(vn.at[tb]))
            out.append(
                _judge(
                    "impedance",
                    i,
                    kv,
                    sn,
                    bool(im.in_service.iat[k]),
                    sn >= MATPOWER_UNLIMITED,
                    equivalent,
                )
            )
    return tuple(out)


def assess_ratings(
    net: pp.pandapowerNet,
    *,
    source: Literal["file", "assumed"] = "file",
    min_rated_share: float = 0.5,
) -> RatingsAssessment:
    """Judge every branch rating of ``net`` and the network as a whole.

    Parameters
    ----------
    net : pandapower network (not modified)
    source : where rated branches' ratings come from: the network data
        ("file") or an assumption the caller made ("assumed")
    min_rated_share : below this share of rated in-service branches the
        network counts as unrated ("none") [0-1]

    Returns
    -------
    RatingsAssessment
    """
    branches = branch_ratings(net)
    live = [b for b in branches if b.in_service]
    share = sum(b.rated for b in live) / len(live) if live else 0.0
    status: RatingsStatus = source if live and share >= min_rated_share else "none"
    unrated = [b for b in live if not b.rated]
    kinds = sorted({b.kind for b in unrated})
    if status == "none":
        note = (
            f"no usable ratings: {len(unrated)} of {len(live)} in-service branches unrated "
            f"({', '.join(kinds) or 'no branches'})"
        )
    else:
        note = f"ratings from the {'network data' if source == 'file' else 'case assumptions'}"
        note += (
            f"; {len(unrated)} of {len(live)} branches judged unrated: "
            + ", ".join(b.name for b in unrated[:8])
            + (" ..." if len(unrated) > 8 else "")
            if unrated
            else f"; all {len(live)} in-service branches rated"
        )
    return RatingsAssessment(status, branches, share, note)


def overloaded(
    loadings_percent: dict[str, float],
    assessment: RatingsAssessment,
    limit_percent: float = 100.0,
) -> dict[str, float]:
    """Rated branches above ``limit_percent``: ``{"line.98": 112.3}`` [% of rating].

    ``loadings_percent`` maps branch names (``"trafo.2"``) to loadings, e.g. from
    :func:`federates.grid.loading.branch_loadings_percent`; unrated branches
    are left out (their loading means nothing).

    Parameters
    ----------
    loadings_percent : dict of str to float
        Loading per branch name [%].
    assessment : RatingsAssessment
        Rating verdicts (which branches are rated).
    limit_percent : float, default 100.0
        Loading limit [%].

    Returns
    -------
    dict of str to float
        Loading of each overloaded rated branch [%].
    """
    rated = assessment.rated_names()
    return {
        k: float(v)
        for k, v in loadings_percent.items()
        if k in rated and math.isfinite(v) and v > limit_percent
    }


def ratings_status(net: pp.pandapowerNet) -> tuple[RatingsStatus, str, list[str]]:
    """``(status, reason, unrated_branches)`` of a network's ratings, for a verdict.

    Parameters
    ----------
    net : pandapower network (not modified)

    Returns
    -------
    status : "file" or "none" (see :func:`assess_ratings`)
    reason : one line
    unrated_branches : in-service branches judged unrated (``"trafo.2"``: the
        suffixes of the recorded ``loading_percent.<kind>.<i>`` columns)
    """
    a = assess_ratings(net)
    return a.status, a.note, [b.name for b in a.unrated()]
