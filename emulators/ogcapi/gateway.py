"""The WSGI gateway in front of pygeoapi: accounts (basic auth or API key) and a request log.

The rule: a request is let through when its basic auth matches the account or its API
key header matches the key. Otherwise it is answered 403 when it carried an API key
header (a wrong key), and 401 with `WWW-Authenticate: Basic` in every other case (no
credential, or a wrong user or password).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional

from .config import OgcApiConfig

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
REALM = "FULL_MAJA"


@dataclass
class GatewayRecord:
    """One request as the gateway saw it; status is set once answered."""

    method: str
    path: str
    query: str
    has_authorization: bool
    has_api_key: bool
    authorized: bool
    prefer: Optional[str]
    accept: Optional[str]
    content_type: Optional[str]
    status: int = 0


class Gateway:
    """Checks the account, strips the URL prefix, and hands the request to pygeoapi."""

    def __init__(self, config: OgcApiConfig) -> None:
        """Guard with config's account; the app is set once pygeoapi is built."""
        self.config = config
        self.app: Optional[WsgiApp] = None
        self.records: List[GatewayRecord] = []
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer 401/403/404 here, or pass the request on."""
        record = self._record(environ)
        if not record.authorized:
            return self._refuse(record, start_response)
        if not self._strip_prefix(environ) or self.app is None:
            return self._answer(record, start_response, 404, "NotFound", "no such path")

        def noting(status: str, headers: List[Any], *rest: Any) -> Any:
            record.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        return self.app(environ, noting)

    def clear(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self.records.clear()

    def _record(self, environ: Environ) -> GatewayRecord:
        """Note the request and whether its credentials are good."""
        header_key = "HTTP_" + self.config.api_key_header.upper().replace("-", "_")
        record = GatewayRecord(
            environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""), "HTTP_AUTHORIZATION" in environ,
            header_key in environ, self._authorized(environ, header_key),
            environ.get("HTTP_PREFER"), environ.get("HTTP_ACCEPT"), environ.get("CONTENT_TYPE"))
        with self._lock:
            self.records.append(record)
        return record

    def _authorized(self, environ: Environ, header_key: str) -> bool:
        """Whether the basic auth or the API key matches."""
        key = self.config.api_key
        if key is not None and _same(environ.get(header_key), key):
            return True
        return self.config.user is not None and _same(
            _basic_pair(environ.get("HTTP_AUTHORIZATION")),
            f"{self.config.user}:{self.config.password}")

    def _strip_prefix(self, environ: Environ) -> bool:
        """Move the prefix from PATH_INFO to SCRIPT_NAME; False if the path is outside it."""
        prefix, path = self.config.prefix, environ.get("PATH_INFO", "")
        if not prefix:
            return True
        if path != prefix and not path.startswith(prefix + "/"):
            return False
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
        environ["PATH_INFO"] = path[len(prefix):] or "/"
        return True

    def _refuse(self, record: GatewayRecord, start_response: StartResponse) -> Iterable[bytes]:
        """403 for a wrong API key, else 401 asking for basic auth."""
        if record.has_api_key:
            return self._answer(record, start_response, 403, "Forbidden", "the API key is wrong")
        return self._answer(record, start_response, 401, "Unauthorized",
                            "credentials are missing or wrong",
                            [("WWW-Authenticate", f'Basic realm="{REALM}"')])

    def _answer(self, record: GatewayRecord, start_response: StartResponse, status: int,
                code: str, text: str, extra: Optional[List[Any]] = None) -> Iterable[bytes]:
        """An OGC exception document with this status."""
        body = json.dumps({"type": code, "code": code, "title": code,
                           "description": text, "detail": text}).encode()
        record.status = status
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(f"{status} {code}", headers + (extra or []))
        return [body]


def _basic_pair(header: Optional[str]) -> Optional[str]:
    """The "user:password" of a basic Authorization header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _same(given: Optional[str], expected: str) -> bool:
    """A constant-time comparison of a credential."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
