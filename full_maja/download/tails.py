"""The free connections that help with one product: the stretch of its tail each takes,
fetching it beside the main part, and when the product takes no more help.

A helper takes a stretch left by an earlier run, or cuts the tail off the slowest one
when the split policy says a new request saves more than it costs. A helper that fails
leaves its stretch to the main part; after a range refused, or `max_failures` helpers
broken off, the product is fetched by its main connection alone.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Optional

from ..errors import Cancelled, ProductError
from .parts import Segment
from .responses import BadBody, Interrupted, body_span, range_headers

if TYPE_CHECKING:
    from .transfer import ProductTransfer

log = logging.getLogger(__name__)


class TailHelpers:
    """The helper connections of one product transfer, and how they fared."""

    def __init__(self, transfer: ProductTransfer) -> None:
        self.transfer = transfer
        self.failures = 0
        self.refused = False

    def worth(self, now: float) -> float:
        """Seconds a free connection could take off this product now (0: nothing to take)."""
        transfer = self.transfer
        with transfer.lock:
            total = self._total()
            if total is None:
                return 0.0
            if transfer.parts.leftover(total) is not None:
                return float("inf")
            candidate = transfer.policy.candidate(transfer.parts.segments, total, now)
        return 0.0 if candidate is None else candidate[1]

    def take(self, now: float) -> Optional[Segment]:
        """A stretch for a free connection: one left by an earlier run, or a new tail."""
        transfer = self.transfer
        with transfer.lock:
            total = self._total()
            if total is None:
                return None
            leftover = transfer.parts.leftover(total)
            if leftover is not None:
                leftover.busy = True
                return leftover
            candidate = transfer.policy.candidate(transfer.parts.segments, total, now)
            return None if candidate is None else transfer.parts.split(candidate[0], total)

    def fetch(self, segment: Segment) -> None:
        """Fetch a stretch handed out by `take`; on any trouble leave it to the main part."""
        transfer = self.transfer
        try:
            self._fetch(segment)
        except (Interrupted, BadBody, ProductError, Cancelled, OSError) as exc:
            with transfer.lock:
                self.failures += 1
            log.debug("%s: the connection for bytes %d and on stopped (%s)", transfer.name,
                      segment.start, exc)
        finally:
            with transfer.lock:
                segment.busy = False
                segment.fetch_began = 0.0
                transfer.lock.notify_all()

    def _fetch(self, segment: Segment) -> None:
        """Fetch a tail over this connection, unless it was dropped meanwhile."""
        transfer = self.transfer
        with transfer.lock:
            offset, stop, total = segment.position, segment.stop(transfer.total), transfer.total
            dropped = segment.abandoned or transfer.stopped or transfer.cancel.is_set()
        if dropped or stop is None or offset >= stop:
            return
        with transfer.request(range_headers(offset, stop)) as response:
            span = body_span(response, offset) if response.status_code == 206 else None
            if span is None or span[1] != total:
                with transfer.lock:
                    self.refused = True
                raise Interrupted(f"HTTP {response.status_code} to a range request")
            transfer.receive(response, segment, None)

    def _total(self) -> Optional[int]:
        """The product's size while other connections may fetch stretches of it, else None."""
        transfer = self.transfer
        welcome = (transfer.ranged and not transfer.stopped and not transfer.cancel.is_set()
                   and not self.refused and self.failures < transfer.policy.max_failures)
        return transfer.total if welcome else None
