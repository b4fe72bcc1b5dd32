"""Verifying product zips: every member's CRC, while the bytes arrive or from the file.

Verification is bounded whatever the archive claims, and whatever the Python patch
level: members may not overlap (each member's local header and data end before the
next member's header and before the central directory), a member may not claim to
inflate more than `MAX_RATIO` times its compressed size (deflate's own limit is 1032),
and inflating never produces more than a member's header declares, in steps of
`INFLATE_STEP` bytes. So the work of checking a zip is at most about `MAX_RATIO` times
its size, and its memory a few MiB: a zip bomb is refused, not inflated.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Optional, Union

from .parts import CHUNK

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
END_SIGNATURES = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x07\x08")
STORED, DEFLATED = 0, 8
_FLAG_ENCRYPTED, _FLAG_DESCRIPTOR, _FLAG_UTF8 = 0x1, 0x8, 0x800
_ZIP64_MARK = 0xFFFFFFFF
MAX_RATIO = 1100
RATIO_SLACK = 1024
INFLATE_STEP = 1024 * 1024
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                NotImplementedError, UnicodeDecodeError, RuntimeError)


class CorruptZip(Exception):
    """The zip is damaged: a member fails its CRC, or the archive cannot be read."""


class UnsafeZip(CorruptZip):
    """The zip is built to cost far more to check than its size: overlapping members, or
    members claiming more than deflate can give. Fetching it again cannot mend it."""


class StreamingZipCheck:
    """Checks each member's CRC as the zip's bytes go by, so the file need not be re-read.

    It follows the local headers from byte 0. Archives it cannot follow that way
    (data descriptors, zip64, encryption, other compressions) make it `unsure`;
    the caller then checks the whole file instead.
    """

    def __init__(self) -> None:
        self.unsure = False
        self.finished = False
        self.members: dict[int, tuple] = {}
        self._offset = 0
        self._pending = b""
        self._need = LOCAL_HEADER.size
        self._member: Optional[_Member] = None

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the archive; raise CorruptZip at the first bad member."""
        if self.unsure or self.finished:
            return
        view = memoryview(data)
        while view and not (self.unsure or self.finished):
            member = self._member
            view = self._feed_header(view) if member is None else self._feed_member(member, view)

    def confirms(self, path: Path) -> bool:
        """True when every member of the archive's directory was checked on the way in."""
        if self.unsure or not self.finished or self._member is not None:
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                entries = archive.infolist()
        except _READ_ERRORS as exc:
            raise CorruptZip(f"the zip is corrupt ({exc.__class__.__name__})") from None
        if len(entries) != len(self.members):  # two entries of one member: not vouched for
            return False
        seen = {entry.header_offset: (entry.CRC, entry.compress_size, entry.file_size,
                                      entry.orig_filename,
                                      entry.compress_type, entry.flag_bits,
                                      entry.extract_version)
                for entry in entries}
        return seen == self.members

    def _feed_header(self, view: memoryview) -> memoryview:
        taken = min(len(view), self._need - len(self._pending))
        self._pending += bytes(view[:taken])
        view = view[taken:]
        if len(self._pending) < self._need:
            return view
        if self._need == LOCAL_HEADER.size:
            self._start_header()
        else:
            self._start_member()
        return view

    def _start_header(self) -> None:
        signature = self._pending[:4]
        if signature in END_SIGNATURES:
            self.finished = True
            return
        if signature != LOCAL_SIGNATURE:
            self.unsure = True
            return
        fields = LOCAL_HEADER.unpack(self._pending)
        self._need = LOCAL_HEADER.size + fields[9] + fields[10]

    def _start_member(self) -> None:
        fields = LOCAL_HEADER.unpack(self._pending[:LOCAL_HEADER.size])
        flags, method, crc, size, raw_size = fields[2], fields[3], fields[6], fields[7], fields[8]
        if (flags & (_FLAG_ENCRYPTED | _FLAG_DESCRIPTOR) or method not in (STORED, DEFLATED)
                or _ZIP64_MARK in (size, raw_size)):
            self.unsure = True
            return
        check_ratio(size, raw_size)
        name_bytes = self._pending[LOCAL_HEADER.size:LOCAL_HEADER.size + fields[9]]
        name = name_bytes.decode("utf-8" if flags & _FLAG_UTF8 else "cp437", "replace")
        member = _Member(self._offset, crc, size, raw_size, method, name)
        member.identity = (crc, size, raw_size, name, method, flags, fields[1])
        self._member = member
        self._offset += len(self._pending)
        self._pending = b""
        self._need = LOCAL_HEADER.size
        if size == 0:
            self._end_member(member)

    def _feed_member(self, member: _Member, view: memoryview) -> memoryview:
        taken = min(len(view), member.remaining)
        member.take(view[:taken])
        self._offset += taken
        if member.remaining == 0:
            self._end_member(member)
        return view[taken:]

    def _end_member(self, member: _Member) -> None:
        member.close()
        self.members[member.offset] = member.identity
        self._member = None


def check_of_prefix(part: Path, start: int) -> StreamingZipCheck:
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


class _Member:
    """One member being checked: its running CRC and the bytes still to come."""

    def __init__(self, offset: int, crc: int, size: int, raw_size: int, method: int,
                 name: str) -> None:
        self.offset, self.crc, self.size, self.raw_size = offset, crc, size, raw_size
        self.name = name
        self.identity: tuple = ()
        self.remaining = size
        self.running = 0
        self.produced = 0
        self.inflater = zlib.decompressobj(-15) if method == DEFLATED else None

    def take(self, data: memoryview) -> None:
        self.remaining -= len(data)
        if self.inflater is None:
            self._count(data)
            return
        try:
            self._count(self.inflater.decompress(data, INFLATE_STEP))
            while self.inflater.unconsumed_tail:
                self._count(self.inflater.decompress(self.inflater.unconsumed_tail,
                                                     INFLATE_STEP))
        except zlib.error:
            raise CorruptZip("the zip is corrupt (a member does not inflate)") from None

    def close(self) -> None:
        if self.inflater is not None:
            self._count(self.inflater.flush(INFLATE_STEP))
        if self.running != self.crc or self.produced != self.raw_size:
            raise CorruptZip("the zip is corrupt (a member fails its CRC check)")

    def _count(self, data: Union[bytes, memoryview]) -> None:
        self.produced += len(data)
        if self.produced > self.raw_size:
            raise CorruptZip("the zip is corrupt (a member inflates to more than its "
                             "header declares)")
        self.running = zlib.crc32(data, self.running)


def check_ratio(size: int, raw_size: int) -> None:
    """Refuse a member that claims to inflate more than deflate ever can."""
    if raw_size > MAX_RATIO * size + RATIO_SLACK:
        raise UnsafeZip(f"refused as a zip bomb: a member of {size} bytes claims to inflate "
                        f"to {raw_size} bytes, more than deflate can give")


def check_layout(archive: zipfile.ZipFile, handle: BinaryIO) -> None:
    """Refuse overlapping members: each one's header and data end before the next begins.

    The central directory's offsets and compressed sizes are checked against the
    local headers they point to, before a single byte is inflated.
    """
    end = getattr(archive, "start_dir", None)
    limit = end if isinstance(end, int) else handle.seek(0, 2)
    reached = 0
    for entry in sorted(archive.infolist(), key=lambda item: item.header_offset):
        check_ratio(entry.compress_size, entry.file_size)
        if entry.header_offset < reached:
            raise UnsafeZip("refused as a zip bomb: its members overlap (two entries of "
                            "its directory share bytes)")
        reached = entry.header_offset + _local_header_size(handle, entry.header_offset) \
            + entry.compress_size
        if reached > limit:
            raise UnsafeZip("refused as a zip bomb: a member runs into the zip's directory")


def _local_header_size(handle: BinaryIO, offset: int) -> int:
    """The length of the local header at `offset`: fixed part, name and extra field."""
    handle.seek(offset)
    header = handle.read(LOCAL_HEADER.size)
    if len(header) < LOCAL_HEADER.size or header[:4] != LOCAL_SIGNATURE:
        raise CorruptZip("the zip is corrupt (its directory points to no member)")
    fields = LOCAL_HEADER.unpack(header)
    return LOCAL_HEADER.size + fields[9] + fields[10]


def check_zip_file(path: Path) -> None:
    """Check the layout, then read the whole archive and every member's CRC.

    Raise CorruptZip if one fails (UnsafeZip for a zip bomb, before any inflating).
    """
    try:
        with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
            check_layout(archive, handle)
            bad = archive.testzip()
    except _READ_ERRORS as exc:
        raise CorruptZip(f"the zip is corrupt ({exc.__class__.__name__})") from None
    if bad is not None:
        raise CorruptZip(f"the zip is corrupt (member {bad} fails its CRC check)")


def zip_is_sound(path: Path) -> bool:
    """True when the whole archive reads back and every CRC checks out."""
    try:
        check_zip_file(path)
    except CorruptZip:
        return False
    return True
