"""The per-user journal of accepted jobs: a job the server accepted is never lost.

Every accepted job is appended, as one JSON line, to
`$XDG_STATE_HOME/full-maja/jobs.jsonl` (default `~/.local/state/full-maja/jobs.jsonl`)
before the job log is written, so that a log that cannot be written still leaves
the job somewhere: `--adopt` writes a log for it later.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Union

from .capped import check_regular_file
from .errors import FullMajaError, JobLogError, UnrecordedJobError
from .joblog import (
    JobLog,
    add_adopted_job,
    job_from_json,
    job_to_json,
    write_job_log,
)
from .jobrecord import JobRecord
from .masking import mask
from .validation import JobRequest

log = logging.getLogger(__name__)

JOURNAL_FOLDER = "full-maja"
JOURNAL_NAME = "jobs.jsonl"
MAX_LINE_BYTES = 64 * 1024


def journal_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """Where the journal lives: $XDG_STATE_HOME/full-maja/jobs.jsonl, or ~/.local/state/..."""
    env = os.environ if environ is None else environ
    state_home = env.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state_home):  # the XDG rule: a relative value is ignored
        state_home = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state_home, JOURNAL_FOLDER, JOURNAL_NAME)


def record_job(record: JobRecord, protocol: Optional[str] = None,
               path: Optional[Path] = None) -> bool:
    """Append the job to the journal, flushed to disk; False (and a warning) if it failed.

    Never raises for a disk problem: the job log is the primary record.
    """
    target = path or journal_path()
    entry = {**job_to_json(record), **({"protocol": protocol} if protocol else {})}
    line = (mask(json.dumps(entry, ensure_ascii=False, sort_keys=True)) + "\n").encode("utf-8")
    try:
        _append(target, line)
    except (OSError, FullMajaError) as exc:
        log.warning("could not add job %s to the journal %s (%s); keep its id",
                    record.job_id, target, getattr(exc, "strerror", None) or exc)
        return False
    return True


def journal_then_write(log: JobLog, record: JobRecord, accepted: Sequence[JobRecord],
                       remaining: Sequence[JobRequest]) -> JobLog:
    """Journal `record`, then write `log` (which holds it); UnrecordedJobError if it fails.

    The error carries the jobs `accepted` before this one and the requests `remaining`.
    """
    record_job(record, record.protocol)
    try:
        write_job_log(log)
    except JobLogError as exc:
        error = UnrecordedJobError(str(exc), record=record, log_path=str(log.path))
        error.accepted = list(accepted)
        error.remaining = list(remaining)
        raise error from None
    return log


def adopt_from_journal(job_id: str, log_path: Union[str, Path], *,
                       append: bool = False) -> Optional[JobRecord]:
    """Write a log for a job this machine submitted; None if the journal does not have it.

    It needs no account and sends nothing: the journal holds all the log needs.
    """
    record = find_job(job_id)
    return None if record is None else add_adopted_job(record, log_path, append)


def find_job(job_id: str, path: Optional[Path] = None) -> Optional[JobRecord]:
    """The latest journal entry of `job_id`, or None; damaged lines are skipped."""
    return _latest(lambda record: record.job_id == job_id, path)


def find_replacement(job_id: str, path: Optional[Path] = None) -> Optional[JobRecord]:
    """The latest journalled job that was submitted to replace `job_id`, or None."""
    return _latest(lambda record: record.replaces == job_id, path)


def _latest(wanted: Callable[[JobRecord], bool],
            path: Optional[Path] = None) -> Optional[JobRecord]:
    """The last journal entry that is `wanted`, or None; damaged lines are skipped."""
    target = path or journal_path()
    if not check_regular_file(target, "the journal", JobLogError):
        return None
    found = None
    try:
        with open(target, "rb") as stream:
            lines = iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b"")
            for number, raw in enumerate(lines, 1):
                record = _parse_line(target, number, raw)
                if record is not None and wanted(record):
                    found = record
    except OSError as exc:
        raise JobLogError(f"cannot read the journal {target}: {exc.strerror}") from None
    return found


def _append(target: Path, line: bytes) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_regular_file(target, "the journal", JobLogError)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                 0o600)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(28, "the line was only partly written")
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_line(target: Path, number: int, raw: bytes) -> Optional[JobRecord]:
    if len(raw) > MAX_LINE_BYTES or not raw.strip():
        return None
    try:
        return job_from_json(f"the journal {target}, line {number}", json.loads(raw))
    except (ValueError, RecursionError, JobLogError):
        return None
