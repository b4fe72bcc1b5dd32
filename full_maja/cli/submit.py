"""`full-maja submit` (and full_maja_process.py): check a series request, submit it, log it."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence
from urllib.parse import urlsplit

from ..console import Console
from ..endpoints import ENDPOINT_VARIABLE
from ..errors import (
    Cancelled,
    FullMajaError,
    UnansweredSubmission,
    UnrecordedJobError,
    UsageError,
)
from ..joblog import check_log_is_free, default_log_name, read_job_log
from ..jobrecord import JobRecord
from ..service import submission_preview
from ..session import check_transport
from ..states import Protocol, is_peps
from ..validation import JobRequest, read_tiles_file, validate_request
from .endpoint import (
    CATALOGUE,
    GIVE_SERVICE,
    PEPS_CLOSED,
    closed_service_error,
    submission_service,
)
from .nextstep import Verb, command, quote
from .options import (
    CommonSettings,
    Parser,
    Subcommand,
    add_common_options,
    add_options,
    open_client,
)
from .recovery import find_the_job, interrupted_submission, report_unrecorded
from .runner import Command, run
from .sources import (
    AUTO,
    PROCESSING,
    SourceSettings,
    Submission,
    add_source_options,
    search_requests,
    submit_from_source,
)
from .status import ExitCode

DESCRIPTION = ("Get a MAJA L2A time series: search the GEODES catalogue for the products it "
               "holds (--source catalogue), or submit a FULL_MAJA job to a WPS 1.0.0 service "
               "or an OGC API - Processes service; record the search or job in a log file.")


def add_submit_options(parser: argparse._ActionsContainer) -> None:
    """The options of a submission, for the subcommand and the compatible script alike.

    Options choosing where the series comes from (a source other than processing on
    demand) belong here too, so that both doors offer them.
    """
    parser.add_argument("-t", "--tile", nargs="+", default=[], metavar="TILE",
                        help="MGRS tile(s), e.g. 36TWQ or T36TWQ; one job per tile")
    parser.add_argument("--tiles-file", metavar="FILE",
                        help="a file with one tile per line (# starts a comment)")
    parser.add_argument("-o", "--orbit", metavar="N", help="relative orbit, 1 to 143")
    parser.add_argument("-d", "--start-date", metavar="YYYY-MM-DD", required=True,
                        help="first day of the period (processing: on or after "
                             "2016-04-01)")
    parser.add_argument("-e", "-f", "--end-date", metavar="YYYY-MM-DD", required=True,
                        help="last day of the period (processing: 2 to 12 months after "
                             "the first)")
    add_options(parser, "log", "append", helps={
        "log": "the job log to write (default: named after tile, orbit, period)"})
    parser.add_argument("--split", action="store_true",
                        help="cut a period longer than 12 months into several jobs")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="validate and print the document that would be POSTed: the "
                             "WPS Execute document unless --protocol ogcapi (the protocol is "
                             "not detected: nothing is sent, nothing written)")
    add_source_options(parser)


def process_parser(prog: str) -> argparse.ArgumentParser:
    """The options of the compatible submit script."""
    parser = Parser(prog=prog, description=DESCRIPTION)
    add_submit_options(parser)
    add_common_options(parser)
    return parser


@dataclass(frozen=True)
class SubmitSettings(CommonSettings):
    """The submit command's options, read once, as the command's helpers need them."""

    tiles: tuple[str, ...]
    tiles_file: Optional[str]
    orbit: Optional[str]
    start_date: str
    end_date: str
    log: Optional[str]
    append: bool
    split: bool
    dry_run: bool
    source: str = PROCESSING
    catalogue_url: Optional[str] = None
    max_cloud: Optional[str] = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SubmitSettings:
        """The settings of parsed options."""
        sources = SourceSettings.from_args(args)
        return cls(**cls.common(args), tiles=tuple(args.tile), tiles_file=args.tiles_file,
                   orbit=args.orbit, start_date=args.start_date, end_date=args.end_date,
                   log=args.log, append=args.append, split=args.split, dry_run=args.dry_run,
                   source=sources.source, catalogue_url=sources.catalogue_url,
                   max_cloud=sources.max_cloud)

    @property
    def sources(self) -> SourceSettings:
        """The source options together."""
        return SourceSettings(self.source, self.catalogue_url, self.max_cloud)


def submit(settings: SubmitSettings, console: Console) -> ExitCode:
    """Validate, then submit one job per tile and period piece, and record them."""
    if settings.sources.searches:
        return _submit_from_source(settings, console)
    requests = _requests_from(settings)
    log_path = Path(settings.log or _default_log(requests))
    check_log_is_free(log_path, settings.append)
    endpoint, protocol = submission_service(settings.url, settings.protocol, log_path,
                                            settings.append, settings.dry_run)
    check_transport(endpoint, settings.insecure_http)
    settings = replace(settings, protocol=protocol)
    if settings.dry_run:
        _print_dry_run(console, endpoint, settings.protocol, requests, log_path)
        return ExitCode.OK
    with open_client(settings, endpoint) as client:
        try:
            records = client.submit(requests, log_path, append=settings.append)
        except FullMajaError as exc:
            _report_partial_submission(console, exc, log_path, settings)
            if isinstance(exc, UnansweredSubmission) and client.protocol == Protocol.OGCAPI:
                console.warning(f"the job of tile {exc.remaining[0].tile} may exist; before "
                                f"submitting again, {find_the_job(settings, endpoint, log_path)}")
            raise closed_service_error(exc, endpoint) from exc
        except KeyboardInterrupt:
            raise Cancelled(interrupted_submission(client.protocol, settings, endpoint,
                                                   log_path)) from None
    for record in records:
        console.result(f"Submitted job {record.job_id} ({record.describe()}).")
    console.result(f"Job log: {log_path}")
    tiles = _log_tiles(log_path, records)
    console.info("Processing takes about an hour for the first date and 25 minutes for each "
                 "further date. To follow the job(s) and download the products, run:")
    console.info("  " + _download_command(settings, log_path, tiles))
    if settings.append:
        console.info(f"(It follows every job of the log, tiles {', '.join(tiles)}: if you "
                     "already follow this log, keep the -w folder you use for it.)")
    return ExitCode.OK


def _submit_from_source(settings: SubmitSettings, console: Console) -> ExitCode:
    """`--source catalogue` or `--source auto`: the searches, then processing where needed."""
    requests = search_requests(_tiles(settings), settings.orbit, settings.start_date,
                               settings.end_date, settings.max_cloud)
    log_path = Path(settings.log or _default_log(requests))
    endpoint, protocol = ("", None)
    if settings.source == AUTO:
        endpoint, protocol = submission_service(settings.url, settings.protocol, log_path,
                                                settings.append, settings.dry_run)
        check_transport(endpoint, settings.insecure_http)
    processing = replace(settings, protocol=protocol)
    job = Submission(
        settings.sources,
        log_path=lambda found: log_path,
        open_processing=lambda: open_client(processing, endpoint),
        download_command=lambda path, tiles: _download_command(settings, path,
                                                               _log_tiles(path, [])),
        processing_requests=lambda tile: validate_request(
            tile, settings.orbit, settings.start_date, settings.end_date,
            split=settings.split))
    return submit_from_source(job, requests, append=settings.append,
                              dry_run=settings.dry_run,
                              insecure_http=settings.insecure_http, console=console)


def _tiles(settings: SubmitSettings) -> list[str]:
    tiles = list(settings.tiles)
    if settings.tiles_file:
        tiles += read_tiles_file(settings.tiles_file)
    if not tiles:
        raise UsageError("give at least one tile with -t/--tile or --tiles-file")
    return tiles


def _requests_from(settings: SubmitSettings) -> list[JobRequest]:
    tiles = _tiles(settings)
    requests: list[JobRequest] = []
    for tile in dict.fromkeys(tiles):
        requests += validate_request(tile, settings.orbit, settings.start_date,
                                     settings.end_date, split=settings.split)
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


def _print_dry_run(console: Console, endpoint: str, protocol: Optional[str],
                   requests: list[JobRequest], log_path: Path) -> None:
    for request in requests:
        url, document = submission_preview(endpoint, protocol, request)
        console.result(f"Would POST to {url} (nothing sent, nothing written):")
        console.result(document)
    console.result(f"Would record {len(requests)} job(s) in {log_path}")
    if is_peps(endpoint):
        console.warning(f"{PEPS_CLOSED}: {GIVE_SERVICE}, {CATALOGUE}")
    elif protocol is None and "wps" not in urlsplit(endpoint).path.lower():
        console.warning(f"{endpoint} does not look like a WPS endpoint, and a dry run does "
                        "not ask the server which protocol it speaks: the document above is "
                        "WPS 1.0.0's; for an OGC API - Processes service, add "
                        "--protocol ogcapi")


def _report_partial_submission(console: Console, exc: FullMajaError, log_path: Path,
                               settings: SubmitSettings) -> None:
    if isinstance(exc, UnrecordedJobError):
        report_unrecorded(console, exc, settings)
    if exc.accepted:
        ids = ", ".join(f"{record.job_id} ({record.tile})" for record in exc.accepted)
        console.warning(f"accepted before the failure and recorded in {log_path}: {ids}")
    if exc.remaining and exc.accepted:
        tiles = " ".join(dict.fromkeys(request.tile for request in exc.remaining))
        console.warning(f"still to submit (use --append -l {quote(str(log_path))}): {tiles}")


def _log_tiles(log_path: Path, records: list[JobRecord]) -> list[str]:
    """The tiles of every job the log follows (those just submitted if it cannot be read)."""
    try:
        jobs = read_job_log(log_path).active_jobs
    except FullMajaError:
        jobs = records
    return list(dict.fromkeys(job.tile or "?" for job in jobs))


def _download_command(settings: SubmitSettings, log_path: Path, tiles: list[str]) -> str:
    """The command following the whole log: one tile's folder, or `products` for several."""
    write_dir = tiles[0] if len(tiles) == 1 and tiles[0] != "?" else "products"
    return command(Verb.DOWNLOAD, "-l", str(log_path), "-w", write_dir,
                   account=settings.account_words())


SUBMIT_SUBCOMMAND = Subcommand(
    Verb.SUBMIT, "check a series request (tiles, orbit, period), then search the GEODES "
    "catalogue (--source catalogue) or submit one job per tile and period, and record the "
    "search or the jobs in a job log", SubmitSettings.from_args, protocol=True,
    helps={"url": "the FULL_MAJA service: a WPS 1.0.0 endpoint or an OGC API - Processes "
                  f"landing page (default: ${ENDPOINT_VARIABLE}; with --append, the log's; "
                  "PEPS, the former default, closed on 2026-03-25)"},
    own=add_submit_options)

PROCESS = Command("full_maja_process", process_parser, SubmitSettings.from_args, submit,
                  "interrupted; the jobs the server accepted before are in the log")


def process_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of full_maja_process.py."""
    return run(PROCESS, argv)
