"""What both emulators share to run: the host in their URLs, and serving from a shell."""
from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Callable, Optional, Protocol


class Servable(Protocol):
    """A server that starts and stops."""

    def start(self) -> object:
        """Listen."""

    def stop(self) -> None:
        """Stop listening and free what it holds."""


def url_host(host: str) -> str:
    """The host as written in URLs: loopback for the wildcard, brackets for IPv6."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve_until_signalled(server: Servable, prog: str, address: str,
                          banner: Callable[[], str]) -> int:
    """Start `server`, print `banner()`, serve until SIGINT or SIGTERM (0); 1 if it cannot."""
    finished = threading.Event()

    def request_stop(signum: int, frame: Optional[FrameType]) -> None:
        """Ask the main loop to end."""
        finished.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        server.start()
    except OSError as error:
        print(f"{prog}: error: cannot listen on {address}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    try:
        print(banner(), flush=True)
        while not finished.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
