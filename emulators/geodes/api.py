"""The STAC API's origin: landing page, collections, search, and the downloads behind the key."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .config import COLLECTION
from .documents import API_PREFIX, CONFORMANCE, GEOJSON, collection, item_page, landing
from .handler import GeodesHandler
from .items import Plan
from .query import BadSearch, found, page_of, parse_search


class ApiHandler(GeodesHandler):
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
            return self.send_json(200, landing(base))
        if path == API_PREFIX + "/conformance":
            return self.send_json(200, {"conformsTo": CONFORMANCE})
        if path == API_PREFIX + "/collections":
            return self.send_json(200, {"collections": [collection(base)], "links": []})
        if path == f"{API_PREFIX}/collections/{COLLECTION}":
            return self.send_json(200, collection(base))
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
        rows = found(search, emulator.plans())
        page = page_of(rows, search.page, search.limit)
        return self.send_json(200, self._item_page(page, search.limit, len(rows), search.page),
                              GEOJSON)

    def _item_page(self, rows: List[Tuple[Dict[str, Any], Plan]], limit: int,
                   matched: int, page: int) -> Dict[str, Any]:
        files = self.emulator.files
        assert files is not None
        return item_page(rows, files, self.emulator.base_url, limit, matched, page)

    def _collection_items(self) -> int:
        query = parse_qs(urlsplit(self.path).query)
        limit = min(int((query.get("limit") or ["10"])[0] or 10), self.emulator.config.max_limit)
        rows = [(plan.properties(), plan) for plan in self.emulator.plans()[:limit]]
        document = self._item_page(rows, limit, len(rows), 1)
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
