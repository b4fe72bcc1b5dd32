"""The record of one submitted job: what the job log keeps of it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Optional

from .errors import UsageError
from .validation import JobRequest

_JOB_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


@dataclass(frozen=True)
class JobRecord:
    """One submitted FULL_MAJA job, as the log keeps it."""

    job_id: str
    status_url: str
    endpoint: Optional[str] = None
    tile: Optional[str] = None
    orbit: Optional[int] = None
    start: Optional[date] = None
    end: Optional[date] = None
    submitted: Optional[str] = None
    replaces: Optional[str] = None
    replaced_by: Optional[str] = None
    protocol: Optional[str] = None
    cancelled: Optional[str] = None
    max_cloud: Optional[float] = None

    @property
    def request(self) -> Optional[JobRequest]:
        """The request this job was made of, when the log knows it."""
        if self.tile and self.start and self.end:
            return JobRequest(self.tile, self.orbit, self.start, self.end, self.max_cloud)
        return None

    def describe(self) -> str:
        """`tile 36TWQ, orbit 64, 2019-03-01 to 2019-09-01` (what is known of it)."""
        parts = []
        if self.tile:
            parts.append(f"tile {self.tile}")
        if self.orbit is not None:
            parts.append(f"orbit {self.orbit}")
        if self.start and self.end:
            parts.append(f"{self.start.isoformat()} to {self.end.isoformat()}")
        if self.max_cloud is not None:
            parts.append(f"at most {self.max_cloud:g} % cloudy")
        return ", ".join(parts) or "parameters not recorded"


def new_record(request: JobRequest, job_id: str, status_url: str, endpoint: str,
               protocol: Optional[str] = None) -> JobRecord:
    """The record of a job the server just accepted (`protocol` None means WPS)."""
    return JobRecord(job_id=job_id, status_url=status_url,
                     endpoint=endpoint, tile=request.tile, orbit=request.orbit,
                     start=request.start, end=request.end, submitted=utc_now(),
                     protocol=protocol, max_cloud=request.max_cloud)


def checked_job_id(job_id: str) -> str:
    """A job id as the user typed it, refused unless it is one plain path segment."""
    if not _JOB_ID.fullmatch(job_id) or set(job_id) == {"."}:
        raise UsageError(f"{job_id!r} is not a job id (letters, digits, "
                         "'.', '_', '-')")
    return job_id


def utc_now() -> str:
    """The current time, UTC, to the second, ISO 8601."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
