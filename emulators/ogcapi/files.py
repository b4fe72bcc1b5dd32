"""A small static file server for the products folder: GET and HEAD with byte ranges."""
from __future__ import annotations

import mimetypes
import socketserver
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, Dict, List, Optional, Tuple, cast
from urllib.parse import unquote, urlsplit

from ..streaming import Delivery, FileBody, RangeNotSatisfiable, parse_range, send_body


@dataclass
class FileRequest:
    """One request to the product server, as it saw it."""

    method: str
    path: str
    range: Optional[str]
    status: int
    has_auth_header: bool
    has_api_key: bool


class FileServer(ThreadingHTTPServer):
    """Serves the files under root, read-only, and records each request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: Tuple[str, int], root: Path, api_key_header: str) -> None:
        """Bind to address and serve root."""
        self.root = root.resolve()
        self.api_key_header = api_key_header
        self.requests: List[FileRequest] = []
        self.stopping = threading.Event()
        super().__init__(address, FileHandler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS look-up HTTPServer does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def file_for(self, url_path: str) -> Optional[Path]:
        """The file a URL path names inside root, or None."""
        relative = unquote(urlsplit(url_path).path).lstrip("/")
        candidate = (self.root / relative).resolve()
        if candidate.is_file() and candidate.is_relative_to(self.root):
            return candidate
        return None

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet about clients that go away mid-body."""


class FileHandler(BaseHTTPRequestHandler):
    """GET/HEAD of one file, whole or one byte range."""

    server: FileServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Send a file or a range of it."""
        self._serve()

    def do_HEAD(self) -> None:
        """Send a file's headers only."""
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Keep quiet: the requests are recorded instead."""

    def _serve(self) -> None:
        """Record the request, then answer 200, 206, 404 or 416.

        The record comes first, its status once known and before any body: a client that
        has the answer finds the request recorded.
        """
        self.record = FileRequest(
            self.command, urlsplit(self.path).path, self.headers.get("Range"), 0,
            "Authorization" in self.headers, self.server.api_key_header in self.headers)
        self.server.requests.append(self.record)
        path = self.server.file_for(self.path)
        if path is not None:
            self._send_file(path)
        else:
            self._send_status(404)

    def send_response(self, code: int, message: Optional[str] = None) -> None:
        """Note the status in the request's record (if it got that far), then answer."""
        record: Optional[FileRequest] = getattr(self, "record", None)
        if record is not None:
            record.status = code
        super().send_response(code, message)

    def _send_file(self, path: Path) -> int:
        """Send the file, honouring a single byte range."""
        body = FileBody(path)
        try:
            span = parse_range(self.headers.get("Range"), body.size)
        except RangeNotSatisfiable:
            return self._send_status(416, {"Content-Range": f"bytes */{body.size}"})
        start, end = span if span is not None else (0, body.size)
        status = 206 if span is not None else 200
        self.send_response(status)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or
                         "application/octet-stream")
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        if span is not None:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{body.size}")
        self.end_headers()
        if self.command == "GET" and not self._send_span(body, start, end):
            self.close_connection = True
        return status

    def _send_span(self, body: FileBody, start: int, end: int) -> bool:
        """Stream body[start:end]; False if it was cut short by stop()."""
        return send_body(cast(BinaryIO, self.wfile), body, start, end, Delivery(),
                         self.server.stopping, lambda count: None)

    def _send_status(self, status: int, headers: Optional[Dict[str, str]] = None) -> int:
        """A short plain-text answer."""
        text = f"{status} {self.responses.get(status, ('',))[0]}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(text)
        return status

