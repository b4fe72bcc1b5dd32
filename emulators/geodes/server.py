"""The GEODES emulator: a STAC API on one port, the storage its downloads lead to on another.

Both are real threading HTTP servers on loopback (stdlib `http.server`). The API
answers the landing page, conformance, collections, POST search (GEODES's query
operators, page-number paging capped at 80, a `next` link that is not usable) and the
downloads, which need the API key and redirect to the storage origin; the storage
serves byte ranges and asks for no key. Every request is recorded.
"""
from __future__ import annotations

import json
import shutil
import socket
import socketserver
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Dict, List, Optional, Tuple, Type, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..products import ProductStore
from ..serving import url_host
from ..streaming import Delivery, FileBody, RangeNotSatisfiable, parse_range, send_body
from .config import COLLECTION, GeodesConfig, GeodesFault
from .items import Files, Plan, item_of, plan_catalogue
from .query import BadSearch, matches, page_of, parse_search, sort_in_place

API_PREFIX = "/api/stac"
CONFORMANCE = ["https://api.stacspec.org/v1.0.0/core",
               "https://api.stacspec.org/v1.0.0/item-search",
               "https://api.stacspec.org/v1.0.0/item-search#query",
               "https://api.stacspec.org/v1.0.0/item-search#sort"]
GEOJSON = "application/geo+json"


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


class _Server(ThreadingHTTPServer):
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
        self._api: Optional[_Server] = None
        self._storage: Optional[_Server] = None
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
        self._api = _Server((host, self.config.port), ApiHandler, self)
        self._storage = _Server((host, self.config.storage_port), StorageHandler, self)
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

    def _root(self, server: Optional[_Server]) -> str:
        if server is None:
            raise RuntimeError("the GEODES emulator is not started")
        return f"http://{url_host(self.config.host)}:{server.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    """What both servers share: HTTP/1.1, quiet logs, JSON and status answers."""

    server: _Server
    protocol_version = "HTTP/1.1"
    name = ""

    def log_message(self, format: str, *args: object) -> None:
        """Keep quiet: requests are recorded instead."""

    @property
    def emulator(self) -> GeodesServer:
        return self.server.emulator

    def has_key(self) -> bool:
        return self.emulator.config.api_key_header in self.headers

    def note(self, status: int, body: Any = None) -> None:
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
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def send_error_json(self, status: int, code: str, text: str,
                        headers: Optional[Dict[str, str]] = None) -> int:
        data = json.dumps({"code": code, "description": text}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def send_bytes(self, status: int, data: bytes, kind: str) -> int:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status


class ApiHandler(_Handler):
    """The STAC API and the downloads behind the API key."""

    name = "api"

    def do_GET(self) -> None:
        """Landing page, conformance, collections, items, downloads, quick-looks."""
        self._get()

    def do_HEAD(self) -> None:
        """As GET, without a body."""
        self._get()

    def do_POST(self) -> None:
        """The search."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            body = None
        self.posted = body
        path = urlsplit(self.path).path.rstrip("/")
        if path != API_PREFIX + "/search":
            self.send_error_json(404, "NotFound", "no such path")
            return
        self._search(body)

    def _get(self) -> int:
        path = unquote(urlsplit(self.path).path).rstrip("/")
        base = self.emulator.base_url
        if path == API_PREFIX:
            return self.send_json(200, _landing(base))
        if path == API_PREFIX + "/conformance":
            return self.send_json(200, {"conformsTo": CONFORMANCE})
        if path == API_PREFIX + "/collections":
            return self.send_json(200, {"collections": [_collection(base)], "links": []})
        if path == f"{API_PREFIX}/collections/{COLLECTION}":
            return self.send_json(200, _collection(base))
        if path == f"{API_PREFIX}/collections/{COLLECTION}/items":
            return self._collection_items()
        if path.startswith("/api/download/"):
            return self._download(path)
        if path.startswith("/api/quicklook/"):
            return self._quicklook(path)
        return self.send_error_json(404, "NotFound", "no such path")

    def _search(self, body: Any) -> int:
        emulator = self.emulator
        fault = emulator.take_fault("search")
        if fault is not None and fault.kind == "http500":
            return self.send_error_json(500, "InternalServerError", "the catalogue failed")
        config = emulator.config
        try:
            search = parse_search(body, config.default_limit, config.max_limit)
        except BadSearch as exc:
            return self.send_error_json(400, "BadRequest", str(exc))
        if search.collections is not None and COLLECTION not in search.collections:
            found: List[Tuple[Dict[str, Any], Plan]] = []
        else:
            rows = [(plan.properties(), plan) for plan in emulator.plans()]
            found = [row for row in rows if matches(row[0], search.query)]
        sort_in_place(found, search.sort)
        page = page_of(found, search.page, search.limit)
        return self.send_json(200, self._collection_page(page, search.limit, len(found),
                                                         search.page), GEOJSON)

    def _collection_page(self, rows: List[Tuple[Dict[str, Any], Plan]], limit: int,
                         matched: int, page: int) -> Dict[str, Any]:
        base = self.emulator.base_url
        files = self.emulator.files
        assert files is not None
        features = [item_of(plan, files.of(plan), base) for _, plan in rows]
        links = [{"rel": "self", "href": f"{base}{API_PREFIX}/search", "type": GEOJSON}]
        if page * limit < matched:  # GEODES's next link: unfiltered items, another limit
            links.append({"rel": "next", "type": GEOJSON,
                          "href": f"{base}{API_PREFIX}/collections/{COLLECTION}/items?limit=10"})
        return {"type": "FeatureCollection", "features": features, "links": links,
                "context": {"returned": len(features), "limit": limit, "matched": matched}}

    def _collection_items(self) -> int:
        query = parse_qs(urlsplit(self.path).query)
        limit = min(int((query.get("limit") or ["10"])[0] or 10), self.emulator.config.max_limit)
        rows = [(plan.properties(), plan) for plan in self.emulator.plans()[:limit]]
        document = self._collection_page(rows, limit, len(rows), 1)
        return self.send_json(200, document, GEOJSON)

    def _download(self, path: str) -> int:
        refusal = self._key_refusal()
        if refusal is not None:
            return refusal
        md5 = path.rsplit("/", 1)[-1]
        files = self.emulator.files
        stored = files.by_md5(md5) if files is not None else None
        if stored is None or files is None:
            return self.send_error_json(404, "NotFound", "no such file")
        fault = self.emulator.take_fault(stored.name)
        if fault is not None and fault.kind == "http500":
            return self.send_error_json(500, "InternalServerError", "the storage failed")
        if fault is not None and fault.kind == "http404":
            return self.send_error_json(404, "NotFound", "the file is lost")
        if stored.data is not None:
            return self.send_bytes(200, stored.data, "application/xml")
        if self._on_tape(path) and self.emulator.tape_refuses(stored.name):
            return self.send_error_json(self.emulator.config.tape_status, "Staging",
                                        "the file is being brought back from tape")
        assert stored.path is not None
        target, cut = stored.path.name, ""
        if fault is not None and fault.kind == "wrong-bytes":
            target = files.sibling(stored.name).name
        if fault is not None and fault.kind == "truncate":
            cut = f"?cut={fault.value}"
        self.send_response(302)
        self.send_header("Location", f"{self.emulator.storage_url}/files/{quote(target)}{cut}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return 302

    def _on_tape(self, path: str) -> bool:
        item_id = path.split("/")[3] if path.count("/") >= 3 else ""
        return any(plan.item_id == item_id and not plan.online
                   for plan in self.emulator.plans())

    def _quicklook(self, path: str) -> int:
        item_id = path.rsplit("/", 1)[-1]
        files = self.emulator.files
        for plan in self.emulator.plans():
            if plan.item_id == item_id and files is not None:
                for stored in files.of(plan):
                    if stored.name.endswith(".jpg") and stored.data is not None:
                        return self.send_bytes(200, stored.data, "image/jpeg")
        return self.send_error_json(404, "NotFound", "no quick-look")

    def _key_refusal(self) -> Optional[int]:
        config = self.emulator.config
        given = self.headers.get(config.api_key_header)
        if given is None:
            return self.send_error_json(401, "Unauthorized", "an API key is needed",
                                        {"WWW-Authenticate": f"{config.api_key_header}"})
        if given != config.api_key:
            return self.send_error_json(403, "Forbidden", "the API key is refused")
        return None


class StorageHandler(_Handler):
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


def _landing(base: str) -> Dict[str, Any]:
    root = base + API_PREFIX
    return {"type": "Catalog", "id": "geodes", "stac_version": "1.0.0",
            "description": "GEODES-like STAC API (emulator)", "conformsTo": CONFORMANCE,
            "links": [{"rel": "self", "href": root}, {"rel": "root", "href": root},
                      {"rel": "conformance", "href": root + "/conformance"},
                      {"rel": "data", "href": root + "/collections"},
                      {"rel": "search", "href": root + "/search", "method": "POST",
                       "type": GEOJSON}]}


def _collection(base: str) -> Dict[str, Any]:
    return {"type": "Collection", "id": COLLECTION, "stac_version": "1.0.0",
            "description": "MAJA L2A surface reflectances (THEIA)", "license": "etalab-2.0",
            "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                       "temporal": {"interval": [["2016-04-01T00:00:00Z", None]]}},
            "links": [{"rel": "items",
                       "href": f"{base}{API_PREFIX}/collections/{COLLECTION}/items"}]}
