"""The exceptions of full-maja: one root, named subclasses whose messages say what to do."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from .jobrecord import JobRecord
    from .validation import JobRequest


class FullMajaError(Exception):
    """Root of every error full-maja raises on purpose.

    When a submission of several jobs stops half-way, `accepted` holds the job
    records already written to the log and `remaining` the requests not sent.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.accepted: list[JobRecord] = []
        self.remaining: list[JobRequest] = []


class UsageError(FullMajaError):
    """A bad option, value or input file given by the user."""


class ValidationError(UsageError):
    """A request parameter (tile, orbit, dates) breaks a rule of the service."""


class JobLogError(UsageError):
    """A job log that cannot be read, parsed, or written as asked."""


class UnrecordedJobError(JobLogError):
    """The server accepted a job but its log could not be written; the journal holds it.

    `record` is the accepted job (its `replaces` set when it came from a resubmission),
    `log_path` the log that could not be written.
    """

    def __init__(self, message: str, *, record: JobRecord, log_path: str) -> None:
        super().__init__(message)
        self.record = record
        self.log_path = log_path


class CredentialsError(UsageError):
    """No usable credentials were found."""


class NoAccountError(CredentialsError):
    """No account was given anywhere: a service that needs one cannot be used."""


class AuthenticationError(FullMajaError):
    """The server refused the credentials (HTTP 401)."""


class ServiceError(FullMajaError):
    """The server answered, but with an error or a document that makes no sense."""

    def __init__(self, message: str, *, job_id: Optional[str] = None,
                 status: Optional[int] = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status


class NetworkError(FullMajaError):
    """The server could not be reached or stopped answering.

    `reached_server` is False when the request certainly never left (DNS failure,
    refused connection): only then is it safe to send a submission again.
    """

    def __init__(self, message: str, *, reached_server: bool = True) -> None:
        super().__init__(message)
        self.reached_server = reached_server


class UnansweredSubmission(NetworkError):
    """A submission that may have reached the server lost its answer: the job may exist."""


class ProductError(FullMajaError):
    """One product could not be downloaded or verified."""

    def __init__(self, message: str, *, product: Optional[str] = None,
                 status: Optional[int] = None) -> None:
        super().__init__(message)
        self.product = product
        self.status = status


class DamagedProduct(ProductError):
    """A verified product's zip no longer holds what was verified (damaged on disk since)."""


class BusyError(FullMajaError):
    """Another run holds the job log; try again later."""


class Cancelled(FullMajaError):
    """The downloads were stopped on request; partial files stay for the next run."""


class RefusedElsewhere(ServiceError):
    """A server other than the endpoint refused access: the account is never sent there."""


class NotSupported(UsageError):
    """The server's protocol offers no such operation."""


class DocumentLimitError(ServiceError):
    """A document from the network was larger, or slower to arrive, than any real one."""
