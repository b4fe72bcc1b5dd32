"""The words full-maja uses for where things stand, shared by the engine and what users read.

Each is a `str` enum: its value is the word printed in reports and written in
`--json` output, so the output stays the same while mypy checks every use.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, NamedTuple, Optional
from urllib.parse import urlsplit

OVER_CLOUDY = "over 90 % cloudy"
"""Why MAJA issues no product for a date: the words the text report and the page share."""
QUEUE_LIMIT = "PEPS runs at most 10 FULL_MAJA jobs at once for all its users"
"""Why a job of PEPS waited in the queue, as the text report and the page both say it."""
QUEUE_ANY = "the server runs a limited number of jobs at once for all its users"
"""Why a job waits in the queue of any other server."""
PEPS_HOST = "peps.cnes.fr"
NO_MESSAGE = "none given"
"""What stands for a failed job's server message when the server gave none."""
LEFT_TO_ANOTHER_RUN = "another full-maja run is writing it; left to that run"
"""Why a product still to come is not on disk: another run sharing the folder writes it
(any other, a product on tape at its source, is for a later run)."""


def is_peps(endpoint: Optional[str]) -> bool:
    """True for an endpoint on PEPS (which closed on 2026-03-25)."""
    try:
        return urlsplit(endpoint or "").hostname == PEPS_HOST
    except ValueError:
        return False


def queue_reason(endpoint: Optional[str]) -> str:
    """Why a job of `endpoint` waits in the queue: PEPS's own limit only for PEPS's jobs."""
    return QUEUE_LIMIT if is_peps(endpoint) else QUEUE_ANY


class _Word(str, Enum):
    """A word that prints, formats and serializes as its value."""

    def __str__(self) -> str:
        return str(self.value)


class JobPhase(_Word):
    """Where a job stands, whatever the server calls it."""

    QUEUED = "queued"
    PROCESSING = "processing"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        """True once a job in this phase will not change any more."""
        return self in (JobPhase.FINISHED, JobPhase.FAILED)


class Protocol(_Word):
    """The protocols a source of products may speak: two processing services, a catalogue."""

    WPS = "wps"
    OGCAPI = "ogcapi"
    CATALOGUE = "catalogue"

    @property
    def processes(self) -> bool:
        """True for a service that processes jobs (not a catalogue of existing products)."""
        return self != Protocol.CATALOGUE


class ProductOutcome(_Word):
    """What became of one product of a finished job."""

    DOWNLOADED = "downloaded"
    PRESENT = "already present"
    CLOUDY = "cloudy"
    MISSING = "missing"
    FAILED = "failed"
    READY = "ready"

    @property
    def on_disk(self) -> bool:
        """True when the product is in the write folder."""
        return self in (ProductOutcome.DOWNLOADED, ProductOutcome.PRESENT)

    @property
    def word(self) -> str:
        """The word of the text report's series table."""
        return _OUTCOME_WORDS[self]

    @property
    def mark(self) -> DateMark:
        """How the series page shows a date with this outcome."""
        return _MARKS[self]


class DateMark(_Word):
    """The colour of a date on the series page, in legend order; the value is its CSS name."""

    ON_DISK = "downloaded"
    CLOUDY = "cloudy"
    MISSING = "missing"
    FAILED = "failed"
    TO_COME = "to-come"

    @property
    def label(self) -> str:
        """The word the page shows for a date with this mark."""
        return _MARK_WORDS[self].label

    @property
    def legend(self) -> str:
        """What the mark means, as the page's legend says it."""
        return _MARK_WORDS[self].legend

    @property
    def placeholder(self) -> str:
        """What a date's card shows in place of a quick-look."""
        return _MARK_WORDS[self].placeholder


_OUTCOME_WORDS = {ProductOutcome.DOWNLOADED: "downloaded", ProductOutcome.PRESENT: "on disk",
                  ProductOutcome.CLOUDY: "cloudy", ProductOutcome.MISSING: "missing",
                  ProductOutcome.FAILED: "FAILED", ProductOutcome.READY: "ready"}


class _MarkWords(NamedTuple):
    """The words of one date mark: its label, legend and quick-look placeholder."""

    label: str
    legend: str
    placeholder: str


_MARK_WORDS = {
    DateMark.ON_DISK: _MarkWords("downloaded", "the L2A product is on disk",
                                 "no quick-look in the product"),
    DateMark.CLOUDY: _MarkWords("cloudy", f"{OVER_CLOUDY}, not issued (NOVALD)",
                                f"{OVER_CLOUDY}: no product"),
    DateMark.MISSING: _MarkWords(
        "missing", "not processed (split acquisition, or tape robot overloaded)",
        "not processed"),
    DateMark.FAILED: _MarkWords("failed", "could not be downloaded: run again",
                                "download failed"),
    DateMark.TO_COME: _MarkWords("still to come", "not processed or not downloaded yet",
                                 "not downloaded yet"),
}


_MARKS = {ProductOutcome.DOWNLOADED: DateMark.ON_DISK, ProductOutcome.PRESENT: DateMark.ON_DISK,
          ProductOutcome.CLOUDY: DateMark.CLOUDY, ProductOutcome.MISSING: DateMark.MISSING,
          ProductOutcome.FAILED: DateMark.FAILED, ProductOutcome.READY: DateMark.TO_COME}


class ProgressKind(_Word):
    """The kinds of progress event a download sends."""

    START = "start"
    ADVANCE = "advance"
    FINISH = "finish"


@dataclass(frozen=True)
class Progress:
    """A progress event of one product's download."""

    kind: ProgressKind
    name: str
    total: Optional[int] = None
    done: int = 0
    step: int = 0
    outcome: Optional[ProductOutcome] = None


ProgressCallback = Callable[[Progress], None]
