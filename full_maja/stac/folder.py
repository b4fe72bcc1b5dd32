"""The products a catalogue covers: every product the folder's verified record lists and
that is on disk as verified (its zip, or the folder it was extracted into).

Each comes with the fingerprint of everything its Item says (name, file identity,
provenance, checksum, extracted folder's time), so that an unchanged
product's Item is neither rebuilt nor rewritten. Products come one at a time, by name:
a catalogue of thousands holds one product's facts at once. Reading the facts once per
product (provenance, SHA-256) is `ProductFacts`'s; here they are only looked up.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from ..download.facts import ProductFacts, parse_provenance
from ..download.verified import SHARED_REF, VerifiedRecord, identity_of
from ..products import product_stem
from ..provenance import Provenance

CATALOG_NAME = "catalog.json"
ITEMS_DIR = "stac-items"
FORMAT_VERSION = 2


@dataclass(frozen=True)
class FolderProduct:
    """One verified product on disk, with what its Item is made of."""

    name: str
    stem: str
    provenance_text: Optional[str]
    shared_text: Optional[str]
    zip_path: Optional[Path]
    checksum: Optional[str]
    folder: Optional[Path]
    key: str

    @property
    def provenance(self) -> Provenance:
        """The product's provenance, parsed from the record's texts when asked (not kept)."""
        return parse_provenance(self.provenance_text, self.shared_text)

    @property
    def item_file(self) -> str:
        """The Item's file name in `stac-items/`."""
        return item_file(self.name)


def item_file(name: str) -> str:
    """The file name in `stac-items/` of the Item of product `name`."""
    return f"{_safe_stem(name)}.json"


def folder_facts(write_dir: Path, facts: Optional[ProductFacts] = None) -> ProductFacts:
    """The facts of `write_dir`'s products: `facts` when they are that folder's (the run
    that just ended there holds them), else read from the folder's record."""
    if facts is not None and facts.covers(write_dir):
        return facts
    return ProductFacts(VerifiedRecord(write_dir), write_dir)


def product_keys(facts: ProductFacts) -> Iterator[tuple[str, str]]:
    """The name and fingerprint of each verified product on disk, by name (nothing built).

    Facts read from a product on the way are kept in the record; the caller saves it.
    """
    for name in sorted(facts.record.names()):
        found = _inputs(facts, name, True)
        if found is not None:
            yield name, found[-1]


def folder_product(facts: ProductFacts, name: str, *,
                   checksums: bool = True) -> Optional[FolderProduct]:
    """Product `name` as its Item would show it, if it is on disk as verified."""
    found = _inputs(facts, name, checksums)
    if found is None:
        return None
    zipped, folder, (text, shared), checksum, key = found
    zip_path = facts.zip_path(name) if zipped else None
    if zip_path is None and folder is None:
        return None
    return FolderProduct(name, _safe_stem(name), text, shared, zip_path, checksum, folder, key)


def _inputs(facts: ProductFacts, name: str, checksums: bool) -> Optional[tuple[
        bool, Optional[Path], tuple[Optional[str], Optional[str]], Optional[str], str]]:
    """What the Item of `name` is made of, and its fingerprint; None if it is not on disk."""
    zipped = facts.has_zip(name)
    folder = facts.folder(name) if not zipped or _extracted(facts, name) else None
    if not zipped and folder is None:
        return None
    text, shared = facts.recorded(name) or (None, None)
    checksum = facts.checksum(name) if checksums and zipped else None
    entry = facts.record.entry(name) or {}
    inputs = [FORMAT_VERSION, name, identity_of(entry), text is not None,
              entry.get(SHARED_REF) if shared is not None else None, checksum, zipped,
              _folder_time(folder)]
    digest = hashlib.sha256(json.dumps(inputs, default=str, separators=(",", ":"))
                            .encode("utf-8"))
    digest.update(b"\0" + (text or "").encode("utf-8"))
    return zipped, folder, (text, shared), checksum, digest.hexdigest()


def _extracted(facts: ProductFacts, name: str) -> bool:
    return bool((facts.record.entry(name) or {}).get("extracted"))


def _folder_time(folder: Optional[Path]) -> Optional[int]:
    if folder is None:
        return None
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def _safe_stem(name: str) -> str:
    """The Item id and file stem: the product name without `.zip` (already a plain name)."""
    return product_stem(name)
