"""The product connections open right now, and how a cancelled run hangs them all up.

A thread reading a body from a silent server waits in the socket until the read timeout
(up to an hour). When the run is cancelled, `hang_up` shuts every open connection's
socket down, which ends such a read at once (closing a socket may not, on Linux); the
transfer then sees a broken connection, its part files as they are, and stops.
"""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from typing import Iterator

import requests


class OpenConnections:
    """The streaming responses being read by a run's transfers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[requests.Response] = set()
        self._hung_up = False

    @contextmanager
    def holding(self, response: requests.Response) -> Iterator[requests.Response]:
        """Keep `response` among the open ones while it is read, then close it."""
        with self._lock:
            self._open.add(response)
            hung_up = self._hung_up
        try:
            if hung_up:  # opened while the run was being cancelled
                _shut_down(response)
            with response:
                yield response
        finally:
            with self._lock:
                self._open.discard(response)

    def hang_up(self) -> None:
        """Shut down every open connection, and any opened from now on."""
        with self._lock:
            self._hung_up = True
            responses = list(self._open)
        for response in responses:
            _shut_down(response)


def _shut_down(response: requests.Response) -> None:
    """Shut the response's socket down, if it still has one (a read on it ends at once)."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if not isinstance(sock, socket.socket):
        return
    try:  # the plain socket's shutdown: an SSLSocket's would also drop its TLS state
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        return
