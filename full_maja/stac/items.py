"""One STAC Item per product, built with pystac from what the product itself says.

- `id`: the product name without `.zip`; `datetime`: the acquisition time (MTD, else the
  name's); `geometry`/`bbox`: the tile's footprint in WGS 84, from the MTD's corners, else
  computed from the MGRS tile (`full_maja.mgrs`).
- `platform`, `constellation`, `instruments`; eo (`eo:cloud_cover`, `eo:snow_cover`);
  projection (`proj:code`; per raster asset `proj:shape`, `proj:transform` from the MTD's
  Geoposition_Informations, else the tile's grid); mgrs; sat (`sat:relative_orbit`);
  processing (`processing:level`, `processing:datetime` = production date,
  `processing:version` = product version); file (`file:size`, `file:checksum`).
- MAJA's own facts from the JPI under `maja:` (`maja:cams`, `maja:processing_mode`,
  `maja:cirrus_correction`, `maja:adjacency_slope_correction`, `maja:validity`,
  `maja:dem_min`, `maja:dem_max`, `maja:dem_mean`, `maja:dem_std`).
Values the product does not hold are left out, never guessed.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional
from urllib.parse import quote

import pystac
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.file import FileExtension
from pystac.extensions.mgrs import MgrsExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.sat import SatExtension

from ..mgrs import TileGrid, tile_grid
from ..products import tile_in_name
from ..provenance import Provenance
from .assets import BAND_GROUPS, COMMON_NAMES, MEDIA, THUMBNAIL_KEY, ProductFile, product_files
from .folder import CATALOG_NAME, FolderProduct
from .versions import acquired

PROCESSING_SCHEMA = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
RESOLUTIONS = {"R1": 10.0, "R2": 20.0}
_PLATFORM = re.compile(r"SENTINEL-?2([A-D])", re.IGNORECASE)


def build_item(product: FolderProduct, parent: str = "../" + CATALOG_NAME) -> pystac.Item:
    """The Item of `product`, for a file one folder below the catalogue (`parent` its href)."""
    facts = product.provenance
    grid = tile_grid(facts.tile or tile_in_name(product.name) or "")
    geometry, bbox = _footprint(facts, grid)
    item = pystac.Item(product.stem, geometry, bbox, _acquired(product.name, facts), {})
    _describe(item, product.name, facts, grid)
    if product.zip_path is not None:
        _add_zip(item, product)
    if product.folder is not None:
        for file in product_files(product.folder, product.stem,
                                  f"../{quote(product.folder.name)}/"):
            _add_file(item, file, facts, grid)
    item.links = [pystac.Link("root", parent, pystac.MediaType.JSON),
                  pystac.Link("parent", parent, pystac.MediaType.JSON)]
    return item


def item_document(item: pystac.Item) -> dict[str, Any]:
    """The Item as JSON, its hrefs kept relative as given."""
    return item.to_dict(include_self_link=False, transform_hrefs=False)


def _acquired(name: str, facts: Provenance) -> datetime:
    moment = acquired(name, facts)
    if moment is None:
        raise ValueError(f"{name}: no acquisition time in its metadata or name")
    return moment


def _footprint(facts: Provenance, grid: Optional[TileGrid]) -> tuple[Optional[dict],
                                                                      Optional[list[float]]]:
    """The footprint polygon (counter-clockwise) and bbox, in WGS 84 longitude/latitude."""
    corners = facts.corners or (grid.corners() if grid else ())
    if len(corners) != 4:
        return None, None
    ring = [[round(lon, 7), round(lat, 7)] for lon, lat in reversed(corners)]
    ring = [ring[-1], *ring[:-1]]
    ring.append(ring[0])
    lons, lats = [point[0] for point in ring], [point[1] for point in ring]
    return ({"type": "Polygon", "coordinates": [ring]},
            [min(lons), min(lats), max(lons), max(lats)])


def _describe(item: pystac.Item, name: str, facts: Provenance,
              grid: Optional[TileGrid]) -> None:
    common = item.common_metadata
    platform = _PLATFORM.search(facts.platform or name)
    if platform:
        common.platform = f"sentinel-2{platform[1].lower()}"
        common.constellation = "sentinel-2"
        common.instruments = ["msi"]
    eo = EOExtension.ext(item, add_if_missing=True)
    eo.cloud_cover, eo.snow_cover = facts.cloud_cover, facts.snow_cover
    epsg = facts.epsg or (grid.epsg if grid else None)
    if epsg is not None:
        ProjectionExtension.ext(item, add_if_missing=True).code = f"EPSG:{epsg}"
    if grid is not None:
        MgrsExtension.ext(item, add_if_missing=True).apply(
            latitude_band=grid.band, grid_square=grid.square, utm_zone=grid.zone)
    if facts.relative_orbit is not None:
        SatExtension.ext(item, add_if_missing=True).relative_orbit = facts.relative_orbit
    _processing(item, name, facts)
    item.properties.update(_maja_fields(facts))


def _processing(item: pystac.Item, name: str, facts: Provenance) -> None:
    level = facts.product_level or ("L2A" if "_L2A_" in name else None)
    fields = {"processing:level": level, "processing:version": facts.product_version,
              "processing:datetime": _stamp(facts.production_date)}
    fields = {key: value for key, value in fields.items() if value is not None}
    if fields:
        item.properties.update(fields)
        item.stac_extensions.append(PROCESSING_SCHEMA)


def _maja_fields(facts: Provenance) -> dict[str, Any]:
    dem = facts.dem
    fields = {"maja:cams": facts.cams, "maja:processing_mode": facts.processing_mode,
              "maja:cirrus_correction": facts.cirrus_correction,
              "maja:adjacency_slope_correction": facts.adjacency_slope_correction,
              "maja:validity": facts.validity,
              "maja:dem_min": dem.minimum if dem else None,
              "maja:dem_max": dem.maximum if dem else None,
              "maja:dem_mean": dem.mean if dem else None,
              "maja:dem_std": dem.std if dem else None}
    return {key: value for key, value in fields.items() if value is not None}


def _stamp(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _add_zip(item: pystac.Item, product: FolderProduct) -> None:
    assert product.zip_path is not None
    asset = pystac.Asset(f"../{quote(product.zip_path.name)}", title="Product zip",
                         media_type="application/zip", roles=["data", "archive"])
    item.add_asset("zip", asset)
    file = FileExtension.ext(asset, add_if_missing=True)
    file.size = product.zip_path.stat().st_size
    if product.checksum:
        file.checksum = product.checksum


def _add_file(item: pystac.Item, file: ProductFile, facts: Provenance,
              grid: Optional[TileGrid]) -> None:
    """One extracted file as an asset: a band with its common name, a mask, metadata."""
    kind = file.kind
    roles = {"reflectance": ["data", "reflectance"], "raster": ["data"],
             "thumbnail": ["thumbnail"], "metadata": ["metadata"]}.get(kind, [])
    key = "thumbnail" if file.key == THUMBNAIL_KEY else file.key
    asset = pystac.Asset(file.href, title=file.key, media_type=MEDIA.get(file.suffix),
                         roles=roles or None)
    item.add_asset(key, asset)
    FileExtension.ext(asset, add_if_missing=True).size = file.size
    if kind == "reflectance" and file.band:
        EOExtension.ext(asset, add_if_missing=True).bands = [
            Band.create(name=file.band, common_name=COMMON_NAMES.get(file.band))]
    group = file.group or _group_of(file.band, facts)
    if kind in ("reflectance", "raster") and group:
        _add_grid(asset, group, facts, grid)


def _group_of(band: Optional[str], facts: Provenance) -> Optional[str]:
    if band is None:
        return None
    return dict(facts.band_groups).get(band) or BAND_GROUPS.get(band)


def _add_grid(asset: pystac.Asset, group: str, facts: Provenance,
              grid: Optional[TileGrid]) -> None:
    """`proj:shape` and `proj:transform` of the asset's resolution group."""
    given = facts.grid(group)
    projection = ProjectionExtension.ext(asset, add_if_missing=True)
    if given is not None:
        projection.shape = [given.rows, given.cols]
        projection.transform = list(given.transform)
    elif grid is not None and group in RESOLUTIONS:
        projection.shape = list(grid.shape(RESOLUTIONS[group]))
        projection.transform = list(grid.transform(RESOLUTIONS[group]))
