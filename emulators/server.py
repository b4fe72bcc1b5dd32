"""The emulator's lifecycle: a threading HTTP server on loopback, started and stopped cleanly."""
from __future__ import annotations

import shutil
import socket
import socketserver
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Dict, List, Optional, Set, Tuple, Type

from .config import EmulatorConfig, Fault
from .handler import Handler
from .jobs import Job
from .products import ProductStore
from .serving import url_host
from .state import EmulatorState, RecordFilter, RequestRecord
from .streaming import Hold

STOP_JOIN_SECONDS = 5.0
POLL_SECONDS = 0.05


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its connections, so stop() can wake them."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: Tuple[str, int], state: EmulatorState,
                 store: ProductStore) -> None:
        """Bind to address; requests see state and store."""
        self.state = state
        self.store = store
        self.base_url = ""
        self._connections: Set[socket.socket] = set()
        self._handler_threads: Set[threading.Thread] = set()
        self._guard = threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS look-up HTTPServer does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, connection: socket.socket) -> None:
        """Remember an open connection and the thread serving it."""
        with self._guard:
            self._connections.add(connection)
            self._handler_threads.add(threading.current_thread())

    def untrack(self, connection: socket.socket) -> None:
        """Forget a closed connection and its thread."""
        with self._guard:
            self._connections.discard(connection)
            self._handler_threads.discard(threading.current_thread())

    def close_connections(self) -> None:
        """Shut every open connection down, waking handlers blocked on it."""
        with self._guard:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_handlers(self, timeout: float) -> None:
        """Wait a bounded time for the handler threads to end."""
        deadline = time.monotonic() + timeout
        with self._guard:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket],
                     client_address: object) -> None:
        """Stay quiet about clients that went away; report real errors."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class Emulator:
    """The PEPS FULL_MAJA emulator: a real HTTP server for the client and its tests."""

    def __init__(self, config: Optional[EmulatorConfig] = None) -> None:
        """Prepare an emulator; start() (or `with`) makes it listen."""
        self.state = EmulatorState(config if config is not None else EmulatorConfig())
        self._server: Optional[EmulatorHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._temp_dir: Optional[Path] = None

    @property
    def config(self) -> EmulatorConfig:
        """The live configuration; changes apply to the next requests."""
        return self.state.config

    @property
    def requests(self) -> List[RequestRecord]:
        """Every request seen, in arrival order."""
        return self.state.requests

    @property
    def jobs(self) -> Dict[str, Job]:
        """The jobs by id."""
        return self.state.jobs

    @property
    def base_url(self) -> str:
        """The server's root, e.g. http://127.0.0.1:8080."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return self._server.base_url

    @property
    def url(self) -> str:
        """The WPS endpoint."""
        return f"{self.base_url}/resto/wps"

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.base_url.rsplit(":", 1)[1])

    def add_fault(self, target: str, fault: Fault) -> None:
        """Queue a fault for a product name, "*", "status", "report", "refresh", "submit"."""
        self.state.add_fault(target, fault)

    def hold(self, target: str, after: int) -> Hold:
        """Hold every answer for a product name (or "*") after `after` bytes of its body,
        until the returned Hold is released: the test decides when the rest comes."""
        return self.state.add_hold(target, Hold(after))

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        self.state.clear_requests()

    def max_concurrency(self, where: Optional[RecordFilter] = None) -> int:
        """The most requests (those where() accepts, or all) seen in flight at once."""
        return self.state.max_concurrency(where)

    def set_job_status(self, job_status: str, *job_ids: str) -> None:
        """Keep the named jobs (every job when none is named) at job_status from now on."""
        self.state.set_job_status(job_status, job_ids)

    def forget_job(self, job_id: str) -> None:
        """Purge a job: its status document, report, log and products answer 404 from now."""
        self.state.forget_job(job_id)

    def start(self) -> Emulator:
        """Listen and serve in daemon threads; returns self."""
        if self._server is not None:
            return self
        config = self.config
        server = EmulatorHTTPServer((config.host, config.port), self.state,
                                    ProductStore(self._products_dir()))
        server.base_url = f"http://{url_host(config.host)}:{server.server_address[1]}"
        self.state.stopping.clear()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,),
                                        name="peps-emulator", daemon=True)
        self._thread.start()
        return self

    def _products_dir(self) -> Path:
        """The configured product cache, or a fresh temporary one."""
        if self.config.products_dir is not None:
            return Path(self.config.products_dir)
        self._temp_dir = Path(tempfile.mkdtemp(prefix="peps-emulator-"))
        return self._temp_dir

    def stop(self) -> None:
        """Stop serving, wake stalled handlers, close connections, drop the temp cache."""
        server, self._server = self._server, None
        if server is None:
            return
        self.state.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        server.join_handlers(STOP_JOIN_SECONDS)
        if self._thread is not None:
            self._thread.join(STOP_JOIN_SECONDS)
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> Emulator:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        """Stop on leaving it."""
        self.stop()

