"""Real, deterministic L2A product zips, built lazily and cached on disk."""
from __future__ import annotations

import hashlib
import os
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path
from typing import Dict, Tuple

from .acquisitions import NameFacts, facts_from_name, is_cloudy
from .quicklooks import quicklook_for

CHUNK = 1024 * 1024
_PATTERN_BLOCK = 64 * 1024
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.zip")
_LOCAL_HEADER, _CENTRAL_HEADER, _END_RECORD = 30, 46, 22


def product_stem(name: str) -> str:
    """The product folder name: the zip name without .zip, reduced to safe characters."""
    stem = name[:-4] if name.lower().endswith(".zip") else name
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip(".")
    return safe or "product"


def cloud_percent(name: str) -> int:
    """A stable cloud cover for a product: at most 90 for clear ones, above for NOVALD."""
    seed = zlib.crc32(name.encode())
    return 91 + seed % 10 if is_cloudy(name) else seed % 91


def metadata_xml(name: str, facts: NameFacts) -> bytes:
    """A MUSCATE-like _MTD_ALL.xml with tile, acquisition date and CloudPercent."""
    root = ET.Element("Muscate_Metadata_Document")
    ident = ET.SubElement(root, "Metadata_Identification")
    ET.SubElement(ident, "METADATA_FORMAT", version="1.16").text = "METADATA_MUSCATE"
    dataset = ET.SubElement(root, "Dataset_Identification")
    ET.SubElement(dataset, "IDENTIFIER").text = product_stem(name)
    ET.SubElement(dataset, "AUTHORITY").text = "THEIA"
    ET.SubElement(dataset, "PRODUCER").text = "MUSCATE"
    ET.SubElement(dataset, "GEOGRAPHICAL_ZONE", type="Tile").text = facts.tile
    product = ET.SubElement(root, "Product_Characteristics")
    ET.SubElement(product, "PRODUCT_ID").text = product_stem(name)
    ET.SubElement(product, "ACQUISITION_DATE").text = facts.when.isoformat() + ".000Z"
    ET.SubElement(product, "PLATFORM").text = facts.platform
    ET.SubElement(product, "PRODUCT_LEVEL").text = "L2A"
    ET.SubElement(product, "PRODUCT_VERSION").text = "2.2"
    _add_quality(root, name)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _add_quality(root: ET.Element, name: str) -> None:
    """The Quality_Informations block holding the global quality indexes."""
    quality = ET.SubElement(root, "Quality_Informations")
    current = ET.SubElement(quality, "Current_Product")
    listing = ET.SubElement(current, "Product_Quality_List", level="N2")
    entry = ET.SubElement(listing, "Product_Quality")
    indexes = ET.SubElement(entry, "Global_Index_List")
    ET.SubElement(indexes, "QUALITY_INDEX", name="CloudPercent").text = str(cloud_percent(name))
    ET.SubElement(indexes, "QUALITY_INDEX", name="SnowPercent").text = "0"


def payload_chunk(name: str, length: int = CHUNK) -> bytes:
    """The first length bytes (up to a MiB) of a cheap pattern, the same for a name every time."""
    length = min(length, CHUNK)
    block = hashlib.shake_256(name.encode()).digest(min(length, _PATTERN_BLOCK))
    return (block * -(-length // len(block)))[:length] if block else b""


def _member(arcname: str, facts: NameFacts) -> zipfile.ZipInfo:
    """A stored zip member with a fixed date and mode, for deterministic bytes."""
    year = max(facts.when.year, 1980)
    info = zipfile.ZipInfo(arcname, date_time=(year, *facts.when.timetuple()[1:6]))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


def _zip_overhead(arcnames: Tuple[str, ...]) -> int:
    """The bytes a stored zip spends on headers for these member names."""
    names = sum(len(arcname.encode()) for arcname in arcnames)
    return (_LOCAL_HEADER + _CENTRAL_HEADER) * len(arcnames) + 2 * names + _END_RECORD


def write_product_zip(path: Path, name: str, size: int) -> None:
    """Write the product zip of about size bytes (exactly, when size allows) to path."""
    facts = facts_from_name(name)
    stem = product_stem(name)
    small = {f"{stem}/{stem}_QKL_ALL.jpg": quicklook_for(zlib.crc32(name.encode())),
             f"{stem}/{stem}_MTD_ALL.xml": metadata_xml(name, facts)}
    payload_name = f"{stem}/{stem}_SRE_B4.tif"
    fixed = _zip_overhead((*small, payload_name)) + sum(map(len, small.values()))
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in small.items():
            archive.writestr(_member(arcname, facts), data)
        _write_payload(archive, _member(payload_name, facts), name, max(0, size - fixed))


def _write_payload(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                   length: int) -> None:
    """Stream the big member in 1 MiB chunks, so no size costs memory."""
    chunk = payload_chunk(name, length)
    info.file_size = length
    with archive.open(info, "w") as member:
        left = length
        while left > 0:
            member.write(chunk[:min(left, CHUNK)])
            left -= min(left, CHUNK)


class ProductStore:
    """Builds each product zip once, on first request, and keeps it on disk."""

    def __init__(self, directory: Path) -> None:
        """Cache zips in directory (created if needed)."""
        self.directory = directory
        self._locks: Dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cache_path(self, name: str, size: int) -> Path:
        """Where the zip of this name and size lives on disk."""
        if _SAFE_NAME.fullmatch(name) and ".." not in name:
            return self.directory / f"{name[:-4]}.{size}.zip"
        digest = hashlib.sha256(name.encode()).hexdigest()[:20]
        return self.directory / f"product-{digest}.{size}.zip"

    def zip_path(self, name: str, size: int) -> Path:
        """The path of the product zip, built now if it is not there yet."""
        path = self.cache_path(name, size)
        with self._lock_for(path.name):
            if not path.exists():
                self._build(path, name, size)
        return path

    def _lock_for(self, key: str) -> threading.Lock:
        """One lock per cached file, so different products build in parallel."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _build(self, path: Path, name: str, size: int) -> None:
        """Build into a temporary file, then move it in place."""
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        write_product_zip(partial, name, size)
        os.replace(partial, path)
