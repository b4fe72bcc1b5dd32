"""Unpacking verified products into the write folder, never outside it.

Members go first to a hidden folder of full-maja's own beside the products,
`.NAME.zip.full-maja-extract-XXXXXXXX/`, and are moved into place once all are out, so
an interrupted run never leaves a half-extracted product under its name. A run stopped
by Ctrl-C or SIGTERM removes that folder on its way out; one killed outright leaves it,
and the next run removes it (`leftover_extractions`): only real folders named so, or as
earlier versions named them (`.NAME.zip.XXXXXXXX/`, for a product the verified record
knows), never anything else.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable, Optional

from ..errors import Cancelled, DamagedProduct, ProductError
from ..products import SAFE_NAME

RESERVED_SUFFIXES = (".zip", ".part", ".html", ".json", ".log", ".lock")
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
"""What reading a damaged archive raises: a bad CRC or header, a broken deflate stream,
a cut, a method or encryption it never had."""
EXTRACTING = ".full-maja-extract-"
_TEMPORARY = r"\.(?P<name>.+\.zip)"
_LEFTOVER = re.compile(_TEMPORARY + re.escape(EXTRACTING) + r"[a-z0-9_]{8}")
_EARLIER_LEFTOVER = re.compile(_TEMPORARY + r"\.[a-z0-9_]{8}")


def extract_product(archive: Path, write_dir: Path, *,
                    cancel: Optional[threading.Event] = None,
                    before_placing: Optional[Callable[[list[str]], None]] = None) -> list[str]:
    """Unpack `archive` into `write_dir` and return the top-level entries it made.

    Nothing that already exists in the write folder is ever replaced or deleted: an
    entry that would land on it fails the product, whose zip stays. `before_placing`
    is told the entries once all are out, before they take their names; `cancel`
    stops the extraction between members (Cancelled), and nothing is placed.
    """
    name = archive.name
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            tops = sorted({_checked_parts(member.filename, name)[0] for member in members})
            for top in tops:
                _check_top(top, write_dir, name)
            with tempfile.TemporaryDirectory(prefix=f".{name}{EXTRACTING}",
                                             dir=write_dir) as temp:
                for member in members:
                    _stop_if_cancelled(cancel, name)
                    zipped.extract(member, temp)
                if before_placing is not None:
                    before_placing(tops)
                _stop_if_cancelled(cancel, name)
                _place(Path(temp), tops, write_dir, name)
    except DAMAGE as exc:
        raise DamagedProduct(f"{name}: cannot extract it: its zip is damaged ({exc})",
                             product=name) from None
    except OSError as exc:
        raise ProductError(f"{name}: cannot extract it: {exc}", product=name) from None
    return tops


def leftover_extractions(folder: Path, known: Callable[[str], bool]) -> list[tuple[str, Path]]:
    """The folders interrupted extractions left in `folder`, each with its product's name.

    Only real folders (never a link) named as full-maja names them; one named as earlier
    versions did only for a product `known` to the verified record.
    """
    try:
        names = [entry for entry in os.listdir(folder) if entry.startswith(".")]
    except OSError:
        return []
    found = []
    for entry in names:
        match = _LEFTOVER.fullmatch(entry)
        if match is None:
            match = _EARLIER_LEFTOVER.fullmatch(entry)
            if match is None or not known(match["name"]):
                continue
        if SAFE_NAME.fullmatch(match["name"]) and _is_folder(folder / entry):
            found.append((match["name"], folder / entry))
    return found


def remove_leftover(path: Path) -> None:
    """Delete a folder an interrupted extraction left (its links are removed, never followed)."""
    shutil.rmtree(path, ignore_errors=True)


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _stop_if_cancelled(cancel: Optional[threading.Event], name: str) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"stopped while extracting {name}; its zip is kept for the next run")


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


def _place(temp: Path, tops: list[str], write_dir: Path, archive_name: str) -> None:
    """Move every entry into place; if one cannot go, those already moved go back."""
    placed: list[str] = []
    try:
        for top in tops:
            _move_into_place(temp / top, write_dir / top, archive_name)
            placed.append(top)
    except BaseException:
        for top in placed:
            (write_dir / top).rename(temp / top)
        raise


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
