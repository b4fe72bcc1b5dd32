"""The one HTTP session factory: identity, timeouts, retries and transport rules.

Every wait for a server is bounded by the read timeout (the download command's
`--timeout`): connecting (at most `CONNECT_TIMEOUT`), each silence, each pause before a
retry, `Retry-After` included (at most `DOCUMENT_FACTOR` times it and `RETRY_PAUSE_MAX`),
and the whole body of a document (at most `DOCUMENT_FACTOR` times it and
`DOCUMENT_SECONDS`). A timeout outside `MIN_TIMEOUT`..`MAX_TIMEOUT` is refused.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .__version__ import __version__
from .auth import EndpointAuth
from .capped import read_document
from .errors import AuthenticationError, FullMajaError, NetworkError, ServiceError, UsageError

log = logging.getLogger(__name__)

USER_AGENT = f"full-maja/{__version__}"
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 60.0
CONNECT_RETRIES = 2
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DOCUMENT_LIMIT = 4 * 1024 * 1024
DOCUMENT_SECONDS = 120.0
DOCUMENT_FACTOR = 4
RETRY_PAUSE_MAX = 60.0
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 3600.0
DNS_FAILURE_SIGNS = ("NameResolutionError", "Name or service not known", "getaddrinfo failed",
                     "nodename nor servname", "Temporary failure in name resolution")


@dataclass(frozen=True)
class Document:
    """A whole answer read within the caps: its URL, HTTP status, headers and (decoded) bytes."""

    url: str
    status_code: int
    content: bytes
    headers: Mapping[str, str]


class PepsSession(requests.Session):
    """A requests session that always sets timeouts and refuses clear-text passwords.

    The account (`EndpointAuth`) goes only to the endpoint's origin: scheme, host and
    port; a request elsewhere, or a redirect leaving it, carries none of it.
    """

    def __init__(self, account: Optional[EndpointAuth] = None, *, insecure_http: bool = False,
                 read_timeout: float = READ_TIMEOUT, document_limit: int = DOCUMENT_LIMIT,
                 document_seconds: Optional[float] = None) -> None:
        super().__init__()
        self.account = account
        self.insecure_http = insecure_http
        self.read_timeout = check_timeout(read_timeout)
        self.connect_timeout = min(CONNECT_TIMEOUT, self.read_timeout)
        self.document_limit = document_limit
        self.document_seconds = document_seconds or document_seconds_for(self.read_timeout)
        self.headers["User-Agent"] = USER_AGENT
        self.auth = account

    # Narrower than Session.request on purpose: full-maja passes text URLs and keywords.
    def request(  # type: ignore[override]
            self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """Send a request with explicit timeouts, after checking the transport."""
        check_transport(url, self.insecure_http)
        kwargs.setdefault("timeout", (self.connect_timeout, self.read_timeout))
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise NetworkError(describe_network_error(url, exc),
                               reached_server=may_have_reached_server(exc)) from exc
        if response.status_code == 401:
            response.close()
            raise self._refusal(response.url or url)
        return response

    def rebuild_auth(self, prepared_request: requests.PreparedRequest,
                     response: requests.Response) -> None:
        """On a redirect: the new URL must pass the transport rules (a server chose it),
        and the account follows only if it is on the origin (no netrc)."""
        self.check_redirect(prepared_request.url or "", response.url or "")
        prepared_request.headers.pop("Authorization", None)
        if self.account is not None:
            self.account(prepared_request)

    def check_redirect(self, url: str, source: str) -> None:
        """Refuse a redirect to a URL full-maja does not follow (plain http to another
        machine without --insecure-http, another scheme): that server's fault."""
        try:
            check_transport(url, self.insecure_http)
        except UsageError as exc:
            reason = _transport_reason(exc).split(": ")[0]  # no password goes there
            advice = "; --insecure-http accepts it" if "plain http" in reason else ""
            server = urlsplit(source).hostname or "the server"
            raise ServiceError(f"{server} redirected to a URL full-maja does not follow "
                               f"({reason}{advice})") from None

    def get_document(self, url: str, what: str, **kwargs: Any) -> Document:
        """GET a document (status, report...) whole, within the size and time caps."""
        return self.request_document("GET", url, what, **kwargs)

    def request_document(self, method: str, url: str, what: str, **kwargs: Any) -> Document:
        """Send a request and read its answer whole, within the size and time caps."""
        response = self.request(method, url, stream=True, **kwargs)
        started = time.monotonic()
        try:
            content = read_document(response, what, limit=self.document_limit,
                                    seconds=self.document_seconds, started=started)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
                OSError) as exc:
            raise NetworkError(f"{what}: {describe_network_error(url, exc)}") from exc
        return Document(response.url or url, response.status_code, content, response.headers)

    def check_server_url(self, url: str, what: str) -> None:
        """Refuse a URL a server gave that full-maja will not follow: that server's fault.

        The user's own URLs (the endpoint, a log's) fail `check_transport` as bad
        usage; a URL a server handed out fails the job that holds it.
        """
        try:
            check_transport(url, self.insecure_http)
        except UsageError as exc:
            raise ServiceError(f"{what} is at a URL full-maja does not follow "
                               f"({_transport_reason(exc)})") from None

    def _refusal(self, url: str) -> FullMajaError:
        if self.account is not None:
            return self.account.refusal(401, url)
        return AuthenticationError(f"{urlsplit(url).hostname} asks for an account (HTTP 401): "
                                   "give one with -a, PEPS_USER/PEPS_PASSWORD or ~/.netrc")


def check_timeout(seconds: Union[int, float], what: str = "timeout") -> float:
    """`seconds` as a float, if it is a timeout full-maja can honour; else UsageError."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds) or not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        raise UsageError(f"{what}: {seconds!r} is not a number of seconds from "
                         f"{MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}")
    return float(seconds)


def document_seconds_for(timeout: float) -> float:
    """How long a whole document may take to arrive, given the read timeout."""
    return min(DOCUMENT_SECONDS, DOCUMENT_FACTOR * timeout)


def make_session(account: Optional[EndpointAuth] = None, *, insecure_http: bool = False,
                 read_timeout: float = READ_TIMEOUT, retries: int = 5, backoff: float = 1.0,
                 pool_size: int = 10) -> PepsSession:
    """Build the session every request of full-maja goes through."""
    session = PepsSession(account, insecure_http=insecure_http, read_timeout=read_timeout)
    pause = min(RETRY_PAUSE_MAX, DOCUMENT_FACTOR * session.read_timeout)
    adapter = HTTPAdapter(max_retries=idempotent_retry(retries, backoff, pause),
                          pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class BoundedRetry(Retry):
    """urllib3's Retry, whose every pause, a server's `Retry-After` included, is bounded.

    urllib3 honours a `Retry-After` of hours (or of any length, in older 2.x releases):
    here no pause lasts more than `pause_max` seconds.
    """

    def __init__(self, *args: Any, pause_max: float = RETRY_PAUSE_MAX, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pause_max = pause_max

    def new(self, **changes: Any) -> BoundedRetry:
        """The next state of the retries, with the same bound."""
        retry = super().new(**changes)
        retry.pause_max = self.pause_max
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        """The server's `Retry-After`, in seconds, cut to the bound."""
        return min(super().parse_retry_after(retry_after), self.pause_max)


def idempotent_retry(total: int, backoff: float,
                     pause_max: float = RETRY_PAUSE_MAX) -> BoundedRetry:
    """Retry GET/HEAD on connection errors, timeouts, 429 and 5xx; never a sent POST.

    urllib3 retries connection errors for every method: those requests never
    reached the server, so even a submission is safe to send again then. They get
    few tries: a host that cannot be resolved or refuses connections rarely
    changes its mind within seconds, and the next cron run tries again anyway.
    No pause between tries lasts more than `pause_max` seconds.
    """
    return BoundedRetry(total=total, connect=CONNECT_RETRIES, read=total, status=total,
                        other=0, backoff_factor=backoff, backoff_max=pause_max,
                        status_forcelist=RETRY_STATUSES,
                        allowed_methods=frozenset({"GET", "HEAD"}),
                        respect_retry_after_header=True, raise_on_status=False,
                        raise_on_redirect=False, pause_max=pause_max)


def is_local_host(host: Optional[str]) -> bool:
    """True for this machine's loopback names and addresses."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(url: str, insecure_http: bool) -> None:
    """Refuse to send the password in clear, except to this machine or when asked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise UsageError(f"not a valid URL: {url!r}") from None
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"refusing {redact_url(url)} with an account in the URL: give the "
                         "account with -a, PEPS_USER/PEPS_PASSWORD or ~/.netrc instead")
    if parts.scheme == "https" and host:
        return
    if parts.scheme != "http" or not host:
        raise UsageError(f"not an http(s) URL: {redact_url(url)}")
    if is_local_host(parts.hostname) or insecure_http:
        return
    raise UsageError(
        f"refusing plain http to {parts.hostname}: the password would travel in clear; "
        "use https, or --insecure-http if you accept that")


def _transport_reason(exc: UsageError) -> str:
    """The first clause of a transport refusal, without the advice meant for the user's URLs."""
    return str(exc).split(";")[0].split(": use ")[0]


def warn_if_clear_text(url: str) -> None:
    """Warn when the password will travel in clear to another machine."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not is_local_host(parts.hostname):
        log.warning("--insecure-http: the account travels in clear to %s; anyone on "
                    "the way can read it", parts.hostname)


def redact_url(url: str) -> str:
    """The URL without any user:password part."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return "(a URL that cannot be read)"
    return parts._replace(netloc=netloc).geturl()


def may_have_reached_server(exc: Exception) -> bool:
    """False when the request surely never left: no connection could be opened."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


def describe_network_error(url: str, exc: Exception) -> str:
    """One readable line for a failed request."""
    host = urlsplit(url).hostname
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        what = "the connection timed out"
    elif isinstance(exc, requests.exceptions.ReadTimeout) or "Read timed out" in text:
        what = "the server stopped answering (read timeout)"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError) \
            or "IncompleteRead" in text or "Connection broken" in text:
        what = "the answer was cut short"
    elif isinstance(exc, requests.exceptions.SSLError):
        what = "the TLS certificate could not be verified"
    elif any(sign in text for sign in DNS_FAILURE_SIGNS):
        what = "the host name could not be resolved (DNS)"
    elif "Connection refused" in text or "ConnectionRefused" in text:
        what = "the connection was refused"
    elif isinstance(exc, requests.exceptions.RetryError):
        what = "the server kept failing after several retries"
    elif isinstance(exc, requests.exceptions.TooManyRedirects):
        what = "the server redirected too many times (a redirect loop)"
    elif isinstance(exc, (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL)):
        what = "the server redirected to a URL that is not http(s)"
    else:
        what = f"the request failed ({exc.__class__.__name__})"
    return f"cannot reach {host}: {what}; check the network and the endpoint, then run again"
