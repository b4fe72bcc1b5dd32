"""The download command's actions on jobs rather than products: cancel, list, adopt."""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..client import ENDPOINT_VARIABLE, Client, resolve_endpoint
from ..console import Console, printable
from ..errors import UsageError
from ..journal import adopt_from_journal
from ..service import ServerJob
from .options import download_command, open_client
from .status import ExitCode

if TYPE_CHECKING:
    from .download import DownloadSettings

SERVER_JOBS_HEADER = ("JOB", "PROCESS", "STATUS", "PROGRESS", "CREATED")


def cancel(client: Client, settings: DownloadSettings, console: Console) -> ExitCode:
    """Dismiss the jobs of the log that have not ended, and say which."""
    dismissed = client.cancel(settings.log)
    for record in dismissed:
        console.result(f"Cancelled job {record.job_id} ({record.describe()}).")
    if dismissed:
        console.info("The next run reports them as cancelled; --resubmit submits them again.")
    else:
        console.result("No job of the log is queued or running; nothing to cancel.")
    return ExitCode.OK


def list_server_jobs(settings: DownloadSettings, console: Console) -> ExitCode:
    """Print the jobs the service knows for this account: a table, or a JSON document."""
    if not settings.url and not os.environ.get(ENDPOINT_VARIABLE):
        raise UsageError("--server-jobs: give the service with --url (or $PEPS_WPS_URL)")
    endpoint = resolve_endpoint(settings.url)
    with open_client(settings, endpoint, timeout=settings.timeout) as client:
        listing = client.server_job_list()
    jobs = listing.jobs
    if settings.json:
        document = {"endpoint": endpoint, "jobs": [asdict(job) for job in jobs],
                    "complete": listing.complete, "stopped": listing.stopped}
        console.result(json.dumps(document, indent=2))
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
    assert settings.adopt is not None
    record = adopt_from_journal(settings.adopt, settings.log, append=settings.append)
    if record is None:
        with open_client(settings, resolve_endpoint(settings.url),
                         timeout=settings.timeout) as client:
            record = client.adopt(settings.adopt, settings.log, append=settings.append)
    console.result(f"Wrote job {record.job_id} ({record.describe()}) to the log "
                   f"{settings.log}.")
    console.info("To follow the job and download its products, run:")
    write_dir = settings.write_dir if settings.write_dir != "." else (record.tile or "products")
    console.info("  " + download_command(settings, Path(settings.log), write_dir))
    return ExitCode.OK


def server_jobs_table(jobs: list[ServerJob]) -> list[str]:
    """One row per job: id, process, status, progress and creation time."""
    rows = [SERVER_JOBS_HEADER] + [
        tuple(printable(cell) for cell in (
            job.job_id, job.process or "-", job.status,
            f"{job.progress}%" if job.progress is not None else "-", job.created or "-"))
        for job in jobs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(SERVER_JOBS_HEADER))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]
