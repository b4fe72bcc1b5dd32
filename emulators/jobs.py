"""A FULL_MAJA job as the emulator keeps it: its inputs, products and progress."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List

from .acquisitions import ProductPlan, is_cloudy

ACCEPTED, STARTED, SUCCEEDED, FAILED = "accepted", "started", "succeeded", "failed"
PERCENT_BEFORE_STALLED = 0
FIRST_STALLED_PERCENT, LAST_STALLED_PERCENT = 35, 80


@dataclass
class Job:
    """One submitted job; `refreshes` and `status_gets` move it along its timeline."""

    id: str
    params: Dict[str, Any]
    timeline: List[str]
    registration_polls: int
    process_failed: bool
    plan: ProductPlan
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    status_gets: int = 0
    refreshes: int = 0

    @property
    def step(self) -> int:
        """The index of the current timeline step (it stays at the last)."""
        return min(self.refreshes, len(self.timeline) - 1)

    @property
    def state(self) -> str:
        """The job_status the report shows now."""
        return self.timeline[self.step]

    @property
    def final_state(self) -> str:
        """The job_status the job ends in."""
        return self.timeline[-1]

    @property
    def registered(self) -> bool:
        """Whether the status document holds the report reference (and the report exists)."""
        if self.process_failed:
            return False
        return self.registration_polls <= 0 or self.status_gets > self.registration_polls

    def status_phase(self) -> str:
        """What the status document says now: accepted, started, succeeded or failed."""
        if self.process_failed:
            return FAILED
        if self.registered:
            return SUCCEEDED
        return ACCEPTED if self.status_gets <= 1 else STARTED

    def started_percent(self) -> int:
        """The percentCompleted of a ProcessStarted status, growing with each GET."""
        return min(95, 20 * max(1, self.status_gets - 1))

    def progress(self) -> str:
        """The report's `process` figure, e.g. "35%"."""
        percent = PERCENT_BEFORE_STALLED
        stalled_total = self.timeline.count("STALLED")
        stalled_seen = 0
        for state in self.timeline[:self.step + 1]:
            if state == "STALLED":
                percent = _stalled_percent(stalled_seen, stalled_total)
                stalled_seen += 1
            elif state == "FINISHED":
                percent = 100
        return f"{percent}%"

    def downloadable(self, name: str) -> bool:
        """Whether the job delivers a product of this name that has content."""
        return self.plan.delivers(name) and not is_cloudy(name)


def _stalled_percent(seen: int, total: int) -> int:
    """The progress of the seen-th STALLED step out of total, from 35 to 80."""
    if total <= 1:
        return FIRST_STALLED_PERCENT
    spread = LAST_STALLED_PERCENT - FIRST_STALLED_PERCENT
    return FIRST_STALLED_PERCENT + round(spread * seen / (total - 1))


class JobIds:
    """Makes job ids: PEPS-like growing digits (centiseconds since 1970) or UUIDs."""

    def __init__(self) -> None:
        """Start from the clock."""
        self._last = 0

    def next(self, style: str) -> str:
        """A new unique id in the given style ("digits" or "uuid")."""
        if style == "uuid":
            return str(uuid.uuid4())
        self._last = max(self._last + 1, int(time.time() * 100))
        return str(self._last)
