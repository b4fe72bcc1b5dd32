"""What made a product, as its MUSCATE metadata says (`_MTD_ALL.xml`, `DATA/_JPI_ALL.xml`).

One reader for every output (the verified record, `--json`, the page's cards, the STAC
catalogue) and every source (a zip on disk, an extracted folder, the bytes of the two
documents). Both documents are parsed with defusedxml, tag names without namespace;
every element may be absent, and an absent value stays None: neither file names the
MAJA software version nor the DEM, so nothing here does either.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from dateutil.parser import isoparse
from defusedxml import ElementTree as SafeET

from .quicklooks import MAX_METADATA_BYTES, ZIP_ERRORS

MTD_SUFFIX = "_MTD_ALL.XML"
JPI_SUFFIX = "_JPI_ALL.XML"
MAX_ORBIT = 143
_PARSE_ERRORS = (ValueError, SyntaxError)
_Element = Any


@dataclass(frozen=True, slots=True)
class Grid:
    """One resolution's raster grid: shape and affine transform in the tile's CRS."""

    group: str
    rows: int
    cols: int
    transform: tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class DemStatistics:
    """The DEM over the tile, in metres, as the JPI's `MNT_Statistics` gives it."""

    minimum: Optional[float] = None
    maximum: Optional[float] = None
    mean: Optional[float] = None
    std: Optional[float] = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """A product's identity, quality indexes and processing facts; None where absent."""

    product_id: Optional[str] = None
    acquisition_date: Optional[datetime] = None
    production_date: Optional[datetime] = None
    product_version: Optional[str] = None
    product_level: Optional[str] = None
    platform: Optional[str] = None
    tile: Optional[str] = None
    relative_orbit: Optional[int] = None
    cloud_cover: Optional[float] = None
    snow_cover: Optional[float] = None
    cams: Optional[str] = None
    processing_mode: Optional[str] = None
    cirrus_correction: Optional[str] = None
    adjacency_slope_correction: Optional[str] = None
    validity: Optional[str] = None
    dem: Optional[DemStatistics] = None
    epsg: Optional[int] = None
    grids: tuple[Grid, ...] = ()
    corners: tuple[tuple[float, float], ...] = ()
    band_groups: tuple[tuple[str, str], ...] = ()

    def grid(self, group: str) -> Optional[Grid]:
        """The grid of resolution group `group` (R1, R2), if the product gives it."""
        return next((grid for grid in self.grids if grid.group == group), None)

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready form, read back by `from_record` (dates in ISO 8601); absent values
        are left out."""
        data: dict[str, Any] = {}
        for key in self.__slots__:
            value = getattr(self, key)
            if value is None or value == ():
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, DemStatistics):
                value = {"minimum": value.minimum, "maximum": value.maximum,
                         "mean": value.mean, "std": value.std}
            elif key == "grids":
                value = [{"group": grid.group, "rows": grid.rows, "cols": grid.cols,
                          "transform": grid.transform} for grid in value]
            data[key] = value
        return data

    @classmethod
    def from_record(cls, data: object) -> Optional[Provenance]:
        """The provenance `as_record` wrote; None if `data` is not one."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{**_plain_fields(data), **_nested_fields(data)})
        except (TypeError, ValueError, KeyError):
            return None


_SCALARS = {"product_id": str, "product_version": str, "product_level": str, "platform": str,
            "tile": str, "relative_orbit": int, "cloud_cover": float, "snow_cover": float,
            "cams": str, "processing_mode": str, "cirrus_correction": str,
            "adjacency_slope_correction": str, "validity": str, "epsg": int}


def _plain_fields(data: dict) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, kind in _SCALARS.items():
        value = data.get(key)
        if value is not None and not isinstance(value, bool):
            values[key] = kind(value)
    for key in ("acquisition_date", "production_date"):
        text = data.get(key)
        values[key] = _stored_date(text) if isinstance(text, str) else None
    return values


def _stored_date(text: str) -> Optional[datetime]:
    """A date `as_record` wrote (ISO 8601 with offset); any other form read as from XML."""
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return _date(text)


def _nested_fields(data: dict) -> dict[str, Any]:
    dem = data.get("dem")
    return {
        "dem": DemStatistics(_float(dem.get("minimum")), _float(dem.get("maximum")),
                             _float(dem.get("mean")), _float(dem.get("std")))
        if isinstance(dem, dict) else None,
        "grids": _shared("grids", data.get("grids"), lambda grids: tuple(
            Grid(str(grid["group"]), int(grid["rows"]), int(grid["cols"]),
                 _six(grid["transform"])) for grid in grids)),
        "corners": _shared("corners", data.get("corners"), lambda corners: tuple(
            (float(lon), float(lat)) for lon, lat in corners)),
        "band_groups": _shared("band_groups", data.get("band_groups"), lambda pairs: tuple(
            (str(band), str(group)) for band, group in pairs)),
    }


_SHARED: dict[tuple[str, str], Any] = {}
_SHARED_LIMIT = 4096


def _shared(kind: str, value: object, build: Callable[[Any], Any]) -> Any:
    """The tuples of `value` (the same for every product of a tile), built once and shared."""
    if not value:
        return ()
    key = (kind, str(value))
    found = _SHARED.get(key)
    if found is None:
        found = build(value)
        if len(_SHARED) < _SHARED_LIMIT:
            _SHARED[key] = found
    return found


def _six(values: object) -> tuple[float, float, float, float, float, float]:
    numbers = [float(value) for value in values]  # type: ignore[attr-defined]
    if len(numbers) != 6:
        raise ValueError("a transform has six numbers")
    return (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])


def provenance_from_documents(mtd: bytes, jpi: Optional[bytes] = None) -> Provenance:
    """The provenance told by the bytes of `_MTD_ALL.xml` and, if given, `_JPI_ALL.xml`.

    A document that does not parse counts as absent: its values stay None.
    """
    root = _parse(mtd)
    facts = _from_metadata(root) if root is not None else {}
    jobs = _parse(jpi) if jpi is not None else None
    if jobs is not None:
        facts.update(_from_job_informations(jobs))
    return Provenance(**facts)


def read_provenance(path: Union[str, Path]) -> Optional[Provenance]:
    """The provenance of a product zip or extracted folder; None if it holds no `_MTD_ALL.xml`.

    Only the two documents are read, each under MAX_METADATA_BYTES; a damaged archive
    or an unreadable file is treated as holding nothing.
    """
    target = Path(path)
    try:
        if target.is_dir():
            return _from_folder(target)
        return _from_zip(target)
    except ZIP_ERRORS:
        return None


def _from_zip(path: Path) -> Optional[Provenance]:
    stem = _stem(path.name)
    with zipfile.ZipFile(path) as archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        mtd = _member(members, MTD_SUFFIX, stem)
        if mtd is None:
            return None
        jpi = _member(members, JPI_SUFFIX, stem)
        return provenance_from_documents(
            archive.read(mtd), archive.read(jpi) if jpi is not None else None)


def _member(members: list[zipfile.ZipInfo], suffix: str,
            stem: str) -> Optional[zipfile.ZipInfo]:
    """The member ending with `suffix` (any case) within the size cap: the one named after
    the product (`stem`) first, then the shallowest."""
    found = [info for info in members if info.filename.upper().endswith(suffix)
             and info.file_size <= MAX_METADATA_BYTES]
    return min(found, key=lambda info: (not _named_for(info.filename, stem),
                                         info.filename.count("/")), default=None)


def _from_folder(folder: Path) -> Optional[Provenance]:
    mtd = _file(folder, MTD_SUFFIX)
    if mtd is None:
        return None
    jpi = _file(folder, JPI_SUFFIX)
    return provenance_from_documents(mtd.read_bytes(), jpi.read_bytes() if jpi else None)


def _file(folder: Path, suffix: str) -> Optional[Path]:
    """The regular file (two levels down at most) ending with `suffix`: the one named after
    the product (the folder's name) first, then the shallowest."""
    found = [path for pattern in ("*", "*/*", "*/*/*") for path in sorted(folder.glob(pattern))
             if path.name.upper().endswith(suffix) and not path.is_symlink()
             and path.is_file() and path.stat().st_size <= MAX_METADATA_BYTES]
    return next((path for path in found if _named_for(path.name, folder.name)),
                found[0] if found else None)


def _stem(name: str) -> str:
    return name[:-4] if name.lower().endswith(".zip") else name


def _named_for(member: str, stem: str) -> bool:
    """True for a metadata file named after product `stem` (`STEM_MTD_ALL.xml`)."""
    return member.rsplit("/", 1)[-1].upper().startswith(stem.upper() + "_")


def _parse(data: bytes) -> Optional[_Element]:
    """The document's root, every tag stripped of its namespace; None if it does not parse."""
    try:
        root = SafeET.fromstring(data)
    except _PARSE_ERRORS:
        return None
    for node in root.iter():
        node.tag = _local(node.tag)
    return root


def _from_metadata(root: _Element) -> dict[str, Any]:
    """The facts of `_MTD_ALL.xml`: identity, dates, quality indexes, geoposition."""
    product = _child(root, "Product_Characteristics")
    dataset = _child(root, "Dataset_Identification")
    return {
        "product_id": _text(product, "PRODUCT_ID"),
        "acquisition_date": _date(_text(product, "ACQUISITION_DATE")),
        "production_date": _date(_text(product, "PRODUCTION_DATE")),
        "product_version": _text(product, "PRODUCT_VERSION"),
        "product_level": _text(product, "PRODUCT_LEVEL"),
        "platform": _text(product, "PLATFORM"),
        "tile": _text(dataset, "GEOGRAPHICAL_ZONE"),
        "relative_orbit": _relative_orbit(product),
        "cloud_cover": _quality_index(root, "CloudPercent"),
        "snow_cover": _quality_index(root, "SnowPercent"),
        **_geoposition(_child(root, "Geoposition_Informations")),
        "band_groups": _band_groups(root),
    }


def _from_job_informations(root: _Element) -> dict[str, Any]:
    """The facts of `_JPI_ALL.xml`: processing flags and modes, DEM statistics."""
    flags: dict[str, str] = {}
    for element in _all(root, "Processing_Flags_And_Modes"):
        key, value = _text(element, "Key"), _text(element, "Value")
        if key and value is not None:
            flags.setdefault(key.lower(), value)
    statistics = next(_all(root, "MNT_Statistics"), None)
    dem = None
    if statistics is not None:
        dem = DemStatistics(_float(_text(statistics, "Min")), _float(_text(statistics, "Max")),
                            _float(_text(statistics, "Average")),
                            _float(_text(statistics, "Standard_Deviation")))
    return {"cams": flags.get("cams_processing"),
            "processing_mode": flags.get("processing_mode"),
            "cirrus_correction": flags.get("cirrus_correction"),
            "adjacency_slope_correction": flags.get("adjacency_effects_and_slope_correction"),
            "validity": flags.get("validity_flag"), "dem": dem}


def _geoposition(geo: Optional[_Element]) -> dict[str, Any]:
    if geo is None:
        return {}
    code = _text(_child(_child(geo, "Coordinate_Reference_System"),
                        "Horizontal_Coordinate_System"), "HORIZONTAL_CS_CODE")
    grids = tuple(grid for grid in map(_grid, _all(geo, "Group_Geopositioning"))
                  if grid is not None)
    epsg = _int(code)
    return {"epsg": epsg if epsg is not None and epsg > 0 else None, "grids": grids,
            "corners": _corners(geo)}


def _grid(element: _Element) -> Optional[Grid]:
    group = element.get("group_id")
    values = [_float(_text(element, name)) for name in ("ULX", "ULY", "XDIM", "YDIM")]
    rows, cols = _int(_text(element, "NROWS")), _int(_text(element, "NCOLS"))
    if not group or rows is None or cols is None or any(value is None for value in values):
        return None
    ulx, uly, xdim, ydim = (float(value) for value in values)  # type: ignore[arg-type]
    if rows <= 0 or cols <= 0 or not xdim or not ydim:  # no grid has them: absent
        return None
    return Grid(group, rows, cols, (xdim, 0.0, ulx, 0.0, ydim, uly))


def _corners(geo: _Element) -> tuple[tuple[float, float], ...]:
    """The four corners (lon, lat) of `Global_Geopositioning`, all or none."""
    points = {point.get("name"): point for point in _all(geo, "Point")}
    corners = []
    for name in ("upperLeft", "upperRight", "lowerRight", "lowerLeft"):
        point = points.get(name)
        lon, lat = _float(_text(point, "LON")), _float(_text(point, "LAT"))
        if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return ()
        corners.append((lon, lat))
    return tuple(corners)


def _band_groups(root: _Element) -> tuple[tuple[str, str], ...]:
    """Which resolution group (R1, R2) each band belongs to, where the MTD lists it."""
    pairs = []
    for group in _all(root, "Group"):
        group_id = group.get("group_id")
        for band in _all(group, "BAND_ID"):
            if group_id and band.text and band.text.strip():
                pairs.append((band.text.strip(), group_id))
    return tuple(dict(pairs).items())


def _relative_orbit(product: Optional[_Element]) -> Optional[int]:
    """The relative orbit: an `ORBIT_NUMBER` of 1 to 143 (an absolute one is larger)."""
    for element in _all(product, "ORBIT_NUMBER"):
        number = _int(element.text)
        if number is not None and 1 <= number <= MAX_ORBIT:
            return number
    return None


def _quality_index(root: _Element, name: str) -> Optional[float]:
    """A global quality index of the current product (level N2 first), else any."""
    current = list(root.iter("Current_Product"))
    for scope in [*current, root]:
        for element in _all(scope, "QUALITY_INDEX"):
            if element.get("name", "").lower() == name.lower():
                value = _float(element.text)
                if value is not None and 0 <= value <= 100:
                    return value
    return None


def _child(element: Optional[_Element], name: str) -> Optional[_Element]:
    return next(_all(element, name), None)


def _all(element: Optional[_Element], name: str) -> Iterator[_Element]:
    """Every element named `name` under `element`, in document order."""
    if element is None:
        return iter(())
    return (node for node in element.iter(name) if node is not element)


def _text(element: Optional[_Element], name: str) -> Optional[str]:
    found = _child(element, name)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _date(text: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 time, in UTC (a time without zone is taken as UTC); None when it cannot
    be read or placed in UTC (year 1 at +01:00, year 9999 at -05:00)."""
    if not text:
        return None
    try:
        moment = isoparse(text.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _float(text: object) -> Optional[float]:
    if text is None or isinstance(text, bool):
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _int(text: Optional[str]) -> Optional[int]:
    try:
        return int((text or "").strip())
    except ValueError:
        return None
