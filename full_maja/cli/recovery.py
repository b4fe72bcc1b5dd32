"""What to tell the user about a job the server accepted but the log could not record."""
from __future__ import annotations

from pathlib import Path

from ..console import Console
from ..errors import FullMajaError, UnrecordedJobError
from ..joblog import log_holds_jobs
from ..journal import journal_path, recovery_hint


def report_unrecorded(console: Console, error: UnrecordedJobError) -> None:
    """Print the accepted job's id and how to get it into a log (the journal holds it)."""
    record = error.record
    if record.replaces:
        console.warning(f"job {record.replaces} was resubmitted as job {record.job_id}, but "
                        f"the log {error.log_path} could not be written; the journal "
                        f"{journal_path()} keeps the new job: once the log can be written, "
                        "run --resubmit again, it records that job instead of submitting "
                        "once more")
        return
    hint = recovery_hint(record.job_id, error.log_path)
    console.warning(hint + (" --append" if _holds_jobs(error.log_path) else ""))


def _holds_jobs(path: str) -> bool:
    try:
        return log_holds_jobs(Path(path))
    except FullMajaError:
        return False
