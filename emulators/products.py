"""Real, deterministic L2A product zips in the MUSCATE layout, built lazily and cached on disk.

A product holds `NAME_QKL_ALL.jpg`, `NAME_MTD_ALL.xml` (identity, dates, version, orbit,
band groups, Geoposition_Informations, quality indexes), `DATA/NAME_JPI_ALL.xml` (MAJA's
flags and modes, DEM statistics) and real GeoTIFFs of the tile's true grid (`geotiff`):
SRE_B4 alone by default, every band and mask with `all_bands`.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, Optional, Tuple

from .acquisitions import NameFacts, default_orbit, facts_from_name, is_cloudy
from .geotiff import Raster, geotiff
from .quicklooks import quicklook_for
from .tilegrid import SIDE, tile_frame

CHUNK = 1024 * 1024
_PATTERN_BLOCK = 64 * 1024
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.zip")
_LOCAL_HEADER, _CENTRAL_HEADER, _END_RECORD = 30, 46, 22
_VERSION = re.compile(r"_V(\d+)-(\d+)(?:_|\.zip$|$)")
RESOLUTIONS = {"R1": 10, "R2": 20}
BAND_GROUPS = {"R1": ("B2", "B3", "B4", "B8"), "R2": ("B5", "B6", "B7", "B8A", "B11", "B12")}
BAND_BASE = {"B2": 400, "B3": 600, "B4": 800, "B5": 1100, "B6": 1900, "B7": 2300, "B8": 2600,
             "B8A": 2700, "B11": 2100, "B12": 1500}
MASKS = ("CLM", "MG2", "SAT", "EDG")
PAYLOAD_KEY = "SRE_B4"


def product_stem(name: str) -> str:
    """The product folder name: the zip name without .zip, reduced to safe characters."""
    stem = name[:-4] if name.lower().endswith(".zip") else name
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip(".")
    return safe or "product"


def cloud_percent(name: str) -> int:
    """A stable cloud cover for a product: at most 90 for clear ones, above for NOVALD."""
    seed = zlib.crc32(name.encode())
    return 91 + seed % 10 if is_cloudy(name) else seed % 91


def snow_percent(name: str) -> int:
    """A stable snow cover for a product, 0 for most."""
    return zlib.crc32(name.encode()) // 91 % 13 // 4


def cams_status(name: str) -> str:
    """The CAMS status its JPI reports: most found CAMS data, some did not."""
    return "Activated_NoAvailableData" if zlib.crc32(name.encode()) % 7 == 3 \
        else "Activated_OK"


def processing_mode(name: str) -> str:
    """The MAJA mode its JPI reports: mostly the standard (multi-temporal) mode."""
    return "INIT_MODE" if zlib.crc32(name.encode()) % 11 == 5 else "STANDARD_MODE"


def production_date(facts: NameFacts) -> datetime:
    """When the emulated production centre made the product: a day and a half later."""
    return facts.when + timedelta(days=1, hours=17, minutes=3, seconds=22)


def product_version(name: str) -> str:
    """The product version its name carries (`_V2-2` is 2.2), else 1.0."""
    match = _VERSION.search(name)
    return f"{match[1]}.{match[2]}" if match else "1.0"


def metadata_xml(name: str, facts: NameFacts, orbit: Optional[int] = None,
                 files: Tuple[str, ...] = ()) -> bytes:
    """A MUSCATE _MTD_ALL.xml: identity, dates, bands, files, geoposition, quality."""
    stem = product_stem(name)
    root = ET.Element("Muscate_Metadata_Document")
    ident = ET.SubElement(root, "Metadata_Identification")
    ET.SubElement(ident, "METADATA_FORMAT", version="1.16").text = "METADATA_MUSCATE"
    ET.SubElement(ident, "METADATA_PROFILE").text = "DISTRIBUTION"
    dataset = ET.SubElement(root, "Dataset_Identification")
    ET.SubElement(dataset, "IDENTIFIER").text = stem
    ET.SubElement(dataset, "AUTHORITY").text = "THEIA"
    ET.SubElement(dataset, "PRODUCER").text = "MUSCATE"
    ET.SubElement(dataset, "PROJECT").text = "SENTINEL2"
    ET.SubElement(dataset, "GEOGRAPHICAL_ZONE", type="Tile").text = facts.tile
    _add_characteristics(root, name, facts, orbit)
    organisation = ET.SubElement(ET.SubElement(root, "Product_Organisation"), "Muscate_Product")
    for file_name in files:
        ET.SubElement(organisation, "FILE").text = file_name
    _add_geoposition(root, facts.tile)
    _add_quality(root, name)
    job = ET.SubElement(ET.SubElement(ET.SubElement(root, "Production_Informations"),
                                      "Processing_Jobs_List"), "Job")
    ET.SubElement(job, "PRODUCER_NAME").text = "MUSCATE"
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _add_characteristics(root: ET.Element, name: str, facts: NameFacts,
                         orbit: Optional[int]) -> None:
    """Product_Characteristics: id, dates, version, level, platform, orbit, band groups."""
    product = ET.SubElement(root, "Product_Characteristics")
    ET.SubElement(product, "PRODUCT_ID").text = product_stem(name)
    ET.SubElement(product, "ACQUISITION_DATE").text = _stamp(facts.when)
    ET.SubElement(product, "PRODUCTION_DATE").text = _stamp(production_date(facts))
    ET.SubElement(product, "PRODUCT_VERSION").text = product_version(name)
    ET.SubElement(product, "PRODUCT_LEVEL").text = "L2A"
    ET.SubElement(product, "PLATFORM").text = facts.platform
    ET.SubElement(product, "SPECTRAL_CONTENT").text = "XS"
    ET.SubElement(product, "ORBIT_NUMBER", type="Orbit").text = str(
        orbit if orbit is not None else default_orbit(facts.tile.lstrip("T")))
    groups = ET.SubElement(product, "Band_Group_List")
    for group_id, bands in BAND_GROUPS.items():
        group = ET.SubElement(groups, "Group", group_id=group_id)
        listing = ET.SubElement(group, "Band_List", count=str(len(bands)))
        for band in bands:
            ET.SubElement(listing, "BAND_ID").text = band


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _add_geoposition(root: ET.Element, tile: str) -> None:
    """Geoposition_Informations: the UTM zone, the corners, and each resolution's grid."""
    frame = tile_frame(tile)
    geo = ET.SubElement(root, "Geoposition_Informations")
    system = ET.SubElement(ET.SubElement(geo, "Coordinate_Reference_System"),
                           "Horizontal_Coordinate_System")
    ET.SubElement(system, "HORIZONTAL_CS_TYPE").text = "PROJECTED"
    hemisphere = "N" if frame.north else "S"
    ET.SubElement(system, "HORIZONTAL_CS_NAME").text = f"WGS 84 / UTM zone {frame.zone}{hemisphere}"
    ET.SubElement(system, "HORIZONTAL_CS_CODE").text = str(frame.epsg)
    positioning = ET.SubElement(geo, "Geopositioning")
    corners = ET.SubElement(positioning, "Global_Geopositioning")
    left, top = frame.ulx, frame.uly
    for point_name, x, y in (("upperLeft", left, top), ("upperRight", left + SIDE, top),
                             ("lowerRight", left + SIDE, top - SIDE),
                             ("lowerLeft", left, top - SIDE),
                             ("center", left + SIDE // 2, top - SIDE // 2)):
        point = ET.SubElement(corners, "Point", name=point_name)
        lon, lat = frame.lonlat(x, y)
        for tag, value in (("LAT", lat), ("LON", lon), ("X", x), ("Y", y)):
            ET.SubElement(point, tag).text = str(value)
    groups = ET.SubElement(positioning, "Group_Geopositioning_List")
    for group_id, resolution in RESOLUTIONS.items():
        group = ET.SubElement(groups, "Group_Geopositioning", group_id=group_id)
        side = SIDE // resolution
        for tag, value in (("ULX", left), ("ULY", top), ("XDIM", resolution),
                           ("YDIM", -resolution), ("NROWS", side), ("NCOLS", side)):
            ET.SubElement(group, tag).text = str(value)


def _add_quality(root: ET.Element, name: str) -> None:
    """The Quality_Informations block holding the global quality indexes."""
    quality = ET.SubElement(root, "Quality_Informations")
    current = ET.SubElement(quality, "Current_Product")
    listing = ET.SubElement(current, "Product_Quality_List", level="N2")
    entry = ET.SubElement(listing, "Product_Quality")
    indexes = ET.SubElement(entry, "Global_Index_List")
    ET.SubElement(indexes, "QUALITY_INDEX", name="CloudPercent").text = str(cloud_percent(name))
    ET.SubElement(indexes, "QUALITY_INDEX", name="SnowPercent").text = str(snow_percent(name))


def jpi_xml(name: str, facts: NameFacts) -> bytes:
    """A MUSCATE DATA/_JPI_ALL.xml: MAJA's processing flags and modes, the DEM statistics."""
    root = ET.Element("JobProcessingInformations")
    flags = ET.SubElement(ET.SubElement(root, "Processing_Informations"),
                          "Processing_Flags_And_Modes_List")
    for key, value in (("Validity_Flag", "true"), ("Cirrus_Correction", "true"),
                       ("Adjacency_Effects_And_Slope_Correction", "true"),
                       ("CAMS_Processing", cams_status(name)),
                       ("Processing_Mode", processing_mode(name))):
        pair = ET.SubElement(flags, "Processing_Flags_And_Modes")
        ET.SubElement(pair, "Key").text = key
        ET.SubElement(pair, "Value").text = value
    seed = zlib.crc32(facts.tile.encode())
    statistics = ET.SubElement(root, "MNT_Statistics")
    for tag, number in dem_statistics(seed).items():
        ET.SubElement(statistics, tag).text = f"{number:.3f}"
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def dem_statistics(seed: int) -> Dict[str, float]:
    """Min, Max, Average and Standard_Deviation of a tile's DEM, in metres."""
    low = float(seed % 400)
    return {"Min": low, "Max": low + 900 + seed % 1500, "Average": low + 310.5,
            "Standard_Deviation": 120.25 + seed % 90}


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


def raster_keys(all_bands: bool = False) -> Tuple[str, ...]:
    """The rasters of a product, by key: SRE_B4 alone, or every band and mask."""
    if not all_bands:
        return (PAYLOAD_KEY,)
    bands = [band for group in BAND_GROUPS.values() for band in group]
    masks = [f"{mask}_{group}" for group in RESOLUTIONS for mask in MASKS]
    keys = [f"{kind}_{band}" for kind in ("SRE", "FRE") for band in bands] + masks
    keys.remove(PAYLOAD_KEY)
    return (*keys, PAYLOAD_KEY)


def raster_path(stem: str, key: str) -> str:
    """Where the raster of `key` lies in the product: masks in MASKS/, bands beside the MTD."""
    folder = "MASKS/" if key.split("_", 1)[0] in MASKS else ""
    return f"{stem}/{folder}{stem}_{key}.tif"


def product_raster(name: str, key: str) -> Raster:
    """The raster `key` (SRE_B4, FRE_B8A, CLM_R1...) of product `name`, pixels included."""
    facts = facts_from_name(name)
    frame = tile_frame(facts.tile)
    kind, rest = key.split("_", 1)
    group = rest if kind in MASKS else next(
        (group for group, bands in BAND_GROUPS.items() if rest in bands), "R1")
    resolution = RESOLUTIONS[group]
    side = SIDE // resolution
    if kind in MASKS:
        return Raster(side, side, "uint8", frame.epsg, frame.ulx, frame.uly, resolution, (0, 0))
    base = BAND_BASE.get(rest, 1000) + zlib.crc32(name.encode()) % 100
    base += 10 if kind == "FRE" else 0
    return Raster(side, side, "int16", frame.epsg, frame.ulx, frame.uly, resolution,
                  (base, base + 2000), nodata="-10000")


def write_product_zip(path: Path, name: str, size: int, *, orbit: Optional[int] = None,
                      all_bands: bool = False) -> None:
    """Write the product zip of about size bytes (exactly, when size allows) to path.

    It holds the quick-look, the MTD and JPI metadata and real GeoTIFFs: SRE_B4
    alone, or with `all_bands` every SRE and FRE band and the masks. SRE_B4 comes
    last, padded with unreferenced bytes up to `size`. `orbit`: the relative orbit
    the MTD gives (default: the tile's stable one).
    """
    facts = facts_from_name(name)
    stem = product_stem(name)
    keys = raster_keys(all_bands)
    rasters = {raster_path(stem, key): product_raster(name, key) for key in keys}
    small: Dict[str, bytes] = {
        f"{stem}/{stem}_QKL_ALL.jpg": quicklook_for(zlib.crc32(name.encode())),
        f"{stem}/DATA/{stem}_JPI_ALL.xml": jpi_xml(name, facts)}
    listed = tuple(arcname.split("/", 1)[1] for arcname in [*small, *rasters])
    small[f"{stem}/{stem}_MTD_ALL.xml"] = metadata_xml(name, facts, orbit, listed)
    *others, payload_name = rasters
    small.update((arcname, geotiff(rasters[arcname])) for arcname in others)
    prefix = geotiff(rasters[payload_name])
    fixed = _zip_overhead((*small, payload_name)) + sum(map(len, small.values())) + len(prefix)
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in small.items():
            archive.writestr(_member(arcname, facts), data)
        _write_payload(archive, _member(payload_name, facts), name, prefix,
                       max(0, size - fixed))


def _write_payload(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, prefix: bytes,
                   length: int) -> None:
    """Stream the big member: its GeoTIFF, then `length` padding bytes in 1 MiB chunks."""
    chunk = payload_chunk(name, length)
    info.file_size = len(prefix) + length
    with archive.open(info, "w") as member:
        member.write(prefix)
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

    def cache_path(self, name: str, size: int, orbit: Optional[int] = None,
                   all_bands: bool = False) -> Path:
        """Where the zip of this name, size, orbit and content lives on disk."""
        variant = (f".o{orbit}" if orbit is not None else "") + (".all" if all_bands else "")
        if _SAFE_NAME.fullmatch(name) and ".." not in name:
            return self.directory / f"{name[:-4]}.{size}{variant}.zip"
        digest = hashlib.sha256(name.encode()).hexdigest()[:20]
        return self.directory / f"product-{digest}.{size}{variant}.zip"

    def zip_path(self, name: str, size: int, orbit: Optional[int] = None,
                 all_bands: bool = False) -> Path:
        """The path of the product zip, built now if it is not there yet."""
        path = self.cache_path(name, size, orbit, all_bands)
        with self._lock_for(path.name):
            if not path.exists():
                self._build(path, name, size, orbit, all_bands)
        return path

    def _lock_for(self, key: str) -> threading.Lock:
        """One lock per cached file, so different products build in parallel."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _build(self, path: Path, name: str, size: int, orbit: Optional[int],
               all_bands: bool) -> None:
        """Build into a temporary file, then move it in place."""
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        write_product_zip(partial, name, size, orbit=orbit, all_bands=all_bands)
        os.replace(partial, path)
