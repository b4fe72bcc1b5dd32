"""Moving one product's bytes into its part files, over one connection or several.

The product's own thread fetches the main part from byte 0 and resumes it
with `Range` when the connection breaks. When a connection is free and the
server honours ranges, the scheduler may cut the tail off a slow stretch and
hand it to another connection (`split` then `fetch_side`); the main part
absorbs each tail once it reaches it, so the zip is checked in order.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import BinaryIO, Callable, Optional

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
from .digest import StreamDigest, read_prefix
from .parts import PartFiles, Segment, WriteBehind, file_size
from .policy import DEFAULT_SPLIT_POLICY, SplitPolicy
from .responses import (
    BadBody,
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
from .zipcheck import CorruptZip, StreamingZipCheck

log = logging.getLogger(__name__)

RESUME_ATTEMPTS = 5
WAIT_STEP = 0.2
FORBIDDEN = 403


class Interrupted(Exception):
    """The transfer stopped early and can resume from the part files."""


class ProductTransfer:
    """One product coming in: its main connection, and helpers on its tail."""

    def __init__(self, session: PepsSession, ref: ProductRef, name: str, parts: PartFiles, *,
                 cancel: threading.Event, on_progress: ProgressCallback,
                 policy: SplitPolicy = DEFAULT_SPLIT_POLICY) -> None:
        self.session, self.ref, self.name, self.parts = session, ref, name, parts
        self.url = ref.url
        self.policy = policy
        self.cancel = cancel
        self.on_progress = on_progress
        self.lock = threading.Condition()
        self.total: Optional[int] = None
        self.ranged = False
        self.side_failures = 0
        self.helper_refused = False
        self.stopped = False
        self.until_eof = False
        self.check = StreamingZipCheck()
        self.digest = self._new_digest()
        self.checked = 0

    def run(self) -> tuple[int, StreamingZipCheck]:
        """Bring the whole product into the main part; its size and its streaming check."""
        failures = 0
        try:
            while True:
                self._raise_if_cancelled()
                self._absorb_ready_segments()
                if self._complete():
                    self._checks_of_whole_part()
                    return self.parts.head.have, self.check
                try:
                    self._advance()
                except Interrupted as exc:
                    failures += 1
                    if failures >= RESUME_ATTEMPTS:
                        raise ProductError(f"{self.name}: the transfer kept breaking off ({exc}); "
                                           "the part already fetched is kept for the next run",
                                           product=self.name) from None
                    log.warning("%s: %s; resuming", self.name, exc)
        finally:
            self.stop()

    def check_published(self, size: int) -> None:
        """Raise BadBody unless the whole product has the size and MD5 its source publishes."""
        if self.ref.size is not None and size != self.ref.size:
            raise BadBody(f"it has {size} bytes, its source publishes {self.ref.size}")
        problem = self.digest.mismatch()
        if problem is not None:
            raise BadBody(problem)

    def stop(self) -> None:
        """Let no helper write any more: the product is done, failed or being dropped."""
        with self.lock:
            self.stopped = True
            self.lock.notify_all()

    def split_worth(self, now: float) -> float:
        """Seconds a free connection could take off this product now (0: nothing to take)."""
        with self.lock:
            total = self._total_for_helpers()
            if total is None:
                return 0.0
            if self.parts.leftover(total) is not None:
                return float("inf")
            candidate = self.policy.candidate(self.parts.segments, total, now)
        return 0.0 if candidate is None else candidate[1]

    def take_work(self, now: float) -> Optional[Segment]:
        """A stretch for a free connection: one left by an earlier run, or a new tail."""
        with self.lock:
            total = self._total_for_helpers()
            if total is None:
                return None
            leftover = self.parts.leftover(total)
            if leftover is not None:
                leftover.busy = True
                return leftover
            candidate = self.policy.candidate(self.parts.segments, total, now)
            return None if candidate is None else self.parts.split(candidate[0], total)

    def fetch_side(self, segment: Segment) -> None:
        """Fetch a stretch handed out by `take_work`; on any trouble leave it to the main part."""
        try:
            self._fetch_side(segment)
        except (Interrupted, BadBody, ProductError, Cancelled, OSError) as exc:
            with self.lock:
                self.side_failures += 1
            log.debug("%s: the connection for bytes %d and on stopped (%s)", self.name,
                      segment.start, exc)
        finally:
            with self.lock:
                segment.busy = False
                segment.fetch_began = 0.0
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
        segment = self.take_work(time.monotonic())
        if segment is not None:
            self.fetch_side(segment)
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
                copied = self.parts.append_to_head(following, self._feed_check, self.cancel)
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
        with self._get(headers) as response:
            if response.status_code == 416 and "Range" in headers:
                self._take_refused_range(response)
                return
            total = self._take_head_answer(response, offset)
            self.on_progress(Progress(ProgressKind.START, self.name, total=total,
                                      done=self.parts.bytes_on_disk()))
            self._resume_check()
            self._receive(response, head, self._feed_check)

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

    def _fetch_side(self, segment: Segment) -> None:
        """Fetch a tail over this connection, unless it was dropped meanwhile."""
        with self.lock:
            offset, stop, total = segment.position, segment.stop(self.total), self.total
            dropped = segment.abandoned or self.stopped or self.cancel.is_set()
        if dropped or stop is None or offset >= stop:
            return
        with self._get(range_headers(offset, stop)) as response:
            span = body_span(response, offset) if response.status_code == 206 else None
            if span is None or span[1] != total:
                with self.lock:
                    self.helper_refused = True
                raise Interrupted(f"HTTP {response.status_code} to a range request")
            self._receive(response, segment, None)

    def _get(self, headers: dict[str, str]) -> requests.Response:
        """The product's response, streamed; a network failure fails the product."""
        try:
            return self.session.get(self.url, headers=headers, stream=True)
        except (NetworkError, UsageError, RefusedElsewhere, ServiceError) as exc:
            raise ProductError(f"{self.name}: {exc}", product=self.name) from None

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
            self.check = StreamingZipCheck()
            self.digest = self._new_digest()
            self.checked = 0

    def _checks_of_whole_part(self) -> None:
        """Make sure the checks saw every byte (a part found whole needs one read of it)."""
        try:
            self._bring_checks_up_to_date()
        except CorruptZip as exc:
            raise BadBody(str(exc)) from None

    def _new_digest(self) -> StreamDigest:
        return StreamDigest(self.ref.md5)

    def _bring_checks_up_to_date(self) -> None:
        """Have the zip check and the digest see the main part's bytes kept on disk, if they
        have not: one read of the kept part serves both."""
        head = self.parts.head
        if self.checked == head.have:
            return
        self.check, self.digest, self.checked = StreamingZipCheck(), self._new_digest(), 0
        for piece in read_prefix(self.parts.main, head.have):
            self._feed_check(piece)
        self.checked = head.have

    def _feed_check(self, piece: bytes) -> None:
        """Have the streaming check and the digest see the next bytes of the main part."""
        self.check.feed(piece)
        self.digest.feed(piece)
        self.checked += len(piece)

    def _receive(self, response: requests.Response, segment: Segment,
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

    def _total_for_helpers(self) -> Optional[int]:
        """The product's size while other connections may fetch stretches of it, else None."""
        welcome = (self.ranged and not self.stopped and not self.cancel.is_set()
                   and not self.helper_refused and self.side_failures < self.policy.max_failures)
        return self.total if welcome else None

