"""Which service a command talks to: --url, else the log's endpoint, else $PEPS_WPS_URL.

One log holds the jobs of one service: a job of another is refused, so that an
account only ever goes to its own server. PEPS, the former default, closed on
2026-03-25: it is never tried unasked, and a failure to reach it says so.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..auth import origin_of
from ..endpoints import DEFAULT_ENDPOINT, ENDPOINT_VARIABLE
from ..errors import FullMajaError, NetworkError, UsageError
from ..joblog import JobLog, JobRecord, log_holds_jobs, read_job_log
from ..service import needs_account
from ..states import Protocol, is_peps

PEPS_CLOSED = "PEPS, the former default service, closed on 2026-03-25"
GIVE_SERVICE = f"give a FULL_MAJA service with --url URL or ${ENDPOINT_VARIABLE}"
CATALOGUE = "or get the L2A products from the GEODES catalogue with --source catalogue"


def given_service(url: Optional[str], missing: Optional[str] = None) -> str:
    """The service the user gave (--url, else $PEPS_WPS_URL); `missing` is said if none was.

    By default, that PEPS closed, and how to give a service or use the catalogue.
    """
    endpoint = url or os.environ.get(ENDPOINT_VARIABLE)
    if not endpoint:
        raise UsageError(missing or f"no service given: {PEPS_CLOSED}; {GIVE_SERVICE}, "
                                    f"{CATALOGUE}")
    return endpoint


def recorded_job(jobs: list[JobRecord]) -> Optional[JobRecord]:
    """The job whose endpoint the log's account is for: the first processing job that
    records its endpoint, else the first job that does (none in the original client's logs).

    Catalogue searches need no account (the API key goes to the catalogue's own origin
    only), so a log holding searches and processing jobs is the processing service's.
    """
    recorded = [job for job in jobs if job.endpoint]
    return next((job for job in recorded if needs_account(job.protocol)),
                recorded[0] if recorded else None)


def submission_service(url: Optional[str], protocol: Optional[str], log_path: Path,
                       append: bool, dry_run: bool = False) -> tuple[str, Optional[str]]:
    """The endpoint and protocol of a submission: with --append, those of the log's jobs.

    A --url of another server than the log's is refused: the log's later commands
    would send that account to the log's server. A log of catalogue searches alone
    names no processing service (they take no account): the submission goes to the
    service given. A dry run with no service shows where the former default, PEPS, was.
    """
    recorded = recorded_job(read_job_log(log_path).jobs) \
        if append and log_holds_jobs(log_path) else None
    if recorded is None or recorded.endpoint is None or not needs_account(recorded.protocol):
        if dry_run and not (url or os.environ.get(ENDPOINT_VARIABLE)):
            return DEFAULT_ENDPOINT, protocol
        return given_service(url), protocol
    check_same_service(url, recorded.endpoint, log_path, submitting=True)
    if url:
        return url, protocol
    return recorded.endpoint, protocol or recorded.protocol or Protocol.WPS.value


def follow_service(url: Optional[str], log: JobLog) -> str:
    """The endpoint whose account follows a log: the one it records, or --url."""
    recorded = recorded_job(log.jobs)
    if recorded is None or recorded.endpoint is None:
        endpoint = url or os.environ.get(ENDPOINT_VARIABLE)
        if not endpoint:
            raise UsageError(f"the log {log.path} does not say where its jobs were submitted "
                             f"(a log of the original client): {GIVE_SERVICE} "
                             "(PEPS, where that client sent them, closed on 2026-03-25)")
        return endpoint
    check_same_service(url, recorded.endpoint, log.path)
    return url or recorded.endpoint


def follow_protocol(log: JobLog) -> Optional[str]:
    """`catalogue` for a log of catalogue searches alone (its endpoint is a catalogue's,
    which never gets the e-mail and password); None: the jobs' own protocols."""
    recorded = recorded_job(log.jobs)
    if recorded is not None and recorded.endpoint and not needs_account(recorded.protocol):
        return Protocol.CATALOGUE.value
    return None


def check_same_service(url: Optional[str], recorded: str, log_path: Path,
                       submitting: bool = False) -> None:
    """Refuse a --url on another server (origin) than the one the log's jobs went to."""
    if url and origin_of(url) != origin_of(recorded):
        other = f", or give another -l for the jobs of {url}" if submitting else ""
        raise UsageError(f"--url: {url} is not the endpoint of the jobs in {log_path} "
                         f"({recorded}); a log holds the jobs of one service, so that each "
                         f"account only goes to its own server: leave --url out to use the "
                         f"log's{other}")


def closed_service_error(error: FullMajaError, endpoint: str) -> FullMajaError:
    """`error`, saying that PEPS closed when it is PEPS that could not be reached."""
    if not isinstance(error, NetworkError) or not is_peps(endpoint):
        return error
    worded = NetworkError(f"{error}; {PEPS_CLOSED}: {GIVE_SERVICE}",
                          reached_server=error.reached_server)
    worded.accepted, worded.remaining = error.accepted, error.remaining
    return worded
