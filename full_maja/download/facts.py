"""Facts read once from each verified product and kept in its entry of the verified record.

A product's provenance (`full_maja.provenance`, from its zip or extracted folder) and its
zip's SHA-256 are read the first time an output needs them and saved with the product's
entry (the provenance as one compact JSON string), so a later run that finds nothing new
reopens no zip. They are dropped with the entry when the file changes.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from ..errors import ProductError
from ..products import target_path
from ..provenance import Provenance, read_provenance
from .verified import VerifiedRecord

HASH_CHUNK = 1024 * 1024
_MD5 = 32


class ProductFacts:
    """The provenance and checksum of the products of one write folder's verified record."""

    def __init__(self, record: VerifiedRecord, write_dir: Path) -> None:
        self.record = record
        self.write_dir = write_dir
        self._base = write_dir.resolve()

    def provenance(self, name: str) -> Optional[Provenance]:
        """The provenance of verified product `name`, read once; None if it has none."""
        entry = self.record.entry(name)
        if entry is None:
            return None
        stored = entry.get("provenance")
        if isinstance(stored, str):
            try:
                return Provenance.from_record(json.loads(stored)) or Provenance()
            except ValueError:
                pass
        source = self.source(name)
        if source is None:
            return None
        found = read_provenance(source) or Provenance()
        text = json.dumps(found.as_record(), sort_keys=True, separators=(",", ":"))
        self.record.remember_facts(name, provenance=text)
        return found

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
