"""What both GEODES servers' handlers share: HTTP/1.1, each request recorded, JSON answers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Dict, Optional
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .server import GeodesHttpServer, GeodesServer


@dataclass
class GeodesRequest:
    """One request as a server saw it: which server, what, with which key, the answer."""

    server: str
    method: str
    path: str
    status: int
    has_key: bool
    body: Any = None
    range: Optional[str] = None


class GeodesHandler(BaseHTTPRequestHandler):
    """What both servers share: HTTP/1.1, quiet logs, JSON and status answers."""

    server: GeodesHttpServer
    protocol_version = "HTTP/1.1"
    name = ""

    def log_message(self, format: str, *args: object) -> None:
        """Keep quiet: requests are recorded instead."""

    @property
    def emulator(self) -> GeodesServer:
        """The emulator this handler's server belongs to."""
        return self.server.emulator

    def has_key(self) -> bool:
        """True when the request carries the API key header, right or wrong."""
        return self.emulator.config.api_key_header in self.headers

    def note(self, status: int, body: Any = None) -> None:
        """Record this request with the status it is answered."""
        self.emulator.record(GeodesRequest(self.name, self.command, urlsplit(self.path).path,
                                           status, self.has_key(), body,
                                           self.headers.get("Range")))

    posted: Any = None
    """The body of the search being answered, recorded with it."""

    def send_response(self, code: int, message: Optional[str] = None) -> None:
        """Record the request, then answer: a client holding the answer finds it recorded."""
        self.note(code, self.posted)
        super().send_response(code, message)

    def send_json(self, status: int, document: Any, kind: str = "application/json") -> int:
        """Answer a JSON document."""
        return self.send_bytes(status, json.dumps(document).encode(), kind)

    def send_error_json(self, status: int, code: str, text: str,
                        headers: Optional[Dict[str, str]] = None) -> int:
        """Answer an error as GEODES does, with a code and a description."""
        return self.send_bytes(status, json.dumps({"code": code, "description": text}).encode(),
                               "application/json", headers)

    def send_bytes(self, status: int, data: bytes, kind: str,
                   headers: Optional[Dict[str, str]] = None) -> int:
        """Answer bytes of the given content type (and `headers`)."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status
