"""Facts read once from each verified product and kept in its entry of the verified record.

A product's provenance (`full_maja.provenance`, from its zip or extracted folder) and its
zip's SHA-256 are read the first time an output needs them and saved with the product's
entry, so a later run that finds nothing new reopens no zip. They are dropped with the
entry when the file changes.

The provenance is kept compact: one JSON text per product (`provenance`) for what tells
one acquisition from another (its id, dates, cloud and snow cover), and the rest (the
tile's grid, the platform, orbit, version and processing flags: the same for the many
products of a tile and orbit) once in the record, under the key the entry gives
(`shared`). Both texts are parsed only where the provenance is shown (`--json`, the
page's cards, an Item): a run that shows nothing parses nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Optional

from ..errors import ProductError
from ..products import target_path
from ..provenance import Provenance, read_provenance
from .verified import SHARED_REF, VerifiedRecord

HASH_CHUNK = 1024 * 1024
OWN_FIELDS = ("product_id", "acquisition_date", "production_date", "cloud_cover", "snow_cover")
_MD5 = 32
_SHARED_KEY = 16
Recorded = tuple[str, Optional[str]]


class ProductFacts:
    """The provenance and checksum of the products of one write folder's verified record."""

    def __init__(self, record: VerifiedRecord, write_dir: Path) -> None:
        self.record = record
        self.write_dir = write_dir
        self._base = write_dir.resolve()
        self._base_text = os.fspath(self._base)

    def covers(self, folder: Path) -> bool:
        """True when these are the facts of the products of `folder`."""
        try:
            return Path(folder) == self.write_dir or Path(folder).resolve() == self._base
        except OSError:
            return False

    def recorded(self, name: str) -> Optional[Recorded]:
        """The provenance of verified product `name` as the record keeps it: its own text and
        the text it shares with other products; read from the product once; None if it is
        not on disk as verified."""
        entry = self.record.entry(name)
        if entry is None:
            return None
        stored = entry.get("provenance")
        if isinstance(stored, str):
            return stored, self.record.shared(entry.get(SHARED_REF))
        source = self.source(name)
        if source is None:
            return None
        record = (read_provenance(source) or Provenance()).as_record()
        own = compact({key: record.pop(key) for key in OWN_FIELDS if key in record})
        if not record:
            self.record.remember_facts(name, provenance=own)
            return own, None
        shared = compact(record)
        key = hashlib.sha256(shared.encode("utf-8")).hexdigest()[:_SHARED_KEY]
        self.record.share(key, shared)
        self.record.remember_facts(name, provenance=own, **{SHARED_REF: key})
        return own, self.record.shared(key)

    def provenance(self, name: str) -> Optional[Provenance]:
        """The provenance of verified product `name`, parsed; None if it is not on disk."""
        found = self.recorded(name)
        return None if found is None else parse_provenance(*found)

    def checksum(self, name: str) -> Optional[str]:
        """The multihash (hex) of the zip of `name`: its MD5 when known, else its SHA-256."""
        entry = self.record.entry(name) or {}
        md5 = entry.get("md5")
        if isinstance(md5, str) and len(md5) == _MD5:
            return "d50110" + md5.lower()  # multihash: varint 0xd5 (MD5), 16 bytes
        digest = entry.get("sha256")
        if not isinstance(digest, str):
            path = self.zip_path(name)
            if path is None:
                return None
            digest = _sha256(path)
            if digest is None:
                return None
            self.record.remember_facts(name, sha256=digest)
        return "1220" + digest

    def zip_path(self, name: str) -> Optional[Path]:
        """The verified zip of `name`, if it is on disk as it was verified."""
        try:
            path = target_path(self.write_dir, name, self._base)
        except (ProductError, OSError):
            return None
        return path if self.record.is_current(name, path) else None

    def has_zip(self, name: str) -> bool:
        """True when `zip_path` has the zip of `name`: for a plain name one system call."""
        if name in ("", ".", "..") or "/" in name or os.sep in name or "\0" in name:
            return self.zip_path(name) is not None
        try:
            found = os.lstat(f"{self._base_text}{os.sep}{name}")
        except OSError:
            return False
        if stat.S_ISLNK(found.st_mode):  # resolved and checked the long way
            return self.zip_path(name) is not None
        return self.record.describes(name, found)

    def folder(self, name: str) -> Optional[Path]:
        """The folder `name` was extracted into, if the record says so and it is there."""
        extracted = (self.record.entry(name) or {}).get("extracted")
        if isinstance(extracted, list) and extracted:
            extracted = extracted[0]
        if not isinstance(extracted, str) or not extracted or "/" in extracted \
                or extracted in (".", ".."):
            return None
        folder = self.write_dir / extracted
        return folder if folder.is_dir() and not folder.is_symlink() else None

    def source(self, name: str) -> Optional[Path]:
        """Where the product's metadata can be read: its zip, else its extracted folder."""
        return self.zip_path(name) or self.folder(name)


def compact(data: dict[str, Any]) -> str:
    """A fact as the record keeps it: compact JSON, keys in order."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def parse_provenance(text: Optional[str], shared: Optional[str] = None) -> Provenance:
    """The provenance a record's own text and shared text tell; empty if they do not parse."""
    try:
        data = json.loads(text) if text else {}
        common = json.loads(shared) if shared else {}
    except ValueError:
        return Provenance()
    if isinstance(data, dict) and isinstance(common, dict):
        data = {**common, **data}
    return Provenance.from_record(data) or Provenance()


def _sha256(path: Path) -> Optional[str]:
    """The SHA-256 of a file, read in chunks; None if it cannot be read."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
