"""The storage origin: product zips by name, with byte ranges, no key asked."""
from __future__ import annotations

import socket
from typing import BinaryIO, cast
from urllib.parse import parse_qs, unquote, urlsplit

from ..streaming import Delivery, FileBody, RangeNotSatisfiable, parse_range, send_body
from .handler import GeodesHandler


class StorageHandler(GeodesHandler):
    """The storage origin: product zips by name, with byte ranges, no key asked."""

    name = "storage"

    def do_GET(self) -> None:
        """A file, whole or a range of it."""
        self._serve()

    def do_HEAD(self) -> None:
        """A file's headers."""
        self._serve()

    def _serve(self) -> int:
        parts = urlsplit(self.path)
        files = self.emulator.files
        name = unquote(parts.path).rsplit("/", 1)[-1]
        path = files.store.directory / name if files is not None else None
        if path is None or "/" in name or not name.endswith(".zip") or not path.is_file():
            return self.send_error_json(404, "NotFound", "no such file")
        body = FileBody(path)
        try:
            span = parse_range(self.headers.get("Range"), body.size)
        except RangeNotSatisfiable:
            return self.send_error_json(416, "RangeNotSatisfiable", "no such range",
                                        {"Content-Range": f"bytes */{body.size}"})
        start, end = span if span is not None else (0, body.size)
        status = 206 if span is not None else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        if span is not None:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{body.size}")
        self.end_headers()
        if self.command == "GET":
            cut = parse_qs(parts.query).get("cut")
            delivery = Delivery(cut_after=int(cut[0]) if cut else None,
                                bandwidth=self.emulator.config.bandwidth)
            if not send_body(cast(BinaryIO, self.wfile), body, start, end, delivery,
                             self.emulator.stopping, lambda count: None):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return status
