"""Errors that carry the CLI exit code from the contract and a fix for the person.

Every error that reaches the CLI is one of these; anything else is a bug and is reported as one.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # a check failed, or a launch failed (and was rolled back)
EXIT_USAGE = 2  # bad input or usage
EXIT_TOOL_MISSING = 3  # Docker, Compose v2 or another required tool is missing
EXIT_UNVERIFIED = 4  # `check`: nothing failed, but a required check could not be verified (throttled, 403, 5xx, timeout)
EXIT_CANCELLED = 130


class FabrixError(Exception):
    """An error the person can act on: ``message`` says what is wrong, ``hint`` how to fix it."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


class UsageError(FabrixError):
    """Bad input: a malformed answers file, a wrong flag, an unknown install name."""

    exit_code = EXIT_USAGE


class Refused(UsageError):
    """A launch step found something it must not touch (another project under our name, another
    install's data folder) and stopped before changing anything: exit 2, nothing to roll back."""


class ToolMissing(FabrixError):
    """A required tool (Docker Engine, Compose v2, …) is missing or unreachable."""

    exit_code = EXIT_TOOL_MISSING


class OperationFailed(FabrixError):
    """A check or a launch failed; the message says what, the hint what to do next."""

    exit_code = EXIT_FAILED


class Cancelled(FabrixError):
    """The person cancelled (Ctrl-C, SIGTERM, answered no)."""

    exit_code = EXIT_CANCELLED
