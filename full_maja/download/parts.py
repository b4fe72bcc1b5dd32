"""A product's partial files: the main part, and tail segments fetched beside it.

`NAME.zip.part` holds the product from byte 0. When a product is split over
several connections, each later stretch goes to `NAME.zip.<START>.part`, and
the main part absorbs it once it has reached START. Every file only grows by
appending, so its length says how much of its stretch is there, and an
interrupted run leaves files the next run can resume as they are. Part files are
opened with `atomic.open_own`: one that is a link, a FIFO or a folder is refused
(`NotOwnFile`), never followed.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional, overload

from ..atomic import open_own, refuse_unless_own
from ..errors import Cancelled

PART_SUFFIX = ".part"
CHUNK = 1024 * 1024
MAX_FILE_NAME = 255
_TAIL = re.compile(r"(.+)\.([1-9][0-9]*)")


@dataclass(eq=False)
class Segment:
    """The product's bytes from `start` up to `end` (None: its end), kept in one file."""

    start: int
    path: Path
    have: int = 0
    end: Optional[int] = None
    busy: bool = False
    abandoned: bool = False
    fetch_began: float = 0.0
    fetched: int = 0

    @property
    def position(self) -> int:
        """The product offset of the next byte this segment needs."""
        return self.start + self.have

    @overload
    def stop(self, total: int) -> int: ...

    @overload
    def stop(self, total: Optional[int]) -> Optional[int]: ...

    def stop(self, total: Optional[int]) -> Optional[int]:
        """Where this segment ends in the product, when that is known."""
        return self.end if self.end is not None else total

    @overload
    def remaining(self, total: int) -> int: ...

    @overload
    def remaining(self, total: Optional[int]) -> Optional[int]: ...

    def remaining(self, total: Optional[int]) -> Optional[int]:
        """Bytes still missing from this segment, when its end is known."""
        stop = self.stop(total)
        return None if stop is None else stop - self.position


class PartFiles:
    """The part files of one product, in product order; the main part comes first."""

    def __init__(self, final: Path, sides: Optional[dict[int, Path]] = None) -> None:
        """`sides`: the tail files, when known from a listing of the folder."""
        self.final = final
        self.main = final.with_name(final.name + PART_SUFFIX)
        self.segments = self._discover(_side_files(final) if sides is None else sides)

    @property
    def head(self) -> Segment:
        """The segment of the main part."""
        return self.segments[0]

    def side_path(self, start: int) -> Optional[Path]:
        """The file of a segment starting at `start`; None if its name would be too long."""
        name = f"{self.final.name}.{start}{PART_SUFFIX}"
        return None if len(name.encode()) > MAX_FILE_NAME else self.final.with_name(name)

    @property
    def has_tails(self) -> bool:
        """True while some stretch is still in a file of its own, beside the main part."""
        return len(self.segments) > 1

    def leftover(self, total: int) -> Optional[Segment]:
        """A tail left unfinished (by an earlier run or a helper) that nobody is fetching."""
        for segment in self.segments[1:]:
            if not segment.busy and segment.remaining(total) > 0:
                return segment
        return None

    def split(self, segment: Segment, total: int) -> Optional[Segment]:
        """Cut `segment` in two halves; the second is returned, marked busy.

        None when the second half's file name would be too long.
        """
        middle = segment.position + segment.remaining(total) // 2
        path = self.side_path(middle)
        if path is None:
            return None
        tail = Segment(middle, path, end=segment.end, busy=True)
        segment.end = middle
        self.segments.insert(self.segments.index(segment) + 1, tail)
        return tail

    def next_absorbable(self) -> Optional[Segment]:
        """The tail that starts where the main part ends, unless someone is fetching it."""
        if len(self.segments) < 2:
            return None
        following = self.segments[1]
        if following.busy or self.head.position != following.start:
            return None
        return following

    def bytes_on_disk(self) -> int:
        """Bytes of the product already held by the part files."""
        return sum(segment.have for segment in self.segments)

    def fits(self, total: int) -> bool:
        """True when every segment lies inside a product of `total` bytes."""
        return all(segment.start < total for segment in self.segments[1:]) and all(
            segment.position <= segment.stop(total) for segment in self.segments)

    def remove_all(self) -> None:
        """Delete every part file and start again from an empty main part.

        The main part's segment stays the same object; the others are marked
        abandoned, so that a connection still filling one of them stops.
        """
        head = self.segments[0]
        for segment in self.segments[1:]:
            segment.abandoned = True
        remove_part_files(self.final)
        head.have, head.end, head.fetched = 0, None, 0
        self.segments = [head]

    def append_to_head(self, segment: Segment, feed: Callable[[bytes], None],
                       cancel: threading.Event) -> int:
        """Copy the bytes of `segment`, which starts where the main part ends, onto it.

        Returns how many were copied. If the run stops half-way, the segment's
        file is still whole, and the next run clips the main part back to where
        the segment starts.
        """
        copied = 0
        with open_own(self.main, "ab") as target:
            behind = WriteBehind(target)
            for piece in _read_pieces(segment.path, segment.have):
                if cancel.is_set():
                    raise Cancelled(f"stopped while assembling {self.final.name}; its parts "
                                    "are kept for the next run")
                feed(piece)
                target.write(piece)
                behind.wrote(len(piece))
                copied += len(piece)
        return copied

    def merge_into_head(self, segment: Segment, copied: int) -> None:
        """Count the `copied` bytes of `segment` as the main part's and delete its file."""
        head = self.segments[0]
        head.have += copied
        head.end = segment.end
        segment.abandoned = True
        self.segments.remove(segment)
        _remove(segment.path)

    def _discover(self, sides: dict[int, Path]) -> list[Segment]:
        for path in (self.main, *sides.values()):
            refuse_unless_own(path)
        segments = [Segment(0, self.main, have=file_size(self.main) or 0)]
        for start, path in sorted(sides.items()):
            segments.append(Segment(start, path, have=file_size(path) or 0))
        for segment, following in zip(segments, segments[1:]):
            segment.end = following.start
            if segment.position > following.start:
                _clip(segment, following.start)
        return segments


def remove_part_files(final: Path, sides: Optional[dict[int, Path]] = None) -> None:
    """Delete every part file of the product at `final` (`sides`: its tails, if known)."""
    tails = _side_files(final) if sides is None else sides
    for path in [final.with_name(final.name + PART_SUFFIX), *tails.values()]:
        _remove(path)


def scan_part_files(folder: Path) -> dict[str, dict[int, Path]]:
    """Every part file in `folder` in one listing: by product file name, then by start (0: main)."""
    found: dict[str, dict[int, Path]] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return found
    for name in names:
        if not name.endswith(PART_SUFFIX):
            continue
        stem = name[:-len(PART_SUFFIX)]
        match = _TAIL.fullmatch(stem)
        product, start = (match.group(1), int(match.group(2))) if match else (stem, 0)
        found.setdefault(product, {})[start] = folder / name
    return found


def _side_files(final: Path) -> dict[int, Path]:
    """The tail part files of `final`'s product, by the offset where each starts."""
    pattern = re.compile(re.escape(final.name) + r"\.([1-9][0-9]*)" + re.escape(PART_SUFFIX))
    try:
        names = os.listdir(final.parent)
    except OSError:
        return {}
    found = {}
    for name in names:
        match = pattern.fullmatch(name)
        if match:
            found[int(match.group(1))] = final.with_name(name)
    return found


class WriteBehind:
    """Has the kernel write a growing file back to disk as it grows.

    Without it, a gigabyte sits dirty in the page cache until the final fsync,
    which then takes about half a second; with it, that fsync finds little left.
    The pages already on disk leave the cache, so a long series does not
    crowd out the rest of the machine.
    """

    EVERY = 16 * 1024 * 1024

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.pending = 0
        self.mark = self.previous_end = handle.tell()

    def wrote(self, count: int) -> None:
        """Note `count` bytes written; every EVERY bytes, start their write-back.

        Each call also covers the stretch of the call before, written back since,
        so that its pages leave the cache.
        """
        self.pending += count
        if self.pending < self.EVERY or not hasattr(os, "posix_fadvise"):
            return
        self.handle.flush()
        end = self.handle.tell()
        try:
            os.posix_fadvise(self.handle.fileno(), self.mark, end - self.mark,
                             os.POSIX_FADV_DONTNEED)
        except OSError:
            return
        self.mark, self.previous_end = self.previous_end, end
        self.pending = 0


def _read_pieces(path: Path, count: int) -> Iterator[bytes]:
    """The first `count` bytes of `path` (fewer if it is shorter or gone), piece by piece."""
    if count <= 0 or not path.exists():
        return
    with open_own(path, "rb") as source:
        while count > 0:
            piece = source.read(min(CHUNK, count))
            if not piece:
                return
            count -= len(piece)
            yield piece


def _clip(segment: Segment, end: int) -> None:
    """Cut a file that runs past `end`: the following segment holds those bytes."""
    keep = end - segment.start
    with open_own(segment.path, "r+b") as handle:
        handle.truncate(keep)
    segment.have = keep


def file_size(path: Path) -> Optional[int]:
    """The size of a file, None if it is not there."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
