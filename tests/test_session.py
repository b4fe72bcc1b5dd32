"""The session factory: identity, timeouts, retry rules and transport rules."""
from __future__ import annotations

import base64
import gzip
import time
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from full_maja.auth import EndpointAuth
from full_maja.credentials import Credentials
from full_maja.errors import (
    AuthenticationError,
    DocumentLimitError,
    RefusedElsewhere,
    UsageError,
)
from full_maja.session import (
    DOCUMENT_SECONDS,
    MAX_TIMEOUT,
    MIN_TIMEOUT,
    RETRY_PAUSE_MAX,
    USER_AGENT,
    PepsSession,
    check_timeout,
    check_transport,
    idempotent_retry,
    make_session,
    redact_url,
)

EURO_PASSWORD = "pr1x-10€-ça"


@pytest.mark.parametrize("url", ["https://peps.cnes.fr/resto/wps", "http://127.0.0.1:8/w",
                                 "http://localhost/w", "http://[::1]:80/w", "http://127.3.4.5/"])
def test_allowed_transports(url):
    check_transport(url, insecure_http=False)


@pytest.mark.parametrize("url", ["http://peps.cnes.fr/resto/wps", "http://10.0.0.1/w",
                                 "ftp://h/x", "file:///etc/passwd", "peps.cnes.fr"])
def test_clear_text_to_other_hosts_is_refused(url):
    with pytest.raises(UsageError):
        check_transport(url, insecure_http=False)


def test_insecure_http_is_an_explicit_choice():
    check_transport("http://peps.cnes.fr/resto/wps", insecure_http=True)


def test_retries_cover_get_but_never_a_sent_post():
    retry = idempotent_retry(5, 1.0)
    assert retry.is_retry("GET", 503) and retry.is_retry("GET", 429)
    assert not retry.is_retry("POST", 503)
    assert not retry.is_retry("GET", 404) and not retry.is_retry("GET", 401)


def test_session_identity_and_auth():
    session = make_session(EndpointAuth("https://x/wps", Credentials("u@x.org", "pw", "test")))
    assert session.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("full-maja/")
    assert "pw" not in repr(session.auth)
    assert session.get_adapter("https://x").max_retries.total == 5


def test_urls_are_redacted():
    assert redact_url("https://u:p@h:8/x") == "https://h:8/x"


# -- the account: UTF-8, and only to the endpoint's origin -------------------------------------

def authorization(session: PepsSession, url: str) -> str | None:
    """The Authorization header the session would send to `url`."""
    prepared = session.prepare_request(requests.Request("GET", url))
    return prepared.headers.get("Authorization")


def test_basic_auth_is_utf8_encoded():
    session = make_session(EndpointAuth("https://h/wps", Credentials("u@x.org", EURO_PASSWORD)))
    header = authorization(session, "https://h/wps/outputs/pywps-1.xml")
    token = base64.b64encode(f"u@x.org:{EURO_PASSWORD}".encode()).decode()
    assert header == f"Basic {token}"


@pytest.mark.parametrize("url, sent", [
    ("https://h/resto/wps", True), ("https://H:443/wps/outputs/r.json", True),
    ("https://h:8443/wps/outputs/r.json", False), ("http://h/resto/wps", False),
    ("https://files.h/maja/1/P.zip", False), ("https://other/maja/1/P.zip", False),
])
def test_the_account_goes_only_to_the_origin(url, sent):
    session = make_session(EndpointAuth("https://h/resto/wps", Credentials("u@x.org", "pw")))
    assert (authorization(session, url) is not None) == sent


def reply_401(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(401)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


PEPS_FILE_ACCOUNT = Credentials("u@x.org", "pw", "the file peps.txt")


def test_a_401_elsewhere_blames_that_server_not_the_account(hostile):
    base, seen = hostile(reply_401)
    account = EndpointAuth("http://localhost:1/resto/wps", PEPS_FILE_ACCOUNT)
    session = make_session(account, retries=0)
    with pytest.raises(RefusedElsewhere) as exc:
        session.get(f"{base}/maja/1/P.zip")
    message = str(exc.value)
    assert "not the endpoint" in message and "peps.txt" not in message and "pw" not in message
    assert seen and not any("Authorization" in headers for headers in seen)


def test_a_401_from_the_endpoint_blames_the_account(hostile):
    base, _ = hostile(reply_401)
    session = make_session(EndpointAuth(base, PEPS_FILE_ACCOUNT), retries=0)
    with pytest.raises(AuthenticationError, match="refused the account from the file"):
        session.get(f"{base}/resto/wps")


# -- documents: capped in size and time ---------------------------------------------------------

def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    body = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    handler.send_response(200)
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def endless(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.end_headers()
    while True:
        handler.wfile.write(b"<x>" * 10000)


def drip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(0.2)


def small(handler: BaseHTTPRequestHandler) -> None:
    body = gzip.compress(b"<ok/>")
    handler.send_response(200)
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.mark.parametrize("answer, words", [
    (gzip_bomb, "larger than"), (endless, "larger than"), (drip, "took more than"),
], ids=["gzip-bomb", "endless", "drip"])
def test_a_document_beyond_its_caps_is_one_clear_error(hostile, answer, words):
    url = hostile(answer)[0] + "/wps/outputs/pywps-1.xml"
    session = PepsSession(None, read_timeout=5, document_limit=1024 * 1024,
                          document_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(DocumentLimitError) as exc:
        session.get_document(url, "the status document of job 1")
    assert time.monotonic() - started < 100  # the drip lasts 200 s, the cap 1.5 s
    message = str(exc.value)
    assert words in message and url in message and "\n" not in message


def test_a_document_within_its_caps_is_read_decoded(hostile):
    url = hostile(small)[0] + "/r.xml"
    document = PepsSession(None).get_document(url, "the report")
    assert (document.status_code, document.content) == (200, b"<ok/>")


# -- every wait is bounded by the timeout ---------------------------------------------------------

@pytest.mark.parametrize("seconds", [0, -1, 0.05, 3600.5, 1e10, float("inf"), float("nan"),
                                     True, "30"])
def test_a_timeout_outside_its_bounds_is_refused_in_words(seconds):
    with pytest.raises(UsageError, match=f"from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}"):
        check_timeout(seconds)
    with pytest.raises(UsageError):
        make_session(read_timeout=seconds)


@pytest.mark.parametrize("timeout, connect, document", [
    (0.1, 0.1, 0.4), (1, 1, 4), (30, 15, DOCUMENT_SECONDS), (3600, 15, DOCUMENT_SECONDS)])
def test_the_timeout_bounds_connecting_and_the_whole_document(timeout, connect, document):
    session = make_session(read_timeout=timeout)
    assert (session.connect_timeout, session.document_seconds) == (connect, document)


@pytest.mark.parametrize("timeout, pause", [(1, 4), (30, RETRY_PAUSE_MAX)])
@pytest.mark.parametrize("header", ["100000", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_servers_retry_after_is_cut_to_the_bound_at_every_try(timeout, pause, header):
    retry = make_session(read_timeout=timeout).get_adapter("https://x/").max_retries
    assert retry.parse_retry_after(header) == pause
    later = retry.new(total=1)
    assert later.parse_retry_after(header) == pause and later.backoff_max == pause
