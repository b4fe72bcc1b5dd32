"""full_maja_process: check a series request, submit it and record the job(s) in a log."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..client import resolve_endpoint
from ..console import Console
from ..errors import FullMajaError, UnrecordedJobError, UsageError
from ..joblog import check_log_is_free, default_log_name
from ..service import submission_preview
from ..session import check_transport
from ..validation import JobRequest, read_tiles_file, validate_request
from .options import (
    CommonSettings,
    Parser,
    add_common_options,
    download_command,
    open_client,
)
from .recovery import report_unrecorded
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


def process_parser(prog: str) -> argparse.ArgumentParser:
    """The options of the submit command."""
    parser = Parser(prog=prog, description="Get a MAJA L2A time series: search the GEODES "
                    "catalogue for the products it holds (--source catalogue), or submit a "
                    "FULL_MAJA job to a WPS 1.0.0 service (PEPS) or an OGC API - Processes "
                    "service; record the search or job in a log file.")
    parser.add_argument("-t", "--tile", nargs="+", default=[], metavar="TILE",
                        help="MGRS tile(s), e.g. 36TWQ or T36TWQ; one job per tile")
    parser.add_argument("--tiles-file", metavar="FILE",
                        help="a file with one tile per line (# starts a comment)")
    parser.add_argument("-o", "--orbit", metavar="N", help="relative orbit, 1 to 143")
    parser.add_argument("-d", "--start-date", metavar="YYYY-MM-DD", required=True,
                        help="first day of the period")
    parser.add_argument("-e", "-f", "--end-date", metavar="YYYY-MM-DD", required=True,
                        help="last day of the period (processing: 2 to 12 months after "
                             "the first)")
    parser.add_argument("-l", "-g", "--log", metavar="FILE",
                        help="the job log to write (default: named after tile, orbit, period)")
    parser.add_argument("--append", action="store_true",
                        help="add the job(s) to a log that already holds jobs")
    parser.add_argument("--split", action="store_true",
                        help="cut a period longer than 12 months into several jobs")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="validate and print the document that would be POSTed: the "
                             "WPS Execute document unless --protocol ogcapi (the protocol is "
                             "not detected: nothing is sent, nothing written)")
    add_source_options(parser)
    add_common_options(parser)
    return parser


@dataclass(frozen=True)
class ProcessSettings(CommonSettings):
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
    def from_args(cls, args: argparse.Namespace) -> ProcessSettings:
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


def submit(settings: ProcessSettings, console: Console) -> ExitCode:
    """Validate, then submit one job per tile and period piece, and record them."""
    if settings.sources.searches:
        return _submit_from_source(settings, console)
    requests = _requests_from(settings)
    log_path = Path(settings.log or _default_log(requests))
    endpoint = resolve_endpoint(settings.url)
    check_transport(endpoint, settings.insecure_http)
    check_log_is_free(log_path, settings.append)
    if settings.dry_run:
        _print_dry_run(console, endpoint, settings.protocol, requests, log_path)
        return ExitCode.OK
    with open_client(settings, endpoint) as client:
        try:
            records = client.submit(requests, log_path, append=settings.append)
        except FullMajaError as exc:
            _report_partial_submission(console, exc, log_path, settings)
            raise
    for record in records:
        console.result(f"Submitted job {record.job_id} ({record.describe()}).")
    console.result(f"Job log: {log_path}")
    console.info("Processing takes about an hour for the first date and 25 minutes for each "
                 "further date. To follow the job(s) and download the products, run:")
    console.info("  " + _download_command(settings, log_path, requests))
    return ExitCode.OK


def _submit_from_source(settings: ProcessSettings, console: Console) -> ExitCode:
    """`--source catalogue` or `--source auto`: the searches, then processing where needed."""
    requests = search_requests(_tiles(settings), settings.orbit, settings.start_date,
                               settings.end_date, settings.max_cloud)
    endpoint = resolve_endpoint(settings.url)
    job = Submission(
        settings.sources,
        log_path=lambda found: Path(settings.log or _default_log(found)),
        open_processing=lambda: open_client(settings, endpoint),
        download_command=lambda log_path, tiles: download_command(
            settings, log_path, tiles[0] if len(set(tiles)) == 1 else "products"),
        processing_requests=lambda tile: validate_request(
            tile, settings.orbit, settings.start_date, settings.end_date,
            split=settings.split))
    if settings.source == AUTO:
        check_transport(endpoint, settings.insecure_http)
    return submit_from_source(job, requests, append=settings.append,
                              dry_run=settings.dry_run,
                              insecure_http=settings.insecure_http, console=console)


def _tiles(settings: ProcessSettings) -> list[str]:
    tiles = list(settings.tiles)
    if settings.tiles_file:
        tiles += read_tiles_file(settings.tiles_file)
    if not tiles:
        raise UsageError("give at least one tile with -t/--tile or --tiles-file")
    return tiles


def _requests_from(settings: ProcessSettings) -> list[JobRequest]:
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


def _report_partial_submission(console: Console, exc: FullMajaError, log_path: Path,
                                settings: ProcessSettings) -> None:
    if isinstance(exc, UnrecordedJobError):
        report_unrecorded(console, exc, settings)
    if exc.accepted:
        ids = ", ".join(f"{record.job_id} ({record.tile})" for record in exc.accepted)
        console.warning(f"accepted before the failure and recorded in {log_path}: {ids}")
    if exc.remaining and exc.accepted:
        tiles = " ".join(dict.fromkeys(request.tile for request in exc.remaining))
        console.warning(f"still to submit (use --append -l {log_path}): {tiles}")


def _download_command(settings: ProcessSettings, log_path: Path,
                      requests: list[JobRequest]) -> str:
    tiles = list(dict.fromkeys(request.tile for request in requests))
    return download_command(settings, log_path, tiles[0] if len(tiles) == 1 else "products")


PROCESS = Command("full_maja_process", process_parser, ProcessSettings.from_args, submit,
                  "interrupted; if the submission was sent, check the log before submitting "
                  "again")


def process_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of full_maja_process.py."""
    return run(PROCESS, argv)
