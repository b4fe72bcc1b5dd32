"""The submit command's sources: a catalogue search, or per tile the catalogue else processing.

`add_source_options` puts `--source`, `--catalogue-url` and `--max-cloud` on a parser;
`submit_from_source` runs `--source catalogue` and `--source auto` (`--source process`
is the submit command's own flow).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ..client import Client
from ..console import Console
from ..endpoints import CATALOGUE_VARIABLE, DEFAULT_CATALOGUE, resolve_catalogue
from ..errors import UsageError
from ..joblog import check_log_is_free
from ..jobrecord import JobRecord
from ..products import acquisition_date
from ..service import JobState, submission_preview
from ..session import check_transport
from ..validation import JobRequest, validate_search
from .status import ExitCode

PROCESSING, CATALOGUE, AUTO = "process", "catalogue", "auto"
SOURCES = (PROCESSING, CATALOGUE, AUTO)


def add_source_options(parser: argparse._ActionsContainer) -> None:
    """The options choosing where a series comes from."""
    parser.add_argument("--source", choices=SOURCES, default=PROCESSING,
                        help="process: submit processing jobs (default); catalogue: search "
                             "the GEODES catalogue for the MAJA L2A products it already "
                             "holds (no 2-to-12-month limit); auto: per tile, the catalogue "
                             "when it holds products of the tile in the period, else a "
                             "processing job")
    parser.add_argument("--catalogue-url", metavar="URL",
                        help=f"the catalogue's STAC API (default: ${CATALOGUE_VARIABLE}, "
                             f"else {DEFAULT_CATALOGUE})")
    parser.add_argument("--max-cloud", metavar="PCT",
                        help="with the catalogue: skip dates cloudier than this percentage "
                             "(they are reported as skipped for clouds)")


@dataclass(frozen=True)
class SourceSettings:
    """What the source options say, and what the submit command tells them."""

    source: str
    catalogue_url: Optional[str]
    max_cloud: Optional[str]

    @property
    def searches(self) -> bool:
        """True when the catalogue is searched (catalogue, auto)."""
        return self.source != PROCESSING

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SourceSettings:
        """The source options, refused in one line where they contradict the others."""
        if args.source == PROCESSING:
            for option in ("catalogue_url", "max_cloud"):
                if getattr(args, option) is not None:
                    name = "--" + option.replace("_", "-")
                    raise UsageError(f"{name} only works with --source catalogue or auto")
        if args.source == CATALOGUE:
            for option, name in (("url", "--url"), ("protocol", "--protocol"),
                                 ("split", "--split")):
                if getattr(args, option):
                    raise UsageError(f"{name} names a processing service's setting; "
                                     "--source catalogue searches --catalogue-url")
        return cls(args.source, args.catalogue_url, args.max_cloud)


@dataclass(frozen=True)
class Submission:
    """What the submit command hands a source flow: its source options and how to act."""

    source: SourceSettings
    log_path: Callable[[list[JobRequest]], Path]
    open_processing: Callable[[], Client]
    download_command: Callable[[Path, list[str]], str]
    processing_requests: Callable[[str], list[JobRequest]]


def search_requests(tiles: Sequence[str], orbit: Optional[str], start: str, end: str,
                    max_cloud: Optional[str]) -> list[JobRequest]:
    """One catalogue search per tile, checked (any period, the start before the end)."""
    return [validate_search(tile, orbit, start, end, max_cloud)
            for tile in dict.fromkeys(tiles)]


def submit_from_source(job: Submission, requests: list[JobRequest], *, append: bool,
                       dry_run: bool, insecure_http: bool, console: Console) -> ExitCode:
    """Run `--source catalogue` or `--source auto`."""
    catalogue = resolve_catalogue(job.source.catalogue_url)
    check_transport(catalogue, insecure_http)
    log_path = job.log_path(requests)
    check_log_is_free(log_path, append)
    if dry_run:
        return _dry_run(console, catalogue, requests, log_path)
    with Client(catalogue, protocol=CATALOGUE, insecure_http=insecure_http) as client:
        states = client.search(requests)
        found, fallback = (list(zip(requests, states)), []) if job.source.source == CATALOGUE \
            else _sorted_out(requests, states, console)
        processing = [piece for request in fallback
                      for piece in job.processing_requests(request.tile)]
        records = client.submit([request for request, _ in found], log_path,
                                append=append) if found else []
    for record, (_, state) in zip(records, found):
        console.result(found_line(record, state))
        for note in state.notes:  # items left out, fewer listed than matched, still growing
            console.info(f"  Note: {note}")
    if processing:
        with job.open_processing() as processor:
            for record in processor.submit(processing, log_path, append=append or bool(found)):
                console.result(f"Submitted job {record.job_id} ({record.describe()}).")
    console.result(f"Job log: {log_path}")
    key = (" (the catalogue's need an API key: --api-key-file FILE or $FULL_MAJA_API_KEY)"
           if found else "")
    console.info(f"To download the products{key}, run:")
    console.info("  " + job.download_command(log_path, [r.tile for r in requests]))
    return ExitCode.OK


def found_line(record: JobRecord, state: JobState) -> str:
    """`Found 66 products over 146 dates (80 skipped for clouds) ... : catalogue job ID.`"""
    refs = state.report.results if state.report else []
    dates = {acquisition_date(ref.label) or ref.label for ref in refs}
    cloudy = sum(1 for ref in refs if ref.cloudy)
    return (f"Found {len(refs) - cloudy} products over {len(dates)} dates "
            f"({cloudy} skipped for clouds) in the catalogue, {record.describe()}: "
            f"catalogue job {record.job_id}.")


def _sorted_out(requests: list[JobRequest], states: list[JobState],
                console: Console) -> tuple[list[tuple[JobRequest, JobState]], list[JobRequest]]:
    """Per tile: the catalogue when it holds products of the tile in the period, else processing."""
    found: list[tuple[JobRequest, JobState]] = []
    fallback: list[JobRequest] = []
    for request, state in zip(requests, states):
        refs = state.report.results if state.report else []
        if refs:
            console.info(f"Tile {request.tile}: the catalogue holds {len(refs)} dates of the "
                         "period; using the catalogue.")
            found.append((request, state))
        else:
            console.info(f"Tile {request.tile}: the catalogue holds no product of the tile "
                         "in the period; submitting a processing job.")
            fallback.append(request)
    return found, fallback


def _dry_run(console: Console, catalogue: str, requests: list[JobRequest],
             log_path: Path) -> ExitCode:
    for request in requests:
        url, document = submission_preview(catalogue, CATALOGUE, request)
        console.result(f"Would POST to {url}, page after page (nothing sent, nothing "
                       "written):")
        console.result(document)
    console.result(f"Would record {len(requests)} search(es) in {log_path}")
    return ExitCode.OK

