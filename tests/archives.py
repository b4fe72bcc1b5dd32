"""Small product archives for the tests: a zip with a quick-look, metadata and a band."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Optional

from full_maja.products import product_stem

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


def product_zip(path: Path, *, quicklook: Optional[bytes] = JPEG,
                metadata: Optional[bytes] = None) -> None:
    """Write a product zip at `path` holding the members given, and a band file."""
    stem = product_stem(path.name)
    with zipfile.ZipFile(path, "w") as archive:
        if quicklook is not None:
            archive.writestr(f"{stem}/{stem}_QKL_ALL.jpg", quicklook)
        if metadata is not None:
            archive.writestr(f"{stem}/{stem}_MTD_ALL.xml", metadata)
        archive.writestr(f"{stem}/{stem}_SRE_B4.tif", b"\x00" * 1000)
