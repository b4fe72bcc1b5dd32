"""The facts of `_MTD_ALL.xml`: identity, dates, quality indexes, geoposition, band groups."""
from __future__ import annotations

from typing import Any, Optional

from .elements import Element, all_named, child, text_of
from .record import Grid
from .values import finite_float, utc_date, whole_number

MAX_ORBIT = 143


def from_metadata(root: Element) -> dict[str, Any]:
    """The facts of `_MTD_ALL.xml`: identity, dates, quality indexes, geoposition."""
    product = child(root, "Product_Characteristics")
    dataset = child(root, "Dataset_Identification")
    return {
        "product_id": text_of(product, "PRODUCT_ID"),
        "acquisition_date": utc_date(text_of(product, "ACQUISITION_DATE")),
        "production_date": utc_date(text_of(product, "PRODUCTION_DATE")),
        "product_version": text_of(product, "PRODUCT_VERSION"),
        "product_level": text_of(product, "PRODUCT_LEVEL"),
        "platform": text_of(product, "PLATFORM"),
        "tile": text_of(dataset, "GEOGRAPHICAL_ZONE"),
        "relative_orbit": _relative_orbit(product),
        "cloud_cover": _quality_index(root, "CloudPercent"),
        "snow_cover": _quality_index(root, "SnowPercent"),
        **_geoposition(child(root, "Geoposition_Informations")),
        "band_groups": _band_groups(root),
    }


def _geoposition(geo: Optional[Element]) -> dict[str, Any]:
    if geo is None:
        return {}
    code = text_of(child(child(geo, "Coordinate_Reference_System"),
                         "Horizontal_Coordinate_System"), "HORIZONTAL_CS_CODE")
    grids = tuple(grid for grid in map(_grid, all_named(geo, "Group_Geopositioning"))
                  if grid is not None)
    epsg = whole_number(code)
    return {"epsg": epsg if epsg is not None and epsg > 0 else None, "grids": grids,
            "corners": _corners(geo)}


def _grid(element: Element) -> Optional[Grid]:
    group = element.get("group_id")
    values = [finite_float(text_of(element, name)) for name in ("ULX", "ULY", "XDIM", "YDIM")]
    rows = whole_number(text_of(element, "NROWS"))
    cols = whole_number(text_of(element, "NCOLS"))
    if not group or rows is None or cols is None or any(value is None for value in values):
        return None
    ulx, uly, xdim, ydim = (float(value) for value in values)  # type: ignore[arg-type]
    if rows <= 0 or cols <= 0 or not xdim or not ydim:  # no grid has them: absent
        return None
    return Grid(group, rows, cols, (xdim, 0.0, ulx, 0.0, ydim, uly))


def _corners(geo: Element) -> tuple[tuple[float, float], ...]:
    """The four corners (lon, lat) of `Global_Geopositioning`, all or none."""
    points = {point.get("name"): point for point in all_named(geo, "Point")}
    corners = []
    for name in ("upperLeft", "upperRight", "lowerRight", "lowerLeft"):
        point = points.get(name)
        lon, lat = finite_float(text_of(point, "LON")), finite_float(text_of(point, "LAT"))
        if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return ()
        corners.append((lon, lat))
    return tuple(corners)


def _band_groups(root: Element) -> tuple[tuple[str, str], ...]:
    """Which resolution group (R1, R2) each band belongs to, where the MTD lists it."""
    pairs = []
    for group in all_named(root, "Group"):
        group_id = group.get("group_id")
        for band in all_named(group, "BAND_ID"):
            if group_id and band.text and band.text.strip():
                pairs.append((band.text.strip(), group_id))
    return tuple(dict(pairs).items())


def _relative_orbit(product: Optional[Element]) -> Optional[int]:
    """The relative orbit: an `ORBIT_NUMBER` of 1 to 143 (an absolute one is larger)."""
    for element in all_named(product, "ORBIT_NUMBER"):
        number = whole_number(element.text)
        if number is not None and 1 <= number <= MAX_ORBIT:
            return number
    return None


def _quality_index(root: Element, name: str) -> Optional[float]:
    """A global quality index of the current product (level N2 first), else any."""
    current = list(root.iter("Current_Product"))
    for scope in [*current, root]:
        for element in all_named(scope, "QUALITY_INDEX"):
            if element.get("name", "").lower() == name.lower():
                value = finite_float(element.text)
                if value is not None and 0 <= value <= 100:
                    return value
    return None
