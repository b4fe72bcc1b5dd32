"""full_maja_download: follow the jobs of a log, download their products, report the series."""
from __future__ import annotations

import argparse
import errno
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence
from urllib.parse import urlsplit

from ..atomic import NotOwnFile
from ..auth import origin_of
from ..client import Client, resolve_endpoint
from ..console import Console
from ..errors import UnrecordedJobError, UsageError
from ..joblog import JobLog, JobRecord, read_job_log
from ..page import PAGE_NAME, write_series_page
from ..series import SeriesReport
from ..service import JobState, needs_account
from ..session import is_local_host
from ..stac import CATALOG_NAME, write_catalogue
from ..text import series_lines, state_lines, status_table, summary_line
from .jobs import adopt, cancel, list_server_jobs
from .options import (
    CommonSettings,
    Parser,
    add_common_options,
    check_conflicts,
    open_client,
    positive_float,
    positive_int,
)
from .recovery import report_unrecorded
from .runner import Command, run
from .status import ExitCode

MIN_POLL_INTERVAL = 60.0


def download_parser(prog: str) -> argparse.ArgumentParser:
    """The options of the download command."""
    parser = Parser(prog=prog, description="Follow the FULL_MAJA jobs of a log and "
                    "download their L2A products once finished.")
    parser.add_argument("-l", "-g", "--log", metavar="FILE",
                        help="the job log written by the submit command (needed by every "
                             "action but --server-jobs)")
    parser.add_argument("-w", "--write-dir", metavar="DIR", default=".",
                        help="where products go (default: the current folder)")
    parser.add_argument("-j", "--parallel", metavar="N", type=positive_int, default=2,
                        help="connections at once (default: 2); when no product is left "
                        "to start, a free one takes the tail of the slowest product")
    parser.add_argument("--timeout", metavar="SECONDS", type=positive_float, default=30.0,
                        help="abandon and resume a transfer silent for this long (default 30)")
    parser.add_argument("--status", action="store_true",
                        help="print one row per job and download nothing")
    parser.add_argument("--json", action="store_true",
                        help="print the report as one JSON document on stdout")
    parser.add_argument("--wait", action="store_true",
                        help="keep following the jobs until each has ended, then download")
    parser.add_argument("--poll-interval", metavar="SECONDS", type=positive_float,
                        default=900.0, help="seconds between checks with --wait (default 900)")
    parser.add_argument("--resubmit", action="store_true",
                        help="submit again every job that failed or was cancelled (ERROR, "
                             "CANCELED, failed, dismissed)")
    parser.add_argument("-x", "--extract", action="store_true",
                        help="unzip each verified product into the write folder (and remove "
                             "the zip unless --keep-zip)")
    parser.add_argument("--keep-zip", action="store_true",
                        help="with --extract, keep the zip beside the extracted product")
    parser.add_argument("--no-page", action="store_true",
                        help=f"do not write {PAGE_NAME}, the series at a glance, in the "
                             "write folder")
    parser.add_argument("--no-catalogue", action="store_true",
                        help=f"do not write {CATALOG_NAME}, the STAC catalogue of the products "
                             "in the write folder")
    add_job_options(parser)
    parser.add_argument("--refresh", action="store_true",
                        help="ask the server about every job again, even those remembered "
                             "as finished with every product on disk")
    add_common_options(parser)
    return parser


def add_job_options(parser: argparse.ArgumentParser) -> None:
    """The options acting on jobs rather than products: cancel, list, adopt."""
    parser.add_argument("--cancel", action="store_true",
                        help="dismiss every job of the log that has not ended (OGC API; a "
                             "WPS 1.0.0 service offers no way to stop a job)")
    parser.add_argument("--server-jobs", action="store_true",
                        help="list the jobs the --url service knows for this account (id, "
                             "process, status, progress, created; OGC API only)")
    parser.add_argument("--adopt", metavar="JOB_ID",
                        help="write the log -l for a job whose log was lost, from the local "
                             "journal of submissions or the server's listing (OGC API)")
    parser.add_argument("--append", action="store_true",
                        help="with --adopt, add the job to a log that already holds jobs")


# Options that contradict each other, and options that only work with another:
# each pair is refused in one line, exit 2, before anything is read or sent.
CONFLICTS = (
    ("--status", "--wait"), ("--status", "--resubmit"),
    ("--cancel", "--wait"), ("--cancel", "--resubmit"), ("--cancel", "--status"),
    ("--cancel", "--json"),
    ("--server-jobs", "--log"), ("--server-jobs", "--status"), ("--server-jobs", "--wait"),
    ("--server-jobs", "--resubmit"), ("--server-jobs", "--cancel"),
    ("--server-jobs", "--extract"),
    ("--adopt", "--cancel"), ("--adopt", "--server-jobs"), ("--adopt", "--status"),
    ("--adopt", "--wait"), ("--adopt", "--resubmit"), ("--adopt", "--extract"),
    ("--adopt", "--json"), ("--adopt", "--refresh"), ("--server-jobs", "--refresh"),
    ("--cancel", "--refresh"),
)
NEEDS = (("--keep-zip", "--extract"), ("--append", "--adopt"))


@dataclass(frozen=True)
class DownloadSettings(CommonSettings):
    """The download command's options, read once, as the command's helpers need them.

    `log` is empty only with --server-jobs, which reads no log.
    """

    log: str
    write_dir: str
    parallel: int
    timeout: float
    status: bool
    json: bool
    wait: bool
    poll_interval: float
    resubmit: bool
    extract: bool
    keep_zip: bool
    no_page: bool
    no_catalogue: bool = False
    cancel: bool = False
    server_jobs: bool = False
    adopt: Optional[str] = None
    append: bool = False
    refresh: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DownloadSettings:
        """The settings of parsed options; contradictions and a missing -l are refused."""
        check_conflicts(args, CONFLICTS, NEEDS)
        if args.adopt is not None and not args.adopt.strip():
            raise UsageError("--adopt: give the id of the job whose log was lost")
        if args.log is None and not args.server_jobs:
            raise UsageError("-l/--log: give the job log written by full_maja_process.py "
                             "(only --server-jobs works without one)")
        return cls(**cls.common(args), log=args.log or "", write_dir=args.write_dir,
                   parallel=args.parallel, timeout=args.timeout, status=args.status,
                   json=args.json, wait=args.wait, poll_interval=args.poll_interval,
                   resubmit=args.resubmit, extract=args.extract, keep_zip=args.keep_zip,
                   no_page=args.no_page, no_catalogue=args.no_catalogue, cancel=args.cancel,
                   server_jobs=args.server_jobs,
                   adopt=args.adopt, append=args.append, refresh=args.refresh)


def follow(settings: DownloadSettings, console: Console) -> ExitCode:
    """Check the jobs of the log (and resubmit, wait), then report or download the series."""
    if settings.server_jobs:
        return list_server_jobs(settings, console)
    if settings.adopt is not None:
        return adopt(settings, console)
    log = read_job_log(settings.log)
    endpoint = resolve_endpoint(settings.url or _recorded_endpoint(log.jobs))
    _check_poll_interval(settings, log, endpoint)
    with open_client(settings, endpoint, timeout=settings.timeout,
                     parallel=settings.parallel) as client:
        _check_endpoint_matches(settings.url, log)
        if settings.cancel:
            return cancel(client, settings, console)
        if settings.resubmit:
            _resubmit(client, settings, console)
        if settings.status:
            report = client.status(settings.log, settings.write_dir,
                                   refresh=settings.refresh)
            return _print_status(report, settings, console)
        if settings.wait:
            client.wait(settings.log, poll_interval=settings.poll_interval,
                        on_state=_show_waiting(console))
        return _download_series(client, settings, console)


def _recorded_endpoint(jobs: list[JobRecord]) -> Optional[str]:
    """The endpoint the account is for: the first job's that needs one, else the first job's."""
    endpoints = [job for job in jobs if job.endpoint]
    chosen = next((job for job in endpoints if needs_account(job.protocol)), None)
    return (chosen or endpoints[0]).endpoint if endpoints else None


def _check_endpoint_matches(url: Optional[str], log: JobLog) -> None:
    """Refuse a --url that is not the endpoint the log's jobs were submitted to.

    The account goes only to the --url origin: jobs of another endpoint would be
    asked without it, and refused.
    """
    recorded = _recorded_endpoint(log.jobs)
    if url and recorded and origin_of(url) != origin_of(recorded):
        raise UsageError(f"--url: {url} is not the endpoint the jobs of {log.path} were "
                         f"submitted to ({recorded}); leave --url out, the log says where "
                         "to follow them")


def _check_poll_interval(settings: DownloadSettings, log: JobLog, endpoint: str) -> None:
    polled = {job.endpoint or endpoint for job in log.active_jobs}
    local = all(is_local_host(urlsplit(url).hostname) for url in polled)
    if settings.wait and settings.poll_interval < MIN_POLL_INTERVAL and not local:
        raise UsageError(f"--poll-interval: at least {MIN_POLL_INTERVAL:.0f} seconds; "
                         "checking PEPS more often does not make the job go faster")


def _resubmit(client: Client, settings: DownloadSettings, console: Console) -> None:
    try:
        records = client.resubmit(settings.log)
    except UnrecordedJobError as exc:
        report_unrecorded(console, exc, settings)
        raise
    for record in records:
        console.info(f"Resubmitted job {record.replaces} as job {record.job_id} "
                     f"({record.describe()}).")
    if not records:
        console.info("No job of the log failed or was cancelled; nothing resubmitted.")


def _show_waiting(console: Console) -> Callable[[JobState], None]:
    def on_state(state: JobState) -> None:
        if not state.ended:
            console.info(state_lines(state)[0])
    return on_state


def _download_series(client: Client, settings: DownloadSettings,
                     console: Console) -> ExitCode:
    bars = None if settings.json else console.progress_bars()
    cancel = threading.Event()
    try:
        report = client.download(settings.log, settings.write_dir,
                                 parallel=settings.parallel, on_progress=bars, cancel=cancel,
                                 extract=settings.extract, keep_zip=settings.keep_zip,
                                 refresh=settings.refresh)
    finally:
        if bars is not None:
            bars.close()
    code = _print_report(report, settings, console)
    if not settings.no_page and not _write_page(report, settings, console):
        return ExitCode.FAILED
    if not settings.no_catalogue and not _write_catalogue(settings, console):
        return ExitCode.FAILED
    return code


def _write_catalogue(settings: DownloadSettings, console: Console) -> bool:
    """Write the STAC catalogue; False when the disk refused it (full), told in one line."""
    try:
        catalogue = write_catalogue(settings.write_dir)
    except OSError as exc:
        message = (f"could not write {CATALOG_NAME} in {settings.write_dir}: "
                   f"{exc.strerror or exc}")
        if exc.errno == errno.ENOSPC:
            console.error(message)
            return False
        console.warning(message)
        return True
    if catalogue is not None and not settings.json:
        console.info(f"STAC catalogue: {catalogue}")
    return True


def _write_page(report: SeriesReport, settings: DownloadSettings, console: Console) -> bool:
    """Write the series page; False when the disk refused it (full), told in one line."""
    try:
        page = write_series_page(report, Path(settings.write_dir),
                                 title=Path(settings.log).name, log=Path(settings.log))
    except OSError as exc:
        message = (f"could not write {PAGE_NAME} in {settings.write_dir}: "
                   f"{exc.strerror or exc}")
        if exc.errno == errno.ENOSPC or isinstance(exc, NotOwnFile):
            console.error(message)
            return False
        console.warning(message)
        return True
    if page is not None and not settings.json:
        console.info(f"Series page: {page}")
    return True


def _print_report(report: SeriesReport, settings: DownloadSettings,
                  console: Console) -> ExitCode:
    if settings.json:
        console.result(json.dumps(report.as_json(), indent=2))
    else:
        for job in report.jobs:
            for line in series_lines(job):
                console.info(line)
        console.result(summary_line(report))
    return _exit_for(report)


def _print_status(report: SeriesReport, settings: DownloadSettings,
                  console: Console) -> ExitCode:
    if settings.json:
        console.result(json.dumps(report.as_json(), indent=2))
    else:
        for line in status_table(report):
            console.result(line)
    return _exit_for(report)


def _exit_for(report: SeriesReport) -> ExitCode:
    if report.failed or report.failed_products or report.problems:
        return ExitCode.FAILED
    if not report.complete:
        return ExitCode.LATER
    return ExitCode.OK


DOWNLOAD = Command("full_maja_download", download_parser, DownloadSettings.from_args, follow,
                   "interrupted; partial downloads are kept and resume on the next run")


def download_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of full_maja_download.py."""
    return run(DOWNLOAD, argv)
