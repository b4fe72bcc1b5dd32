"""FULL_MAJA over WPS 1.0.0, as PEPS ran it: Execute, status documents, refreshed reports."""
from __future__ import annotations

import logging
from typing import Optional

from ..errors import (
    AuthenticationError,
    FullMajaError,
    NetworkError,
    NotSupported,
    ServiceError,
)
from ..jobrecord import JobRecord, new_record
from ..states import JobPhase
from ..validation import JobRequest
from .base import GONE_STATUSES, JobState, ServerJobList, Service
from .jobreport import CANCELED, ERROR, FINISHED, PENDING, JobReport, parse_report
from .wps import (
    FAILED,
    FULL_MAJA,
    WpsStatus,
    execute_document,
    full_maja_inputs,
    job_id_from_status_location,
    parse_execute_response,
    processing_status_params,
)

log = logging.getLogger(__name__)

PROCESS_FAILED = "ProcessFailed"
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
NO_CANCEL = ("this WPS 1.0.0 service offers no way to stop a job: it ends by itself "
             "(a job that is no longer wanted can be left to finish, or ignored)")
NO_LISTING = ("this WPS 1.0.0 service cannot list its jobs; a job whose log was lost can be "
              "adopted from the local journal of submissions")


def submission_document(request: JobRequest) -> bytes:
    """The asynchronous Execute document of FULL_MAJA for one request."""
    return execute_document(FULL_MAJA, full_maja_inputs(request), asynchronous=True)


class WpsService(Service):
    """A WPS 1.0.0 endpoint offering FULL_MAJA and PROCESSING_STATUS (PEPS, PyWPS)."""

    protocol = "wps"
    may_exist = ("the job may exist, and this WPS 1.0.0 service cannot list its jobs: "
                 "submitting again may run it twice")

    def submission_text(self, request: JobRequest) -> str:
        """The Execute document, as it would be POSTed."""
        return submission_document(request).decode("utf-8")

    def submit(self, request: JobRequest) -> JobRecord:
        """POST the Execute document once; never again once it may have arrived."""
        answer = self.post_submission(self.endpoint, request, data=submission_document(request),
                                      headers=XML_HEADERS)
        if answer.status_code != 200 and b"ExceptionReport" not in answer.content:
            raise ServiceError(f"the server answered HTTP {answer.status_code} to the "
                               f"submission of tile {request.tile}; try again later",
                               status=answer.status_code)
        status = parse_execute_response(answer.content, "the answer to the submission")
        if not status.status_location:
            raise ServiceError("the server accepted the submission but gave no statusLocation "
                               "to follow it; the job cannot be followed from here")
        return new_record(request, job_id_from_status_location(status.status_location),
                          status.status_location, self.endpoint)

    def check(self, job: JobRecord, hint: Optional[str] = None) -> JobState:
        """Fetch the status document, refresh the report and read it.

        A hint is the report's URL, given by an earlier status document: the
        refresh and the report are then asked at once, and the status document
        only if that report cannot be read.
        """
        if hint:
            state = self._check_at(job, hint)
            if state is not None:
                return state
        try:
            status = self._status(job)
        except ServiceError as exc:
            if exc.status in GONE_STATUSES:
                return JobState.gone(job, exc)  # the status document was purged
            raise
        if status.state == FAILED:
            return JobState(job, JobPhase.FAILED, PROCESS_FAILED, message=status.message)
        if not status.report_url:  # accepted, or started registering: not processing yet
            return JobState(job, JobPhase.QUEUED, status.state, message=status.message)
        return self._refreshed_state(job, status.report_url)

    def _check_at(self, job: JobRecord, report_url: str) -> Optional[JobState]:
        """The state read from a remembered report URL; None when it cannot be read."""
        try:
            return self._refreshed_state(job, report_url)
        except AuthenticationError:
            raise
        except (ServiceError, NetworkError) as exc:
            log.info("job %s: the remembered report could not be read (%s); "
                     "asking its status document", job.job_id, exc)
            return None

    def _refreshed_state(self, job: JobRecord, report_url: str) -> JobState:
        notes = self._refresh(job)
        report = self._report(job, report_url)
        return JobState(job, _phase(report.state), report.state, report=report,
                        progress=report.progress, message=report.message, notes=notes,
                        hint=report_url)

    def results(self, job: JobRecord) -> JobReport:
        """The job's report as it stands (the job must be registered)."""
        status = self._status(job)
        if not status.report_url:
            raise ServiceError(f"job {job.job_id} has no report yet", job_id=job.job_id)
        return self._report(job, status.report_url)

    def cancel(self, job: JobRecord) -> None:
        """WPS 1.0.0 cannot stop a job."""
        self.check_cancellable()

    def check_cancellable(self) -> None:
        """WPS 1.0.0 cannot stop a job: say so plainly."""
        raise NotSupported(NO_CANCEL)

    def list_jobs(self) -> ServerJobList:
        """WPS 1.0.0 cannot list jobs."""
        raise NotSupported(NO_LISTING)

    def job_record(self, job_id: str) -> JobRecord:
        """WPS 1.0.0 cannot look a job up."""
        raise NotSupported(NO_LISTING)

    def _status(self, job: JobRecord) -> WpsStatus:
        what = f"the status document of job {job.job_id}"
        return parse_execute_response(self._get(job.status_url, what, job), what)

    def _report(self, job: JobRecord, url: str) -> JobReport:
        what = f"the report of job {job.job_id}"
        self.session.check_server_url(url, what)
        return parse_report(self._get(url, what, job), what)

    def _refresh(self, job: JobRecord) -> list[str]:
        """Ask the server to bring the job's report up to date; a failure only makes a note."""
        try:
            answer = self.session.get_document(job.endpoint or self.endpoint,
                                               "the refresh answer",
                                               params=processing_status_params(job.job_id))
            if answer.status_code != 200 and b"ExceptionReport" not in answer.content:
                raise ServiceError(f"HTTP {answer.status_code}")
            # An ExceptionReport (PyWPS: 400 ServerBusy) raises with the server's text.
            status = parse_execute_response(answer.content, "the refresh answer")
            if status.state == FAILED:  # PyWPS answers a failed synchronous run with 200
                raise ServiceError(f"the refresh failed: {status.message}")
        except AuthenticationError:
            raise
        except FullMajaError as exc:
            note = (f"could not ask the server to refresh the report of job {job.job_id} "
                    f"({exc}); using the report as it stands")
            log.warning(note)
            return [note]
        return []

    def _get(self, url: str, what: str, job: JobRecord) -> bytes:
        answer = self.session.get_document(url, what)
        if answer.status_code == 404:
            raise ServiceError(f"{what} is not on the server (HTTP 404): the job may have "
                               "been purged", job_id=job.job_id, status=404)
        if answer.status_code != 200:
            raise ServiceError(f"{what} could not be read (HTTP {answer.status_code}); "
                               "run again later", job_id=job.job_id, status=answer.status_code)
        return answer.content


def _phase(state: str) -> JobPhase:
    if state == FINISHED:
        return JobPhase.FINISHED
    if state in (ERROR, CANCELED):
        return JobPhase.FAILED
    if state == PENDING:
        return JobPhase.QUEUED
    return JobPhase.PROCESSING
