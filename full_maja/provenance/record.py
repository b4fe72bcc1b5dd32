"""A product's provenance as read (`Provenance`, `Grid`, `DemStatistics`) and its JSON form."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from .values import finite_float, utc_date


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
        return utc_date(text)


def _nested_fields(data: dict) -> dict[str, Any]:
    dem = data.get("dem")
    return {
        "dem": DemStatistics(finite_float(dem.get("minimum")),
                             finite_float(dem.get("maximum")),
                             finite_float(dem.get("mean")), finite_float(dem.get("std")))
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
