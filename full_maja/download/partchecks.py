"""The checks a product's main part passes before it takes its final name.

The streaming zip check and the digest see the main part's bytes in order, as they are
written from the network or appended from a tail; a part kept by an earlier run is read
once, when the transfer resumes, and that one read serves both. The whole product is
then held to the size and MD5 its source publishes, and its zip is confirmed (or read
again) while the kernel flushes it to disk.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Iterable, Optional

from ..errors import ProductError
from .digest import StreamDigest
from .responses import BadBody, bad_zip, describe_disk_error
from .zipcheck import CorruptZip, StreamingZipCheck, check_zip_file


class PartChecks:
    """The streaming zip check and the digest of one main part, and the bytes they saw."""

    def __init__(self, md5: Optional[str]) -> None:
        self.md5 = md5
        self.zip = StreamingZipCheck()
        self.digest = StreamDigest(md5)
        self.seen = 0

    def reset(self) -> None:
        """Forget every byte seen: the main part starts again from byte 0."""
        self.zip, self.digest, self.seen = StreamingZipCheck(), StreamDigest(self.md5), 0

    def feed(self, piece: bytes) -> None:
        """Have the streaming check and the digest see the next bytes of the main part."""
        self.zip.feed(piece)
        self.digest.feed(piece)
        self.seen += len(piece)

    def restart(self, pieces: Iterable[bytes]) -> None:
        """See the main part again from byte 0, as `pieces` (one read of a kept part)."""
        self.reset()
        for piece in pieces:
            self.feed(piece)

    def check_published(self, size: int, published: Optional[int]) -> None:
        """Raise BadBody unless the whole product has the size and MD5 its source publishes."""
        if published is not None and size != published:
            raise BadBody(f"it has {size} bytes, its source publishes {published}")
        problem = self.digest.mismatch()
        if problem is not None:
            raise BadBody(problem)


def verify_while_syncing(path: Path, name: str, check: StreamingZipCheck) -> None:
    """Make sure the zip is sound and on disk before it may take its final name.

    When the streaming check saw every member, only the directory is read again;
    otherwise the whole archive is checked while the kernel flushes it, side by side.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="full-maja-fsync") as pool:
        synced = pool.submit(_fsync_file, path)
        try:
            if not check.confirms(path):
                check_zip_file(path)
        except CorruptZip as exc:
            raise bad_zip(exc) from None
        finally:
            error = synced.exception()
    if error is not None:
        with suppress(OSError):
            path.unlink()
        if not isinstance(error, OSError):
            raise error
        raise ProductError(describe_disk_error(name, error), product=name) from None


def _fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk."""
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
