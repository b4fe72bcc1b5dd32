"""Unpacking verified products into the write folder, never outside it.

Members go first to a hidden folder of full-maja's own beside the products,
`.NAME.zip.full-maja-extract-XXXXXXXX/`, and are moved into place once all are out, so
an interrupted run never leaves a half-extracted product under its name. A run stopped
by Ctrl-C or SIGTERM removes that folder on its way out; one killed outright leaves it,
and the next run removes it (`leftover_extractions`): only real folders named so, or as
earlier versions named them (`.NAME.zip.XXXXXXXX/`, for a product the verified record
knows), never anything else.

A write folder whose products are kept unpacked (`Extractions`) records what each
extraction made in the verified record before the entries take their names, so a run
killed then leaves them known as the product's, never mistaken for the user's; the zip
is removed once that record is saved, unless it is to be kept.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Callable, Optional

from ..errors import Cancelled, DamagedProduct, ProductError
from ..products import SAFE_NAME
from .verified import VerifiedRecord

RESERVED_SUFFIXES = (".zip", ".part", ".html", ".json", ".log", ".lock")
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
"""What reading a damaged archive raises: a bad CRC or header, a broken deflate stream,
a cut, a method or encryption it never had."""
EXTRACTING = ".full-maja-extract-"
_TEMPORARY = r"\.(?P<name>.+\.zip)"
_LEFTOVER = re.compile(_TEMPORARY + re.escape(EXTRACTING) + r"[a-z0-9_]{8}")
_EARLIER_LEFTOVER = re.compile(_TEMPORARY + r"\.[a-z0-9_]{8}")
log = logging.getLogger(__name__)


class Extractions:
    """The products of one write folder kept unpacked (when `asked`), and their zips."""

    def __init__(self, write_dir: Path, record: VerifiedRecord, *, asked: bool,
                 keep_zip: bool, cancel: threading.Event) -> None:
        self.write_dir = write_dir
        self.record = record
        self.asked = asked
        self.keep_zip = keep_zip
        self.cancel = cancel

    def entries(self, name: str) -> list[str]:
        """What an earlier extraction of `name` made, if all of it is still there."""
        entries = (self.record.entry(name) or {}).get("extracted")
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            return []
        paths = [self.write_dir / entry for entry in entries if isinstance(entry, str)]
        return entries if paths and all(path.exists() for path in paths) else []

    def pending(self, name: str, final: Path) -> bool:
        """True when the zip on disk is still to be extracted, or removed once extracted."""
        if not self.asked or not final.exists():
            return False
        return not self.keep_zip or not self.entries(name)

    def extract_if_asked(self, name: str, final: Path) -> None:
        """Extract the zip `final` unless done already; remove it once recorded, unless kept."""
        if not self.asked or not final.exists():
            return
        entries = self.entries(name)
        if not entries:
            entries = extract_product(final, self.write_dir, cancel=self.cancel,
                                      before_placing=partial(self._placing, name, final))
        if not self.keep_zip:
            self.record.remember_extracted(name, entries)
            if self.record.flush():
                final.unlink()

    def sound(self, name: str, final: Path) -> bool:
        """Extract a product on disk if asked; False when its zip proves damaged since it
        was verified (a disk, a hand): it is then fetched again."""
        try:
            self.extract_if_asked(name, final)
        except DamagedProduct as exc:
            log.warning("%s; fetching it again", exc)
            return False
        return True

    def leftovers(self) -> list[tuple[str, Path]]:
        """The folders killed runs' extractions left, each with its product's name."""
        return leftover_extractions(self.write_dir, self._recorded)

    def _recorded(self, name: str) -> bool:
        """True when the verified record knows `name`."""
        return self.record.entry(name) is not None

    def _placing(self, name: str, final: Path, entries: list[str]) -> None:
        """Record the entries an extraction is about to place, before they take their names.

        A run killed right after placing them leaves them known as this product's,
        never mistaken for the user's by the next run.
        """
        self.record.remember(name, final, extracted=entries)
        self.record.flush()


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
