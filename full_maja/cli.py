"""The two commands: submit a time series, then follow and download it."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import threading
from enum import IntEnum
from pathlib import Path
from typing import Callable, NoReturn, Optional, Sequence
from urllib.parse import urlsplit

from .__version__ import __version__
from .client import Client, resolve_endpoint
from .console import Console
from .errors import (
    AuthenticationError,
    BusyError,
    Cancelled,
    FullMajaError,
    UsageError,
)
from .joblog import JobLog, JobRecord, check_log_is_free, default_log_name, read_job_log
from .page import PAGE_NAME, write_series_page
from .series import SeriesReport
from .service import JobState
from .service.peps import submission_document
from .session import check_transport, is_local_host
from .text import series_lines, state_lines, status_table, summary_line
from .validation import JobRequest, read_tiles_file, validate_request

MIN_POLL_INTERVAL = 60.0


class ExitCode(IntEnum):
    """The exit codes of both commands, as documented in the README."""

    OK = 0
    FAILED = 1
    USAGE = 2
    CREDENTIALS = 3
    LATER = 75
    INTERRUPTED = 130


def exit_code_for(error: FullMajaError) -> ExitCode:
    """The one mapping from error classes to exit codes."""
    if isinstance(error, AuthenticationError):
        return ExitCode.CREDENTIALS
    if isinstance(error, Cancelled):
        return ExitCode.INTERRUPTED
    if isinstance(error, BusyError):
        return ExitCode.LATER
    if isinstance(error, UsageError):
        return ExitCode.USAGE
    return ExitCode.FAILED


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line through the usual error path."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-a", "--auth", metavar="FILE",
                        help="credentials file: one line, the e-mail, a space, the password "
                             "(default: $PEPS_USER and $PEPS_PASSWORD, then ~/.netrc)")
    parser.add_argument("--url", metavar="URL",
                        help="WPS endpoint (default: $PEPS_WPS_URL, else "
                             "https://peps.cnes.fr/resto/wps)")
    parser.add_argument("--insecure-http", action="store_true",
                        help="allow a plain http:// endpoint on another machine "
                             "(the password then travels in clear)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only warnings, errors and the final summary")
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback when something fails")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def process_parser(prog: str) -> argparse.ArgumentParser:
    """The options of the submit command."""
    parser = _Parser(prog=prog, description="Submit a FULL_MAJA time series to PEPS and "
                     "record the job in a log file.")
    parser.add_argument("-t", "--tile", nargs="+", default=[], metavar="TILE",
                        help="MGRS tile(s), e.g. 36TWQ or T36TWQ; one job per tile")
    parser.add_argument("--tiles-file", metavar="FILE",
                        help="a file with one tile per line (# starts a comment)")
    parser.add_argument("-o", "--orbit", metavar="N", help="relative orbit, 1 to 143")
    parser.add_argument("-d", "--start-date", metavar="YYYY-MM-DD", required=True,
                        help="first day of the period")
    parser.add_argument("-e", "-f", "--end-date", metavar="YYYY-MM-DD", required=True,
                        help="last day of the period (2 to 12 months after the first)")
    parser.add_argument("-l", "-g", "--log", metavar="FILE",
                        help="the job log to write (default: named after tile, orbit, period)")
    parser.add_argument("--append", action="store_true",
                        help="add the job(s) to a log that already holds jobs")
    parser.add_argument("--split", action="store_true",
                        help="cut a period longer than 12 months into several jobs")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="validate and print the request; send nothing, write nothing")
    _common_options(parser)
    return parser


def download_parser(prog: str) -> argparse.ArgumentParser:
    """The options of the download command."""
    parser = _Parser(prog=prog, description="Follow the FULL_MAJA jobs of a log and "
                     "download their L2A products once finished.")
    parser.add_argument("-l", "-g", "--log", metavar="FILE", required=True,
                        help="the job log written by the submit command")
    parser.add_argument("-w", "--write-dir", metavar="DIR", default=".",
                        help="where products go (default: the current folder)")
    parser.add_argument("-j", "--parallel", metavar="N", type=_positive_int, default=2,
                        help="connections at once (default: 2); when no product is left "
                        "to start, a free one takes the tail of the slowest product")
    parser.add_argument("--timeout", metavar="SECONDS", type=_positive_float, default=30.0,
                        help="abandon and resume a transfer silent for this long (default 30)")
    parser.add_argument("--status", action="store_true",
                        help="print one row per job and download nothing")
    parser.add_argument("--json", action="store_true",
                        help="print the report as one JSON document on stdout")
    parser.add_argument("--wait", action="store_true",
                        help="keep following the jobs until each has ended, then download")
    parser.add_argument("--poll-interval", metavar="SECONDS", type=_positive_float,
                        default=900.0, help="seconds between checks with --wait (default 900)")
    parser.add_argument("--resubmit", action="store_true",
                        help="submit again every job that ended in ERROR or CANCELED")
    parser.add_argument("-x", "--extract", action="store_true",
                        help="unzip each verified product into the write folder (and remove "
                             "the zip unless --keep-zip)")
    parser.add_argument("--keep-zip", action="store_true",
                        help="with --extract, keep the zip beside the extracted product")
    parser.add_argument("--no-page", action="store_true",
                        help=f"do not write {PAGE_NAME}, the series at a glance, in the "
                             "write folder")
    _common_options(parser)
    return parser


def _positive(convert: Callable[[str], float], noun: str) -> Callable[[str], float]:
    """An argparse type: a positive, finite number of the given kind."""
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
        return value
    return parse


_positive_int = _positive(int, "a whole number")
_positive_float = _positive(float, "a number")


def process_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of full_maja_process.py."""
    return _run("full_maja_process", process_parser, _process, argv,
                "interrupted; if the submission was sent, check the log before submitting again")


def download_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of full_maja_download.py."""
    return _run("full_maja_download", download_parser, _download, argv,
                "interrupted; partial downloads are kept and resume on the next run")


def _run(prog: str, make_parser: Callable[[str], argparse.ArgumentParser],
         command: Callable[[argparse.Namespace, Console], ExitCode],
         argv: Optional[Sequence[str]], interrupted: str) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    reporter = Console(prog, quiet="-q" in arguments or "--quiet" in arguments)
    debug = "--debug" in arguments
    try:
        args = make_parser(prog).parse_args(arguments)
        reporter.quiet = args.quiet
        reporter.capture_library_warnings()
        return int(command(args, reporter))
    except FullMajaError as exc:
        if debug:
            raise
        reporter.error(str(exc))
        return int(exit_code_for(exc))
    except KeyboardInterrupt:
        reporter.error(interrupted)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        return int(ExitCode.FAILED)
    except Exception as exc:
        if debug:
            raise
        reporter.error(f"unexpected {exc.__class__.__name__}: {exc}; nothing was lost, run "
                       "again with --debug and report the traceback")
        return int(ExitCode.FAILED)


def _silence_stdout() -> None:
    """The reader of our output went away (`| head`): say nothing more, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _process(args: argparse.Namespace, reporter: Console) -> ExitCode:
    requests = _requests_from(args)
    log_path = Path(args.log or _default_log(requests))
    endpoint = resolve_endpoint(args.url)
    check_transport(endpoint, args.insecure_http)
    check_log_is_free(log_path, args.append)
    if args.dry_run:
        _print_dry_run(reporter, endpoint, requests, log_path)
        return ExitCode.OK
    with Client(endpoint, auth_file=args.auth, insecure_http=args.insecure_http) as client:
        try:
            records = client.submit(requests, log_path, append=args.append)
        except FullMajaError as exc:
            _report_partial_submission(reporter, exc, log_path)
            raise
    for record in records:
        reporter.result(f"Submitted job {record.job_id} ({record.describe()}).")
    reporter.result(f"Job log: {log_path}")
    reporter.info("Processing takes about an hour for the first date and 25 minutes for each "
                  "further date. To follow the job(s) and download the products, run:")
    reporter.info("  " + _download_command(args, log_path, requests))
    return ExitCode.OK


def _requests_from(args: argparse.Namespace) -> list[JobRequest]:
    tiles = list(args.tile)
    if args.tiles_file:
        tiles += read_tiles_file(args.tiles_file)
    if not tiles:
        raise UsageError("give at least one tile with -t/--tile or --tiles-file")
    requests: list[JobRequest] = []
    for tile in dict.fromkeys(tiles):
        requests += validate_request(tile, args.orbit, args.start_date, args.end_date,
                                     split=args.split)
    return requests


def _default_log(requests: list[JobRequest]) -> str:
    first = requests[0]
    whole = JobRequest(first.tile, first.orbit, min(r.start for r in requests),
                       max(r.end for r in requests))
    name = default_log_name(whole)
    tiles = list(dict.fromkeys(request.tile for request in requests))
    if len(tiles) > 1:
        name = name.replace(tiles[0], f"{tiles[0]}+{len(tiles) - 1}", 1)
    return name


def _print_dry_run(reporter: Console, endpoint: str, requests: list[JobRequest],
                   log_path: Path) -> None:
    for request in requests:
        reporter.result(f"Would POST to {endpoint} (nothing sent, nothing written):")
        reporter.result(submission_document(request).decode("utf-8"))
    reporter.result(f"Would record {len(requests)} job(s) in {log_path}")


def _report_partial_submission(reporter: Console, exc: FullMajaError, log_path: Path) -> None:
    if exc.accepted:
        ids = ", ".join(f"{record.job_id} ({record.tile})" for record in exc.accepted)
        reporter.warning(f"accepted before the failure and recorded in {log_path}: {ids}")
    if exc.remaining and exc.accepted:
        tiles = " ".join(dict.fromkeys(request.tile for request in exc.remaining))
        reporter.warning(f"still to submit (use --append -l {log_path}): {tiles}")


def _download_command(args: argparse.Namespace, log_path: Path,
                      requests: list[JobRequest]) -> str:
    script = Path(sys.argv[0]).name
    program = ("full-maja-download" if script.startswith("full-maja")
               else f"python {Path(sys.argv[0]).with_name('full_maja_download.py')}")
    words = [*shlex.split(program)]
    if args.auth:
        words += ["-a", args.auth]
    tiles = list(dict.fromkeys(request.tile for request in requests))
    words += ["-l", str(log_path), "-w", tiles[0] if len(tiles) == 1 else "products"]
    if args.insecure_http:
        words.append("--insecure-http")
    return shlex.join(words)


def _download(args: argparse.Namespace, reporter: Console) -> ExitCode:
    log = read_job_log(args.log)
    endpoint = resolve_endpoint(args.url or _recorded_endpoint(log.jobs))
    _check_poll_interval(args, log, endpoint)
    with Client(endpoint, auth_file=args.auth, insecure_http=args.insecure_http,
                timeout=args.timeout, parallel=args.parallel) as client:
        if args.resubmit:
            _resubmit(client, args, reporter)
        if args.status:
            return _print_status(client.status(args.log, args.write_dir), args, reporter)
        if args.wait:
            client.wait(args.log, poll_interval=args.poll_interval,
                        on_state=_waiting_reporter(reporter))
        return _download_series(client, args, reporter)


def _recorded_endpoint(jobs: list[JobRecord]) -> Optional[str]:
    return next((job.endpoint for job in jobs if job.endpoint), None)


def _check_poll_interval(args: argparse.Namespace, log: JobLog, endpoint: str) -> None:
    polled = {job.endpoint or endpoint for job in log.active_jobs}
    local = all(is_local_host(urlsplit(url).hostname) for url in polled)
    if args.wait and args.poll_interval < MIN_POLL_INTERVAL and not local:
        raise UsageError(f"--poll-interval: at least {MIN_POLL_INTERVAL:.0f} seconds; "
                         "checking PEPS more often does not make the job go faster")


def _resubmit(client: Client, args: argparse.Namespace, reporter: Console) -> None:
    records = client.resubmit(args.log)
    for record in records:
        reporter.info(f"Resubmitted job {record.replaces} as job {record.job_id} "
                      f"({record.describe()}).")
    if not records:
        reporter.info("No job of the log ended in ERROR or CANCELED; nothing resubmitted.")


def _waiting_reporter(reporter: Console) -> Callable[[JobState], None]:
    def on_state(state: JobState) -> None:
        if not state.ended:
            reporter.info(state_lines(state)[0])
    return on_state


def _download_series(client: Client, args: argparse.Namespace,
                     reporter: Console) -> ExitCode:
    bars = None if args.json else reporter.progress_bars()
    cancel = threading.Event()
    try:
        report = client.download(args.log, args.write_dir, parallel=args.parallel,
                                 on_progress=bars, cancel=cancel, extract=args.extract,
                                 keep_zip=args.keep_zip)
    finally:
        if bars is not None:
            bars.close()
    code = _print_report(report, args, reporter)
    if not args.no_page:
        _write_page(report, args, reporter)
    return code


def _write_page(report: SeriesReport, args: argparse.Namespace, reporter: Console) -> None:
    try:
        page = write_series_page(report, Path(args.write_dir), title=Path(args.log).name)
    except OSError as exc:
        reporter.warning(f"could not write {PAGE_NAME} in {args.write_dir}: "
                         f"{exc.strerror or exc}")
        return
    if page is not None and not args.json:
        reporter.info(f"Series page: {page}")


def _print_report(report: SeriesReport, args: argparse.Namespace,
                  reporter: Console) -> ExitCode:
    if args.json:
        reporter.result(json.dumps(report.as_json(), indent=2))
    else:
        for job in report.jobs:
            for line in series_lines(job):
                reporter.info(line)
        reporter.result(summary_line(report))
    return _exit_for(report)


def _print_status(report: SeriesReport, args: argparse.Namespace,
                  reporter: Console) -> ExitCode:
    if args.json:
        reporter.result(json.dumps(report.as_json(), indent=2))
    else:
        for line in status_table(report):
            reporter.result(line)
    return _exit_for(report)


def _exit_for(report: SeriesReport) -> ExitCode:
    if report.failed or report.failed_products:
        return ExitCode.FAILED
    if not report.complete:
        return ExitCode.LATER
    return ExitCode.OK

