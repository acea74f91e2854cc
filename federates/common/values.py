"""The values a federate exchanges through HELICS: inputs read, publications sent (no import).

The loop (:mod:`federates.common.loop`, the only module that imports
``helics``) hands its ``helics`` module in. With every-step exchange a value
crosses HELICS every grid step, so reading one costs what the step's physics
may not: the ``helics`` Python wrapper's ``helicsInputGetVector`` allocates a
buffer of the vector's size plus 1,024 doubles and copies all of them into a
list (~40 us a call). :class:`Inputs` calls the same C function of the HELICS
library into one reused buffer instead (~1 us): the same doubles, read the same
way; it falls back on the wrapper when the library's symbols are not reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from federates.common.units import UnitError, unit_scale

__all__ = ["Inputs", "MissingInputError", "Outputs", "input_scales"]


class MissingInputError(RuntimeError):
    """A subscribed input that never received a value from its publisher."""


def input_scales(h: Any, sub_items: list[tuple[str, Any]], name: str) -> dict[str, float]:
    """Factor per input from its publisher's unit to its own (HELICS does not convert vectors).

    Parameters
    ----------
    h : the ``helics`` module
    sub_items : (target key, input handle) pairs
    name : the federate's name (for the error message)

    Returns
    -------
    dict
        Target key -> factor.
    """
    scales = {}
    for key, sub in sub_items:
        src, dst = h.helicsInputGetInjectionUnits(sub), h.helicsInputGetExtractionUnits(sub)
        try:
            scales[key] = unit_scale(src, dst)
        except UnitError as exc:
            raise UnitError(f"{name}: input {key!r}: {exc}") from None
    return scales


class _VectorReader:
    """``helicsInputGetVector`` into one reused buffer, as a float array (the C call itself)."""

    def __init__(self, h: Any) -> None:
        capi = h.capi
        self._h = h
        self._ffi = capi.ffi
        self._get = capi.loadSym("helicsInputGetVector")
        self._size = capi.loadSym("helicsInputGetVectorSize")
        self._err = capi.ffi.new("HelicsError *")
        self._n = capi.ffi.new("int[1]")
        self._cap = 0
        self._buf: Any = None
        self._grow(64)

    def _grow(self, n: int) -> None:
        self._cap = n
        self._buf = self._ffi.new(f"double[{n}]")

    def __call__(self, sub: Any) -> np.ndarray:
        """The input's current vector (a copy), as ``helicsInputGetVector`` returns it."""
        size = int(self._size(sub.handle))
        if size > self._cap:
            self._grow(max(size, 2 * self._cap))
        err = self._err
        err.error_code = 0
        self._get(sub.handle, self._buf, self._cap, self._n, err)
        if err.error_code != 0:
            msg = self._ffi.string(err.message).decode() if err.message else ""
            raise self._h.HelicsException(f"[{err.error_code}] {msg}")
        return np.frombuffer(self._ffi.buffer(self._buf, 8 * self._n[0]), dtype=float).copy()


def vector_reader(h: Any) -> Any:
    """A function ``sub -> np.ndarray`` reading an input's vector; the wrapper's as a fallback."""
    try:
        return _VectorReader(h)
    except (AttributeError, TypeError, LookupError, OSError):
        return lambda sub: np.asarray(h.helicsInputGetVector(sub), dtype=float)


class Inputs:
    """A federate's subscriptions, read as float arrays in the subscriber's units.

    Parameters
    ----------
    h : the ``helics`` module
    subs : target key -> input handle
    name : the federate's name (for error messages)
    time_offset_s : HELICS time of case time 0 [s]
    """

    def __init__(self, h: Any, subs: Mapping[str, Any], name: str, time_offset_s: float) -> None:
        self._h = h
        self.items = list(subs.items())
        self._name = name
        self._offset = time_offset_s
        self._scales: dict[str, float] = {}
        self._read = vector_reader(h)

    def read(self) -> dict[str, np.ndarray]:
        """Every input's vector, converted from its publisher's unit to its own."""
        if not self._scales:  # publishers' units are known once executing
            self._scales.update(input_scales(self._h, self.items, self._name))
        read, scales = self._read, self._scales
        return {key: read(sub) * scales[key] for key, sub in self.items}

    def check_received(self) -> None:
        """Raise :class:`MissingInputError` naming an input that has received no value yet."""
        last = self._h.helicsInputLastUpdateTime
        missing = [k for k, sub in self.items if last(sub) < self._offset]
        if missing:
            raise MissingInputError(
                f"{self._name}: input {missing[0]!r} never received a value "
                f"(no publication from {missing[0].split('/')[0]!r})"
            )


class Outputs:
    """A federate's publications: a value is sent when it moved by more than its tolerance.

    Parameters
    ----------
    h : the ``helics`` module
    pubs : publication key -> publication handle
    name : the federate's name (for error messages)
    tol : default tolerance
    tols : per-publication tolerances
    """

    def __init__(
        self,
        h: Any,
        pubs: Mapping[str, Any],
        name: str,
        tol: float,
        tols: Mapping[str, float],
    ) -> None:
        self._h = h
        self._pubs = dict(pubs)
        self._name = name
        self._tol = tol
        self._tols = dict(tols)
        self._last: dict[str, np.ndarray] = {}

    def publish(self, values: Mapping[str, Any], force: bool) -> None:
        """Publish each key's values (one per step); unless ``force``, only the moved ones."""
        for key, seq in values.items():
            pub = self._pubs.get(key)
            if pub is None:
                raise KeyError(f"{self._name}: adapter published unknown key {key!r}")
            arr = np.asarray(seq, dtype=float)
            last = self._last.get(key)
            if not force and last is not None and _close(last, arr, self._tols.get(key, self._tol)):
                continue
            self._h.helicsPublicationPublishVector(pub, arr.tolist())
            self._last[key] = arr


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol))
