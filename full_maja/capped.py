"""Capped reads of untrusted input: a file the user named, a document from the network."""
from __future__ import annotations

import errno
import logging
import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Union

import requests

from .errors import DocumentLimitError, UsageError

DOCUMENT_CHUNK = 64 * 1024
FileIdentity = tuple[int, int, int, int]
log = logging.getLogger(__name__)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a file of this mode is, in words: `a FIFO (named pipe)`, `a folder`..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_regular_file(path: Union[str, Path], what: str,
                       error: type[UsageError] = UsageError) -> bool:
    """True when `path` is a regular file, False when absent; raise `error` for anything else.

    A symlink is followed: what counts is the file it leads to. Devices, FIFOs,
    sockets and folders are refused before anything opens or reads them.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        raise error(f"{what}: cannot read {_shown(path)}: {reason(exc)}") from None
    if not stat.S_ISREG(mode):
        raise error(f"{what}: cannot read {_shown(path)}: it is {file_kind(mode)}, not a "
                    "regular file; give the path of a file")
    return True


def read_user_file(path: Union[str, Path], what: str, limit: int,
                   error: type[UsageError] = UsageError) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, named by the user for `what`."""
    if not check_regular_file(path, what, error):
        raise error(f"{what}: cannot read {_shown(path)}: {os.strerror(errno.ENOENT)}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{what}: cannot read {_shown(path)}: {reason(exc)}") from None
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(stream.fileno()).st_mode
        if not stat.S_ISREG(mode):  # replaced between the check and the open
            raise error(f"{what}: cannot read {_shown(path)}: it is {file_kind(mode)}")
        try:
            data = stream.read(limit + 1)
        except OSError as exc:
            raise error(f"{what}: cannot read {_shown(path)}: {reason(exc)}") from None
    if len(data) > limit:
        raise error(f"{what}: {_shown(path)} is too large (more than {limit} bytes); "
                    "is it the right file?")
    return data


@contextmanager
def own_file(path: Union[str, Path], what: str) -> Iterator[Optional[BinaryIO]]:
    """A file full-maja keeps for itself (a record, a page), open to read; None when unusable.

    Absent, or anything but a regular file (a FIFO, a device, a folder put there by
    mistake, a symbolic link, never followed): the caller goes on as if there were none,
    and the odd file is left alone.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("%s %s cannot be read (%s); going on without it", what, _shown(path),
                        reason(exc))
        yield None
        return
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(stream.fileno()).st_mode
        if stat.S_ISREG(mode):
            yield stream
            return
        log.warning("%s %s is %s, not a regular file; going on without it and leaving it "
                    "alone", what, _shown(path), file_kind(mode))
        yield None


def read_own_file(path: Union[str, Path], what: str, limit: int) -> Optional[bytes]:
    """The bytes of a file full-maja keeps for itself; None when unusable or over `limit`."""
    return read_own_file_found(path, what, limit)[0]


def read_own_file_found(path: Union[str, Path], what: str,
                        limit: int) -> tuple[Optional[bytes], Optional[FileIdentity]]:
    """`read_own_file`, and the identity of the very file read (None when none was read).

    The read asks for the bytes the file holds, not for `limit`: a small record never
    costs a buffer of the cap's size.
    """
    with own_file_within(path, what, limit) as (stream, found):
        if stream is None:
            return None, found
        data = stream.read(limit + 1)
    if len(data) > limit:  # it grew while read
        log.warning("%s %s is over %d bytes; going on without it", what, _shown(path), limit)
        return None, found
    return data, found


@contextmanager
def own_file_within(path: Union[str, Path], what: str, limit: int
                    ) -> Iterator[tuple[Optional[BinaryIO], Optional[FileIdentity]]]:
    """`own_file` and the identity of the file opened; no stream for a file over `limit`
    bytes (said in a warning)."""
    with own_file(path, what) as stream:
        if stream is None:
            yield None, None
            return
        found = os.fstat(stream.fileno())
        if found.st_size > limit:
            log.warning("%s %s is over %d bytes; going on without it", what, _shown(path),
                        limit)
            yield None, identity_of_stat(found)
            return
        yield stream, identity_of_stat(found)


def file_identity(path: Union[str, Path]) -> Optional[FileIdentity]:
    """The identity of the file at `path` (not followed through a link); None if absent."""
    try:
        return identity_of_stat(os.lstat(path))
    except OSError:
        return None


def identity_of_stat(found: os.stat_result) -> FileIdentity:
    """What tells one version of a file from another: device, inode, size, time."""
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def _shown(path: Union[str, Path]) -> str:
    text = str(path)
    return text if text.isprintable() else repr(text)


def reason(exc: Exception) -> str:
    """Why a file operation failed, in the system's words."""
    return getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__


def read_document(response: requests.Response, what: str, *, limit: int,
                  seconds: float, started: Optional[float] = None) -> bytes:
    """Read a streamed answer, decompressed, refusing more than `limit` bytes or `seconds`.

    The response must have been requested with `stream=True`; it is closed here.
    """
    deadline = (time.monotonic() if started is None else started) + seconds
    parts, size = [], 0
    with response:
        for chunk in _chunks(response):
            size += len(chunk)
            if size > limit:
                raise DocumentLimitError(f"{what} at {response.url} is larger than "
                                         f"{limit // 1024} KiB: refused; the server sent "
                                         "more than such a document ever holds")
            if time.monotonic() > deadline:
                raise DocumentLimitError(f"{what} at {response.url} took more than "
                                         f"{seconds:g} s to arrive: abandoned; run again "
                                         "later")
            parts.append(chunk)
    return b"".join(parts)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """Decoded chunks as soon as the network gives them (read1), never a whole buffer."""
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from response.iter_content(chunk_size=DOCUMENT_CHUNK)
        return
    while True:
        chunk = read1(DOCUMENT_CHUNK, decode_content=True)
        if not chunk:
            return
        yield chunk
