"""Moving one product's bytes into its part files, over one connection or several.

The product's own thread fetches the main part from byte 0 and resumes it
with `Range` when the connection breaks. When a connection is free and the
server honours ranges, the scheduler may cut the tail off a slow stretch and
hand it to another connection (`tails`); the main part absorbs each tail once
it reaches it, so the zip is checked in order (`partchecks`).
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import BinaryIO, Callable, Iterator, Optional

import requests
import urllib3

from ..atomic import open_own
from ..errors import (
    Cancelled,
    NetworkError,
    ProductError,
    RefusedElsewhere,
    ServiceError,
    UsageError,
)
from ..products import ProductRef
from ..session import PepsSession
from ..states import Progress, ProgressCallback, ProgressKind
from .connections import OpenConnections
from .digest import read_prefix
from .partchecks import PartChecks
from .parts import PartFiles, Segment, WriteBehind, file_size
from .policy import DEFAULT_SPLIT_POLICY, SplitPolicy
from .responses import (
    BadBody,
    Interrupted,
    accepts_ranges,
    bad_zip,
    body_chunks,
    body_span,
    check_body_start,
    check_status,
    describe_break,
    describe_disk_error,
    range_headers,
    unsatisfied_size,
)
from .tails import TailHelpers
from .zipcheck import CorruptZip

log = logging.getLogger(__name__)

RESUME_ATTEMPTS = 5
WAIT_STEP = 0.2
FORBIDDEN = 403


class ProductTransfer:
    """One product coming in: its main connection, and helpers on its tail."""

    def __init__(self, session: PepsSession, ref: ProductRef, name: str, parts: PartFiles, *,
                 cancel: threading.Event, on_progress: ProgressCallback,
                 policy: SplitPolicy = DEFAULT_SPLIT_POLICY,
                 connections: Optional[OpenConnections] = None) -> None:
        self.session, self.ref, self.name, self.parts = session, ref, name, parts
        self.url = ref.url
        self.policy = policy
        self.cancel = cancel
        self.connections = connections or OpenConnections()
        self.on_progress = on_progress
        self.lock = threading.Condition()
        self.total: Optional[int] = None
        self.ranged = False
        self.stopped = False
        self.until_eof = False
        self.checks = PartChecks(ref.md5)
        self.helpers = TailHelpers(self)

    def run(self) -> tuple[int, PartChecks]:
        """Bring the whole product into the main part; its size and its checks."""
        failures = 0
        try:
            while True:
                self._raise_if_cancelled()
                self._absorb_ready_segments()
                if self._complete():
                    self._checks_of_whole_part()
                    return self.parts.head.have, self.checks
                try:
                    self._advance()
                except Interrupted as exc:
                    self._raise_if_cancelled()  # the run hung up its connections: no resuming
                    failures += 1
                    if failures >= RESUME_ATTEMPTS:
                        raise ProductError(f"{self.name}: the transfer kept breaking off ({exc}); "
                                           "the part already fetched is kept for the next run",
                                           product=self.name) from None
                    log.warning("%s: %s; resuming", self.name, exc)
        finally:
            self.stop()

    def stop(self) -> None:
        """Let no helper write any more: the product is done, failed or being dropped."""
        with self.lock:
            self.stopped = True
            self.lock.notify_all()

    def _raise_if_cancelled(self) -> None:
        """Raise Cancelled once the run is asked to stop."""
        if self.cancel.is_set():
            raise Cancelled(f"stopped while fetching {self.name}; the part already fetched "
                            "is kept for the next run")

    def _complete(self) -> bool:
        """True when the main part holds the whole product and no tail is left apart."""
        with self.lock:
            if self.parts.has_tails:
                return False
            return self.until_eof or (self.total is not None and self.parts.head.have == self.total)

    def _advance(self) -> None:
        """Fetch more of the main part, or help with the stretch it is waiting for."""
        head = self.parts.head
        with self.lock:
            head_open = head.end is None or head.have < head.end
        if head_open:
            self._fetch_head()
            return
        segment = self.helpers.take(time.monotonic())
        if segment is not None:
            self.helpers.fetch(segment)
            return
        with self.lock:
            self.lock.wait(WAIT_STEP)

    def _absorb_ready_segments(self) -> None:
        """Append every stretch that the main part has reached and nobody is fetching."""
        while True:
            with self.lock:
                following = self.parts.next_absorbable()
                if following is None:
                    return
                following.busy = True
            try:
                self._bring_checks_up_to_date()
                copied = self.parts.append_to_head(following, self.checks.feed, self.cancel)
            except BaseException as exc:
                with self.lock:
                    following.busy = False
                if isinstance(exc, CorruptZip):
                    raise bad_zip(exc) from None
                if isinstance(exc, OSError):
                    raise ProductError(describe_disk_error(self.name, exc, removed=False),
                                       product=self.name) from None
                raise
            with self.lock:
                self.parts.merge_into_head(following, copied)

    def _fetch_head(self) -> None:
        """Fetch the main part from where it stops, up to its end."""
        head = self.parts.head
        with self.lock:
            offset, end = head.have, head.end
        headers = range_headers(offset, end)
        with self.request(headers) as response:
            if response.status_code == 416 and "Range" in headers:
                self._take_refused_range(response)
                return
            total = self._take_head_answer(response, offset)
            self.on_progress(Progress(ProgressKind.START, self.name, total=total,
                                      done=self.parts.bytes_on_disk()))
            self._resume_check()
            self.receive(response, head, self.checks.feed)

    def _take_head_answer(self, response: requests.Response, offset: int) -> Optional[int]:
        """Check the main connection's answer and learn from it; the product's size."""
        self._raise_if_key_refused(response)
        check_status(response, self.name)
        span = body_span(response, offset)
        if span is None:
            self._start_over()
            raise Interrupted("the server's Content-Range does not match; starting over")
        start, total = span
        if start != offset:
            log.warning("%s: the server cannot resume, fetching it from the start", self.name)
            self._start_over()
        if self.ref.size is not None and total is not None and total != self.ref.size:
            raise BadBody(f"the server sends {total} bytes, its source publishes "
                          f"{self.ref.size}")
        self._learn(response, total)
        return total

    def _raise_if_key_refused(self, response: requests.Response) -> None:
        """A 403 from the endpoint's origin to a key (or to no account) is a refused key."""
        account = self.session.account
        if response.status_code != FORBIDDEN or account is None:
            return
        where = response.url or self.url
        if account.applies_to(where) and (account.api_key is not None
                                          or account.credentials is None):
            raise account.refusal(FORBIDDEN, where)

    def _take_refused_range(self, response: requests.Response) -> None:
        """Accept a 416 for a product already whole; else start over."""
        if self._already_whole(response):
            return
        self._start_over()
        raise Interrupted("the server refused to resume; starting over")

    def _resume_check(self) -> None:
        """Bring the streaming check up to date; start over if the kept part is damaged."""
        try:
            self._bring_checks_up_to_date()
        except CorruptZip:
            self._start_over()
            raise Interrupted("the part kept from an earlier run is damaged; "
                              "starting over") from None

    def _already_whole(self, response: requests.Response) -> bool:
        """True when a 416 says the product has exactly the bytes the main part holds.

        That happens when an earlier run stopped after the last byte arrived but
        before the rename: the product is then checked, not fetched again.
        """
        size = unsatisfied_size(response)
        with self.lock:
            if size is None or self.parts.has_tails or size != self.parts.head.have:
                return False
            self.total = self.parts.head.have
        return True

    @contextmanager
    def request(self, headers: dict[str, str]) -> Iterator[requests.Response]:
        """The product's response, streamed, among the open connections while it is read."""
        try:
            response = self.session.get(self.url, headers=headers, stream=True)
        except (NetworkError, UsageError, RefusedElsewhere, ServiceError) as exc:
            raise ProductError(f"{self.name}: {exc}", product=self.name) from None
        with self.connections.holding(response):
            yield response

    def _learn(self, response: requests.Response, total: Optional[int]) -> None:
        """Note the product's size and whether the server honours ranges."""
        with self.lock:
            known = self.total
            fits = total is None or self.parts.fits(total)
        if (known is not None and total is not None and total != known) or not fits:
            self._start_over()
            raise Interrupted("the product's size changed on the server; starting over")
        with self.lock:
            self.total = total if total is not None else known
            self.ranged = accepts_ranges(response)

    def _start_over(self) -> None:
        """Drop every part file: the next request fetches the product from byte 0."""
        with self.lock:
            self.parts.remove_all()
            self.total = None
            self.until_eof = False
            self.checks.reset()

    def _checks_of_whole_part(self) -> None:
        """Make sure the checks saw every byte (a part found whole needs one read of it)."""
        try:
            self._bring_checks_up_to_date()
        except CorruptZip as exc:
            raise BadBody(str(exc)) from None

    def _bring_checks_up_to_date(self) -> None:
        """Have the checks see the main part's bytes kept on disk, if they have not: one read
        of the kept part serves both."""
        have = self.parts.head.have
        if self.checks.seen != have:
            self.checks.restart(read_prefix(self.parts.main, have))

    def receive(self, response: requests.Response, segment: Segment,
                feed: Optional[Callable[[bytes], None]]) -> None:
        """Append the body to the segment's file, up to the segment's end."""
        try:
            handle = self._open_segment(segment)
            if handle is None:
                return
            with handle:
                handle.truncate(segment.have)
                handle.seek(segment.have)
                self._write_pieces(response, segment, handle, feed)
        except CorruptZip as exc:
            raise bad_zip(exc) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise Interrupted(describe_break(exc)) from None
        except OSError as exc:
            if segment is not self.parts.head:
                with self.lock:
                    segment.have = file_size(segment.path) or 0
                raise
            with self.lock:
                self.parts.remove_all()
            raise ProductError(describe_disk_error(self.name, exc), product=self.name) from None
        finally:
            with self.lock:
                segment.fetch_began = 0.0
        self._check_received(segment)

    def _open_segment(self, segment: Segment) -> Optional[BinaryIO]:
        """The segment's file, open to append, unless the segment was dropped meanwhile.

        It is opened under the lock, so that a start-over that deletes the part
        files cannot miss a file being created at that very moment.
        """
        with self.lock:
            if segment.abandoned or self.stopped:
                return None
            segment.fetch_began, segment.fetched = time.monotonic(), 0
            return open_own(segment.path, "ab")

    def _write_pieces(self, response: requests.Response, segment: Segment, handle: BinaryIO,
                      feed: Optional[Callable[[bytes], None]]) -> None:
        behind = WriteBehind(handle) if segment is self.parts.head else None
        first = True
        for chunk in body_chunks(response):
            self._raise_if_cancelled()
            if first:
                check_body_start(chunk, segment.position, response)
                first = False
            with self.lock:
                if segment.abandoned or self.stopped:
                    return
                stop = segment.stop(self.total)
                take = len(chunk) if stop is None else min(len(chunk), stop - segment.position)
                if take < len(chunk) and segment.end is None:
                    raise BadBody(f"the server sent more than the {stop} bytes it announced")
                segment.have += take
                segment.fetched += take
            piece = chunk if take == len(chunk) else chunk[:take]
            if feed is not None:
                feed(piece)
            handle.write(piece)
            if behind is not None:
                behind.wrote(take)
            self.on_progress(Progress(ProgressKind.ADVANCE, self.name, total=self.total,
                                      done=segment.position, step=take))
            if segment.end is not None and stop is not None and segment.position >= stop:
                return

    def _check_received(self, segment: Segment) -> None:
        """Raise Interrupted if the body ended before the segment's end."""
        with self.lock:
            if segment.abandoned or self.stopped:
                return
            stop, position = segment.stop(self.total), segment.position
            if stop is None and segment is self.parts.head:
                self.until_eof = True
        if stop is not None and position < stop:
            raise Interrupted(f"got {position} of {stop} bytes")
