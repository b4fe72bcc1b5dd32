"""The STAC documents of a GEODES-like catalogue, as pure functions: the search body, its
pages, the items, their assets' descriptions, and the one product kept per acquisition.

GEODES pages by number (`page`, `limit` of at most 80) and its `next` links are not
usable; its items name the product only in `properties.identifier` and in the assets'
titles (an asset's URL ends with an MD5), and give sizes, tape status and MD5s only
in each asset's description text. Everything here is read tolerantly: an item that
cannot be used is left out with a note, never a failure of the whole search.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Optional

from dateutil.parser import isoparse

from ..errors import ServiceError
from ..products import ProductRef, is_md5, tile_in_name, version_numbers
from ..validation import JobRequest

COLLECTION = "THEIA_REFLECTANCE_SENTINEL2_L2A"
PAGE_LIMIT = 80
"""GEODES answers at most 80 items a page."""
ZIP_TYPE = "application/zip"
MTD_SUFFIX, JPI_SUFFIX = "_MTD_ALL.xml", "_JPI_ALL.xml"
METADATA_ONLY = "listed with metadata only: MAJA issues no product over 90 % cloudy"
_SIZE = re.compile(r"File size:\s*(\d+)\s*bytes", re.IGNORECASE)
_ONLINE = re.compile(r"Is online:\s*(true|false)", re.IGNORECASE)
_MD5 = re.compile(r"Checksum MD5:\s*([0-9a-fA-F]{32})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """One page of a search: its items, and what `context` says of the whole."""

    features: list[Any]
    matched: Optional[int]
    limit: Optional[int]


@dataclass(frozen=True)
class Asset:
    """A file of an item: where it is, its name, and what its description says."""

    href: str
    title: str
    size: Optional[int] = None
    online: Optional[bool] = None
    md5: Optional[str] = None


@dataclass(frozen=True)
class Item:
    """What full-maja needs of one catalogue item (one product version)."""

    item_id: str
    identifier: str
    version: tuple[int, ...]
    latest: bool
    day: date
    moment: str
    tile: str
    orbit: Optional[int]
    cloud: Optional[float]
    zip: Optional[Asset]
    mtd: Optional[Asset]
    jpi: Optional[Asset]
    url: str


def search_body(request: JobRequest, page: int, limit: int = PAGE_LIMIT) -> dict[str, Any]:
    """The POST body asking one page of the products of a tile, orbit and period."""
    query: dict[str, Any] = {
        "grid:code": {"contains": f"T{request.tile}"},
        "end_datetime": {"gte": f"{request.start.isoformat()}T00:00:00Z"},
        "start_datetime": {"lte": f"{request.end.isoformat()}T23:59:59Z"}}
    if request.orbit is not None:
        query["sat:relative_orbit"] = {"eq": request.orbit}
    return {"collections": [COLLECTION], "query": query, "limit": limit, "page": page,
            "sortBy": [{"field": "start_datetime", "direction": "asc"}]}


def read_page(document: Any, what: str) -> Page:
    """A search answer: its features, `context.matched` and `context.limit` when given."""
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise ServiceError(f"{what} is not a list of items (no `features`); is the URL "
                           "a STAC API?")
    context = document.get("context")
    context = context if isinstance(context, dict) else {}
    matched = document.get("numberMatched", context.get("matched"))
    return Page(document["features"], _count(matched), _count(context.get("limit")))


def is_last_page(listed: int, asked: int, page: Page) -> bool:
    """True when no page follows `page`, `listed` items read in all: an empty page, or
    every item `matched` listed; where `matched` is unknown (or lies short), a short page.

    A short page is not the last while `matched` says more: a catalogue may cap its
    pages below the `limit` asked without saying so.
    """
    if not page.features:
        return True
    if page.matched is not None and listed <= page.matched:
        return listed == page.matched
    limit = min(asked, page.limit) if page.limit else asked
    return len(page.features) < limit


def read_item(feature: Any, search_url: str) -> tuple[Optional[Item], str]:
    """An item of a page, or None and why it cannot be used."""
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        return None, "an item without properties"
    props, item_id = feature["properties"], str(feature.get("id") or "")
    assets = _assets(feature.get("assets"))
    zipped = next((asset for asset in assets if asset[1] == ZIP_TYPE
                   or asset[0].title.lower().endswith(".zip")), None)
    identifier = _text(props.get("identifier")) or (
        zipped[0].title.rsplit("_V", 1)[0] if zipped else "")
    moment = _text(props.get("start_datetime")) or _text(props.get("datetime"))
    day = _day(moment)
    if not identifier or day is None:
        return None, f"item {item_id or '(no id)'} has no identifier or acquisition date"
    tile = _tile(props.get("grid:code")) or tile_in_name(identifier) or ""
    return Item(item_id, identifier, version_numbers(_text(props.get("version"))),
                props.get("latest") is True, day, moment, tile, _orbit(props),
                _cloud(props.get("eo:cloud_cover")), zipped[0] if zipped else None,
                _named(assets, MTD_SUFFIX), _named(assets, JPI_SUFFIX),
                _item_url(feature, search_url, item_id)), ""


def asset_facts(description: Any) -> tuple[Optional[int], Optional[bool], Optional[str]]:
    """Size, tape status and MD5 from an asset's description text, where it says them."""
    text = description if isinstance(description, str) else ""
    size, online, md5 = _SIZE.search(text), _ONLINE.search(text), _MD5.search(text)
    return (int(size.group(1)) if size else None,
            online.group(1).lower() == "true" if online else None,
            md5.group(1).lower() if md5 else None)


def products_of(items: list[Item], request: JobRequest,
                max_cloud: Optional[float]) -> list[ProductRef]:
    """One product per acquisition of the tile, orbit and period, the latest version, by date.

    The tile is matched exactly (the catalogue's `contains` is a substring match), the
    orbit and period again here; a date over `max_cloud`, or listed with metadata only,
    becomes a date skipped for clouds.
    """
    chosen: dict[str, Item] = {}
    for item in items:
        if item.tile != request.tile or not request.start <= item.day <= request.end:
            continue
        if request.orbit is not None and item.orbit != request.orbit:
            continue
        kept = chosen.get(item.identifier)
        if kept is None or (item.version, item.latest) > (kept.version, kept.latest):
            chosen[item.identifier] = item
    ordered = sorted(chosen.values(), key=lambda item: (item.moment, item.identifier))
    return [_reference(item, max_cloud) for item in ordered]


def _reference(item: Item, max_cloud: Optional[float]) -> ProductRef:
    mtd_url = item.mtd.href if item.mtd else None
    jpi_url = item.jpi.href if item.jpi else None
    if item.zip is None:
        label = item.mtd.title[:-len(MTD_SUFFIX)] if item.mtd else item.identifier
        return ProductRef(item.url, name=label, mtd_url=mtd_url, jpi_url=jpi_url,
                          skipped=METADATA_ONLY)
    skipped = ""
    if max_cloud is not None and item.cloud is not None and item.cloud > max_cloud:
        skipped = f"{item.cloud:g} % cloudy, over the {max_cloud:g} % asked (--max-cloud)"
    zipped = item.zip
    return ProductRef(zipped.href, name=zipped.title, size=zipped.size, md5=zipped.md5,
                      online=zipped.online, mtd_url=mtd_url, jpi_url=jpi_url,
                      skipped=skipped)


def _assets(value: Any) -> list[tuple[Asset, str]]:
    if not isinstance(value, dict):
        return []
    found = []
    for key, asset in value.items():
        if not isinstance(asset, dict) or not isinstance(asset.get("href"), str):
            continue
        title = _text(asset.get("title")) or str(key)
        size, online, md5 = asset_facts(asset.get("description"))
        declared = asset.get("file:size")
        if size is None and isinstance(declared, int) and not isinstance(declared, bool):
            size = declared
        found.append((Asset(asset["href"], title, size, online,
                            md5 if md5 and is_md5(md5) else None),
                      str(asset.get("type") or "").split(";")[0].strip().lower()))
    return found


def _named(assets: list[tuple[Asset, str]], suffix: str) -> Optional[Asset]:
    return next((asset for asset, _ in assets if asset.title.endswith(suffix)), None)


def _item_url(feature: dict[str, Any], search_url: str, item_id: str) -> str:
    for link in feature.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self" \
                and isinstance(link.get("href"), str):
            return str(link["href"])
    base = search_url.rsplit("/search", 1)[0]
    return f"{base}/collections/{COLLECTION}/items/{item_id}"


def _tile(value: Any) -> str:
    text = _text(value).upper()
    text = text[len("MGRS-"):] if text.startswith("MGRS-") else text
    return text[1:] if text.startswith("T") and len(text) == 6 else text


def _orbit(props: dict[str, Any]) -> Optional[int]:
    value = props.get("sat:relative_orbit")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _cloud(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _day(moment: str) -> Optional[date]:
    if not moment:
        return None
    try:
        parsed = isoparse(moment)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # not a time, or one no UTC date holds
        return None
    return parsed.date() if isinstance(parsed, datetime) else None


def _count(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
