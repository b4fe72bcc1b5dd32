"""Rules for a product's HTTP exchange: the range asked for, the answer's status, body
span, what its first bytes are, and what went wrong.

The body decides what a product is, not its `Content-Type`: raw file hosts label
everything `text/plain` or `application/octet-stream`. A body from byte 0 must begin
with a zip's signature; an error page is told by its own bytes.

Pure functions of an offset, a response, its headers or an error, so that each rule
can be tested without a network.
"""
from __future__ import annotations

import errno
import re
from typing import Iterator, Optional

import requests

from ..errors import ProductError
from .parts import CHUNK
from .zipcheck import CorruptZip, UnsafeZip

ZIP_MAGIC = b"PK\x03\x04"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")
_PAGE_TYPES = ("text/html", "application/xhtml+xml")
_STATUS_ADVICE = {403: "access denied", 404: "not on the server (purged, or not produced)"}


class BadBody(Exception):
    """The server sent something that is not the product.

    `final` when fetching it again cannot help (a zip bomb): the product fails at once.
    """

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class Interrupted(Exception):
    """The transfer stopped early and can resume from the part files."""


def bad_zip(exc: CorruptZip) -> BadBody:
    """The BadBody of a zip that failed its check; final for a zip bomb."""
    return BadBody(str(exc), final=isinstance(exc, UnsafeZip))


def range_headers(offset: int, end: Optional[int]) -> dict[str, str]:
    """The headers asking for the product's bytes from `offset` up to `end` (None: its end)."""
    headers = {"Accept-Encoding": "identity"}
    if offset or end is not None:
        headers["Range"] = f"bytes={offset}-{'' if end is None else end - 1}"
    return headers


def check_status(response: requests.Response, name: str) -> None:
    """Raise ProductError unless the answer is 200 or 206."""
    code = response.status_code
    if code in (200, 206):
        return
    reason = _STATUS_ADVICE.get(code, "the server kept failing" if code >= 500 or code == 429
                                else "unexpected answer")
    raise ProductError(f"{name}: HTTP {code}, {reason}", product=name, status=code)


def body_span(response: requests.Response,
              offset: int) -> Optional[tuple[int, Optional[int]]]:
    """Where the body starts in the product and its full size; None if the range is wrong."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match and int(match.group(1)) == offset and match.group(3) != "*":
            return offset, int(match.group(3))
        return None
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def unsatisfied_size(response: requests.Response) -> Optional[int]:
    """The product's size that a 416 announces (`bytes */SIZE`), if it does."""
    match = _UNSATISFIED_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    return int(match.group(1)) if match else None


def accepts_ranges(response: requests.Response) -> bool:
    """True when the answer shows that the server honours `Range`."""
    accepts = response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
    return response.status_code == 206 or accepts


def check_body_start(chunk: bytes, offset: int, response: requests.Response) -> None:
    """Raise BadBody when the first bytes of an answer are not the product's from `offset`.

    From byte 0 the bytes alone decide: a zip's signature, or a description of what
    came instead. Further on, a product's bytes may be anything; an answer is refused
    there only when its bytes are an HTML page and its label says so too (the zip's
    CRCs judge every other byte).
    """
    if offset == 0:
        if not starts_like_zip(chunk):
            raise BadBody(describe_non_zip(chunk))
        return
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in _PAGE_TYPES and _looks_like_html(chunk):
        raise BadBody("the server sent an HTML page instead of the product's bytes")


def starts_like_zip(chunk: bytes) -> bool:
    """True when the first bytes of a body could begin a zip."""
    return chunk.startswith(ZIP_MAGIC[:len(chunk)])


def describe_non_zip(chunk: bytes) -> str:
    """What the first bytes of a body that is not a zip look like."""
    head = chunk[:64].lstrip().lower()
    if _looks_like_html(chunk):
        return "the server sent an HTML page instead of a zip"
    if head.startswith((b"{", b"[")):
        return "the server sent JSON instead of a zip"
    if head.startswith(b"<?xml"):
        return "the server sent XML instead of a zip"
    return "the server sent something that is not a zip"


def _looks_like_html(chunk: bytes) -> bool:
    """True when the first bytes are an HTML page's (after any byte order mark and spaces)."""
    head = chunk[:256].lstrip(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith(_HTML_STARTS) or (head.startswith(b"<?xml") and b"<html" in head)


def describe_break(exc: Exception) -> str:
    """Why a transfer broke off, in the user's words."""
    text = str(exc)
    if "Read timed out" in text or isinstance(exc, requests.exceptions.Timeout):
        return "no data received for too long"
    return "the connection broke off"


def describe_disk_error(name: str, exc: OSError, removed: bool = True) -> str:
    """What to tell the user when a product cannot be written."""
    if exc.errno == errno.ENOSPC:
        kept = "removed" if removed else "kept for the next run"
        return f"{name}: the disk is full; the partial file was {kept}, free space and run again"
    return f"{name}: cannot write the product: {exc.strerror or exc}"


def body_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, so that a broken transfer loses no byte already received.

    `iter_content` asks urllib3 for whole chunks and drops a half-filled one when
    the connection breaks; `read1` hands over what each read got.
    """
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from response.iter_content(chunk_size=CHUNK)
        return
    while True:
        chunk = read1(CHUNK)
        if not chunk:
            return
        yield chunk
