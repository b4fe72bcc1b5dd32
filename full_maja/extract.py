"""Unpacking verified products into the write folder, never outside it."""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from .errors import ProductError


def extract_product(archive: Path, write_dir: Path) -> str:
    """Unpack `archive` into `write_dir` and return the top folder (or file) it made.

    Members go to a temporary folder first and are moved into place once all are
    out, so an interrupted run never leaves a half-extracted product under its name.
    """
    name = archive.name
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            tops = {_checked_parts(member.filename, name)[0] for member in members}
            with tempfile.TemporaryDirectory(prefix=f".{name}.", dir=write_dir) as temp:
                zipped.extractall(temp, members=members)
                for top in tops:
                    _move_into_place(Path(temp) / top, write_dir / top)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProductError(f"{name}: cannot extract it: {exc}", product=name) from None
    return sorted(tops)[0] if len(tops) == 1 else archive.stem


def _checked_parts(member: str, archive_name: str) -> tuple[str, ...]:
    path = PurePosixPath(member)
    parts = path.parts
    if (not parts or path.is_absolute() or "\\" in member or ":" in parts[0]
            or any(part in ("..", "") for part in parts)):
        raise ProductError(f"{archive_name}: refused to extract it: the member {member!r} "
                           "would land outside the write folder", product=archive_name)
    return parts


def _move_into_place(source: Path, target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    source.replace(target)
