"""The provenance of a product on disk: its two documents found in its zip or extracted folder."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Optional, Union

from ..quicklooks import MAX_METADATA_BYTES, ZIP_ERRORS
from .documents import provenance_from_documents
from .record import Provenance

MTD_SUFFIX = "_MTD_ALL.XML"
JPI_SUFFIX = "_JPI_ALL.XML"


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
