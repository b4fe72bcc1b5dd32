"""The GEODES emulator: a STAC API on one port, the storage its downloads lead to on another.

Both are real threading HTTP servers on loopback (stdlib `http.server`). The API
(`api.py`) answers the landing page, conformance, collections, POST search (GEODES's
query operators, page-number paging capped at 80, a `next` link that is not usable) and
the downloads, which need the API key and redirect to the storage origin; the storage
(`storage.py`) serves byte ranges and asks for no key. This module owns the emulator's
state: its servers, the faults queued, tape refusals, the catalogue's plans and every
request recorded.
"""
from __future__ import annotations

import shutil
import socketserver
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Dict, List, Optional, Tuple, Type

from ..products import ProductStore
from ..serving import url_host
from .api import ApiHandler
from .config import GeodesConfig, GeodesFault
from .documents import API_PREFIX
from .handler import GeodesRequest
from .items import Files, Plan, plan_catalogue
from .storage import StorageHandler


class GeodesHttpServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the emulator it belongs to."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: Tuple[str, int], handler: type,
                 emulator: GeodesServer) -> None:
        self.emulator = emulator
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS look-up HTTPServer does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that go away mid-body."""


class GeodesServer:
    """The GEODES-like catalogue and its storage, for tests and demos."""

    def __init__(self, config: Optional[GeodesConfig] = None) -> None:
        self.config = config if config is not None else GeodesConfig()
        self.requests: List[GeodesRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._faults: Dict[str, List[GeodesFault]] = {}
        self._tape: Dict[str, int] = {}
        self._plans: Optional[Tuple[Any, List[Plan]]] = None
        self._temp: Optional[Path] = None
        self._api: Optional[GeodesHttpServer] = None
        self._storage: Optional[GeodesHttpServer] = None
        self.files: Optional[Files] = None

    @property
    def base_url(self) -> str:
        """The API server's root, e.g. http://127.0.0.1:8080."""
        return self._root(self._api)

    @property
    def url(self) -> str:
        """The STAC API's landing page: what `--catalogue-url` takes."""
        return self.base_url + API_PREFIX

    @property
    def storage_url(self) -> str:
        """The storage server's root (another origin)."""
        return self._root(self._storage)

    def add_fault(self, target: str, fault: GeodesFault) -> None:
        """Queue a fault for "search" or a file's name; each is used up by one request."""
        with self._lock:
            self._faults.setdefault(target, []).append(fault)

    def take_fault(self, target: str) -> Optional[GeodesFault]:
        """The next fault queued for a target, if any."""
        with self._lock:
            queue = self._faults.get(target)
            return queue.pop(0) if queue else None

    def tape_refuses(self, name: str) -> bool:
        """True while an on-tape product is still to be refused (counts this refusal)."""
        with self._lock:
            count = self._tape.get(name, 0)
            if count >= self.config.tape_refusals:
                return False
            self._tape[name] = count + 1
            return True

    def plans(self) -> List[Plan]:
        """Every product version listed now (rebuilt when the settings change)."""
        config = self.config
        key = (config.tiles, config.orbits, config.first_date, config.last_date,
               config.published_until, config.step_days, config.cloudy_every,
               config.two_versions_every, config.offline_every, config.versions)
        with self._lock:
            if self._plans is None or self._plans[0] != key:
                self._plans = (key, plan_catalogue(config))
            return self._plans[1]

    def record(self, request: GeodesRequest) -> None:
        """Note one request."""
        with self._lock:
            self.requests.append(request)

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self.requests.clear()

    def searches(self) -> List[GeodesRequest]:
        """The search requests seen."""
        return [r for r in self.requests if r.server == "api" and r.path.endswith("/search")]

    def downloads(self) -> List[GeodesRequest]:
        """The product requests seen, at the API and at the storage."""
        return [r for r in self.requests
                if r.path.startswith("/api/download") or r.server == "storage"]

    def start(self) -> GeodesServer:
        """Listen on both ports; returns self."""
        if self._api is not None:
            return self
        folder = self.config.products_dir
        if folder is None:
            self._temp = Path(tempfile.mkdtemp(prefix="geodes-emulator-"))
            folder = self._temp
        self.files = Files(ProductStore(Path(folder)), self.config.product_size)
        self.stopping.clear()
        host = self.config.host
        self._api = GeodesHttpServer((host, self.config.port), ApiHandler, self)
        self._storage = GeodesHttpServer((host, self.config.storage_port), StorageHandler, self)
        for server in (self._api, self._storage):
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                             name="geodes-emulator").start()
        return self

    def stop(self) -> None:
        """Stop both servers and drop the temporary product folder."""
        self.stopping.set()
        for server in (self._api, self._storage):
            if server is not None:
                server.shutdown()
                server.server_close()
        self._api = self._storage = None
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> GeodesServer:
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        self.stop()

    def _root(self, server: Optional[GeodesHttpServer]) -> str:
        if server is None:
            raise RuntimeError("the GEODES emulator is not started")
        return f"http://{url_host(self.config.host)}:{server.server_address[1]}"
