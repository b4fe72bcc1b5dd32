"""What the catalogue holds: one plan per listed product version, and its STAC item.

Plans are cheap (no file is built) so that a search filters thousands of them; the
item of a plan, with its assets' sizes and MD5s, is made only for the page that
lists it. Zips come from the shared product builder (`emulators.products`); the
metadata assets of a product are the very members of its zip.
"""
from __future__ import annotations

import hashlib
import threading
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..acquisitions import acquisitions, facts_from_name
from ..products import ProductStore, cloud_percent, metadata_xml
from .config import COLLECTION, GeodesConfig

URN_PREFIX = "URN:FEATURE:DATA:gdh"
_NAMESPACE = uuid.UUID("6f1c1a52-0d0e-4c8e-9a55-6b1f0c1d2e3f")
_DOWNLOAD = "/api/download"


@dataclass(frozen=True)
class Plan:
    """One product version the catalogue lists: its identifier, version and what it holds."""

    identifier: str
    version: str
    latest: bool
    when: datetime
    tile: str
    orbit: int
    platform: str
    metadata_only: bool
    online: bool

    @property
    def item_id(self) -> str:
        """The item's opaque URN (stable for an identifier and version)."""
        return f"{URN_PREFIX}:{uuid.uuid5(_NAMESPACE, self.identifier + self.version)}:V1"

    @property
    def zip_name(self) -> str:
        """`IDENTIFIER_V4-0.zip`."""
        return f"{self.identifier}_V{self.version.replace('.', '-')}.zip"

    @property
    def cloud(self) -> int:
        """The cloud cover: the zip metadata's, or above 90 for a date MAJA left out."""
        if self.metadata_only:
            return 91 + zlib.crc32(self.identifier.encode()) % 9
        return cloud_percent(self.zip_name)

    def properties(self) -> Dict[str, Any]:
        """The item's properties, as GEODES names them."""
        start = self.when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.when.microsecond // 1000:03d}Z"
        published = (self.when + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"identifier": self.identifier, "version": self.version,
                "latest": self.latest, "grid:code": f"T{self.tile}",
                "eo:cloud_cover": self.cloud, "eo:snow_cover": 0,
                "start_datetime": start, "end_datetime": start, "datetime": published,
                "sat:relative_orbit": self.orbit, "platform": f"S2{self.platform}",
                "processing:level": "L2A", "processing_context": "MUSCATE"}


def plan_catalogue(config: GeodesConfig) -> List[Plan]:
    """Every product version the catalogue lists, in no particular order."""
    until = min(config.last_date, config.published_until or config.last_date)
    plans: List[Plan] = []
    for tile in config.tiles:
        for orbit in config.orbits:
            start = config.first_date + timedelta(days=orbit % config.step_days)
            for acquisition in acquisitions(tile, orbit, start, until, config.step_days):
                plans += _versions(config, acquisition.index, acquisition.when, tile, orbit,
                                   acquisition.platform,
                                   acquisition.l2a_name(False).rsplit("_V", 1)[0])
    return plans


def _versions(config: GeodesConfig, index: int, when: datetime, tile: str, orbit: int,
              platform: str, identifier: str) -> List[Plan]:
    older, newer = config.versions
    metadata_only = _every(index, config.cloudy_every)
    online = not _every(index, config.offline_every)
    latest = Plan(identifier, newer, True, when, tile, orbit, platform, metadata_only, online)
    if not _every(index + 1, config.two_versions_every):
        return [latest]
    return [latest, Plan(identifier, older, False, when, tile, orbit, platform, False, True)]


def _every(index: int, period: int) -> bool:
    return period > 0 and (index + 1) % period == 0


@dataclass(frozen=True)
class StoredFile:
    """A file the catalogue serves: its name, bytes on disk or in memory, size and MD5."""

    name: str
    md5: str
    size: int
    path: Optional[Path] = None
    data: Optional[bytes] = None


class Files:
    """The zips and metadata files of the plans, built on first use and kept."""

    def __init__(self, store: ProductStore, size: int) -> None:
        self.store, self.size = store, size
        self._by_md5: Dict[str, StoredFile] = {}
        self._of: Dict[Tuple[str, str], List[StoredFile]] = {}
        self._lock = threading.Lock()

    def of(self, plan: Plan) -> List[StoredFile]:
        """The plan's zip (unless metadata only), then its metadata files."""
        key = (plan.identifier, plan.version)
        with self._lock:
            if key not in self._of:
                self._of[key] = self._build(plan)
                for stored in self._of[key]:
                    self._by_md5[stored.md5] = stored
            return self._of[key]

    def by_md5(self, md5: str) -> Optional[StoredFile]:
        """A file served earlier, by the MD5 its URL ends with."""
        with self._lock:
            return self._by_md5.get(md5)

    def sibling(self, name: str) -> Path:
        """Another valid zip of the same size (its CRCs hold, its MD5 differs)."""
        other = name.replace("_C_V", "_X_V", 1) if "_C_V" in name else "X" + name[1:]
        return self.store.zip_path(other, self.size)

    def _build(self, plan: Plan) -> List[StoredFile]:
        stem = plan.zip_name[:-4]
        if plan.metadata_only:
            xml = metadata_xml(plan.zip_name, facts_from_name(plan.zip_name))
            return [_in_memory(f"{stem}_MTD_ALL.xml", xml)]
        path = self.store.zip_path(plan.zip_name, self.size)
        files = [StoredFile(plan.zip_name, _md5_of(path), path.stat().st_size, path=path)]
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(("_MTD_ALL.xml", "_JPI_ALL.xml", "_QKL_ALL.jpg")):
                    files.append(_in_memory(member.rsplit("/", 1)[-1], archive.read(member)))
        return files


def item_of(plan: Plan, files: List[StoredFile], base: str) -> Dict[str, Any]:
    """The STAC item of a plan: URN id, GEODES's properties, assets keyed by file name."""
    assets = {}
    for stored in files:
        href = f"{base}{_DOWNLOAD}/{plan.item_id}/files/{stored.md5}"
        kind, roles = _asset_kind(stored.name)
        if kind == "image/jpeg":
            href = f"{base}/api/quicklook/{plan.item_id}?scope=gdh"
        online = plan.online or kind != "application/zip"
        assets[stored.name] = {
            "href": href, "title": stored.name, "type": kind, "roles": roles,
            "description": f"File size: {stored.size} bytes\n\n"
                           f"Is online: {'true' if online else 'false'}\n\n"
                           f"Checksum MD5: {stored.md5}"}
    lon = float(zlib.crc32(plan.tile.encode()) % 20)
    return {"type": "Feature", "stac_version": "1.0.0", "id": plan.item_id,
            "collection": COLLECTION,
            "geometry": {"type": "Polygon", "coordinates": [[[lon, 43.0], [lon + 1, 43.0],
                                                             [lon + 1, 44.0], [lon, 44.0],
                                                             [lon, 43.0]]]},
            "bbox": [lon, 43.0, lon + 1, 44.0], "properties": plan.properties(),
            "assets": assets,
            "links": [{"rel": "self", "href": f"{base}/api/stac/collections/{COLLECTION}"
                                              f"/items/{plan.item_id}"}]}


def _asset_kind(name: str) -> Tuple[str, List[str]]:
    if name.endswith(".zip"):
        return "application/zip", ["data"]
    if name.endswith(".jpg"):
        return "image/jpeg", ["overview"]
    return "application/xml", ["metadata"]


def _in_memory(name: str, data: bytes) -> StoredFile:
    return StoredFile(name, hashlib.md5(data).hexdigest(), len(data), data=data)


def _md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(piece)
    return digest.hexdigest()

