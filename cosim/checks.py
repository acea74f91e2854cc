"""Checks of a case against the files and networks it names, before any process starts."""

from __future__ import annotations

from cosim.case import Case
from cosim.errors import CaseError


def check_case(case: Case) -> None:
    """Raise :class:`CaseError` listing every problem the case has with its network."""
    from federates.grid.network import case_problems

    problems = case_problems(case)
    if problems:
        raise CaseError(problems, case.name)
