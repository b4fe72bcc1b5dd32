"""Unpacking verified products into the write folder, never outside it."""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import ProductError

RESERVED_SUFFIXES = (".zip", ".part", ".html", ".json", ".log", ".lock")


def extract_product(archive: Path, write_dir: Path) -> list[str]:
    """Unpack `archive` into `write_dir` and return the top-level entries it made.

    Members go to a temporary folder first and are moved into place once all are
    out, so an interrupted run never leaves a half-extracted product under its name.
    Nothing that already exists in the write folder is ever replaced or deleted:
    an entry that would land on it fails the product, whose zip stays.
    """
    name = archive.name
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            tops = sorted({_checked_parts(member.filename, name)[0] for member in members})
            for top in tops:
                _check_top(top, write_dir, name)
            with tempfile.TemporaryDirectory(prefix=f".{name}.", dir=write_dir) as temp:
                zipped.extractall(temp, members=members)
                for top in tops:
                    _move_into_place(Path(temp) / top, write_dir / top, name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProductError(f"{name}: cannot extract it: {exc}", product=name) from None
    return tops


def _checked_parts(member: str, archive_name: str) -> tuple[str, ...]:
    path = PurePosixPath(member)
    parts = path.parts
    if (not parts or path.is_absolute() or "\\" in member or ":" in parts[0]
            or any(part in ("..", "") for part in parts)):
        raise ProductError(f"{archive_name}: refused to extract it: the member {member!r} "
                           "would land outside the write folder", product=archive_name)
    return parts


def _check_top(top: str, write_dir: Path, archive_name: str) -> None:
    """A top-level entry must be new: a name of full-maja's own, or one taken, is refused."""
    reserved = top.startswith(".") or top.lower().endswith(RESERVED_SUFFIXES) \
        or top in ("series-quicklooks", "stac-items")
    if reserved or os.path.lexists(write_dir / top):
        raise _clash(archive_name, top)


def _move_into_place(source: Path, target: Path, archive_name: str) -> None:
    """Rename `source` to `target`, which must still not exist (a folder may have appeared)."""
    if os.path.lexists(target):
        raise _clash(archive_name, target.name)
    source.rename(target)


def _clash(archive_name: str, top: str) -> ProductError:
    return ProductError(f"{archive_name}: refused to extract it: its entry {top!r} would "
                        "replace a file or folder of the write folder that this extraction "
                        "did not make; the zip is kept (move that entry away, or run "
                        "without -x)", product=archive_name)
