"""The exit codes of both commands and the one map from errors to them."""
from __future__ import annotations

from enum import IntEnum

from ..errors import AuthenticationError, BusyError, Cancelled, FullMajaError, UsageError


class ExitCode(IntEnum):
    """The exit codes of both commands, as documented in the README."""

    OK = 0
    FAILED = 1
    USAGE = 2
    CREDENTIALS = 3
    LATER = 75
    INTERRUPTED = 130


def exit_code_for(error: FullMajaError) -> ExitCode:
    """The one mapping from error classes to exit codes."""
    if isinstance(error, AuthenticationError):
        return ExitCode.CREDENTIALS
    if isinstance(error, Cancelled):
        return ExitCode.INTERRUPTED
    if isinstance(error, BusyError):
        return ExitCode.LATER
    if isinstance(error, UsageError):
        return ExitCode.USAGE
    return ExitCode.FAILED
