"""The session factory: identity, timeouts, retry rules and transport rules."""
from __future__ import annotations

import pytest

from full_maja.credentials import Credentials
from full_maja.errors import UsageError
from full_maja.session import (
    USER_AGENT,
    check_transport,
    idempotent_retry,
    make_session,
    redact_url,
)


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
    session = make_session(Credentials("u@x.org", "pw", "test"))
    assert session.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("full-maja/")
    assert session.auth == ("u@x.org", "pw")
    assert session.get_adapter("https://x").max_retries.total == 5


def test_urls_are_redacted():
    assert redact_url("https://u:p@h:8/x") == "https://h:8/x"
