"""The shared runner: parse once, run a command, turn every ending into an exit code."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Generic, Optional, Sequence, TypeVar

from ..console import Console
from ..errors import FullMajaError
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
    restore_sigterm = _sigterm_like_ctrl_c()
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
    finally:
        restore_sigterm()


def _sigterm_like_ctrl_c() -> Callable[[], None]:
    """Handle SIGTERM (timeout, systemd, a shutdown) as Ctrl-C; what puts the old handler back.

    The run stops the same way, partial files kept, with the same message and exit 130.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)

    def restore() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return restore


def _silence_stdout() -> None:
    """The reader of our output went away (`| head`): say nothing more, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
