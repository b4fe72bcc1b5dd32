"""Acting on jobs rather than products: `full-maja cancel`, `jobs` and `adopt JOB_ID`."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any, Callable, Optional, TypeVar

from ..client import Client
from ..console import Console, printable
from ..endpoints import ENDPOINT_VARIABLE
from ..errors import FullMajaError, NotSupported
from ..jobrecord import JobRecord
from ..journal import adopt_from_journal, journal_path
from ..service import ServerJob
from .endpoint import closed_service_error, given_service
from .following import DownloadSettings
from .nextstep import Verb, command, named
from .options import Subcommand, open_client
from .status import ExitCode

T = TypeVar("T")
SERVER_JOBS_HEADER = ("JOB", "PROCESS", "STATUS", "PROGRESS", "CREATED")


def cancel(client: Client, settings: DownloadSettings, console: Console) -> ExitCode:
    """Dismiss the jobs of the log that have not ended, and say which."""
    dismissed = client.cancel(settings.log)
    for record in dismissed:
        console.result(f"Cancelled job {record.job_id} ({record.describe()}).")
    if dismissed:
        console.info(f"The next run reports them as cancelled; {named(Verb.RESUBMIT)} "
                     "submits them again.")
    else:
        console.result("No job of the log is queued or running; nothing to cancel.")
    return ExitCode.OK


def list_server_jobs(settings: DownloadSettings, console: Console) -> ExitCode:
    """Print the jobs the service knows for this account: a table, or a JSON document."""
    endpoint = given_service(settings.url, f"{named(Verb.JOBS)}: give the service whose jobs "
                                           f"to list with --url URL or ${ENDPOINT_VARIABLE}")
    with open_client(settings, endpoint, timeout=settings.timeout) as client:
        try:
            listing = _asked(endpoint, client.server_job_list)
        except NotSupported as exc:
            adopt = command(Verb.ADOPT, "JOB_ID", "-l", "LOG", account=settings.account_words())
            raise NotSupported(f"{exc}: {adopt}") from exc
    jobs = listing.jobs
    if settings.json:
        document = {"endpoint": endpoint, "jobs": [server_job_json(job) for job in jobs],
                    "complete": listing.complete, "stopped": listing.stopped}
        console.document(json.dumps(document, indent=2))
    else:
        for line in server_jobs_table(jobs):
            console.result(line)
        if not jobs and listing.complete:
            console.info(f"{endpoint} lists no job for this account.")
    if listing.stopped:
        console.warning(listing.stopped)
    return ExitCode.OK


def adopt(settings: DownloadSettings, console: Console) -> ExitCode:
    """Write a log for a job whose log was lost, then say how to follow it."""
    job_id = settings.adopt or ""
    record = adopt_from_journal(job_id, settings.log, append=settings.append)
    if record is None:
        record = _adopt_from_server(settings, job_id)
    console.result(f"Wrote job {record.job_id} ({record.describe()}) to the log "
                   f"{settings.log}.")
    console.info("To follow the job and download its products, run:")
    write_dir = settings.write_dir if settings.write_dir != "." else (record.tile or "products")
    console.info("  " + command(Verb.DOWNLOAD, "-l", settings.log, "-w", write_dir,
                                account=settings.account_words()))
    return ExitCode.OK


def _adopt_from_server(settings: DownloadSettings, job_id: str) -> JobRecord:
    """The record of a job the journal does not know, as the server (OGC API) gives it."""
    unknown = f"job {job_id} is not in this machine's journal of submissions ({journal_path()})"
    endpoint = given_service(settings.url, f"{unknown}; to look it up on the server that runs "
                                           "it (OGC API - Processes), give that server with "
                                           f"--url URL or ${ENDPOINT_VARIABLE}")
    with open_client(settings, endpoint, timeout=settings.timeout) as client:
        try:
            return _asked(endpoint, lambda: client.adopt(job_id, settings.log,
                                                         append=settings.append))
        except NotSupported as exc:
            raise NotSupported(f"{unknown}, and this WPS 1.0.0 service cannot look jobs up: "
                               "check the id (the submission printed it), or adopt the job "
                               "on the machine that submitted it") from exc


def _asked(endpoint: str, ask: Callable[[], T]) -> T:
    """What `ask()` gets from the server; failing to reach PEPS says that it closed."""
    try:
        return ask()
    except FullMajaError as exc:
        worded = closed_service_error(exc, endpoint)
        if worded is exc:
            raise
        raise worded from exc


def server_job_json(job: ServerJob) -> dict[str, Any]:
    """A job of the server's list as --json gives it: progress as the series report's `100%`."""
    return {**asdict(job), "progress": _percent(job.progress)}


def _percent(progress: Optional[int]) -> Optional[str]:
    return f"{progress}%" if progress is not None else None


def server_jobs_table(jobs: list[ServerJob]) -> list[str]:
    """One row per job: id, process, status, progress and creation time."""
    rows = [SERVER_JOBS_HEADER] + [
        tuple(printable(cell) for cell in (
            job.job_id, job.process or "-", job.status, _percent(job.progress) or "-",
            job.created or "-"))
        for job in jobs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(SERVER_JOBS_HEADER))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]


def _job_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("adopt", metavar="JOB_ID",
                        help="the id of the job (printed by the submission, kept in the "
                             "journal of submissions, listed by the jobs subcommand)")


_TIMEOUT = {"timeout": "give up on a server silent for this long (default 30)"}
JOB_SUBCOMMANDS = (
    Subcommand(Verb.CANCEL, "dismiss every job of a log that has not ended (OGC API; a WPS "
               "1.0.0 service cannot stop a job)", DownloadSettings.from_args,
               options=("log", "timeout"), required=("log",),
               helps={**_TIMEOUT, "log": "the job log written by the submit command"},
               mode={"cancel": True}),
    Subcommand(Verb.JOBS, "list the jobs the service --url knows for this account (OGC "
               "API)", DownloadSettings.from_args, options=("timeout", "json"),
               helps={**_TIMEOUT, "url": "the service whose jobs to list (default: "
                                         f"${ENDPOINT_VARIABLE})",
                      "json": "print the list as one JSON document on stdout"},
               mode={"server_jobs": True}, protocol=True),
    Subcommand(Verb.ADOPT, "write a log for a job whose log was lost, from this machine's "
               "journal of submissions or the server (OGC API), and say how to follow it",
               DownloadSettings.from_args, options=("log", "write_dir", "append", "timeout"),
               helps={**_TIMEOUT, "log": "the log to write (a new file, unless --append)",
                      "write_dir": "the folder the printed download command names "
                                   "(default: the job's tile)",
                      "append": "add the job to a log that already holds jobs of the same "
                                "service",
                      "url": "the service to look the job up on when this machine's journal "
                             f"does not know it (OGC API; default: ${ENDPOINT_VARIABLE})"},
               protocol=True, own=_job_id),
)
