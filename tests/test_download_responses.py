"""The rules for a product's HTTP response, one pure function at a time."""
from __future__ import annotations

import errno
import io
from typing import Optional

import pytest
import requests

from full_maja.download.responses import (
    BadBody,
    accepts_ranges,
    body_chunks,
    body_span,
    check_body_start,
    check_status,
    describe_break,
    describe_disk_error,
    describe_non_zip,
    range_headers,
    starts_like_zip,
    unsatisfied_size,
)
from full_maja.errors import ProductError

NAME = "SENTINEL2A_20190301-083751-427_L2A_T36TWQ_C_V2-2.zip"


def response(status: int = 200, raw: object = None, **headers: str) -> requests.Response:
    """A response as the session hands it over; header names use `_` for `-`."""
    answer = requests.Response()
    answer.status_code = status
    answer.headers.update({key.replace("_", "-"): value for key, value in headers.items()})
    answer.raw = raw
    return answer


class ReadOnly:
    """A raw body without `read1`, as some transports give."""

    def __init__(self, data: bytes) -> None:
        self.source = io.BytesIO(data)

    def read(self, size: int = -1, **ignored: object) -> bytes:
        return self.source.read(size)


@pytest.mark.parametrize("offset, end, asked", [
    (0, None, None),
    (0, 500, "bytes=0-499"),
    (300, None, "bytes=300-"),
    (300, 500, "bytes=300-499"),
])
def test_a_request_asks_for_the_stretch_it_needs_and_for_the_bytes_as_they_are(offset, end,
                                                                               asked):
    headers = range_headers(offset, end)
    assert headers.pop("Accept-Encoding") == "identity"
    assert headers == ({} if asked is None else {"Range": asked})


@pytest.mark.parametrize("status", [200, 206])
def test_a_product_answer_passes_the_status_check(status):
    check_status(response(status), NAME)


@pytest.mark.parametrize("status, reason", [
    (403, "access denied"),
    (404, "not on the server (purged, or not produced)"),
    (429, "the server kept failing"),
    (500, "the server kept failing"),
    (503, "the server kept failing"),
    (204, "unexpected answer"),
    (301, "unexpected answer"),
    (410, "unexpected answer"),
])
def test_another_status_fails_the_product_with_its_reason(status, reason):
    with pytest.raises(ProductError) as caught:
        check_status(response(status), NAME)
    assert str(caught.value) == f"{NAME}: HTTP {status}, {reason}"
    assert caught.value.product == NAME and caught.value.status == status


@pytest.mark.parametrize("status, headers, offset, span", [
    (200, {"Content_Length": "1000"}, 0, (0, 1000)),
    (200, {"Content_Length": "1000"}, 300, (0, 1000)),
    (200, {}, 0, (0, None)),
    (200, {"Content_Length": "ten"}, 0, (0, None)),
    (200, {"Content_Length": "-5"}, 0, (0, None)),
    (206, {"Content_Range": "bytes 300-999/1000"}, 300, (300, 1000)),
    (206, {"Content_Range": " bytes  300-999/1000 "}, 300, (300, 1000)),
    (206, {"Content_Range": "bytes 300-999/1000"}, 200, None),
    (206, {"Content_Range": "bytes 300-999/*"}, 300, None),
    (206, {"Content_Range": "items 300-999/1000"}, 300, None),
    (206, {}, 300, None),
])
def test_the_body_span_comes_from_content_range_or_content_length(status, headers, offset,
                                                                   span):
    assert body_span(response(status, **headers), offset) == span


@pytest.mark.parametrize("header, size", [
    ("bytes */1000", 1000),
    (" bytes */0 ", 0),
    ("bytes 0-9/1000", None),
    ("bytes */*", None),
    ("", None),
])
def test_a_416_announces_the_size_of_a_product_already_whole(header, size):
    assert unsatisfied_size(response(416, Content_Range=header)) == size


@pytest.mark.parametrize("status, header, accepts", [
    (206, "", True), (200, "bytes", True), (200, " Bytes ", True),
    (200, "none", False), (200, "", False),
])
def test_ranges_are_honoured_when_the_answer_is_partial_or_says_so(status, header, accepts):
    assert accepts_ranges(response(status, Accept_Ranges=header)) is accepts


ZIP_START = b"PK\x03\x04\x14\x00"
HTML_PAGE = b"<!DOCTYPE html><html><body>Not Found</body></html>"


@pytest.mark.parametrize("kind", ["application/zip", "application/octet-stream", "",
                                  "application/x-zip-compressed", "text/plain",
                                  "text/html; charset=utf-8", "application/json", "text/xml"])
def test_a_body_from_byte_0_that_starts_like_a_zip_passes_whatever_its_label(kind):
    check_body_start(ZIP_START, 0, response(Content_Type=kind))


@pytest.mark.parametrize("kind", ["application/zip", "text/plain", "text/html", ""])
@pytest.mark.parametrize("body, words", [
    (HTML_PAGE, "an HTML page"), (b'{"error": "gone"}', "JSON"),
    (b'<?xml version="1.0"?><Error/>', "XML"), (b"Service Unavailable", "something"),
])
def test_a_body_from_byte_0_that_is_not_a_zip_is_refused_by_its_bytes(kind, body, words):
    with pytest.raises(BadBody, match=f"^the server sent {words}"):
        check_body_start(body, 0, response(Content_Type=kind))


@pytest.mark.parametrize("kind", ["application/zip", "text/plain", ""])
@pytest.mark.parametrize("body", [HTML_PAGE, b"<html>", b"anything at all", ZIP_START])
def test_bytes_further_on_pass_unless_an_html_page_is_labelled_so(kind, body):
    check_body_start(body, 4096, response(Content_Type=kind))


@pytest.mark.parametrize("kind", ["text/html", "TEXT/HTML; charset=utf-8"])
def test_an_html_page_labelled_html_further_on_is_refused(kind):
    with pytest.raises(BadBody, match="HTML page instead of the product's bytes"):
        check_body_start(b"\n  " + HTML_PAGE, 4096, response(Content_Type=kind))
    check_body_start(ZIP_START, 4096, response(Content_Type=kind))


@pytest.mark.parametrize("chunk, zip_like", [
    (b"PK\x03\x04rest", True), (b"PK", True), (b"P", True),
    (b"PK\x05\x06", False), (b"<html>", False), (b"\0", False),
])
def test_a_body_starts_like_a_zip_only_with_the_local_header_signature(chunk, zip_like):
    assert starts_like_zip(chunk) is zip_like


@pytest.mark.parametrize("chunk, message", [
    (b"<!DOCTYPE html><html>", "the server sent an HTML page instead of a zip"),
    (b"  \n<html><body>", "the server sent an HTML page instead of a zip"),
    (b'{"error": "gone"}', "the server sent JSON instead of a zip"),
    (b"[1, 2]", "the server sent JSON instead of a zip"),
    (b"Service Unavailable", "the server sent something that is not a zip"),
    (b"", "the server sent something that is not a zip"),
])
def test_a_body_that_is_not_a_zip_is_described_by_its_first_bytes(chunk, message):
    assert describe_non_zip(chunk) == message


@pytest.mark.parametrize("exc, words", [
    (requests.exceptions.ReadTimeout("Read timed out."), "no data received for too long"),
    (requests.exceptions.ConnectTimeout("connect"), "no data received for too long"),
    (requests.exceptions.ConnectionError("Read timed out. (read timeout=30)"),
     "no data received for too long"),
    (requests.exceptions.ChunkedEncodingError("Connection broken"), "the connection broke off"),
    (requests.exceptions.ConnectionError("reset by peer"), "the connection broke off"),
])
def test_a_broken_transfer_is_described_as_a_timeout_or_a_break(exc, words):
    assert describe_break(exc) == words


@pytest.mark.parametrize("error, removed, message", [
    (OSError(errno.ENOSPC, "No space left on device"), True,
     f"{NAME}: the disk is full; the partial file was removed, free space and run again"),
    (OSError(errno.ENOSPC, "No space left on device"), False,
     f"{NAME}: the disk is full; the partial file was kept for the next run, free space and "
     "run again"),
    (OSError(errno.EACCES, "Permission denied"), True,
     f"{NAME}: cannot write the product: Permission denied"),
    (OSError("no errno"), True, f"{NAME}: cannot write the product: no errno"),
])
def test_a_disk_error_is_told_with_what_became_of_the_partial_file(error, removed, message):
    assert describe_disk_error(NAME, error, removed=removed) == message


@pytest.mark.parametrize("raw", [io.BytesIO, ReadOnly], ids=["read1", "read"])
@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 3 * 1024 * 1024 + 17])
def test_the_body_is_read_whole_in_pieces(raw, size):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    pieces = list(body_chunks(response(raw=raw(data))))
    assert b"".join(pieces) == data and all(pieces)


def test_read1_hands_over_what_each_read_got():
    class Trickle(io.BytesIO):
        def read1(self, size: Optional[int] = -1) -> bytes:
            return super().read1(min(size or 1, 3))

    assert list(body_chunks(response(raw=Trickle(b"PK\x03\x04ab")))) == [b"PK\x03", b"\x04ab"]
