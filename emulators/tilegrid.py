"""The emulator's own geometry of a Sentinel-2 tile, for the products' Geoposition_Informations.

MGRS square to UTM origin (snapped to the 60 m grid as the Sentinel-2 tiling grid is),
and the inverse transverse Mercator for the corners' latitudes and longitudes
(Krüger's series). Written apart from the client's `full_maja.mgrs` on purpose: the
tests check each against the other and against pyproj.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

SIDE = 109_800
_LETTERS_BAND = "CDEFGHJKLMNPQRSTUVWX"
_LETTERS_ROW = "ABCDEFGHJKLMNPQRSTUV"
_COLUMNS = ("STUVWXYZ", "ABCDEFGH", "JKLMNPQR")
_AXIS, _FLAT = 6_378_137.0, 1 / 298.257223563


@dataclass(frozen=True)
class TileFrame:
    """Zone, hemisphere and upper-left corner of a tile in its UTM zone."""

    zone: int
    north: bool
    ulx: int
    uly: int

    @property
    def epsg(self) -> int:
        """WGS 84 / UTM zone code."""
        return 32600 + self.zone if self.north else 32700 + self.zone

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Longitude and latitude of UTM point (x, y)."""
        return _inverse(x, y if self.north else y - 10_000_000, self.zone)


def tile_frame(tile: str) -> TileFrame:
    """The frame of tile `36TWQ` (a `T` in front allowed); a stable fallback if malformed."""
    name = tile.upper().lstrip("T") if tile.upper().startswith("T") and len(tile) == 6 \
        else tile.upper()
    try:
        zone, band, column, row = int(name[:2]), name[2], name[3], name[4]
        columns = _COLUMNS[zone % 3]
        east = 100_000 * (columns.index(column) + 1)
        cycle_start = ((_LETTERS_ROW.index(row) - (zone % 2 == 0) * 5) % 20) * 100_000
        latitude = -76 + 8 * _LETTERS_BAND.index(band) + (2 if band == "X" else 0)
        guess = latitude * 110_900 + (0 if band >= "N" else 10_000_000)
        south_edge = cycle_start + 2_000_000 * round((guess - cycle_start - 50_000) / 2e6)
    except (ValueError, IndexError):
        return TileFrame(31, True, 300_000, 4_900_020)
    return TileFrame(zone, band >= "N", east // 60 * 60, -(-(south_edge + 100_000) // 60) * 60)


def _inverse(x: float, y: float, zone: int) -> tuple[float, float]:
    n = _FLAT / (2 - _FLAT)
    radius = _AXIS / (1 + n) * (1 + n * n / 4 + n ** 4 / 64)
    beta = (n / 2 - 2 * n * n / 3 + 37 * n ** 3 / 96, n * n / 48 + n ** 3 / 15,
            17 * n ** 3 / 480)
    delta = (2 * n - 2 * n * n / 3 - 2 * n ** 3, 7 * n * n / 3 - 8 * n ** 3 / 5,
             56 * n ** 3 / 15)
    xi, eta = y / (0.9996 * radius), (x - 500_000) / (0.9996 * radius)
    xi2, eta2 = xi, eta
    for order, term in enumerate(beta, 1):
        xi2 -= term * math.sin(2 * order * xi) * math.cosh(2 * order * eta)
        eta2 -= term * math.cos(2 * order * xi) * math.sinh(2 * order * eta)
    chi = math.asin(math.sin(xi2) / math.cosh(eta2))
    phi = chi + sum(term * math.sin(2 * order * chi) for order, term in enumerate(delta, 1))
    lam = math.atan2(math.sinh(eta2), math.cos(xi2))
    lon = (6 * zone - 183 + math.degrees(lam) + 180) % 360 - 180
    return round(lon, 9), round(math.degrees(phi), 9)
