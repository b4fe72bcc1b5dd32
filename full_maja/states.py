"""The words full-maja uses for where things stand, shared by the engine and what users read.

Each is a `str` enum: its value is the word printed in reports and written in
`--json` output, so the output stays the same while mypy checks every use.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Optional


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
    """The protocols a FULL_MAJA server may speak."""

    WPS = "wps"
    OGCAPI = "ogcapi"


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
        return _MARK_LABELS[self]


_OUTCOME_WORDS = {ProductOutcome.DOWNLOADED: "downloaded", ProductOutcome.PRESENT: "on disk",
                  ProductOutcome.CLOUDY: "cloudy", ProductOutcome.MISSING: "missing",
                  ProductOutcome.FAILED: "FAILED", ProductOutcome.READY: "ready"}
_MARK_LABELS = {DateMark.ON_DISK: "downloaded", DateMark.CLOUDY: "cloudy",
                DateMark.MISSING: "missing", DateMark.FAILED: "failed",
                DateMark.TO_COME: "still to come"}


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
