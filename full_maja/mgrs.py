"""Where a Sentinel-2 tile lies: from its MGRS name to its UTM grid and WGS 84 footprint.

A tile `ZZBCR` is the 100 km MGRS square of UTM zone ZZ, latitude band B, column C and
row R, grown to 109.8 km by the Sentinel-2 tiling grid: its upper-left corner is the
square's west edge and north edge, each snapped to the 60 m grid (west down, north up),
e.g. T31TCJ at (300000, 4900020) of EPSG:32631. The UTM-to-latitude/longitude step is
the Krüger series of the transverse Mercator (third order in n: well under a millimetre
within a zone).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional

TILE_SIZE = 109_800
SQUARE = 100_000
SNAP = 60
BANDS = "CDEFGHJKLMNPQRSTUVWX"
ROWS = "ABCDEFGHJKLMNPQRSTUV"
COLUMN_SETS = ("STUVWXYZ", "ABCDEFGH", "JKLMNPQR")
_TILE = re.compile(r"T?(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z])([A-HJ-NP-V])")

_A, _F = 6_378_137.0, 1 / 298.257223563
_N = _F / (2 - _F)
_RECTIFYING = _A / (1 + _N) * (1 + _N ** 2 / 4 + _N ** 4 / 64)
_BETA = (_N / 2 - 2 * _N ** 2 / 3 + 37 * _N ** 3 / 96, _N ** 2 / 48 + _N ** 3 / 15,
         17 * _N ** 3 / 480)
_DELTA = (2 * _N - 2 * _N ** 2 / 3 - 2 * _N ** 3, 7 * _N ** 2 / 3 - 8 * _N ** 3 / 5,
          56 * _N ** 3 / 15)
_K0, _FALSE_EASTING, _FALSE_NORTHING_SOUTH = 0.9996, 500_000.0, 10_000_000.0


@dataclass(frozen=True)
class TileGrid:
    """A tile's UTM zone and hemisphere, EPSG code and upper-left corner."""

    tile: str
    zone: int
    band: str
    square: str
    north: bool
    ulx: float
    uly: float

    @property
    def epsg(self) -> int:
        """The EPSG code of the WGS 84 / UTM zone of the tile."""
        return (32600 if self.north else 32700) + self.zone

    def transform(self, resolution: float) -> tuple[float, float, float, float, float, float]:
        """The affine transform of a grid of `resolution` metres over the tile."""
        return (resolution, 0.0, self.ulx, 0.0, -resolution, self.uly)

    def shape(self, resolution: float) -> tuple[int, int]:
        """Rows and columns of a grid of `resolution` metres over the tile."""
        side = round(TILE_SIZE / resolution)
        return side, side

    def corners(self) -> tuple[tuple[float, float], ...]:
        """The tile's corners as (lon, lat): upper-left, upper-right, lower-right, lower-left."""
        xs, ys = (self.ulx, self.ulx + TILE_SIZE), (self.uly, self.uly - TILE_SIZE)
        points = ((xs[0], ys[0]), (xs[1], ys[0]), (xs[1], ys[1]), (xs[0], ys[1]))
        return tuple(utm_to_lonlat(x, y, self.zone, self.north) for x, y in points)


def tile_grid(tile: str) -> Optional[TileGrid]:
    """The grid of MGRS tile `tile` (`31TCJ` or `T31TCJ`); None if it is not one."""
    match = _TILE.fullmatch(tile.strip().upper())
    if not match:
        return None
    zone, band, column, row = int(match[1]), match[2], match[3], match[4]
    columns = COLUMN_SETS[zone % 3]
    if not 1 <= zone <= 60 or column not in columns:
        return None
    easting = (columns.index(column) + 1) * SQUARE
    northing = _square_northing(zone, band, row)
    return TileGrid(f"{zone:02d}{band}{column}{row}", zone, band, column + row, band >= "N",
                    math.floor(easting / SNAP) * SNAP,
                    math.ceil((northing + SQUARE) / SNAP) * SNAP)


def _square_northing(zone: int, band: str, row: str) -> float:
    """The southern edge of the square, in the hemisphere's false northing.

    Row letters repeat every 2,000 km (even zones start at F); the latitude band
    picks the cycle: the one whose square lies nearest the band's middle.
    """
    offset = ((ROWS.index(row) - (5 if zone % 2 == 0 else 0)) % len(ROWS)) * SQUARE
    middle = -80 + 8 * BANDS.index(band) + (6 if band == "X" else 4)
    approximate = middle * 110_900.0 + (0 if band >= "N" else _FALSE_NORTHING_SOUTH)
    cycle = round((approximate - offset - SQUARE / 2) / (20 * SQUARE))
    return offset + cycle * 20 * SQUARE


def utm_to_lonlat(x: float, y: float, zone: int, north: bool) -> tuple[float, float]:
    """WGS 84 longitude and latitude, in degrees, of UTM point (x, y) of `zone`."""
    xi = (y - (0 if north else _FALSE_NORTHING_SOUTH)) / (_K0 * _RECTIFYING)
    eta = (x - _FALSE_EASTING) / (_K0 * _RECTIFYING)
    xi_p = xi - sum(b * math.sin(2 * j * xi) * math.cosh(2 * j * eta)
                    for j, b in enumerate(_BETA, 1))
    eta_p = eta - sum(b * math.cos(2 * j * xi) * math.sinh(2 * j * eta)
                      for j, b in enumerate(_BETA, 1))
    chi = math.asin(math.sin(xi_p) / math.cosh(eta_p))
    lat = chi + sum(d * math.sin(2 * j * chi) for j, d in enumerate(_DELTA, 1))
    lon = 6 * zone - 183 + math.degrees(math.atan2(math.sinh(eta_p), math.cos(xi_p)))
    return ((lon + 180) % 360 - 180, math.degrees(lat))
