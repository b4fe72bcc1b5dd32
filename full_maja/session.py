"""The one HTTP session factory: identity, timeouts, retries and transport rules."""
from __future__ import annotations

import base64
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from .__version__ import __version__
from .capped import read_document
from .credentials import Credentials
from .errors import AuthenticationError, NetworkError, UsageError

log = logging.getLogger(__name__)

USER_AGENT = f"full-maja/{__version__}"
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 60.0
CONNECT_RETRIES = 2
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DOCUMENT_LIMIT = 4 * 1024 * 1024
DOCUMENT_SECONDS = 120.0
DEFAULT_PORTS = {"http": 80, "https": 443}
DNS_FAILURE_SIGNS = ("NameResolutionError", "Name or service not known", "getaddrinfo failed",
                     "nodename nor servname", "Temporary failure in name resolution")


Origin = tuple[str, str, int]


def url_origin(url: str) -> Optional[Origin]:
    """The (scheme, host, port) a URL belongs to, default port filled in; None if unreadable."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


class OriginAuth(AuthBase):
    """HTTP basic auth, encoded in UTF-8 (RFC 7617), sent only to the endpoint's origin."""

    def __init__(self, credentials: Credentials, origin_url: str) -> None:
        self.origin = url_origin(origin_url)
        token = f"{credentials.user}:{credentials.password}".encode()  # UTF-8: RFC 7617
        self._header = "Basic " + base64.b64encode(token).decode("ascii")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the account to a request for the origin; remove it from any other."""
        request.headers.pop("Authorization", None)
        if self.origin is not None and url_origin(request.url or "") == self.origin:
            request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"OriginAuth(origin={self.origin!r})"


@dataclass(frozen=True)
class Document:
    """A whole answer read within the caps: its URL, HTTP status and (decoded) bytes."""

    url: str
    status_code: int
    content: bytes


class PepsSession(requests.Session):
    """A requests session that always sets timeouts and refuses clear-text passwords.

    The account goes only to `origin` (the endpoint the user gave): scheme, host and
    port; a request elsewhere, or a redirect leaving it, carries no Authorization.
    """

    def __init__(self, credentials: Optional[Credentials], *, origin: Optional[str] = None,
                 insecure_http: bool = False, read_timeout: float = READ_TIMEOUT,
                 document_limit: int = DOCUMENT_LIMIT,
                 document_seconds: float = DOCUMENT_SECONDS) -> None:
        super().__init__()
        if credentials is not None and origin is None:
            raise ValueError("an account needs the endpoint it belongs to (origin=...)")
        self.credentials = credentials
        self.origin = url_origin(origin) if origin else None
        self.insecure_http = insecure_http
        self.read_timeout = read_timeout
        self.document_limit = document_limit
        self.document_seconds = document_seconds
        self.headers["User-Agent"] = USER_AGENT
        if credentials is not None and origin is not None:
            self.auth = OriginAuth(credentials, origin)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """Send a request with explicit timeouts, after checking the transport."""
        check_transport(url, self.insecure_http)
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, self.read_timeout))
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise NetworkError(describe_network_error(url, exc),
                               reached_server=may_have_reached_server(exc)) from exc
        if response.status_code == 401:
            response.close()
            raise AuthenticationError(self._refusal(response.url or url))
        return response

    def rebuild_auth(self, prepared_request: requests.PreparedRequest,
                     response: requests.Response) -> None:
        """On a redirect the account follows only if the new URL is on the origin (no netrc)."""
        prepared_request.headers.pop("Authorization", None)
        if isinstance(self.auth, OriginAuth):
            self.auth(prepared_request)

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
        return Document(response.url or url, response.status_code, content)

    def _refusal(self, url: str) -> str:
        if self.credentials is not None and url_origin(url) == self.origin:
            return (f"{urlsplit(url).hostname} refused the PEPS account from "
                    f"{self.credentials.source} (HTTP 401): check the e-mail and password")
        return (f"the product server {_netloc(url)} refused access (HTTP 401) to "
                f"{redact_url(url)}; the PEPS account is sent only to the endpoint "
                f"{_origin_text(self.origin)}, not to other servers")


def _netloc(url: str) -> str:
    origin = url_origin(url)
    return f"{origin[1]}:{origin[2]}" if origin else "(unreadable URL)"


def _origin_text(origin: Optional[Origin]) -> str:
    return f"{origin[0]}://{origin[1]}:{origin[2]}" if origin else "(none given)"


def make_session(credentials: Optional[Credentials], *, origin: Optional[str] = None,
                 insecure_http: bool = False, read_timeout: float = READ_TIMEOUT,
                 retries: int = 5, backoff: float = 1.0, pool_size: int = 10) -> PepsSession:
    """Build the session every request of full-maja goes through; the account goes to `origin`."""
    session = PepsSession(credentials, origin=origin, insecure_http=insecure_http,
                          read_timeout=read_timeout)
    adapter = HTTPAdapter(max_retries=idempotent_retry(retries, backoff),
                          pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def idempotent_retry(total: int, backoff: float) -> Retry:
    """Retry GET/HEAD on connection errors, timeouts, 429 and 5xx; never a sent POST.

    urllib3 retries connection errors for every method: those requests never
    reached the server, so even a submission is safe to send again then. They get
    few tries: a host that cannot be resolved or refuses connections rarely
    changes its mind within seconds, and the next cron run tries again anyway.
    """
    return Retry(total=total, connect=CONNECT_RETRIES, read=total, status=total, other=0,
                 backoff_factor=backoff, backoff_max=60,
                 status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "HEAD"}),
                 respect_retry_after_header=True, raise_on_status=False,
                 raise_on_redirect=False)


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


def warn_if_clear_text(url: str) -> None:
    """Warn when the password will travel in clear to another machine."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not is_local_host(parts.hostname):
        log.warning("--insecure-http: the PEPS password travels in clear to %s; anyone on "
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
