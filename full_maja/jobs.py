"""Following a job: its status document, a refresh of its report, and the report itself."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional

from .errors import AuthenticationError, FullMajaError, ServiceError
from .joblog import JobRecord
from .jobreport import CANCELED, ERROR, FINISHED, PENDING, JobReport, parse_report
from .session import PepsSession
from .wps import ACCEPTED, FAILED, parse_execute_response, processing_status_params

log = logging.getLogger(__name__)

QUEUED, PROCESSING, DONE, BROKEN = "queued", "processing", "finished", "failed"
UNREACHABLE, PROCESS_FAILED = "UNREACHABLE", "ProcessFailed"


@dataclass(frozen=True)
class JobState:
    """Where a job stands, as one run of full-maja saw it."""

    job: JobRecord
    phase: str
    server_state: str
    report: Optional[JobReport] = None
    progress: Optional[str] = None
    message: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        """True once the job will not change any more."""
        return self.phase in (DONE, BROKEN)


def check_job(session: PepsSession, job: JobRecord, endpoint: str) -> JobState:
    """Fetch the status document, refresh the report and read it."""
    status = parse_execute_response(
        _get(session, job.status_url, f"the status document of job {job.job_id}", job),
        f"the status document of job {job.job_id}")
    if status.state == FAILED:
        return JobState(job, BROKEN, PROCESS_FAILED, message=status.message)
    if not status.report_url:
        phase = QUEUED if status.state == ACCEPTED else PROCESSING
        progress = f"{status.percent}%" if status.percent is not None else None
        return JobState(job, phase, status.state, progress=progress, message=status.message)
    notes = refresh_report(session, endpoint, job)
    report = parse_report(_get(session, status.report_url, f"the report of job {job.job_id}",
                               job), f"the report of job {job.job_id}")
    return JobState(job, _phase(report.state), report.state, report=report,
                    progress=report.progress, message=report.message, notes=notes)


def refresh_report(session: PepsSession, endpoint: str, job: JobRecord) -> list[str]:
    """Ask the server to bring the job's report up to date; a failure only makes a note."""
    try:
        response = session.get(endpoint, params=processing_status_params(job.job_id))
        with response:
            if response.status_code != 200:
                raise ServiceError(f"HTTP {response.status_code}")
            parse_execute_response(response.content, "the refresh answer")
    except AuthenticationError:
        raise
    except FullMajaError as exc:
        note = (f"could not ask the server to refresh the report of job {job.job_id} "
                f"({exc}); using the report as it stands")
        log.warning(note)
        return [note]
    return []


def _phase(state: str) -> str:
    if state == FINISHED:
        return DONE
    if state in (ERROR, CANCELED):
        return BROKEN
    if state == PENDING:
        return QUEUED
    return PROCESSING


def _get(session: PepsSession, url: str, what: str, job: JobRecord) -> bytes:
    response = session.get(url)
    with response:
        if response.status_code == 404:
            raise ServiceError(f"{what} is not on the server (HTTP 404): the job may have "
                               "been purged", job_id=job.job_id, status=404)
        if response.status_code != 200:
            raise ServiceError(f"{what} could not be read (HTTP {response.status_code}); "
                               "run again later", job_id=job.job_id,
                               status=response.status_code)
        return response.content
