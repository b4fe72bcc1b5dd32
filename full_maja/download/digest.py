"""The MD5 a catalogue publishes for a product, computed while the bytes arrive.

The hash follows the main part file: it sees each piece as it is appended (from the
network, or from a tail absorbed in order), so a product is never read again to be
checked. A part kept by an earlier run is read once when the transfer resumes, in the
same pass that brings the zip check up to date: a hash state is never stored on disk,
where it could disagree with the part it describes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, Optional

from .parts import CHUNK
from .zipcheck import CorruptZip


class StreamDigest:
    """The running MD5 of a product's bytes, in product order."""

    def __init__(self, expected: str) -> None:
        self.expected = expected.lower()
        self._hash = hashlib.md5(usedforsecurity=False)
        self.seen = 0

    def feed(self, piece: bytes) -> None:
        """Take the next bytes of the product."""
        self._hash.update(piece)
        self.seen += len(piece)

    def mismatch(self) -> Optional[str]:
        """Why the bytes seen are not the product published; None when their MD5 matches."""
        found = self._hash.hexdigest()
        if found == self.expected:
            return None
        return (f"its bytes do not match the MD5 the catalogue publishes "
                f"({found} instead of {self.expected})")


def read_prefix(path: Path, count: int) -> Iterator[bytes]:
    """The first `count` bytes of a part file, piece by piece; CorruptZip if it is shorter."""
    if count <= 0:
        return
    with open(path, "rb") as source:
        while count > 0:
            piece = source.read(min(CHUNK, count))
            if not piece:
                raise CorruptZip("the part is shorter than it was")
            count -= len(piece)
            yield piece
