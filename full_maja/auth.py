"""The account sent to the API's own origin only: an API key header and/or basic auth.

The API key is found in this order, the first one wins:
1. the key given to the Python API (`Client(api_key=...)`);
2. `--api-key-file FILE` (`Client(api_key_file=...)`): the key on the first non-empty line;
3. the environment variable `FULL_MAJA_API_KEY`.
It travels in one request header (`X-API-Key` unless told otherwise), never in a URL,
and only to the scheme, host and port of the endpoint: product servers get nothing.
"""
from __future__ import annotations

import base64
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from .credentials import Credentials, read_secret_file
from .errors import AuthenticationError, CredentialsError, FullMajaError, RefusedElsewhere
from .masking import register_account, register_secret

log = logging.getLogger(__name__)

API_KEY_VARIABLE = "FULL_MAJA_API_KEY"
DEFAULT_API_KEY_HEADER = "X-API-Key"
MAX_KEY_FILE_BYTES = 64 * 1024
FORBIDDEN = 403
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, Optional[int]]


@dataclass(frozen=True)
class ApiKey:
    """An API key, the header it goes in, and where it was found (never the key)."""

    key: str = field(repr=False)
    header: str = DEFAULT_API_KEY_HEADER
    source: str = ""


def resolve_api_key(key: Optional[str] = None, key_file: Optional[str] = None,
                    header: str = DEFAULT_API_KEY_HEADER,
                    environ: Optional[Mapping[str, str]] = None) -> Optional[ApiKey]:
    """Find the API key: `key`, else `key_file`, else $FULL_MAJA_API_KEY; None if none."""
    check_header_name(header)
    env = os.environ if environ is None else environ
    if key:
        return ApiKey(_checked_key(key, "the API key given"), header, "the Python API")
    if key_file:
        return read_api_key_file(key_file, header)
    if env.get(API_KEY_VARIABLE):
        source = f"the environment variable {API_KEY_VARIABLE}"
        return ApiKey(_checked_key(env[API_KEY_VARIABLE], source), header, source)
    return None


def read_api_key_file(path: str, header: str = DEFAULT_API_KEY_HEADER) -> ApiKey:
    """Read a key file: the key on its first non-empty line."""
    text = read_secret_file(path, "--api-key-file", "the API key")
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        raise CredentialsError(f"--api-key-file: {path} is empty; put the key on one line")
    return ApiKey(_checked_key(line, f"--api-key-file: {path}"), header, f"the file {path}")


def check_header_name(header: str) -> None:
    """Refuse a header name that HTTP does not allow."""
    if not _HEADER_NAME.fullmatch(header or ""):
        raise CredentialsError(f"--api-key-header: {header!r} is not an HTTP header name")


def origin_of(url: str) -> Origin:
    """The origin of a URL: scheme, host and port, with default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


class EndpointAuth(AuthBase):
    """The account on the wire: basic auth (UTF-8, RFC 7617) and/or an API key header.

    Both go to the endpoint's origin (scheme, host, port) and nowhere else: every
    request, redirects included (the session re-applies it), is stripped of them
    first, so a product server or a redirect elsewhere never sees the account. A
    catalogue the client also follows (`add_key_origin`) gets the API key alone.
    Each secret it may send is registered (`masking`): whatever a server echoes of
    it is hidden in all full-maja prints or writes.
    """

    def __init__(self, endpoint: str, credentials: Optional[Credentials] = None,
                 api_key: Optional[ApiKey] = None) -> None:
        if credentials is not None:
            register_account(credentials.user, credentials.password)
        if api_key is not None:
            register_secret(api_key.key)
        self.origin = origin_of(endpoint)
        self.credentials = credentials
        self.api_key = api_key
        self.key_origins: frozenset[Origin] = frozenset()
        self._basic = None if credentials is None else "Basic " + base64.b64encode(
            f"{credentials.user}:{credentials.password}".encode()).decode("ascii")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the account to a request for the endpoint's origin; remove it from any other."""
        request.headers.pop("Authorization", None)
        if self.api_key is not None:
            request.headers.pop(self.api_key.header, None)
        url = request.url or ""
        if self._on_origin(url):
            if self._basic is not None:
                request.headers["Authorization"] = self._basic
            if self.api_key is not None:
                request.headers[self.api_key.header] = self.api_key.key
        elif self.api_key is not None and self._on_key_origin(url):
            request.headers[self.api_key.header] = self.api_key.key
        return request

    def add_key_origin(self, url: str) -> None:
        """Send the API key (never the e-mail and password) to `url`'s origin too."""
        self.key_origins = self.key_origins | {origin_of(url)}

    def __repr__(self) -> str:
        return f"EndpointAuth(origin={self.origin!r}, account={self.describe()!r})"

    def applies_to(self, url: str) -> bool:
        """True when `url` is on an origin the account (or the API key) goes to."""
        return self._on_origin(url) or self._on_key_origin(url)

    def _on_origin(self, url: str) -> bool:
        try:
            return origin_of(url) == self.origin
        except ValueError:
            return False

    def _on_key_origin(self, url: str) -> bool:
        try:
            return origin_of(url) in self.key_origins
        except ValueError:
            return False

    def describe(self) -> str:
        """Where the account came from, e.g. `the API key from the file key.txt`."""
        parts = []
        if self.api_key is not None:
            parts.append(f"the API key from {self.api_key.source}")
        if self.credentials is not None:
            parts.append(f"the account from {self.credentials.source}")
        return " and ".join(parts) or "no account (none was given)"

    def refusal(self, status: int, url: str = "") -> FullMajaError:
        """The error of a refusal: the account's by the endpoint, or another server's."""
        if url and not self.applies_to(url):
            return RefusedElsewhere(
                f"the server {_host_port(url)}, which is not the endpoint, refused access "
                f"(HTTP {status}); full-maja sends the account only to the endpoint "
                f"{self.origin[0]}://{self.origin[1]}:{self.origin[2]}", status=status)
        keyless = self.credentials is None or (bool(url) and not self._on_origin(url))
        if self.api_key is None and keyless:
            return AuthenticationError(
                f"the server {self.server(url)} refused access without an API key "
                f"(HTTP {status}): give the key with --api-key-file FILE or the environment "
                f"variable {API_KEY_VARIABLE} "
                f"(sent in the header {DEFAULT_API_KEY_HEADER} unless --api-key-header "
                "names another)")
        advice = "check the key" if self.api_key is not None else "check the e-mail and password"
        return AuthenticationError(f"the server {self.server(url)} refused {self.describe()} "
                                   f"(HTTP {status}): {advice}")

    def server(self, url: str = "") -> str:
        """The origin of `url` (default: the endpoint) as a user reads it: `https://host`,
        with a port if not the usual one."""
        try:
            scheme, host, port = origin_of(url) if url else self.origin
        except ValueError:
            scheme, host, port = self.origin
        shown = f"[{host}]" if ":" in host else host
        return f"{scheme}://{shown}" + ("" if port == _DEFAULT_PORTS.get(scheme) else f":{port}")


def _host_port(url: str) -> str:
    try:
        _, host, port = origin_of(url)
    except ValueError:
        return "(unreadable URL)"
    return f"{host}:{port}"


def _checked_key(key: str, where: str) -> str:
    key = key.strip()
    if not key or not all("!" <= ch <= "~" for ch in key):
        raise CredentialsError(f"{where}: an API key is one word of visible ASCII characters "
                               "(no spaces, accents or control characters); check the key")
    return key

