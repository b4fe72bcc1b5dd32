"""The products a catalogue covers: every product the folder's verified record lists and
that is on disk as verified (its zip, or the folder it was extracted into).

Each comes with the fingerprint of everything its Item says (name, file identity,
provenance, checksum, extracted folder's time), so that an unchanged product's Item is
neither rebuilt nor rewritten. Reading the facts once per product (provenance, SHA-256)
is `ProductFacts`'s; here they are only looked up.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..download.facts import ProductFacts
from ..download.verified import VerifiedRecord, identity_of
from ..products import product_stem
from ..provenance import Provenance

CATALOG_NAME = "catalog.json"
ITEMS_DIR = "stac-items"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FolderProduct:
    """One verified product on disk, with what its Item is made of."""

    name: str
    stem: str
    provenance_text: Optional[str]
    zip_path: Optional[Path]
    checksum: Optional[str]
    folder: Optional[Path]
    key: str

    @property
    def provenance(self) -> Provenance:
        """The product's provenance, parsed from the record's text when asked (not kept)."""
        try:
            data = json.loads(self.provenance_text) if self.provenance_text else None
        except ValueError:
            data = None
        return Provenance.from_record(data) or Provenance()

    @property
    def item_file(self) -> str:
        """The Item's file name in `stac-items/`."""
        return f"{self.stem}.json"


def folder_products(write_dir: Path, *, checksums: bool = True) -> list[FolderProduct]:
    """The verified products on disk in `write_dir`, by name; facts read once and saved."""
    record = VerifiedRecord(write_dir)
    facts = ProductFacts(record, write_dir)
    products = []
    for name in sorted(record.names()):
        product = _product(facts, name, checksums)
        if product is not None:
            products.append(product)
    record.flush()
    return products


def _product(facts: ProductFacts, name: str, checksums: bool) -> Optional[FolderProduct]:
    zip_path = facts.zip_path(name)
    folder = facts.folder(name) if zip_path is None or _extracted(facts, name) else None
    if zip_path is None and folder is None:
        return None
    if not isinstance((facts.record.entry(name) or {}).get("provenance"), str):
        facts.provenance(name)
    checksum = facts.checksum(name) if checksums and zip_path is not None else None
    entry = facts.record.entry(name) or {}
    provenance = entry.get("provenance")
    text = provenance if isinstance(provenance, str) else None
    inputs = [FORMAT_VERSION, name, identity_of(entry), text, checksum, zip_path is not None,
              _folder_time(folder)]
    key = hashlib.sha256(json.dumps(inputs, default=str, separators=(",", ":"))
                         .encode("utf-8")).hexdigest()
    return FolderProduct(name, _safe_stem(name), text, zip_path, checksum, folder, key)


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
