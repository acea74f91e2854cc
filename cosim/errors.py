"""Errors a user can cause; the CLI prints them as one line each, no traceback."""

from __future__ import annotations

from federates.errors import ConfigError


class CosimError(Exception):
    """Base of the user-facing errors. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class CaseError(CosimError, ConfigError):
    """A case that does not validate. Carries one line per problem.

    A subclass of :class:`federates.errors.ConfigError` (what the federates'
    own configuration raises), so ``except ConfigError`` catches both.
    """

    exit_code = 2

    def __init__(self, problems: list[str] | str, source: str | None = None) -> None:
        ConfigError.__init__(self, problems, source)


class RunError(CosimError):
    """A federation that failed: a federate died, timed out or did not converge.

    Structured, so that no caller parses the message:

    * ``federate``: the federate (or ``"broker"``) that failed; None for a limit
      or an interruption;
    * ``cause``: what happened, one of :data:`CAUSES`;
    * ``returncode``: the failed process's exit status (negative: killed by
      that signal), when it exited.
    """

    #: 1, or 130 when ``cause`` is ``interrupted`` (Ctrl-C or SIGTERM)
    exit_code = 1
    #: ``start``: the broker could not start or be reached (infrastructure, worth a retry);
    #: ``diverged``: a power flow did not converge (the grid, not a crash); ``crashed``: a
    #: federate raised or died; ``hung``: a federate made no progress; ``limit``: the wall-clock
    #: limit; ``interrupted``: Ctrl-C or SIGTERM.
    CAUSES = ("start", "diverged", "crashed", "hung", "limit", "interrupted")

    def __init__(
        self,
        message: str,
        *,
        federate: str | None = None,
        cause: str = "crashed",
        returncode: int | None = None,
    ) -> None:
        if cause not in self.CAUSES:
            raise ValueError(f"cause {cause!r} is not one of {self.CAUSES}")
        super().__init__(message)
        self.federate = federate
        self.cause = cause
        self.returncode = returncode
        if cause == "interrupted":
            self.exit_code = 130  # as a shell reports a process ended by Ctrl-C


class UsageError(CosimError):
    """A command line or output directory that cannot work, found before anything starts.

    Examples: ``-o`` names a file or an unwritable place, a directory that is
    not a run directory (no run marker), a directory another run holds, a
    negative ``--wall-limit``. Exit code 2, like a case error.
    """

    exit_code = 2
