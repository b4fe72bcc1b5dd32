"""The commands printed for the user to run next, in the words of the front door in use.

A user who typed `full-maja submit` is told `full-maja download ...`; one who ran
`full_maja_process.py` is told `python .../full_maja_download.py ...`, the compatible
script's flags for the subcommand. Every word is quoted so that the line pastes back
into a shell as printed: spaces, apostrophes, control characters and bytes that are not
UTF-8 (bash's `$'...'` quoting for those) included.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from enum import Enum
from pathlib import Path
from typing import Sequence


class Verb(str, Enum):
    """The subcommands of `full-maja`."""

    SUBMIT = "submit"
    DOWNLOAD = "download"
    STATUS = "status"
    WAIT = "wait"
    CANCEL = "cancel"
    JOBS = "jobs"
    ADOPT = "adopt"
    RESUBMIT = "resubmit"


PROGRAM = "full-maja"
SCRIPTS = {"submit": "full_maja_process.py", "follow": "full_maja_download.py"}
CONSOLE_SCRIPTS = {"submit": "full-maja-process", "follow": "full-maja-download"}
_SCRIPT_FLAGS = {Verb.SUBMIT: (), Verb.DOWNLOAD: (), Verb.STATUS: ("--status",),
                 Verb.WAIT: ("--wait",), Verb.CANCEL: ("--cancel",),
                 Verb.JOBS: ("--server-jobs",), Verb.ADOPT: ("--adopt",),
                 Verb.RESUBMIT: ("--resubmit",)}
_COMPATIBLE = {*SCRIPTS.values(), *CONSOLE_SCRIPTS.values()}


def command(verb: Verb, *words: str, account: Sequence[str] = ()) -> str:
    """The command line that runs `verb` with `words`, as the user should paste it.

    `account` (the account options, never a secret) comes right after the program.
    """
    if uses_scripts():
        line = [*_script(verb), *account, *_SCRIPT_FLAGS[verb], *words]
    else:
        line = [*_program(), verb.value, *account, *words]
    return " ".join(quote(word) for word in line)


def uses_scripts() -> bool:
    """True when the user ran a compatible script (full_maja_download.py, ...)."""
    return _invoked_name() in _COMPATIBLE


def named(verb: Verb) -> str:
    """How a message names a subcommand: `full-maja jobs`, or `--server-jobs`."""
    if uses_scripts():
        return " ".join(_SCRIPT_FLAGS[verb]) or SCRIPTS[_family(verb)]
    return f"{PROGRAM} {verb.value}"


def quote(word: str) -> str:
    """`word` quoted for a POSIX shell; bash's `$'...'` when it holds unprintable characters."""
    if word.isprintable():
        return shlex.quote(word)
    return "$'" + "".join(_ansi_c(character) for character in word) + "'"


def _ansi_c(character: str) -> str:
    if character in "'\\":
        return "\\" + character
    if character.isprintable():
        return character
    try:
        raw = character.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return f"\\u{ord(character):04x}"
    return "".join(f"\\x{byte:02x}" for byte in raw)


def _invoked_name() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""


def _family(verb: Verb) -> str:
    return "submit" if verb == Verb.SUBMIT else "follow"


def _script(verb: Verb) -> list[str]:
    """The compatible script of `verb`'s family, as the user started the current one.

    By its name when the shell finds that very file (as it did the current one), else by
    its path: cron's bare PATH finds neither a venv's scripts nor its `python`.
    """
    family = _family(verb)
    beside = Path(sys.argv[0]).with_name
    if _invoked_name().startswith("full-maja"):
        return [_as_found(CONSOLE_SCRIPTS[family], str(beside(CONSOLE_SCRIPTS[family])))]
    return [_as_found("python", sys.executable or "python3"), str(beside(SCRIPTS[family]))]


def _program() -> list[str]:
    """`full-maja` when that is what the shell finds, else the way it was started."""
    invoked = sys.argv[0] if sys.argv else ""
    if os.path.basename(invoked) == PROGRAM:
        return [_as_found(PROGRAM, invoked)]
    return [sys.executable or "python3", "-m", "full_maja"]


def _as_found(name: str, path: str) -> str:
    """`name` when the shell's PATH finds the file `path` under it (or `path` is gone),
    else `path`."""
    found = shutil.which(name)
    if (found and _same_file(found, path)) or not os.path.exists(path):
        return name
    return path


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False
