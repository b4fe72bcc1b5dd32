"""What to tell the user about a job the server may hold but the log does not: one the log
could not record, one whose submission was interrupted."""
from __future__ import annotations

from pathlib import Path
from typing import Union

from ..console import Console
from ..errors import FullMajaError, UnrecordedJobError
from ..joblog import log_holds_jobs
from ..journal import journal_path
from ..states import Protocol
from .nextstep import Verb, command, named
from .options import CommonSettings


def report_unrecorded(console: Console, error: UnrecordedJobError,
                      settings: CommonSettings) -> None:
    """Print the accepted job's id and the command that writes its log (the journal holds it)."""
    record = error.record
    if record.replaces:
        console.warning(f"job {record.replaces} was resubmitted as job {record.job_id}, but "
                        f"the log {error.log_path} could not be written; the journal "
                        f"{journal_path()} keeps the new job: once the log can be written, "
                        f"run {named(Verb.RESUBMIT)} again, it records that job instead of "
                        "submitting once more")
        return
    append = ["--append"] if _holds_jobs(error.log_path) else []
    adopt = command(Verb.ADOPT, record.job_id, "-l", error.log_path, *append,
                    account=settings.account_words())
    console.warning(f"job {record.job_id} was accepted but the log {error.log_path} could "
                    f"not be written; once it can be, recover the job with: {adopt}")


def _holds_jobs(path: str) -> bool:
    try:
        return log_holds_jobs(Path(path))
    except FullMajaError:
        return False


def interrupted_submission(protocol: Union[Protocol, str, None], settings: CommonSettings,
                           endpoint: str, log_path: Union[str, Path]) -> str:
    """What to say of a submission interrupted while the server may have been making the job.

    `protocol` is that of the service submitted to; None when nothing was sent yet.
    """
    if protocol is None:
        return "interrupted before anything was submitted; nothing to recover"
    said = ("interrupted while submitting: the server may have received the submission and "
            f"made a job that the log {log_path} does not hold")
    if protocol != Protocol.OGCAPI:
        return (f"{said}; this WPS 1.0.0 service cannot list its jobs, so submitting again "
                "may run that job twice (the jobs accepted before are in the log)")
    return f"{said}; before submitting again, {find_the_job(settings, endpoint, log_path)}"


def find_the_job(settings: CommonSettings, endpoint: str, log_path: Union[str, Path]) -> str:
    """How to find, on an OGC API server, a job the log does not hold, and record it."""
    account = settings.account_words()
    listing = command(Verb.JOBS, "--url", endpoint, account=account)
    adopt = command(Verb.ADOPT, "JOB_ID", "--url", endpoint, "-l", str(log_path),
                    *(["--append"] if _holds_jobs(str(log_path)) else []), account=account)
    return f"look for it among the server's jobs: {listing}, then record it with: {adopt}"
