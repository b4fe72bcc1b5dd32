"""The series report: per job and per acquisition date, what the user has and lacks."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Callable, Iterable, Optional

from .download import ProductResult
from .download.facts import ProductFacts, Recorded, parse_provenance
from .errors import ProductError
from .products import ProductRef, acquisition_date
from .provenance import Provenance
from .service import JobState
from .states import JobPhase, ProductOutcome

EMPTY = "{}"
ProvenanceOf = Callable[[str], Optional[Recorded]]


@dataclass(frozen=True, slots=True)
class SeriesEntry:
    """One product of a series: its name, acquisition date, outcome and provenance (read
    from the product on disk, or from the metadata files its source publishes).

    The provenance is held as the verified record keeps it (`provenance_text`, compact
    JSON, and `shared_text`, what it shares with other products) and parsed only when
    asked (`provenance`): a report that is not shown costs no parsing, and its entries
    no copy of what the record already holds.
    """

    name: str
    date: Optional[date]
    outcome: ProductOutcome
    size: Optional[int] = None
    message: str = ""
    provenance_text: Optional[str] = None
    shared_text: Optional[str] = None

    @property
    def provenance(self) -> Optional[Provenance]:
        """What made the product, for a product on disk; None otherwise."""
        if self.provenance_text is None:
            return None
        return parse_provenance(self.provenance_text, self.shared_text)

    def as_json(self) -> dict[str, Any]:
        """The entry in the documented JSON schema (provenance fields for products on disk)."""
        provenance = self.provenance
        return {"name": self.name, "date": self.date.isoformat() if self.date else None,
                "outcome": self.outcome, "size": self.size,
                **({"message": self.message} if self.message else {}),
                **(provenance_json(provenance) if provenance else {})}


def provenance_json(provenance: Provenance) -> dict[str, Any]:
    """What `--json` tells of a product's provenance; null where the product does not say."""
    produced = provenance.production_date
    return {"product_version": provenance.product_version,
            "production_date": produced.isoformat().replace("+00:00", "Z") if produced else None,
            "cloud_cover": provenance.cloud_cover, "snow_cover": provenance.snow_cover,
            "cams": provenance.cams, "processing_mode": provenance.processing_mode}


@dataclass(frozen=True)
class JobSeries:
    """A job's state and, once it has finished, the outcome of each of its products."""

    state: JobState
    entries: list[SeriesEntry] = field(default_factory=list)

    def with_outcome(self, outcome: ProductOutcome) -> list[SeriesEntry]:
        """The entries with one outcome, in date order."""
        return [entry for entry in self.entries if entry.outcome == outcome]

    @property
    def unprocessed(self) -> Optional[int]:
        """How many products the server says it did not process."""
        return self.state.report.unprocessed if self.state.report else None

    @property
    def complete(self) -> bool:
        """True when the job finished and every product it issued is on disk."""
        return self.state.phase == JobPhase.FINISHED and not any(
            entry.outcome in (ProductOutcome.FAILED, ProductOutcome.READY)
            for entry in self.entries)

    def as_json(self, products: bool = True) -> dict[str, Any]:
        """The job in the documented JSON schema (`products` False: the job alone, its
        `products` and `missing` null)."""
        job, report = self.state.job, self.state.report
        return {"job_id": job.job_id, "tile": job.tile, "orbit": job.orbit,
                "start": job.start.isoformat() if job.start else None,
                "end": job.end.isoformat() if job.end else None,
                "state": self.state.server_state, "phase": self.state.phase,
                "progress": self.state.progress, "message": self.state.message or None,
                "replaces": job.replaces,
                "products": [entry.as_json() for entry in self.entries
                             if entry.outcome != ProductOutcome.MISSING] if products else None,
                "unprocessed": self.unprocessed,
                "missing": [{"name": entry.name,
                             "date": entry.date.isoformat() if entry.date else None}
                            for entry in self.with_outcome(ProductOutcome.MISSING)]
                if products else None,
                "logs": list(report.logs) if report else []}


def build_series(state: JobState, results: Iterable[ProductResult],
                 provenance: Optional[ProvenanceOf] = None,
                 announced: Optional[ProvenanceOf] = None) -> JobSeries:
    """Combine a job's report with what the downloads did (and the provenance on disk:
    `provenance` gives the record's texts of a product on disk; `announced`, those its
    source's metadata gave for a product that is not)."""
    report = state.report
    if report is None or state.phase != JobPhase.FINISHED:
        return JobSeries(state)
    by_url = {result.url: result for result in results}
    entries = [_with_announced(_entry_for(ref, by_url.get(ref.url), provenance), ref,
                               announced) for ref in report.results]
    entries += [SeriesEntry(name, acquisition_date(name), ProductOutcome.MISSING)
                for name in report.missing]
    return JobSeries(state, sorted(entries, key=_date_order))


def products_to_fetch(state: JobState) -> list[ProductRef]:
    """The products of a finished job that are worth downloading (not cloudy)."""
    if state.phase != JobPhase.FINISHED or state.report is None:
        return []
    return [ref for ref in state.report.results if not ref.cloudy]


def products_on_disk(state: JobState, holds: Callable[[ProductRef], bool]) -> list[ProductResult]:
    """The products of a finished job as a check finds them: on disk, or ready to fetch."""
    results = []
    for ref in products_to_fetch(state):
        try:
            name = ref.file_name()
        except ProductError:
            continue
        outcome = ProductOutcome.PRESENT if holds(ref) else ProductOutcome.READY
        results.append(ProductResult(ref.url, name, outcome))
    return results


def _entry_for(ref: ProductRef, result: Optional[ProductResult],
               provenance: Optional[ProvenanceOf]) -> SeriesEntry:
    if ref.cloudy:
        return SeriesEntry(ref.label, acquisition_date(ref.label), ProductOutcome.CLOUDY,
                           message=ref.skipped)
    try:
        name = ref.file_name()
    except ProductError as exc:
        name = exc.product or ref.url
    if result is None:
        return SeriesEntry(name, acquisition_date(name), ProductOutcome.FAILED,
                           message="not fetched")
    shown = result.name or name
    text, shared = (None, None) if provenance is None or not result.outcome.on_disk \
        else provenance(shown) or (EMPTY, None)
    return SeriesEntry(shown, acquisition_date(name), result.outcome, size=result.size,
                       message=result.message, provenance_text=text, shared_text=shared)


def _with_announced(entry: SeriesEntry, ref: ProductRef,
                    announced: Optional[ProvenanceOf]) -> SeriesEntry:
    """The entry with the provenance its source's metadata gave, when it has none of its own."""
    if announced is None or entry.provenance_text is not None:
        return entry
    texts = announced(ref.label)
    return entry if texts is None else replace(entry, provenance_text=texts[0],
                                               shared_text=texts[1])


def _date_order(entry: SeriesEntry) -> tuple[date, str]:
    return (entry.date or date.max, entry.name)


@dataclass(frozen=True)
class SeriesReport:
    """The state of every job of a log and of every product of the finished ones.

    `facts` are those of the write folder's products as the run that made the report
    left them (its record of verified products, read once per run): the page and the
    catalogue written after the run read them there rather than from disk again.
    """

    jobs: list[JobSeries]
    problems: list[str] = field(default_factory=list)
    facts: Optional[ProductFacts] = field(default=None, compare=False, repr=False)

    @property
    def waiting(self) -> list[JobSeries]:
        """Jobs still queued or processing."""
        return [job for job in self.jobs if not job.state.ended]

    @property
    def failed(self) -> list[JobSeries]:
        """Jobs that failed or were canceled, or that could not be checked."""
        return [job for job in self.jobs if job.state.phase == JobPhase.FAILED]

    @property
    def failed_products(self) -> list[SeriesEntry]:
        """Products that could not be downloaded or verified."""
        return [entry for job in self.jobs for entry in job.with_outcome(ProductOutcome.FAILED)]

    @property
    def complete(self) -> bool:
        """True when every job finished and every product is on disk."""
        return all(job.complete for job in self.jobs)

    def as_json(self) -> dict[str, Any]:
        """The whole report in the documented JSON schema."""
        return {"schema": "full-maja series report", "version": 1,
                "complete": self.complete, "jobs": [job.as_json() for job in self.jobs]}
