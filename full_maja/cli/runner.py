"""The shared runner: parse once, run a command, turn every ending into an exit code."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Callable, Generic, Optional, Sequence, TypeVar

from ..console import Console
from ..errors import FullMajaError
from ..masking import forget_secrets
from .options import CommonSettings
from .status import ExitCode, exit_code_for

SettingsT = TypeVar("SettingsT", bound=CommonSettings)


@dataclass(frozen=True)
class Command(Generic[SettingsT]):
    """A command: its name, its options, its settings, its body and its Ctrl-C message."""

    prog: str
    parser: Callable[[str], argparse.ArgumentParser]
    settings: Callable[[argparse.Namespace], SettingsT]
    body: Callable[[SettingsT, Console], ExitCode]
    interrupted: str


def run(command: Command[SettingsT], argv: Optional[Sequence[str]]) -> int:
    """Run `command` on `argv` (default: sys.argv); failures are one line on stderr."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    console = Console(command.prog, quiet="-q" in arguments or "--quiet" in arguments)
    debug = "--debug" in arguments
    forget_secrets()  # those of this run only: its account registers them
    if debug:
        console.show_tracebacks()
    try:
        settings = command.settings(command.parser(command.prog).parse_args(arguments))
        console.quiet = settings.quiet
        console.capture_library_warnings()
        return int(command.body(settings, console))
    except FullMajaError as exc:
        if debug:
            raise
        console.error(str(exc))
        return int(exit_code_for(exc))
    except KeyboardInterrupt:
        console.error(command.interrupted)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        return int(ExitCode.FAILED)
    except Exception as exc:
        if debug:
            raise
        console.error(f"unexpected {exc.__class__.__name__}: {exc}; nothing was lost, run "
                      "again with --debug and report the traceback")
        return int(ExitCode.FAILED)


def _silence_stdout() -> None:
    """The reader of our output went away (`| head`): say nothing more, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
