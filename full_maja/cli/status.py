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


MEANINGS = {
    ExitCode.OK: "done: submitted or searched; or every job finished and every product is on disk",
    ExitCode.FAILED: "a job failed or was cancelled, a product could not be downloaded, or "
                     "the server could not be reached or answered nonsense",
    ExitCode.USAGE: "bad usage or input (an option, a value, a credentials or key file, a "
                    "job log), or an operation the service's protocol does not offer",
    ExitCode.CREDENTIALS: "the server refused the account or API key, or a catalogue "
                          "download needs a key and none was given",
    ExitCode.LATER: "a job is still queued or processing, products are not on disk yet (on "
                    "tape, or being written by another run), or another run holds the log: "
                    "run again later",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, or SIGTERM); partial downloads resume on the "
                          "next run",
}
"""What each exit code means, as `full-maja --help` says it (README.md says it at length)."""


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
