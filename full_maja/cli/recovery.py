"""What to tell the user about a job the server accepted but the log could not record."""
from __future__ import annotations

from pathlib import Path

from ..console import Console
from ..errors import FullMajaError, UnrecordedJobError
from ..joblog import log_holds_jobs
from ..journal import journal_path
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
