"""Unpacking verified products into the write folder, never outside it."""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import ProductError

RESERVED_SUFFIXES = (".zip", ".part", ".html", ".json", ".log", ".lock")


def extract_product(archive: Path, write_dir: Path) -> list[str]:
    """Unpack `archive` into `write_dir` and return the top-level entries it made.

    Members go to a temporary folder first and are moved into place once all are
    out, so an interrupted run never leaves a half-extracted product under its name.
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
                    _move_into_place(Path(temp) / top, write_dir / top)
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
    """A top-level entry may only be new, or replace the folder of an earlier extraction."""
    target = write_dir / top
    clashes = top.startswith(".") or top.lower().endswith(RESERVED_SUFFIXES) \
        or top == "series-quicklooks" or target.is_symlink() \
        or (target.exists() and not target.is_dir())
    if clashes:
        raise ProductError(f"{archive_name}: refused to extract it: its entry {top!r} would "
                           "replace a file of the write folder", product=archive_name)


def _move_into_place(source: Path, target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target)
    source.replace(target)
