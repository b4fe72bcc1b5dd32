"""Sending a body in chunks: byte ranges, bandwidth limit, truncation, stall, corruption,
and bodies held back until a test releases them."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol, Tuple

CHUNK = 256 * 1024
HOLD_POLL_SECONDS = 0.05
CORRUPT_SPAN = 16
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    """A Range header that selects no byte of the body."""


class Body:
    """A response body of known size that can be read in chunks."""

    size: int = 0

    def chunks(self, start: int, end: int, size: int) -> Iterator[bytes]:
        """The bytes from start to end (exclusive), in pieces of at most size."""
        raise NotImplementedError


class BytesBody(Body):
    """A body held in memory."""

    def __init__(self, data: bytes) -> None:
        """Keep the bytes."""
        self.data = data
        self.size = len(data)

    def chunks(self, start: int, end: int, size: int) -> Iterator[bytes]:
        """Slices of the bytes."""
        for offset in range(start, end, size):
            yield self.data[offset:min(end, offset + size)]


class FileBody(Body):
    """A body read from a file on disk, never whole in memory."""

    def __init__(self, path: Path) -> None:
        """Serve path, whose size is taken now."""
        self.path = path
        self.size = path.stat().st_size

    def chunks(self, start: int, end: int, size: int) -> Iterator[bytes]:
        """Read the file piece by piece."""
        with open(self.path, "rb") as stream:
            stream.seek(start)
            left = end - start
            while left > 0:
                piece = stream.read(min(size, left))
                if not piece:
                    return
                left -= len(piece)
                yield piece


def parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """The (start, end exclusive) of a single `bytes=` range, or None to send it all."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = size if last == "" else min(size, int(last) + 1)
    if start >= size or start >= end:
        raise RangeNotSatisfiable(header)
    return start, end


class Hold:
    """Every answer it applies to stops after `after` bytes of its body, its connection
    open, until the test calls `release()`; the rest then flows at the release's rate.

    Tests make a condition happen with it instead of racing a clock: a download cannot
    finish before the test has done what it waits for (signalled, counted requests).
    """

    def __init__(self, after: int) -> None:
        """Hold answers after `after` bytes of their body."""
        if after < 0:
            raise ValueError("a hold needs a byte count of 0 or more")
        self.after = after
        self.rate: Optional[int] = None
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._waiting = 0

    def release(self, rate: Optional[int] = None) -> None:
        """Let every held answer go on, at `rate` bytes a second (None: unlimited)."""
        if rate is not None and rate < 1:
            raise ValueError("a release rate must be at least 1 byte a second")
        self.rate = rate
        self._released.set()

    @property
    def released(self) -> bool:
        """True once released: answers are no longer held."""
        return self._released.is_set()

    @property
    def waiting(self) -> int:
        """How many answers are held right now."""
        with self._lock:
            return self._waiting

    def holds_at(self, sent: int) -> bool:
        """True when an answer that has sent `sent` bytes of its body must wait here."""
        return sent == self.after and not self.released

    def wait(self, stopping: threading.Event) -> bool:
        """Wait for the release; False if the server stops first."""
        with self._lock:
            self._waiting += 1
        try:
            while not self._released.wait(HOLD_POLL_SECONDS):
                if stopping.is_set():
                    return False
            return not stopping.is_set()
        finally:
            with self._lock:
                self._waiting -= 1


@dataclass
class Delivery:
    """How a body goes out: where it is cut, for how long it stalls, whether it is spoiled,
    and whether a hold keeps it back."""

    cut_after: Optional[int] = None
    stall_seconds: float = 0.0
    corrupt: bool = False
    bandwidth: Optional[int] = None
    hold: Optional[Hold] = None

    def chunk_size(self) -> int:
        """Smaller pieces under a bandwidth limit, so the rate stays smooth."""
        return _piece_size(self.bandwidth)

    def next_stop(self, sent: int) -> Optional[int]:
        """Bytes the body may send before its next cut or hold (None: no limit)."""
        stops = [point - sent for point in (self.cut_after, self._hold_point())
                 if point is not None and point >= sent]
        return min(stops) if stops else None

    def _hold_point(self) -> Optional[int]:
        hold = self.hold
        return None if hold is None or hold.released else hold.after


class Pace:
    """A bandwidth limit kept from a starting moment: sleeps as long as the rate asks."""

    def __init__(self, rate: Optional[int]) -> None:
        """Start pacing now at `rate` bytes a second (None: no limit)."""
        self.rate = rate
        self.began = time.monotonic()
        self.sent = 0

    def piece_size(self) -> int:
        """The largest piece to write at once at this rate."""
        return _piece_size(self.rate)

    def keep(self, count: int, stopping: threading.Event) -> bool:
        """Count `count` bytes sent, then wait as the rate asks; False once stopping."""
        self.sent += count
        if self.rate:
            ahead = self.sent / self.rate - (time.monotonic() - self.began)
            if ahead > 0:
                stopping.wait(ahead)
        return not stopping.is_set()


def _piece_size(rate: Optional[int]) -> int:
    """Smaller pieces under a rate limit, so the rate stays smooth."""
    if not rate:
        return CHUNK
    return max(1024, min(CHUNK, rate // 20))


def corrupt_piece(piece: bytes, offset: int, total: int) -> bytes:
    """Flip the bytes of piece that fall in the middle span of the whole body."""
    middle = total // 2
    low, high = max(middle, offset), min(middle + CORRUPT_SPAN, offset + len(piece))
    if low >= high:
        return piece
    spoiled = bytearray(piece)
    for position in range(low - offset, high - offset):
        spoiled[position] ^= 0xFF
    return bytes(spoiled)


class Sink(Protocol):
    """Where a body goes: the connection's write file."""

    def write(self, data: bytes, /) -> int | None:
        """Write bytes."""

    def flush(self) -> None:
        """Push them out."""


def send_body(out: Sink, body: Body, start: int, end: int, delivery: Delivery,
              stopping: threading.Event, sent: Callable[[int], None],
              writing: Callable[[], None] = lambda: None) -> bool:
    """Write body[start:end] as delivery says, writing() before each write; False if cut."""
    pace, total, offset = Pace(delivery.bandwidth), 0, start
    for chunk in body.chunks(start, end, delivery.chunk_size()):
        if delivery.corrupt:
            chunk = corrupt_piece(chunk, offset, body.size)
        offset += len(chunk)
        while chunk:
            if delivery.cut_after is not None and total >= delivery.cut_after:
                return _stop_short(out, delivery, stopping)
            hold = delivery.hold
            if hold is not None and hold.holds_at(total):
                out.flush()
                if not hold.wait(stopping):
                    return False
                pace = Pace(hold.rate or delivery.bandwidth)
            piece, chunk = _split(chunk, pace.piece_size(), delivery.next_stop(total))
            writing()
            _write_counted(out, piece, sent)
            total += len(piece)
            if not pace.keep(len(piece), stopping):
                return False
    if delivery.cut_after is not None and end > start and total >= delivery.cut_after:
        return _stop_short(out, delivery, stopping)
    return offset >= end


def _write_counted(out: Sink, piece: bytes, sent: Callable[[int], None]) -> None:
    """Write a piece, counted as sent before it goes: whoever has read it sees it counted."""
    sent(len(piece))
    try:
        out.write(piece)
    except BaseException:
        sent(-len(piece))
        raise


def _split(chunk: bytes, largest: int, until_stop: Optional[int]) -> Tuple[bytes, bytes]:
    """The piece to write now (at most `largest`, not past the next stop) and the rest."""
    size = largest if until_stop is None else min(largest, until_stop)
    return chunk[:size], chunk[size:]


def _stop_short(out: Sink, delivery: Delivery, stopping: threading.Event) -> bool:
    """After the cut: hold the connection open for the stall, then give up on it."""
    out.flush()
    if delivery.stall_seconds > 0:
        stopping.wait(delivery.stall_seconds)
    return False
