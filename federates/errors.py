"""The one error type of the federates' configuration (pure; the framework reports it).

A federate's parameters that do not validate, or a network file that cannot be
used, raise :class:`ConfigError` with one line per problem. The ``cosim``
framework prints it as one line and exits 2; its own ``CaseError`` is a
subclass, so one ``except ConfigError`` catches both.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """Configuration that does not validate. Carries one line per problem."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__("\n".join(prefix + p for p in self.problems))
