"""Following a log: `full-maja download`, `status`, `wait`, `resubmit` (and full_maja_download.py).

Every subcommand of the family, and the compatible script with its seven mode flags,
reads its options into one `DownloadSettings` and runs `follow`: a subcommand fixes
its mode (`status`, `wait`, ...) and offers only the options that fit it, the script
refuses the flags that contradict each other (CONFLICTS).
"""
from __future__ import annotations

import argparse
import errno
import json
import threading
from functools import partial
from pathlib import Path
from typing import Callable, Optional, Sequence
from urllib.parse import urlsplit

from ..atomic import NotOwnFile
from ..client import Client
from ..console import Console, printable
from ..errors import (
    Cancelled,
    JobLogError,
    UnansweredSubmission,
    UnrecordedJobError,
    UsageError,
)
from ..joblog import JobLog, read_job_log
from ..journal import journal_path
from ..page import PAGE_NAME, write_series_page
from ..series import SeriesReport
from ..service import UNREACHABLE, JobState, protocol_named
from ..session import check_transport, is_local_host
from ..stac import CATALOG_NAME, write_catalogue
from ..states import Protocol, is_peps
from ..text import (
    RESUBMIT,
    job_heading,
    series_lines,
    state_lines,
    status_table,
    summary_line,
)
from .endpoint import PEPS_CLOSED, follow_protocol, follow_service, recorded_job
from .following import CONFLICTS, NEEDS, DownloadSettings
from .jobs import JOB_SUBCOMMANDS, adopt, cancel, list_server_jobs
from .nextstep import Verb, command, uses_scripts
from .options import (
    Parser,
    Subcommand,
    add_common_options,
    add_options,
    open_client,
)
from .recovery import find_the_job, interrupted_submission, report_unrecorded
from .runner import Command, run
from .status import ExitCode

MIN_POLL_INTERVAL = 60.0
LEGACY_OPTIONS = ("log", "write_dir", "parallel", "timeout", "status", "json", "wait",
                  "poll_interval", "resubmit", "extract", "keep_zip", "no_page",
                  "no_catalogue")
PRODUCTS = ("log", "write_dir", "parallel", "timeout", "json", "extract", "keep_zip",
            "no_page", "no_catalogue", "refresh")


def download_parser(prog: str) -> argparse.ArgumentParser:
    """The options of the compatible download script: every mode as a flag."""
    parser = Parser(prog=prog, description="Follow the FULL_MAJA jobs of a log and "
                    "download their L2A products once finished.")
    add_options(parser, *LEGACY_OPTIONS, helps={
        "log": "the job log written by the submit command (needed by every action but "
               "--server-jobs)"})
    add_job_options(parser)
    add_options(parser, "refresh")
    add_common_options(parser)
    return parser


def add_job_options(parser: argparse.ArgumentParser) -> None:
    """The script's flags acting on jobs rather than products: cancel, list, adopt."""
    parser.add_argument("--cancel", action="store_true",
                        help="dismiss every job of the log that has not ended (OGC API; a "
                             "WPS 1.0.0 service offers no way to stop a job)")
    parser.add_argument("--server-jobs", action="store_true",
                        help="list the jobs the --url service knows for this account (id, "
                             "process, status, progress, created; OGC API only)")
    parser.add_argument("--adopt", metavar="JOB_ID",
                        help="write the log -l for a job whose log was lost, from the local "
                             "journal of submissions or the server's listing (OGC API)")
    add_options(parser, "append", helps={
        "append": "with --adopt, add the job to a log that already holds jobs"})


def follow(settings: DownloadSettings, console: Console) -> ExitCode:
    """Check the jobs of the log (and resubmit, wait), then report or download the series."""
    if settings.json:
        console.json_mode()
    if settings.server_jobs:
        return list_server_jobs(settings, console)
    if settings.adopt is not None:
        return adopt(settings, console)
    log = _read_log(settings.log, settings.account_words())
    if settings.url:  # a URL that would carry the account in clear is said first
        check_transport(settings.url, settings.insecure_http)
    endpoint = follow_service(settings.url, log)
    _check_poll_interval(settings, log, endpoint)
    with open_client(settings, endpoint, follow_protocol(log), timeout=settings.timeout,
                     parallel=settings.parallel) as client:
        if settings.cancel:
            return cancel(client, settings, console)
        if settings.resubmit:
            _resubmit(client, settings, log, console)
        if settings.status:
            report = client.status(settings.log, settings.write_dir,
                                   refresh=settings.refresh)
            return _print_status(report, settings, console)
        if settings.wait:
            client.wait(settings.log, poll_interval=settings.poll_interval,
                        on_state=_show_changes(console))
        return _download_series(client, settings, console)


def _read_log(path: str, account: Sequence[str]) -> JobLog:
    """The log to follow; one that is not there says how to write it again."""
    if not Path(path).exists():
        adopt_again = command(Verb.ADOPT, "JOB_ID", "-l", path, account=account)
        raise JobLogError(f"--log: {path} does not exist; give the log the submission wrote "
                          "(the submit command printed its name), or, if it was lost, write "
                          f"it again from the job's id with: {adopt_again} (the ids of this "
                          f"machine's submissions are in {journal_path()})")
    return read_job_log(path)


def _check_poll_interval(settings: DownloadSettings, log: JobLog, endpoint: str) -> None:
    polled = {job.endpoint or endpoint for job in log.active_jobs}
    local = all(is_local_host(urlsplit(url).hostname) for url in polled)
    if settings.wait and settings.poll_interval < MIN_POLL_INTERVAL and not local:
        raise UsageError(f"--poll-interval: at least {MIN_POLL_INTERVAL:.0f} seconds; "
                         "checking the server more often does not make the job go faster")


def _resubmit(client: Client, settings: DownloadSettings, log: JobLog,
              console: Console) -> None:
    job = recorded_job(log.active_jobs)
    protocol = protocol_named(job.protocol if job else settings.protocol)
    endpoint = job.endpoint if job and job.endpoint else client.endpoint
    try:
        records = client.resubmit(settings.log)
    except UnrecordedJobError as exc:
        report_unrecorded(console, exc, settings)
        raise
    except UnansweredSubmission:
        if protocol == Protocol.OGCAPI:
            console.warning("the new job may exist; before resubmitting again, "
                            + find_the_job(settings, endpoint, settings.log))
        raise
    except KeyboardInterrupt:
        raise Cancelled(interrupted_submission(protocol, settings, endpoint,
                                               settings.log)) from None
    for record in records:
        console.info(f"Resubmitted job {record.replaces} as job {record.job_id} "
                     f"({record.describe()}).")
    if not records:
        console.info("No job of the log failed or was cancelled; nothing resubmitted.")


def _show_changes(console: Console) -> Callable[[JobState], None]:
    """While waiting: a job's line when it first shows, then only when it changed."""
    shown: dict[str, str] = {}

    def on_state(state: JobState) -> None:
        line = job_heading(state)
        if not state.ended and shown.get(state.job.job_id) != line:
            console.info(state_lines(state)[0])
        shown[state.job.job_id] = line
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
    folder = Path(settings.write_dir)
    outputs = [] if settings.no_page else [(PAGE_NAME, "Series page", partial(
        write_series_page, report, folder, title=printable(Path(settings.log).name),
        log=Path(settings.log)))]
    if not settings.no_catalogue:
        outputs.append((CATALOG_NAME, "STAC catalogue",
                        partial(write_catalogue, folder, report.facts)))
    written = [_write_output(name, label, write, settings, console)
               for name, label, write in outputs]
    return code if all(written) else ExitCode.FAILED


def _write_output(name: str, label: str, write: Callable[[], Optional[Path]],
                  settings: DownloadSettings, console: Console) -> bool:
    """Write the page or the catalogue; False, told in one line, when the disk refused it.

    A full disk, or a file planted where full-maja keeps its own, fails the run; any
    other trouble is a warning (the products are on disk whatever happens here).
    """
    try:
        path = write()
    except OSError as exc:
        message = f"could not write {name} in {settings.write_dir}: {exc.strerror or exc}"
        if exc.errno == errno.ENOSPC or isinstance(exc, NotOwnFile):
            console.error(message)
            return False
        console.warning(message)
        return True
    if path is not None and not settings.json:
        console.info(f"{label}: {path}")
    return True


def _print_report(report: SeriesReport, settings: DownloadSettings,
                  console: Console) -> ExitCode:
    _say_if_peps_closed(report, console)
    if settings.json:
        console.document(json.dumps(report.as_json(), indent=2))
    else:
        resubmit = RESUBMIT if uses_scripts() else command(
            Verb.RESUBMIT, "-l", settings.log, "-w", settings.write_dir,
            account=settings.account_words())
        for job in report.jobs:
            for line in series_lines(job, resubmit=resubmit):
                console.info(line)
        console.result(summary_line(report))
    return _exit_for(report)


def _print_status(report: SeriesReport, settings: DownloadSettings,
                  console: Console) -> ExitCode:
    _say_if_peps_closed(report, console)
    if settings.json:
        console.document(json.dumps(report.as_json(), indent=2))
    else:
        for line in status_table(report):
            console.result(line)
    return _exit_for(report)


def _say_if_peps_closed(report: SeriesReport, console: Console) -> None:
    """A log of PEPS's jobs cannot be followed any more: say why its checks fail."""
    if any(job.state.server_state == UNREACHABLE and is_peps(job.state.job.endpoint)
           for job in report.jobs):
        console.warning(f"{PEPS_CLOSED}: the jobs submitted to it can no longer be checked "
                        "nor their products downloaded")


def _exit_for(report: SeriesReport) -> ExitCode:
    if report.failed or report.failed_products or report.problems:
        return ExitCode.FAILED
    if not report.complete:
        return ExitCode.LATER
    return ExitCode.OK


_LOG = {"log": "the job log written by the submit command"}
FOLLOW_SUBCOMMANDS = (
    Subcommand(Verb.DOWNLOAD, "check the jobs of a log, download the finished products "
               "(resumed, verified) and report the series; the command for cron",
               DownloadSettings.from_args, options=PRODUCTS, required=("log",), helps=_LOG),
    Subcommand(Verb.STATUS, "one row per job of a log, with its products on disk; "
               "downloads nothing", DownloadSettings.from_args,
               options=("log", "write_dir", "timeout", "json", "refresh"), required=("log",),
               helps={**_LOG, "write_dir": "where the products are (default: the current "
                                           "folder)",
                      "timeout": "give up on a server silent for this long, or a document "
                                 "(status, report) taking 4 times this to arrive (0.1 to "
                                 "3600, default 30)"},
               mode={"status": True}),
    Subcommand(Verb.WAIT, "follow the jobs of a log until each has ended, then download "
               "as download does", DownloadSettings.from_args,
               options=(*PRODUCTS, "poll_interval"), required=("log",), helps=_LOG,
               mode={"wait": True}),
    Subcommand(Verb.RESUBMIT, "submit again the jobs of a log that failed or were "
               "cancelled, then download as download does", DownloadSettings.from_args,
               options=(*PRODUCTS, "wait", "poll_interval"), required=("log",), helps=_LOG,
               mode={"resubmit": True}, needs=(("--poll-interval", "--wait"),)),
)
SUBCOMMANDS = (*FOLLOW_SUBCOMMANDS, *JOB_SUBCOMMANDS)


DOWNLOAD = Command("full_maja_download", download_parser, DownloadSettings.from_args, follow,
                   "interrupted; partial downloads are kept and resume on the next run")


def download_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of full_maja_download.py."""
    return run(DOWNLOAD, argv)


__all__ = ["CONFLICTS", "DOWNLOAD", "NEEDS", "SUBCOMMANDS", "DownloadSettings",
           "download_main", "download_parser", "follow"]
