"""The seam between full-maja and a FULL_MAJA server: one interface, one class per protocol.

Nothing above this package knows which protocol a server speaks: the client
submits, checks, cancels and lists jobs through a `Service`, and gets back job
records and `JobState`s in full-maja's own words.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import (
    DocumentLimitError,
    NetworkError,
    NotSupported,
    ServiceError,
    UnansweredSubmission,
)
from ..jobrecord import JobRecord
from ..session import Document, PepsSession
from ..states import JobPhase
from ..validation import JobRequest
from .jobreport import JobReport

UNREACHABLE = "UNREACHABLE"
"""The server state of a job that could not be checked."""
DISMISSED = "dismissed"
"""The server state of a job that was cancelled."""
DISMISSED_MESSAGE = "the job was dismissed (cancelled) on the server"
GONE = "GONE"
"""The server state of a job the server no longer knows: its status answers 404 or 410."""
GONE_STATUSES = (404, 410)


@dataclass(frozen=True)
class JobState:
    """Where a job stands, as one run of full-maja saw it."""

    job: JobRecord
    phase: JobPhase
    server_state: str
    report: Optional[JobReport] = None
    progress: Optional[str] = None
    message: str = ""
    notes: list[str] = field(default_factory=list)
    hint: Optional[str] = None
    """Where the service may look first next time (opaque above the seam; None: nowhere)."""
    may_grow: bool = False
    """True while a finished job's results may still grow (a catalogue period not over yet):
    it is then asked again by every run, never remembered as final."""

    @property
    def ended(self) -> bool:
        """True once the job will not change any more."""
        return self.phase.ended

    @property
    def resubmittable(self) -> bool:
        """True when the job failed, was cancelled or is gone on the server (not merely
        unreachable: a job that could not be checked may be running still)."""
        return self.phase == JobPhase.FAILED and self.server_state != UNREACHABLE

    @classmethod
    def gone(cls, job: JobRecord, error: ServiceError) -> JobState:
        """The state of a job the server no longer knows: it has ended (dismissed or purged)."""
        return cls(job, JobPhase.FAILED, GONE,
                   message=f"the server no longer knows this job (HTTP {error.status} for "
                           "its status): it was dismissed or purged")

    @classmethod
    def cancelled(cls, job: JobRecord) -> JobState:
        """The state of a job the user cancelled (the log records when)."""
        return cls(job, JobPhase.FAILED, DISMISSED,
                   message=f"{DISMISSED_MESSAGE} ({job.cancelled})")


@dataclass(frozen=True)
class ServerJob:
    """A job as the server lists it."""

    job_id: str
    process: str
    status: str
    progress: Optional[int] = None
    created: Optional[str] = None


@dataclass(frozen=True)
class ServerJobList:
    """The jobs a server lists, each once, and why the list stops short, if it does."""

    jobs: list[ServerJob]
    stopped: Optional[str] = None

    @property
    def complete(self) -> bool:
        """True when every page the server offered was read."""
        return self.stopped is None


MAY_EXIST = "the job may exist: check the server's jobs before submitting again"


class Service(ABC):
    """One FULL_MAJA server: submit, check, read results, cancel and list jobs."""

    protocol: str = ""
    may_exist: str = MAY_EXIST
    """What to do about a job whose submission lost its answer (WPS cannot list jobs)."""
    needs_account: bool = True
    """False for a service that answers without an account (a catalogue: its downloads
    alone need the API key, sent to its origin only)."""

    def __init__(self, session: PepsSession, endpoint: str) -> None:
        self.session = session
        self.endpoint = endpoint

    def post_submission(self, url: str, request: JobRequest, **kwargs: Any) -> Document:
        """POST a submission once and read the answer; never sent again once it may have arrived.

        The session retries only GET and HEAD; a submission that may have reached the
        server (anything but a connection that could not be opened) fails with a
        message saying that the job may exist, so that nobody submits it twice.
        """
        what = f"the answer to the submission of tile {request.tile}"
        try:
            return self.session.request_document("POST", url, what, **kwargs)
        except (DocumentLimitError, ServiceError) as exc:  # the server answered
            raise ServiceError(f"{exc} ({self.may_exist})") from exc
        except NetworkError as exc:
            if not exc.reached_server:
                raise
            raise UnansweredSubmission(f"{exc} (if the submission of tile {request.tile} "
                                       f"reached the server, {self.may_exist})") from exc

    @abstractmethod
    def submission_text(self, request: JobRequest) -> str:
        """What `submit` would send for `request` (for a dry run)."""

    @abstractmethod
    def submit(self, request: JobRequest) -> JobRecord:
        """Submit one job; the request is never sent twice once it may have arrived."""

    @abstractmethod
    def check(self, job: JobRecord, hint: Optional[str] = None) -> JobState:
        """Where a job stands, with its report once the server has one.

        `hint` is the `JobState.hint` of an earlier check of this job, if kept. A job
        whose own status the server answers with 404 or 410 comes back GONE (ended).
        """

    @abstractmethod
    def results(self, job: JobRecord) -> JobReport:
        """The report of a job: its products, cloudy dates and unprocessed products."""

    @abstractmethod
    def cancel(self, job: JobRecord) -> None:
        """Ask the server to stop a job and drop its results."""

    def check_cancellable(self) -> None:
        """Raise NotSupported when this protocol offers no way to stop a job."""
        return None

    def check_searchable(self) -> None:
        """Raise NotSupported unless this service is a catalogue that can be searched."""
        raise NotSupported(f"this {self.protocol} service processes jobs; only a catalogue "
                           "can be searched (--source catalogue)")

    @abstractmethod
    def list_jobs(self) -> ServerJobList:
        """The jobs the server knows for this account, newest first, each once."""

    def job_record(self, job_id: str) -> JobRecord:
        """The record of a job the server knows, to follow it without its log."""
        raise NotSupported(f"this {self.protocol} service cannot look up job {job_id}; "
                           "only its local journal of submissions could")
