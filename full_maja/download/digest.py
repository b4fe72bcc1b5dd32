"""A product's digest, computed while its bytes arrive: the MD5 a catalogue publishes for
it, checked, or else its SHA-256, kept for the STAC catalogue's `file:checksum`.

The hash follows the main part file: it sees each piece as it is appended (from the
network, or from a tail absorbed in order), so a product is never read again to be
checked or described. A part kept by an earlier run is read once when the transfer
resumes, in the same pass that brings the zip check up to date: a hash state is never
stored on disk, where it could disagree with the part it describes.

The hashing runs on a thread of its own, a few pieces behind the transfer: hashlib lets
go of the interpreter while it hashes, so on a fast link the digest costs the transfer
next to nothing (on one core, the same time as hashing in line).
"""
from __future__ import annotations

import hashlib
import queue
import threading
import weakref
from pathlib import Path
from typing import Any, Iterator, Optional

from .parts import CHUNK
from .zipcheck import CorruptZip

PIECES_AHEAD = 4
"""Pieces the transfer may be ahead of the hash: bounds the memory it holds (4 MiB)."""


class StreamDigest:
    """The running MD5 (`expected`: the one published) or SHA-256 of a product's bytes."""

    def __init__(self, expected: Optional[str] = None) -> None:
        self.expected = expected.lower() if expected else None
        self._hash = hashlib.md5(usedforsecurity=False) if expected else hashlib.sha256()
        self._pieces: queue.Queue[Optional[bytes]] = queue.Queue(PIECES_AHEAD)
        self._worker: Optional[threading.Thread] = None
        self.seen = 0

    def feed(self, piece: bytes) -> None:
        """Take the next bytes of the product (hashed on the digest's own thread)."""
        if self._worker is None:
            self._worker = threading.Thread(target=_hash_pieces, args=(self._hash, self._pieces),
                                            name="full-maja-digest", daemon=True)
            self._worker.start()
            weakref.finalize(self, self._pieces.put, None)  # a digest dropped unread
        self._pieces.put(piece)
        self.seen += len(piece)

    def _hexdigest(self) -> str:
        """The digest of every piece fed so far, once the thread has hashed them all."""
        if self._worker is not None:
            self._pieces.put(None)
            self._worker.join()
            self._worker = None
        return self._hash.hexdigest()

    def mismatch(self) -> Optional[str]:
        """Why the bytes seen are not the product published; None when their MD5 matches
        (or none is published)."""
        if self.expected is None:
            return None
        found = self._hexdigest()
        if found == self.expected:
            return None
        return (f"its bytes do not match the MD5 the catalogue publishes "
                f"({found} instead of {self.expected})")

    @property
    def sha256(self) -> Optional[str]:
        """The SHA-256 (hex) of the bytes seen, for a product whose source publishes no MD5."""
        return None if self.expected else self._hexdigest()


def _hash_pieces(hashed: Any, pieces: queue.Queue[Optional[bytes]]) -> None:
    """Hash pieces in order until told to stop (None): what a digest's thread does."""
    while (piece := pieces.get()) is not None:
        hashed.update(piece)


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
