"""Verifying product zips: every member's CRC, while the bytes arrive or from the file."""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import Optional, Union

from .parts import CHUNK

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
END_SIGNATURES = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x07\x08")
STORED, DEFLATED = 0, 8
_FLAG_ENCRYPTED, _FLAG_DESCRIPTOR, _FLAG_UTF8 = 0x1, 0x8, 0x800
_ZIP64_MARK = 0xFFFFFFFF
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                NotImplementedError, UnicodeDecodeError, RuntimeError)


class CorruptZip(Exception):
    """The zip is damaged: a member fails its CRC, or the archive cannot be read."""


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
            self._count(self.inflater.decompress(data))
        except zlib.error:
            raise CorruptZip("the zip is corrupt (a member does not inflate)") from None

    def close(self) -> None:
        if self.inflater is not None:
            self._count(self.inflater.flush())
        if self.running != self.crc or self.produced != self.raw_size:
            raise CorruptZip("the zip is corrupt (a member fails its CRC check)")

    def _count(self, data: Union[bytes, memoryview]) -> None:
        self.running = zlib.crc32(data, self.running)
        self.produced += len(data)


def check_zip_file(path: Path) -> None:
    """Read the whole archive and check every member's CRC; raise CorruptZip if one fails."""
    try:
        with zipfile.ZipFile(path) as archive:
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
