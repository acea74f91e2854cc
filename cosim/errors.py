"""Errors a user can cause; the CLI prints them as one line each, no traceback."""

from __future__ import annotations


class CosimError(Exception):
    """Base of the user-facing errors. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class CaseError(CosimError):
    """A case that does not validate. Carries one line per problem."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__("\n".join(prefix + p for p in self.problems))


class RunError(CosimError):
    """A federation that failed: a federate died, timed out or did not converge."""

    exit_code = 1
