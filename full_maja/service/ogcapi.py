"""FULL_MAJA over OGC API - Processes: execute, statusInfo, results, dismiss, job listing."""
from __future__ import annotations

import json
import logging
from typing import Any, Optional
from urllib.parse import urlsplit

import requests

from ..auth import FORBIDDEN
from ..errors import AuthenticationError, ServiceError
from ..jobrecord import JobRecord, new_record
from ..session import Document, PepsSession
from ..states import JobPhase, Protocol
from ..validation import JobRequest
from .base import (
    DISMISSED_MESSAGE,
    GONE_STATUSES,
    MAY_EXIST,
    JobState,
    ServerJob,
    ServerJobList,
    Service,
)
from .jobreport import JobReport, report_from_document
from .processes import (
    FULL_MAJA,
    JobStatus,
    ReportReference,
    StatusInfo,
    conforms_to_processes,
    exception_text,
    execute_body,
    is_status_info,
    job_id_from_url,
    job_url_from_location,
    parse_status_info,
    report_source,
)

log = logging.getLogger(__name__)

MAX_JOB_PAGES = 500
JOBS_PAGE_SIZE = 100
JSON_ACCEPT = {"Accept": "application/json"}
JSON_FORMAT = {"f": "json"}
EXECUTE_HEADERS = {"Content-Type": "application/json", "Prefer": "respond-async",
                   **JSON_ACCEPT}
GONE_OR_DISMISSED = (200, 202, 204, 404)
_PHASES = {JobStatus.ACCEPTED: JobPhase.QUEUED, JobStatus.RUNNING: JobPhase.PROCESSING,
           JobStatus.SUCCESSFUL: JobPhase.FINISHED, JobStatus.FAILED: JobPhase.FAILED,
           JobStatus.DISMISSED: JobPhase.FAILED}


def speaks_ogcapi(session: PepsSession, endpoint: str) -> bool:
    """True when `{endpoint}/conformance` declares OGC API - Processes core (one GET)."""
    try:
        answer = session.get_document(_join(endpoint, "conformance"), "the conformance document",
                                      params=JSON_FORMAT, headers=JSON_ACCEPT)
    except ServiceError:
        return False
    _raise_if_forbidden(session, answer)
    document = _json_or_none(answer.content) if answer.status_code == 200 else None
    return document is not None and conforms_to_processes(document)


def execution_url(endpoint: str) -> str:
    """Where FULL_MAJA jobs are POSTed: `{endpoint}/processes/FULL_MAJA/execution`."""
    return _join(endpoint, "processes", FULL_MAJA, "execution")


def execute_text(request: JobRequest) -> str:
    """The execute document of one request, as it is POSTed."""
    return json.dumps(execute_body(request), indent=2)


class OgcApiService(Service):
    """An OGC API - Processes endpoint offering the FULL_MAJA process (pygeoapi and others)."""

    protocol = Protocol.OGCAPI.value

    def submission_text(self, request: JobRequest) -> str:
        """The execute document, as it would be POSTed."""
        return execute_text(request)

    def submit(self, request: JobRequest) -> JobRecord:
        """POST the execute document once, asynchronously; never again once it may have arrived."""
        url = execution_url(self.endpoint)
        answer = self.post_submission(url, request, data=json.dumps(execute_body(request)),
                                      headers=EXECUTE_HEADERS)
        if answer.status_code not in (200, 201):
            raise self._refusal(answer, f"the submission of tile {request.tile}")
        document = _json_or_none(answer.content)
        job_url = self._job_url(url, answer.headers.get("Location"), document)
        return new_record(request, _job_id(document, job_url), job_url, self.endpoint,
                          self.protocol)

    def check(self, job: JobRecord, hint: Optional[str] = None) -> JobState:
        """Read the job's statusInfo; once successful, its results (no hint is used).

        A job the server no longer knows (its statusInfo answers 404 or 410, as
        pygeoapi does once a job is dismissed) has ended: it is GONE. Results that
        cannot be read are an error of this check only: the job may be there still.
        """
        try:
            info = self.status_info(job)
        except ServiceError as exc:
            if exc.status in GONE_STATUSES:
                return JobState.gone(job, exc)
            raise
        phase = _PHASES[info.status]
        progress = f"{info.progress}%" if info.progress is not None else None
        if info.status == JobStatus.SUCCESSFUL:
            report = self._report(job, info.results_url)
            return JobState(job, phase, str(info.status), report=report,
                            progress=report.progress or progress, message=report.message)
        message = DISMISSED_MESSAGE if info.status == JobStatus.DISMISSED else info.message
        return JobState(job, phase, str(info.status), progress=progress, message=message)

    def results(self, job: JobRecord) -> JobReport:
        """The report of a successful job."""
        return self._report(job, None)

    def cancel(self, job: JobRecord) -> None:
        """DELETE the job; a job already gone (404) counts as dismissed."""
        what = f"the dismissal of job {job.job_id}"
        answer = self.session.request_document("DELETE", job.status_url, what,
                                               headers=JSON_ACCEPT)
        if answer.status_code not in GONE_OR_DISMISSED:
            raise self._refusal(answer, what)

    def list_jobs(self) -> ServerJobList:
        """The jobs of GET /jobs, newest first, each once, following `next` links.

        At most MAX_JOB_PAGES pages are read. A page asked for before (a `next` link
        leading back), or one that brings no job not listed yet, ends the list: the
        list then says where and why it stops (`ServerJobList.stopped`).
        """
        url: Optional[str] = _join(self.endpoint, "jobs")
        params: Optional[dict[str, Any]] = {**JSON_FORMAT, "limit": JOBS_PAGE_SIZE}
        jobs: dict[str, ServerJob] = {}
        asked: set[str] = set()
        stopped: Optional[str] = None
        while url is not None:
            page_url = _with_params(url, params)
            stopped = _stop_before(page_url, asked, len(jobs))
            if stopped is not None:
                break
            asked.add(page_url)
            document = self._get_json(url, "the list of jobs", params=params)
            page, before = _server_jobs(document, url), len(jobs)
            for job in page:
                jobs.setdefault(job.job_id, job)
            url, params = (_next_link(document, url) if page else None), None
            if url is not None and len(jobs) == before:
                stopped = _repeating(len(asked), len(jobs))
                break
            if url is not None:
                self.session.check_server_url(url, "the next page of the list of jobs")
        listed = sorted(jobs.values(), key=lambda job: job.created or "", reverse=True)
        return ServerJobList(listed, stopped)

    def job_record(self, job_id: str) -> JobRecord:
        """The record of a job the server knows, for a log that was lost."""
        url = _join(self.endpoint, "jobs", job_id)
        info = parse_status_info(self._get_json(url, f"job {job_id}", job_id=job_id),
                                 f"job {job_id}", url, job_id)
        if info.job_id != job_id:
            raise ServiceError(f"asked for job {job_id}, the server answered with job "
                               f"{info.job_id}; nothing was written", job_id=job_id)
        return JobRecord(job_id=info.job_id, status_url=url, endpoint=self.endpoint,
                         submitted=info.created, protocol=self.protocol)

    def status_info(self, job: JobRecord) -> StatusInfo:
        """The job's statusInfo as the server gives it now."""
        what = f"the status of job {job.job_id}"
        document = self._get_json(job.status_url, what, job_id=job.job_id)
        return parse_status_info(document, what, job.status_url, job.job_id)

    def _job_url(self, request_url: str, location: Optional[str], document: Any) -> str:
        if location:
            job_url = job_url_from_location(location, request_url)
            self.session.check_server_url(job_url, f"the job the server accepted ({MAY_EXIST})")
            return job_url
        if is_status_info(document):
            info = parse_status_info(document, "the answer to the submission", request_url)
            return _join(self.endpoint, "jobs", info.job_id)
        raise ServiceError("the server accepted the submission but gave no job URL "
                           "(no Location header) to follow it; the job cannot be followed "
                           "from here")

    def _report(self, job: JobRecord, results_url: Optional[str]) -> JobReport:
        what = f"the results of job {job.job_id}"
        url = results_url or _join(job.status_url, "results")
        self.session.check_server_url(url, what)
        source = report_source(self._get_json(url, what, job_id=job.job_id,
                                              params=_json_format_unless_set(url)), what)
        if isinstance(source, ReportReference):
            what = f"the report of job {job.job_id}"
            self.session.check_server_url(source.href, what)
            return report_from_document(self._get_json(source.href, what, job_id=job.job_id),
                                        what)
        return source

    def _get_json(self, url: str, what: str, *, job_id: Optional[str] = None,
                  params: Optional[dict[str, Any]] = None) -> Any:
        answer = self.session.get_document(url, what, params=params, headers=JSON_ACCEPT)
        if answer.status_code == 404:
            raise ServiceError(f"{what} is not on the server (HTTP 404{_detail(answer)}): "
                               "the job may have been dismissed or purged", job_id=job_id,
                               status=404)
        if answer.status_code != 200:
            raise self._refusal(answer, what, job_id)
        document = _json_or_none(answer.content)
        if document is None:
            raise ServiceError(f"{what} is not JSON; the server may be in trouble, "
                               "run again later", job_id=job_id)
        return document

    def _refusal(self, answer: Document, what: str,
                 job_id: Optional[str] = None) -> ServiceError:
        _raise_if_forbidden(self.session, answer)
        advice = "" if 400 <= answer.status_code < 500 else "; try again later"
        return ServiceError(f"the server refused {what} (HTTP {answer.status_code}"
                            f"{_detail(answer)}){advice}", job_id=job_id,
                            status=answer.status_code)


def _raise_if_forbidden(session: PepsSession, answer: Document) -> None:
    """A 403 from the API is a refused account: say where it came from."""
    if answer.status_code != FORBIDDEN:
        return
    if session.account is not None:
        raise session.account.refusal(FORBIDDEN, answer.url)
    raise AuthenticationError(f"{urlsplit(answer.url).hostname} refused the account "
                              "(HTTP 403): check the key or the e-mail and password")


def _job_id(document: Any, job_url: str) -> str:
    """The job id of a submission: the statusInfo's `jobID`, else the job URL's last segment."""
    if is_status_info(document):
        return parse_status_info(document, "the answer to the submission", job_url,
                                 job_id_from_url(job_url)).job_id
    return job_id_from_url(job_url)


def _detail(answer: Document) -> str:
    text = exception_text(_json_or_none(answer.content))
    return f": {text}" if text else ""


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig")) if content.strip() else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _join(base: str, *segments: str) -> str:
    return "/".join([base.rstrip("/"), *(segment.strip("/") for segment in segments)])


def _json_format_unless_set(url: str) -> Optional[dict[str, Any]]:
    return None if "f=" in urlsplit(url).query else JSON_FORMAT


def _server_jobs(document: Any, url: str) -> list[ServerJob]:
    items = document.get("jobs") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ServiceError("the list of jobs holds no `jobs` list")
    jobs = []
    for item in items:
        try:
            info = parse_status_info(item, "a job of the list", url)
        except ServiceError as exc:
            log.warning("skipping a job of the server's list: %s", exc)
            continue
        jobs.append(ServerJob(info.job_id, info.process, str(info.status),
                              info.progress, info.created))
    return jobs


def _with_params(url: str, params: Optional[dict[str, Any]]) -> str:
    """The URL as it is asked for, its parameters in it: how a page is told from another."""
    return requests.Request("GET", url, params=params).prepare().url or url


def _stop_before(page_url: str, asked: set[str], listed: int) -> Optional[str]:
    """Why the page at `page_url` is not read (already read, or one page too many), if so."""
    if page_url in asked:
        return (f"the server's list of jobs leads back to a page already read ({page_url}); "
                f"the list stops there, after {len(asked)} pages and {listed} jobs")
    if len(asked) >= MAX_JOB_PAGES:
        return (f"the server lists more jobs than full-maja reads: the list stops after "
                f"{MAX_JOB_PAGES} pages ({listed} jobs); dismiss old jobs on the server to "
                "see the rest")
    return None


def _repeating(pages: int, listed: int) -> str:
    """Why the list stops at a page that lists only jobs listed already."""
    return (f"page {pages} of the server's list of jobs lists only jobs already listed; the "
            f"list stops there, after {listed} jobs")


def _next_link(document: Any, url: str) -> Optional[str]:
    links = document.get("links") if isinstance(document, dict) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" \
                and isinstance(link.get("href"), str) and "html" not in str(link.get("type")):
            return job_url_from_location(link["href"], url)
    return None
