"""Moving one product's bytes into its part files, over one connection or several.

The product's own thread fetches the main part from byte 0 and resumes it
with `Range` when the connection breaks. When a connection is free and the
server honours ranges, the scheduler may cut the tail off a slow stretch and
hand it to another connection (`split` then `fetch_side`); the main part
absorbs each tail once it reaches it, so the zip is checked in order.
"""
from __future__ import annotations

import errno
import logging
import re
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

import requests
import urllib3

from .errors import Cancelled, NetworkError, ProductError, UsageError
from .parts import CHUNK, PartFiles, Segment, WriteBehind, file_size
from .session import PepsSession
from .states import Progress, ProgressCallback, ProgressKind
from .zipcheck import CorruptZip, StreamingZipCheck

log = logging.getLogger(__name__)

RESUME_ATTEMPTS = 5
ZIP_MAGIC = b"PK\x03\x04"
# A stretch is split only when the rest would take SPLIT_MIN_SECONDS on its connection
# (so the new request saves at least a second) and is at least SPLIT_MIN_BYTES long.
SPLIT_MIN_BYTES = 8 * 1024 * 1024
SPLIT_MIN_SECONDS = 2.0
RATE_WINDOW = 0.5
WAIT_STEP = 0.2
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


class Interrupted(Exception):
    """The transfer stopped early and can resume from the part files."""


class BadBody(Exception):
    """The server sent something that is not the product."""


class ProductTransfer:
    """One product coming in: its main connection, and helpers on its tail."""

    def __init__(self, session: PepsSession, url: str, name: str, parts: PartFiles, *,
                 cancel: threading.Event, on_progress: ProgressCallback) -> None:
        self.session, self.url, self.name, self.parts = session, url, name, parts
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
        self.checked = 0

    def run(self) -> tuple[int, StreamingZipCheck]:
        """Bring the whole product into the main part; its size and its streaming check."""
        failures = 0
        try:
            while True:
                self._raise_if_cancelled()
                self._absorb_ready_segments()
                if self._complete():
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

    def stop(self) -> None:
        """Let no helper write any more: the product is done, failed or being dropped."""
        with self.lock:
            self.stopped = True
            self.lock.notify_all()

    def split_worth(self, now: float) -> float:
        """Seconds a free connection could take off this product now (0: nothing to take)."""
        with self.lock:
            if self._leftover() is not None:
                return float("inf")
            candidate = self._split_candidate(now)
        return 0.0 if candidate is None else candidate[1]

    def take_work(self, now: float) -> Optional[Segment]:
        """A stretch for a free connection: one left by an earlier run, or a new tail."""
        with self.lock:
            leftover = self._leftover()
            if leftover is not None:
                leftover.busy = True
                return leftover
            candidate = self._split_candidate(now)
            if candidate is None:
                return None
            return self._split(candidate[0])

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
        if self.cancel.is_set():
            raise Cancelled(f"stopped while fetching {self.name}; the part already fetched "
                            "is kept for the next run")

    def _complete(self) -> bool:
        with self.lock:
            head = self.parts.head
            if len(self.parts.segments) > 1:
                return False
            return self.until_eof or (self.total is not None and head.have == self.total)

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
                segments = self.parts.segments
                if len(segments) < 2 or segments[1].busy or segments[0].position != \
                        segments[1].start:
                    return
                following = segments[1]
                following.busy = True
            try:
                self._bring_check_up_to_date()
                copied = self.parts.append_to_head(following, self._feed_check, self.cancel)
            except BaseException as exc:
                with self.lock:
                    following.busy = False
                if isinstance(exc, CorruptZip):
                    raise BadBody(str(exc)) from None
                if isinstance(exc, OSError):
                    raise ProductError(describe_disk_error(self.name, exc, removed=False),
                                       product=self.name) from None
                raise
            with self.lock:
                self.parts.merge_into_head(following, copied)

    def _fetch_head(self) -> None:
        head = self.parts.head
        with self.lock:
            offset, end = head.have, head.end
        headers = {"Accept-Encoding": "identity"}
        if offset or end is not None:
            headers["Range"] = f"bytes={offset}-{'' if end is None else end - 1}"
        with self._get(headers) as response:
            if response.status_code == 416 and "Range" in headers:
                if self._already_whole(response):
                    return
                self._start_over()
                raise Interrupted("the server refused to resume; starting over")
            _check_status(response, self.name)
            span = _body_span(response, offset)
            if span is None:
                self._start_over()
                raise Interrupted("the server's Content-Range does not match; starting over")
            start, total = span
            if start != offset:
                log.warning("%s: the server cannot resume, fetching it from the start",
                            self.name)
                self._start_over()
            self._learn(response, total)
            _check_content_type(response)
            self.on_progress(Progress(ProgressKind.START, self.name, total=total,
                                      done=self.parts.bytes_on_disk()))
            try:
                self._bring_check_up_to_date()
            except CorruptZip:
                self._start_over()
                raise Interrupted("the part kept from an earlier run is damaged; "
                                  "starting over") from None
            self._receive(response, head, self._feed_check)

    def _already_whole(self, response: requests.Response) -> bool:
        """True when a 416 says the product has exactly the bytes the main part holds.

        That happens when an earlier run stopped after the last byte arrived but
        before the rename: the product is then checked, not fetched again.
        """
        match = _UNSATISFIED_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        with self.lock:
            if not match or len(self.parts.segments) > 1 or \
                    int(match.group(1)) != self.parts.head.have:
                return False
            self.total = self.parts.head.have
        return True

    def _fetch_side(self, segment: Segment) -> None:
        with self.lock:
            offset, stop, total = segment.position, segment.stop(self.total), self.total
            dropped = segment.abandoned or self.stopped or self.cancel.is_set()
        if dropped or stop is None or offset >= stop:
            return
        headers = {"Accept-Encoding": "identity", "Range": f"bytes={offset}-{stop - 1}"}
        with self._get(headers) as response:
            span = _body_span(response, offset) if response.status_code == 206 else None
            if span is None or span[1] != total:
                with self.lock:
                    self.helper_refused = True
                raise Interrupted(f"HTTP {response.status_code} to a range request")
            _check_content_type(response)
            self._receive(response, segment, None)

    def _get(self, headers: dict[str, str]) -> requests.Response:
        try:
            return self.session.get(self.url, headers=headers, stream=True)
        except (NetworkError, UsageError) as exc:
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
            accepts = response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
            self.ranged = response.status_code == 206 or accepts

    def _start_over(self) -> None:
        """Drop every part file: the next request fetches the product from byte 0."""
        with self.lock:
            self.parts.remove_all()
            self.total = None
            self.until_eof = False
            self.check = StreamingZipCheck()
            self.checked = 0

    def _bring_check_up_to_date(self) -> None:
        """Have the streaming check see the main part's bytes kept on disk, if it has not."""
        head = self.parts.head
        if self.checked == head.have:
            return
        self.check = _check_of_prefix(self.parts.main, head.have)
        self.checked = head.have

    def _feed_check(self, piece: bytes) -> None:
        self.check.feed(piece)
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
            raise BadBody(str(exc)) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise Interrupted(_describe_break(exc)) from None
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
            return open(segment.path, "ab" if segment.have else "wb")

    def _write_pieces(self, response: requests.Response, segment: Segment, handle: BinaryIO,
                      feed: Optional[Callable[[bytes], None]]) -> None:
        behind = WriteBehind(handle) if segment is self.parts.head else None
        for chunk in _body_chunks(response):
            self._raise_if_cancelled()
            if segment.position == 0 and not chunk.startswith(ZIP_MAGIC[:len(chunk)]):
                raise BadBody(_describe_non_zip(chunk))
            with self.lock:
                if segment.abandoned or self.stopped:
                    return
                stop = segment.stop(self.total)
                take = len(chunk) if stop is None else min(len(chunk), stop - segment.position)
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
            if take < len(chunk) or (stop is not None and segment.position >= stop):
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

    def _helpers_welcome(self) -> bool:
        """True while other connections may fetch stretches of this product."""
        return (self.ranged and self.total is not None and not self.stopped
                and not self.cancel.is_set() and not self.helper_refused
                and self.side_failures < RESUME_ATTEMPTS)

    def _leftover(self) -> Optional[Segment]:
        """A stretch left unfinished (by an earlier run or a helper) that nobody is fetching."""
        if not self._helpers_welcome():
            return None
        for segment in self.parts.segments[1:]:
            if not segment.busy and segment.remaining(self.total) > 0:
                return segment
        return None

    def _split_candidate(self, now: float) -> Optional[tuple[Segment, float]]:
        """The stretch being fetched with the most time left, if splitting it pays off."""
        if not self._helpers_welcome():
            return None
        best: Optional[tuple[Segment, float]] = None
        for segment in self.parts.segments:
            seconds = _seconds_left(segment, self.total, now)
            if seconds >= SPLIT_MIN_SECONDS and (best is None or seconds > best[1]):
                best = (segment, seconds)
        return best

    def _split(self, segment: Segment) -> Optional[Segment]:
        """Cut `segment` in two halves; the second is returned, marked busy."""
        middle = segment.position + segment.remaining(self.total) // 2
        path = self.parts.side_path(middle)
        if path is None:
            return None
        tail = Segment(middle, path, end=segment.end, busy=True)
        segment.end = middle
        self.parts.segments.insert(self.parts.segments.index(segment) + 1, tail)
        return tail


def _seconds_left(segment: Segment, total: int, now: float) -> float:
    """How long the rest of a stretch being fetched would take at its rate (0: unknown)."""
    elapsed = now - segment.fetch_began
    remaining = segment.remaining(total)
    if not segment.fetch_began or elapsed < RATE_WINDOW or not segment.fetched or \
            remaining is None or remaining < SPLIT_MIN_BYTES:
        return 0.0
    return remaining / (segment.fetched / elapsed)


def _body_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, so that a broken transfer loses no byte already received.

    `iter_content` asks urllib3 for whole chunks and drops a half-filled one when
    the connection breaks; `read1` hands over what each read got.
    """
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from response.iter_content(chunk_size=CHUNK)
        return
    while True:
        chunk = read1(CHUNK)
        if not chunk:
            return
        yield chunk


def _check_status(response: requests.Response, name: str) -> None:
    code = response.status_code
    if code in (200, 206):
        return
    advice = {403: "access denied", 404: "not on the server (purged, or not produced)"}
    reason = advice.get(code, "the server kept failing" if code >= 500 or code == 429
                        else "unexpected answer")
    raise ProductError(f"{name}: HTTP {code}, {reason}", product=name, status=code)


def _body_span(response: requests.Response,
               offset: int) -> Optional[tuple[int, Optional[int]]]:
    """Where the body starts in the product and its full size; None if the range is wrong."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match and int(match.group(1)) == offset and match.group(3) != "*":
            return offset, int(match.group(3))
        return None
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


_NOT_ZIP_TYPES = {"text/html": "an HTML page", "application/json": "JSON",
                  "text/plain": "plain text", "application/xml": "XML", "text/xml": "XML"}


def _check_content_type(response: requests.Response) -> None:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in _NOT_ZIP_TYPES:
        raise BadBody(f"the server sent {_NOT_ZIP_TYPES[kind]} instead of a zip")


def _describe_non_zip(chunk: bytes) -> str:
    head = chunk[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "the server sent an HTML page instead of a zip"
    if head.startswith((b"{", b"[")):
        return "the server sent JSON instead of a zip"
    return "the server sent something that is not a zip"


def _describe_break(exc: Exception) -> str:
    text = str(exc)
    if "Read timed out" in text or isinstance(exc, requests.exceptions.Timeout):
        return "no data received for too long"
    return "the connection broke off"


def describe_disk_error(name: str, exc: OSError, removed: bool = True) -> str:
    """What to tell the user when a product cannot be written."""
    if exc.errno == errno.ENOSPC:
        kept = "removed" if removed else "kept for the next run"
        return f"{name}: the disk is full; the partial file was {kept}, free space and run again"
    return f"{name}: cannot write the product: {exc.strerror or exc}"



def _check_of_prefix(part: Path, start: int) -> StreamingZipCheck:
    """A streaming check that has already seen the first `start` bytes kept on disk."""
    check = StreamingZipCheck()
    if start:
        with open(part, "rb") as handle:
            while not check.unsure and handle.tell() < start:
                piece = handle.read(min(CHUNK, start - handle.tell()))
                if not piece:
                    raise CorruptZip("the part is shorter than it was")
                check.feed(piece)
    return check

