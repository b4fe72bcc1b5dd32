"""A Sentinel-2 tile's UTM grid and footprint, from its MGRS name alone."""
from __future__ import annotations

import pytest
from pyproj import Transformer

from emulators.tilegrid import tile_frame
from full_maja.mgrs import BANDS, TILE_SIZE, tile_grid, utm_to_lonlat

# (tile, EPSG, upper-left x, upper-left y): the origins the Sentinel-2 tiling grid gives
# T31TCJ (Toulouse) and T32VNM (Oslo), and tiles of each hemisphere, column set and row
# offset (even zones start their rows at F), near the poles and the antimeridian.
TILES = [
    ("31TCJ", 32631, 300000, 4900020),
    ("32VNM", 32632, 499980, 6700020),
    ("T36TWQ", 32636, 499980, 5000040),
    ("33UUP", 32633, 300000, 5400000),
    ("18SUJ", 32618, 300000, 4400040),
    ("17RML", 32617, 399960, 3100020),
    ("55HBU", 32755, 199980, 5900040),
    ("58CEU", 32758, 499980, 1400040),
    ("60XWG", 32660, 499980, 8200020),
]


@pytest.mark.parametrize("tile, epsg, ulx, uly", TILES)
def test_the_tile_grid_follows_from_its_name(tile: str, epsg: int, ulx: int, uly: int) -> None:
    grid = tile_grid(tile)
    assert grid is not None
    assert (grid.epsg, grid.ulx, grid.uly) == (epsg, ulx, uly)
    assert grid.shape(10) == (10980, 10980) and grid.shape(20) == (5490, 5490)
    assert grid.transform(20) == (20.0, 0.0, ulx, 0.0, -20.0, uly)
    frame = tile_frame(tile)
    assert (frame.epsg, frame.ulx, frame.uly) == (epsg, ulx, uly)
    lon, lat = utm_to_lonlat(ulx + TILE_SIZE / 2, uly - TILE_SIZE / 2, grid.zone, grid.north)
    south = -80 + 8 * BANDS.index(grid.band)
    assert south <= lat <= south + (12 if grid.band == "X" else 8)
    assert 6 * grid.zone - 186 - 1 <= lon <= 6 * grid.zone - 180 + 1


@pytest.mark.parametrize("tile, epsg, ulx, uly", TILES)
def test_the_footprint_matches_pyproj_to_a_centimetre(tile: str, epsg: int, ulx: int,
                                                      uly: int) -> None:
    grid = tile_grid(tile)
    assert grid is not None
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    expected = [(ulx, uly), (ulx + TILE_SIZE, uly), (ulx + TILE_SIZE, uly - TILE_SIZE),
                (ulx, uly - TILE_SIZE)]
    frame = tile_frame(tile)
    for (lon, lat), (x, y) in zip(grid.corners(), expected):
        back_x, back_y = to_utm.transform(lon, lat)
        assert abs(back_x - x) < 0.01 and abs(back_y - y) < 0.01
        assert frame.lonlat(x, y) == pytest.approx((lon, lat), abs=1e-7)


@pytest.mark.parametrize("name", ["", "31TCI", "31TCW", "61TCJ", "00TCJ", "31ICJ", "31TSJ",
                                  "31TCJX", "T31TCJ_"])
def test_a_name_that_is_no_tile_has_no_grid(name: str) -> None:
    assert tile_grid(name) is None
