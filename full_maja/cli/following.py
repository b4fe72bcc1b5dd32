"""The settings of every command following a log or its server, and the script's conflicts.

The subcommands `download`, `status`, `wait`, `resubmit`, `cancel`, `jobs` and `adopt`
and the compatible script full_maja_download.py (its seven modes as flags) all read
their options into one `DownloadSettings`: a subcommand fixes its mode and leaves the
options it does not take at their defaults; the script refuses contradictory flags.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Optional

from ..errors import UsageError
from .nextstep import quote
from .options import CommonSettings, check_conflicts

# Options of the script that contradict each other, and options that only work with
# another: each pair is refused in one line, exit 2, before anything is read or sent.
# The subcommands cannot be given them: each takes only the options that fit it.
CONFLICTS = (
    ("--status", "--wait"), ("--status", "--resubmit"),
    ("--cancel", "--wait"), ("--cancel", "--resubmit"), ("--cancel", "--status"),
    ("--cancel", "--json"),
    ("--server-jobs", "--log"), ("--server-jobs", "--status"), ("--server-jobs", "--wait"),
    ("--server-jobs", "--resubmit"), ("--server-jobs", "--cancel"),
    ("--server-jobs", "--extract"),
    ("--adopt", "--cancel"), ("--adopt", "--server-jobs"), ("--adopt", "--status"),
    ("--adopt", "--wait"), ("--adopt", "--resubmit"), ("--adopt", "--extract"),
    ("--adopt", "--json"), ("--adopt", "--refresh"), ("--server-jobs", "--refresh"),
    ("--cancel", "--refresh"),
)
NEEDS = (("--keep-zip", "--extract"), ("--append", "--adopt"))


@dataclass(frozen=True)
class DownloadSettings(CommonSettings):
    """The options of every command that follows a log or its server, read once.

    `log` is empty only for the server's job list, which reads no log. A subcommand
    leaves the options it does not take at these defaults.
    """

    log: str = ""
    write_dir: str = "."
    parallel: int = 2
    timeout: float = 30.0
    status: bool = False
    json: bool = False
    wait: bool = False
    poll_interval: float = 900.0
    resubmit: bool = False
    extract: bool = False
    keep_zip: bool = False
    no_page: bool = False
    no_catalogue: bool = False
    cancel: bool = False
    server_jobs: bool = False
    adopt: Optional[str] = None
    append: bool = False
    refresh: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DownloadSettings:
        """The settings of parsed options; contradictions and a missing -l are refused."""
        check_conflicts(args, CONFLICTS, NEEDS)
        adopt_id = getattr(args, "adopt", None)
        if adopt_id is not None and not adopt_id.strip():
            raise UsageError("--adopt: give the id of the job whose log was lost")
        if getattr(args, "log", None) is None:
            _refuse_missing_log(adopt_id, getattr(args, "server_jobs", False))
        common = cls.common(args)
        own = {field.name: getattr(args, field.name) for field in fields(cls)
               if field.name not in common and hasattr(args, field.name)}
        return cls(**common, **{**own, "log": own.get("log") or ""})


def _refuse_missing_log(adopt_id: Optional[str], server_jobs: bool) -> None:
    if adopt_id is not None:
        example = quote(f"{adopt_id}.log")
        raise UsageError(f"-l/--log: give the file to write the log of job {adopt_id} to "
                         f"(a new file, e.g. -l {example}; with --append, a log that holds "
                         "jobs of the same service)")
    if not server_jobs:
        raise UsageError("-l/--log: give the job log written by full_maja_process.py "
                         "(only --server-jobs works without one)")
