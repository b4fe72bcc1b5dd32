"""A product's files as they show in its Item: the zip, and after `-x` what it unpacked.

MUSCATE names each file `{NAME}_{KEY}.{ext}`: the KEY (`SRE_B4`, `FRE_B8A`, `CLM_R1`,
`MTD_ALL`...) becomes the asset's key, and says what the file is. Only facts are
described here (kind, band, resolution group); `items` turns them into STAC.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import quote

REFLECTANCES = ("SRE", "FRE")
# Sentinel-2 MSI bands and their common names (STAC eo extension v1.1.0).
COMMON_NAMES = {"B1": "coastal", "B2": "blue", "B3": "green", "B4": "red", "B5": "rededge",
                "B6": "rededge", "B7": "rededge", "B8": "nir", "B8A": "nir08", "B9": "nir09",
                "B10": "cirrus", "B11": "swir16", "B12": "swir22"}
# The resolution group of each band at L2A (10 m: R1, 20 m: R2), where the MTD does not say.
BAND_GROUPS = {"B2": "R1", "B3": "R1", "B4": "R1", "B8": "R1", "B5": "R2", "B6": "R2",
               "B7": "R2", "B8A": "R2", "B11": "R2", "B12": "R2"}
MEDIA = {".tif": "image/tiff; application=geotiff", ".tiff": "image/tiff; application=geotiff",
         ".xml": "application/xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".png": "image/png", ".json": "application/json"}
THUMBNAIL_KEY = "QKL_ALL"
MAX_DEPTH = 3


@dataclass(frozen=True)
class ProductFile:
    """One file of an extracted product: its asset key, href from the Item, size, kind."""

    key: str
    href: str
    size: int
    suffix: str
    band: Optional[str] = None
    group: Optional[str] = None

    @property
    def kind(self) -> str:
        """`reflectance`, `raster`, `thumbnail`, `metadata` or `other`."""
        if self.key == THUMBNAIL_KEY:
            return "thumbnail"
        if self.suffix in (".tif", ".tiff"):
            return "reflectance" if self.band else "raster"
        return "metadata" if self.suffix == ".xml" else "other"


def product_files(folder: Path, stem: str, prefix: str) -> list[ProductFile]:
    """The regular files of an extracted product folder, hrefs `prefix` + their path."""
    found: dict[str, ProductFile] = {}
    for path in _walk(folder):
        relative = path.relative_to(folder).as_posix()
        key = _key(path.name, stem)
        if key in found:
            key = relative.replace("/", "_")
        try:
            size = path.stat().st_size
        except OSError:
            continue
        band, group = _band_and_group(key)
        found[key] = ProductFile(key, prefix + quote(relative), size, path.suffix.lower(),
                                 band, group)
    return sorted(found.values(), key=lambda item: item.key)


def _walk(folder: Path) -> list[Path]:
    """Regular files, not links, up to MAX_DEPTH folders down, in name order."""
    files: list[Path] = []
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
                pending.append((Path(entry.path), depth + 1))
            elif entry.is_file(follow_symlinks=False):
                files.append(Path(entry.path))
    return files


def _key(file_name: str, stem: str) -> str:
    """`SRE_B4` for `{stem}_SRE_B4.tif`; the name without extension otherwise."""
    base = file_name.rsplit(".", 1)[0]
    return base[len(stem) + 1:] if base.startswith(stem + "_") else base


def _band_and_group(key: str) -> tuple[Optional[str], Optional[str]]:
    """The band of a reflectance (`SRE_B4`: B4) and the resolution group (R1, R2) of a raster."""
    kind, _, rest = key.partition("_")
    if kind in REFLECTANCES and rest in COMMON_NAMES:
        return rest, None
    suffix = key.rsplit("_", 1)[-1]
    return None, suffix if suffix in ("R1", "R2") else None
