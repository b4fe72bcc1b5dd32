"""Submitting FULL_MAJA jobs: one POSTed Execute document per job, never sent twice."""
from __future__ import annotations

from .errors import NetworkError, ServiceError
from .joblog import JobRecord, new_record
from .session import PepsSession
from .validation import JobRequest
from .wps import FULL_MAJA, execute_document, full_maja_inputs, parse_execute_response

XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


def submission_document(request: JobRequest) -> bytes:
    """The asynchronous Execute document of FULL_MAJA for one request."""
    return execute_document(FULL_MAJA, full_maja_inputs(request), asynchronous=True)


def submit_job(session: PepsSession, endpoint: str, request: JobRequest) -> JobRecord:
    """Submit one job and return its record; the POST is never retried once sent."""
    try:
        response = session.post(endpoint, data=submission_document(request),
                                headers=XML_HEADERS)
    except NetworkError as exc:
        if not exc.reached_server:
            raise
        raise NetworkError(f"{exc} (if the submission of tile {request.tile} reached the "
                           "server, the job may exist: check your jobs on the PEPS site "
                           "before submitting again)") from exc
    with response:
        content = response.content
    if response.status_code != 200 and b"ExceptionReport" not in content:
        raise ServiceError(f"the server answered HTTP {response.status_code} to the "
                           f"submission of tile {request.tile}; try again later",
                           status=response.status_code)
    status = parse_execute_response(content, "the answer to the submission")
    if not status.status_location:
        raise ServiceError("the server accepted the submission but gave no statusLocation "
                           "to follow it; the job cannot be followed from here")
    return new_record(request, status.status_location, endpoint)
