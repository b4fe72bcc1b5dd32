"""Small product archives for the tests: a zip with a quick-look, metadata and a band."""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import Optional

from full_maja.products import product_stem

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


def product_zip(path: Path, *, quicklook: Optional[bytes] = JPEG,
                metadata: Optional[bytes] = None) -> None:
    """Write a product zip at `path` holding the members given, and a band file."""
    stem = product_stem(path.name)
    with zipfile.ZipFile(path, "w") as archive:
        if quicklook is not None:
            archive.writestr(f"{stem}/{stem}_QKL_ALL.jpg", quicklook)
        if metadata is not None:
            archive.writestr(f"{stem}/{stem}_MTD_ALL.xml", metadata)
        archive.writestr(f"{stem}/{stem}_SRE_B4.tif", b"\x00" * 1000)


# -- zip bombs whose every CRC is right ---------------------------------------------------------

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_DOS_DATE = 0x21  # 1980-01-01


def overlapping_zip(members: int, kernel_bytes: int, *, quoted: bool = True) -> bytes:
    """A zip bomb of `members` members overlapping on one kernel of `kernel_bytes` zeros.

    `quoted` (David Fifield's construction): member i's data quotes the local header of
    member i+1 in a stored deflate block, then goes on with member i+1's data, so every
    member has its own name and header and inflates to all that follows it. Otherwise
    every directory entry points at the one same member, under the same name. Every
    CRC and size is right either way; inflating all members costs about `members` times
    `kernel_bytes`, the zip itself a few hundred bytes per member plus the kernel.
    """
    kernel, crc = _zeros_deflated(kernel_bytes)
    names = [f"m{index:05d}".encode() for index in range(members if quoted else 1)]
    entries, data, size = [], kernel, kernel_bytes
    for index in reversed(range(len(names))):
        header = _LOCAL.pack(b"PK\x03\x04", 20, 0, 8, 0, _DOS_DATE, crc, len(data), size,
                             len(names[index]), 0) + names[index]
        entries.insert(0, (names[index], crc, len(data), size))
        if index:
            data = b"\x00" + struct.pack("<HH", len(header), 0xFFFF ^ len(header)) + header + data
            crc = _crc32_combine(zlib.crc32(header), crc, size)
            size += len(header)
    body = header + data
    offsets, offset = [], 0
    for name, *_ in entries:
        offsets.append(offset)
        offset += _LOCAL.size + len(name) + 5
    if not quoted:
        entries, offsets = entries * members, offsets * members
    return body + _directory(entries, offsets, len(body))


def _directory(entries: list, offsets: list, start: int) -> bytes:
    records = b"".join(
        _CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, 8, 0, _DOS_DATE, crc, compressed, size,
                      len(name), 0, 0, 0, 0, 0, offset) + name
        for (name, crc, compressed, size), offset in zip(entries, offsets))
    return records + _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(records),
                               start, 0)


def _zeros_deflated(size: int) -> tuple[bytes, int]:
    """`size` zero bytes as a raw deflate stream, and their CRC, in bounded memory."""
    packer, crc, chunk, parts = zlib.compressobj(9, zlib.DEFLATED, -15), 0, bytes(1 << 20), []
    for begin in range(0, size, len(chunk)):
        piece = chunk[:min(len(chunk), size - begin)]
        parts.append(packer.compress(piece))
        crc = zlib.crc32(piece, crc)
    parts.append(packer.flush())
    return b"".join(parts), crc


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector, row = vector >> 1, row + 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, column) for column in matrix]


def _zero_byte_powers() -> list[list[int]]:
    """The CRC-32 operators of 1, 2, 4, 8... zero bytes (zlib's crc32_combine, unrolled)."""
    one_bit = [0xEDB88320] + [1 << n for n in range(31)]
    power = _gf2_square(_gf2_square(_gf2_square(one_bit)))
    powers = []
    for _ in range(48):
        powers.append(power)
        power = _gf2_square(power)
    return powers


_POWERS = _zero_byte_powers()


def _crc32_combine(first: int, second: int, second_length: int) -> int:
    """The CRC-32 of A + B from those of A and B and the length of B."""
    for bit, power in enumerate(_POWERS):
        if second_length >> bit & 1:
            first = _gf2_times(power, first)
    return first ^ second
