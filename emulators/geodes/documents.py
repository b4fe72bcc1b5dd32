"""The STAC documents the API answers: landing page, conformance, collection, a page of items."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .config import COLLECTION
from .items import Files, Plan, item_of

API_PREFIX = "/api/stac"
CONFORMANCE = ["https://api.stacspec.org/v1.0.0/core",
               "https://api.stacspec.org/v1.0.0/item-search",
               "https://api.stacspec.org/v1.0.0/item-search#query",
               "https://api.stacspec.org/v1.0.0/item-search#sort"]
GEOJSON = "application/geo+json"


def landing(base: str) -> Dict[str, Any]:
    """The API's landing page, under the server root `base`."""
    root = base + API_PREFIX
    return {"type": "Catalog", "id": "geodes", "stac_version": "1.0.0",
            "description": "GEODES-like STAC API (emulator)", "conformsTo": CONFORMANCE,
            "links": [{"rel": "self", "href": root}, {"rel": "root", "href": root},
                      {"rel": "conformance", "href": root + "/conformance"},
                      {"rel": "data", "href": root + "/collections"},
                      {"rel": "search", "href": root + "/search", "method": "POST",
                       "type": GEOJSON}]}


def collection(base: str) -> Dict[str, Any]:
    """The one collection, MAJA's L2A products."""
    return {"type": "Collection", "id": COLLECTION, "stac_version": "1.0.0",
            "description": "MAJA L2A surface reflectances (THEIA)", "license": "etalab-2.0",
            "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                       "temporal": {"interval": [["2016-04-01T00:00:00Z", None]]}},
            "links": [{"rel": "items",
                       "href": f"{base}{API_PREFIX}/collections/{COLLECTION}/items"}]}


def item_page(rows: List[Tuple[Dict[str, Any], Plan]], files: Files, base: str, limit: int,
              matched: int, page: int) -> Dict[str, Any]:
    """One page of items as a FeatureCollection, with GEODES's `context` and `next` link."""
    features = [item_of(plan, files.of(plan), base) for _, plan in rows]
    links = [{"rel": "self", "href": f"{base}{API_PREFIX}/search", "type": GEOJSON}]
    if page * limit < matched:  # GEODES's next link: unfiltered items, another limit
        links.append({"rel": "next", "type": GEOJSON,
                      "href": f"{base}{API_PREFIX}/collections/{COLLECTION}/items?limit=10"})
    return {"type": "FeatureCollection", "features": features, "links": links,
            "context": {"returned": len(features), "limit": limit, "matched": matched}}
