"""Background load / generation time series of a network (readers at the edge; no helics).

Two sources (see :class:`federates.grid.config.ProfileConfig`):

* a CSV of *multipliers* of each element's base value, with columns ``load``,
  ``sgen``, ``gen`` (every element of a kind), ``zone.<zone>`` (loads at buses
  of that ``bus.zone``) or ``<kind>.<index>`` (one element; most specific
  wins) and a time column ``t_s`` [s] (or rows every ``dt_s``);
* the SimBench profiles of a SimBench network (absolute values, 15 min), via
  ``simbench.get_absolute_values``.

:meth:`Profiles.at` returns the absolute values at a time, interpolated
linearly or held (``step``), wrapping around the profile when ``loop``.
Load Q follows the load's P multiplier (constant power factor) for CSV profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandapower as pp

from federates.grid.config import ProfileConfig

KINDS = ("load", "sgen", "gen")


class ProfileError(ValueError):
    """A profile that cannot be read or does not fit the network (one line)."""


@dataclass
class Series:
    """Values of one element quantity: ``base * cols[t][elem_col]`` (``elem_col < 0``: base)."""

    table: str
    quantity: str
    base: np.ndarray
    elem_col: np.ndarray
    cols: np.ndarray  # (n_times, n_cols)

    def at(self, i: int, w: float) -> np.ndarray:
        """Values of every element between profile rows ``i`` and ``i + 1``, linearly interpolated.

        Parameters
        ----------
        i : int
            Profile row (time index).
        w : float
            Interpolation weight toward row ``i + 1`` [-], 0 to 1.

        Returns
        -------
        numpy.ndarray
            Absolute value per element, in the quantity's unit (e.g. [MW] for ``p_mw``).
        """
        row = self.cols[i] if w == 0.0 else self.cols[i] + w * (self.cols[i + 1] - self.cols[i])
        out = self.base.copy()
        m = self.elem_col >= 0
        out[m] = self.base[m] * row[self.elem_col[m]]
        return out


class Profiles:
    """Time series of background elements; :meth:`at` gives ``{(table, quantity): values}``."""

    def __init__(
        self, times_s: np.ndarray, series: list[Series], cfg: ProfileConfig, source: str
    ) -> None:
        if len(times_s) < 1 or np.any(np.diff(times_s) <= 0):
            raise ProfileError("profile times must be increasing")
        self.times_s = np.asarray(times_s, float)
        self.series = series
        self.cfg = cfg
        self.source = source
        step = float(np.median(np.diff(self.times_s))) if len(self.times_s) > 1 else 1.0
        self.period_s = float(self.times_s[-1] - self.times_s[0] + step)

    def _locate(self, t_s: float) -> tuple[int, float]:
        tp = self.cfg.start_s + t_s
        if self.cfg.loop:
            tp = self.times_s[0] + (tp - self.times_s[0]) % self.period_s
        n = len(self.times_s)
        i = int(np.searchsorted(self.times_s, tp, side="right") - 1)
        if i < 0:
            return 0, 0.0
        if i >= n - 1:
            return n - 1, 0.0  # past the last row (or in the wrap-around step): hold it
        if self.cfg.interpolation == "step":
            return i, 0.0
        return i, float((tp - self.times_s[i]) / (self.times_s[i + 1] - self.times_s[i]))

    def at(self, t_s: float) -> dict[tuple[str, str], np.ndarray]:
        """Absolute values of every profiled quantity at case time ``t_s`` [s].

        Parameters
        ----------
        t_s : float
            Case time [s].

        Returns
        -------
        dict of (str, str) to numpy.ndarray
            Values per ``(table, quantity)``, e.g. ``("load", "p_mw")`` [MW], scaled by the profile
            scale.
        """
        i, w = self._locate(t_s)
        return {(s.table, s.quantity): s.at(i, w) * self.cfg.scale for s in self.series}


def load_profiles(cfg: ProfileConfig, net: pp.pandapowerNet, base_dir: Path) -> Profiles:
    """Read the profiles of ``cfg`` for ``net``; :class:`ProfileError` when they do not fit.

    Parameters
    ----------
    cfg : ProfileConfig
        Profile source (``"simbench"`` or CSV) and options.
    net : pandapower.pandapowerNet
        The network the profiles apply to.
    base_dir : pathlib.Path
        Directory that relative CSV paths are resolved against.

    Returns
    -------
    Profiles
        The profiles.
    """
    if cfg.source == "simbench":
        return _simbench(cfg, net)
    return _csv(cfg, net, base_dir)


def _csv(cfg: ProfileConfig, net: pp.pandapowerNet, base_dir: Path) -> Profiles:
    import pandas as pd

    path = Path(cfg.file or "")
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise ProfileError(f"file not found: {path}")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001
        raise ProfileError(f"{path.name} does not parse: {exc}") from None
    if "t_s" in df:
        times = df.pop("t_s").to_numpy(float)
    elif cfg.dt_s is not None:
        times = np.arange(len(df)) * cfg.dt_s
    else:
        raise ProfileError(f"{path.name} has no t_s column and profiles.dt_s is not set")
    if not len(df.columns):
        raise ProfileError(f"{path.name} has no multiplier columns")
    names = list(df.columns)
    cols = df.to_numpy(float)
    if not np.all(np.isfinite(cols)):
        raise ProfileError(f"{path.name} has empty or non-numeric values")
    known = set()
    series = []
    zones = net.bus.zone if "zone" in net.bus else None
    for kind in KINDS:
        table = net[kind]
        elem_col = np.full(len(table), -1, dtype=np.int64)
        if kind in names:
            elem_col[:] = names.index(kind)
            known.add(kind)
        if kind == "load" and zones is not None:
            for j, name in enumerate(names):
                if name.startswith("zone."):
                    z = name[5:]
                    hit = np.array(
                        [str(zones.get(b)) == z for b in table.bus.to_numpy()], dtype=bool
                    )
                    elem_col[hit] = j
                    known.add(name)
        for j, name in enumerate(names):
            if name.startswith(kind + "."):
                try:
                    idx = int(name.split(".", 1)[1])
                except ValueError:
                    raise ProfileError(f"column {name!r}: expected {kind}.<index>") from None
                if idx not in table.index:
                    raise ProfileError(f"column {name!r}: {kind} {idx} is not in the network")
                elem_col[table.index.get_loc(idx)] = j
                known.add(name)
        if (elem_col >= 0).any():
            series.append(Series(kind, "p_mw", table.p_mw.to_numpy(float).copy(), elem_col, cols))
            if kind in ("load", "sgen"):
                series.append(
                    Series(kind, "q_mvar", table.q_mvar.to_numpy(float).copy(), elem_col, cols)
                )
    unknown = [n for n in names if n not in known and not n.startswith("zone.")]
    if unknown:
        raise ProfileError(
            f"{path.name}: unknown columns {unknown[:5]} (use load, sgen, gen, zone.<z>, "
            "<kind>.<idx>)"
        )
    if not series:
        raise ProfileError(f"{path.name}: no column matches an element of the network")
    return Profiles(times, series, cfg, f"csv {path.name}")


def _simbench(cfg: ProfileConfig, net: pp.pandapowerNet) -> Profiles:
    try:
        import simbench
    except ImportError:
        raise ProfileError(
            "source 'simbench' needs the simbench package (pip install simbench)"
        ) from None
    if "profiles" not in net or not len(net.profiles):
        raise ProfileError("source 'simbench' needs a SimBench network (net.profiles is empty)")
    try:
        absolute = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    except Exception as exc:  # noqa: BLE001
        raise ProfileError(f"SimBench profiles not available: {exc}") from None
    series = []
    n_times = None
    for (table, quantity), frame in absolute.items():
        if table not in KINDS or quantity not in ("p_mw", "q_mvar") or not len(net[table]):
            continue
        frame = frame.reindex(columns=net[table].index)
        vals = frame.to_numpy(float)
        vals = np.where(np.isfinite(vals), vals, net[table][quantity].to_numpy(float)[None, :])
        n_times = vals.shape[0]
        series.append(
            Series(table, quantity, np.ones(vals.shape[1]), np.arange(vals.shape[1]), vals)
        )
    if not series or n_times is None:
        raise ProfileError("the SimBench network has no load / sgen profiles")
    return Profiles(np.arange(n_times) * 900.0, series, cfg, "simbench (15 min)")
