"""A tiny writer of real GeoTIFFs: tiled, deflate-compressed, georeferenced in UTM.

The rasters have the true shape of a Sentinel-2 tile (10980 x 10980 at 10 m) yet weigh
a few KiB: every tile of the image holds one value, a checkerboard of two values over
the 1024-pixel tiles, and the tiles of one value share one compressed block (tile
offsets may point at the same bytes). Any TIFF reader (GDAL, rasterio, tifffile) reads
them; `value_at` says what each pixel holds, for tests that read pixels.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

TILE = 1024
_TYPES = {"int16": (16, 2, "h"), "uint8": (8, 1, "B")}
_SHORT, _LONG, _DOUBLE, _ASCII = 3, 4, 12, 2
_SIZES = {_SHORT: 2, _LONG: 4, _DOUBLE: 8, _ASCII: 1}
_FORMATS = {_SHORT: "H", _LONG: "I", _DOUBLE: "d"}


@dataclass(frozen=True)
class Raster:
    """One single-band raster: its size, type, grid in UTM and the two values it holds."""

    width: int
    height: int
    dtype: str
    epsg: int
    ulx: float
    uly: float
    resolution: float
    values: tuple[int, int]
    nodata: str = ""

    def value_at(self, row: int, col: int) -> int:
        """The value of pixel (row, col): the checkerboard of 1024-pixel tiles."""
        return self.values[(row // TILE + col // TILE) % 2]


@lru_cache(maxsize=256)
def _block(dtype: str, value: int) -> bytes:
    """One full tile of `value`, deflate-compressed (shared by every tile of that value)."""
    code = _TYPES[dtype][2]
    row = struct.pack(f"<{code}", value) * TILE
    return zlib.compress(row * TILE, 9)


def geotiff(raster: Raster, padding: bytes = b"") -> bytes:
    """The bytes of a GeoTIFF of `raster`; `padding` is appended, unreferenced."""
    across, down = -(-raster.width // TILE), -(-raster.height // TILE)
    blocks = [_block(raster.dtype, value) for value in dict.fromkeys(raster.values)]
    entries = _tags(raster, across * down)
    ifd_size = 2 + 12 * len(entries) + 4
    extra_start = 8 + ifd_size
    extras = b""
    placed = []
    for tag, kind, values in entries:
        data = _pack(kind, values)
        if len(data) <= 4:
            placed.append((tag, kind, len(values), data.ljust(4, b"\0")))
            continue
        offset = extra_start + len(extras)
        placed.append((tag, kind, len(values), struct.pack("<I", offset)))
        extras += data + (b"\0" if len(data) % 2 else b"")
    data_start = extra_start + len(extras)
    starts = [data_start, data_start + len(blocks[0])]
    tiles = [(row + col) % len(blocks) for row in range(down) for col in range(across)]
    extras = _fill(extras, placed, 324, [starts[which] for which in tiles], extra_start)
    extras = _fill(extras, placed, 325, [len(blocks[which]) for which in tiles], extra_start)
    ifd = struct.pack("<H", len(placed)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in placed)
    ifd += struct.pack("<I", 0)
    return b"".join([b"II*\0", struct.pack("<I", 8), ifd, extras, *blocks, padding])


def _tags(raster: Raster, count: int) -> list[tuple[int, int, list]]:
    """The IFD entries, in tag order; tile offsets and counts are filled in later."""
    bits = _TYPES[raster.dtype][0]
    signed = 2 if raster.dtype == "int16" else 1
    keys = [1, 1, 0, 4, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, raster.epsg,
            3076, 0, 1, 9001]
    entries: list[tuple[int, int, list]] = [
        (256, _LONG, [raster.width]), (257, _LONG, [raster.height]), (258, _SHORT, [bits]),
        (259, _SHORT, [8]), (262, _SHORT, [1]), (277, _SHORT, [1]), (284, _SHORT, [1]),
        (322, _SHORT, [TILE]), (323, _SHORT, [TILE]), (324, _LONG, [0] * count),
        (325, _LONG, [0] * count), (339, _SHORT, [signed]),
        (33550, _DOUBLE, [raster.resolution, raster.resolution, 0.0]),
        (33922, _DOUBLE, [0.0, 0.0, 0.0, raster.ulx, raster.uly, 0.0]),
        (34735, _SHORT, keys)]
    if raster.nodata:
        entries.append((42113, _ASCII, list(raster.nodata.encode() + b"\0")))
    return entries


def _pack(kind: int, values: list) -> bytes:
    if kind == _ASCII:
        return bytes(values)
    return struct.pack(f"<{len(values)}{_FORMATS[kind]}", *values)


def _fill(extras: bytes, placed: list, tag: int, values: list[int], start: int) -> bytes:
    """Write `values` where the out-of-line array of `tag` sits (or inline, for one tile)."""
    for index, (entry_tag, kind, count, value) in enumerate(placed):
        if entry_tag != tag:
            continue
        data = struct.pack(f"<{len(values)}I", *values)
        if count == 1:
            placed[index] = (entry_tag, kind, count, data)
            return extras
        offset = struct.unpack("<I", value)[0] - start
        return extras[:offset] + data + extras[offset + len(data):]
    raise ValueError(f"no tag {tag}")
