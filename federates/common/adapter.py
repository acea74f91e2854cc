"""Helpers every adapter factory uses (pure: no helics import)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from cosim.case import Case


def case_of(config: dict[str, Any]) -> Case:
    """The resolved case a federate config points to (``cosim.case``)."""
    from cosim.case import load_case

    return load_case(Path(config["cosim"]["case"]))


def timing(case: Case) -> tuple[np.ndarray, float]:
    """The shared solve instants and the horizon of a case."""
    return case.time_grid(), float(case.horizon.duration_s)
