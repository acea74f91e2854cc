"""Trace-driven load: a CSV of measured power at any resolution (pure, no helics).

:func:`read_trace` reads and checks a trace and returns ``(t_s, p, meta)``;
:class:`TraceProfile` resamples it onto the factory's internal step by exact
averaging of the piecewise-linear trace over each step (so it up-samples by
linear interpolation and down-samples by block averaging), scales it and loops
it when the case is longer.

A bad trace is rejected with one ``ValueError`` naming the file and the row
(1-based data row, and the file line) of each problem: an unparsable or NaN
value, negative power, time not strictly increasing, or a gap longer than
``max_gap_s`` (default 10 x the median step).
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

import numpy as np

from federates.factory.config import TraceConfig

_UNIT_MW = {"w": 1e-6, "kw": 1e-3, "mw": 1.0, "fraction": 1.0}
_MAX_PROBLEMS = 10


def _parse_time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.strip()).timestamp()


def read_trace(
    path: Path | str,
    time_column: str = "t_s",
    power_column: str = "p_mw",
    max_gap_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Read and check a power trace.

    Parameters
    ----------
    path : path-like or str
        CSV file of the trace.
    time_column : str, default "t_s"
        Name of the time column (seconds or ISO timestamps).
    power_column : str, default "p_mw"
        Name of the power column, in the file's unit.
    max_gap_s : float, optional
        Largest allowed step between consecutive rows [s]; ``None`` for no limit.

    Returns
    -------
    t_s : time from the first row [s], strictly increasing
    p : power in the file's unit (not converted), >= 0
    meta : ``rows``, ``median_dt_s``, ``duration_s``
    """
    path = Path(path)
    try:
        fh = path.open(newline="")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read trace: {exc.strerror}") from None
    problems: list[str] = []
    times: list[float] = []
    powers: list[float] = []
    lines: list[int] = []
    raw_t: list[str] = []  # times as the file wrote them (ISO stays ISO in messages)
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty trace file")
        header = [h.strip() for h in header]
        for col in (time_column, power_column):
            if col not in header:
                raise ValueError(f"{path}: no column {col!r} (columns: {', '.join(header)})")
        it, ip = header.index(time_column), header.index(power_column)
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            n = len(times) + 1
            where = f"{path}: row {n} (line {reader.line_num})"
            try:
                t = _parse_time(row[it])
                p = float(row[ip])
            except (ValueError, IndexError):
                problems.append(f"{where}: not a number: {row!r}")
                t, p = math.nan, math.nan
            else:
                if not (math.isfinite(t) and math.isfinite(p)):
                    problems.append(
                        f"{where}: NaN or infinite value (t={row[it]!r}, p={row[ip]!r})"
                    )
                elif p < 0:
                    problems.append(f"{where}: negative power {row[ip].strip()}")
            raw_t.append(row[it].strip() if it < len(row) else "")
            times.append(t)
            powers.append(p)
            lines.append(reader.line_num)
            if len(problems) >= _MAX_PROBLEMS:
                break
    if len(times) < 2 and not problems:
        raise ValueError(f"{path}: a trace needs at least 2 rows, found {len(times)}")
    t_arr = np.asarray(times, dtype=float)
    p_arr = np.asarray(powers, dtype=float)
    if not problems:
        dt = np.diff(t_arr)
        for k in np.flatnonzero(~(dt > 0))[:_MAX_PROBLEMS]:
            problems.append(
                f"{path}: row {k + 2} (line {lines[k + 1]}): time not increasing "
                f"({raw_t[k + 1]} after {raw_t[k]})"
            )
        if not problems:
            median = float(np.median(dt))
            limit = max_gap_s if max_gap_s is not None else 10.0 * median
            for k in np.flatnonzero(dt > limit * (1 + 1e-9))[:_MAX_PROBLEMS]:
                problems.append(
                    f"{path}: row {k + 2} (line {lines[k + 1]}): gap of {dt[k]:g} s after "
                    f"{raw_t[k]} (largest allowed {limit:g} s)"
                )
    if problems:
        raise ValueError("bad trace:\n" + "\n".join(problems))
    t_arr = t_arr - t_arr[0]
    meta = {
        "rows": float(len(t_arr)),
        "median_dt_s": float(np.median(np.diff(t_arr))),
        "duration_s": float(t_arr[-1]),
    }
    return t_arr, p_arr, meta


class TraceProfile:
    """A checked trace as a function of time, averaged over internal steps.

    ``peak_mw`` is the peak that a ``unit = "fraction"`` trace is relative to
    (IT, site or job peak, decided by the caller).
    """

    def __init__(self, cfg: TraceConfig, base_dir: Path = Path("."), peak_mw: float = 1.0) -> None:
        path = Path(cfg.path).expanduser()
        if not path.is_absolute():
            path = Path(base_dir) / path
        self.path = path
        t, p, self.meta = read_trace(path, cfg.time_column, cfg.power_column, cfg.max_gap_s)
        p = p * _UNIT_MW[cfg.unit] * cfg.scale
        if cfg.unit == "fraction":
            p = p * peak_mw
        if cfg.peak_mw is not None:
            top = float(p.max())
            if top <= 0:
                raise ValueError(f"{path}: cannot scale an all-zero trace to peak_mw")
            p = p * (cfg.peak_mw / top)
        self.repeat = cfg.repeat
        if self.repeat:  # close the loop back to the first sample after one median step
            t = np.append(t, t[-1] + self.meta["median_dt_s"])
            p = np.append(p, p[0])
        self._t, self._p = t, p
        seg = 0.5 * (p[1:] + p[:-1]) * np.diff(t)
        self._cum = np.concatenate([[0.0], np.cumsum(seg)])  # integral at the samples [MW s]
        self.period_s = float(t[-1])
        self.peak_mw = float(p.max())

    def _integral(self, x: np.ndarray) -> np.ndarray:
        """Integral of the trace from 0 to ``x`` [MW s] (looped or held)."""
        t, p, cum = self._t, self._p, self._cum
        if self.repeat:
            n, x = np.divmod(x, self.period_s)
            base = n * cum[-1]
        else:
            over = np.maximum(x - t[-1], 0.0)
            base = over * p[-1]
            x = np.minimum(x, t[-1])
        j = np.clip(np.searchsorted(t, x, side="right") - 1, 0, len(t) - 2)
        u = x - t[j]
        slope = (p[j + 1] - p[j]) / (t[j + 1] - t[j])
        return base + cum[j] + p[j] * u + 0.5 * slope * u * u

    def mean_mw(self, a_s: np.ndarray, b_s: np.ndarray) -> np.ndarray:
        """Mean power over each step ``[a, b)`` [MW].

        Parameters
        ----------
        a_s : numpy.ndarray
            Step starts [s].
        b_s : numpy.ndarray
            Step ends [s], element-wise after ``a_s``.

        Returns
        -------
        numpy.ndarray
            Mean power of each step [MW].
        """
        a_s = np.asarray(a_s, dtype=float)
        b_s = np.asarray(b_s, dtype=float)
        return (self._integral(b_s) - self._integral(a_s)) / (b_s - a_s)
