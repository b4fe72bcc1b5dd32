"""Sending a body in chunks: byte ranges, bandwidth limit, truncation, stall, corruption."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol, Tuple

CHUNK = 256 * 1024
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


@dataclass
class Delivery:
    """How a body goes out: where it is cut, for how long it stalls, whether it is spoiled."""

    cut_after: Optional[int] = None
    stall_seconds: float = 0.0
    corrupt: bool = False
    bandwidth: Optional[int] = None

    def chunk_size(self) -> int:
        """Smaller pieces under a bandwidth limit, so the rate stays smooth."""
        if not self.bandwidth:
            return CHUNK
        return max(1024, min(CHUNK, self.bandwidth // 20))


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
    began, total, offset = time.monotonic(), 0, start
    for piece in body.chunks(start, end, delivery.chunk_size()):
        if delivery.corrupt:
            piece = corrupt_piece(piece, offset, body.size)
        offset += len(piece)
        if delivery.cut_after is not None:
            piece = piece[:max(0, delivery.cut_after - total)]
        writing()
        out.write(piece)
        total += len(piece)
        sent(len(piece))
        if delivery.cut_after is not None and total >= delivery.cut_after:
            return _stop_short(out, delivery, stopping)
        if not _keep_pace(delivery.bandwidth, total, began, stopping):
            return False
    return offset >= end


def _stop_short(out: Sink, delivery: Delivery, stopping: threading.Event) -> bool:
    """After the cut: hold the connection open for the stall, then give up on it."""
    out.flush()
    if delivery.stall_seconds > 0:
        stopping.wait(delivery.stall_seconds)
    return False


def _keep_pace(bandwidth: Optional[int], total: int, began: float,
               stopping: threading.Event) -> bool:
    """Sleep as long as the bandwidth limit asks; False once the server is stopping."""
    if bandwidth:
        ahead = total / bandwidth - (time.monotonic() - began)
        if ahead > 0:
            stopping.wait(ahead)
    return not stopping.is_set()
