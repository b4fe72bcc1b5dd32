"""When a free connection may take the tail of a product still coming in."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .parts import Segment

MIB = 1024 * 1024


@dataclass(frozen=True)
class SplitPolicy:
    """The thresholds for splitting a stretch: a new request must save more than it costs.

    A stretch is split only when its rate has been measured for `rate_window`
    seconds and the rest would take at least `min_seconds` on its connection and
    is at least `min_bytes` long; a product stops taking helpers after
    `max_failures` of them broke off.
    """

    min_bytes: int = 8 * MIB
    min_seconds: float = 2.0
    rate_window: float = 0.5
    max_failures: int = 5

    def seconds_left(self, segment: Segment, total: Optional[int], now: float) -> float:
        """How long the rest of a stretch being fetched would take at its rate (0: unknown)."""
        elapsed = now - segment.fetch_began
        remaining = segment.remaining(total)
        if not segment.fetch_began or elapsed < self.rate_window or not segment.fetched or \
                remaining is None or remaining < self.min_bytes:
            return 0.0
        return remaining / (segment.fetched / elapsed)

    def candidate(self, segments: Iterable[Segment], total: Optional[int],
                  now: float) -> Optional[tuple[Segment, float]]:
        """The stretch with the most time left, and that time, if splitting it pays off."""
        best: Optional[tuple[Segment, float]] = None
        for segment in segments:
            seconds = self.seconds_left(segment, total, now)
            if seconds >= self.min_seconds and (best is None or seconds > best[1]):
                best = (segment, seconds)
        return best


DEFAULT_SPLIT_POLICY = SplitPolicy()
