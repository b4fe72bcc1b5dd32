"""Writing the catalogue: `catalog.json` linking one Item file per product in `stac-items/`,
for each acquisition the latest version's only (`versions`).

Why one file per Item: a STAC Catalog links its Items (it cannot hold them inline), every
STAC tool opens it so, and an added product costs one new Item file and one rewritten
index, not a rewrite of every Item. Each item link keeps the fingerprint of its Item's
inputs (`full_maja:inputs`), and the catalogue the fingerprint of all of them, first in
the file: a run that changed nothing reads the head of `catalog.json`, builds no Item and
writes nothing; one that added a product writes its Item and the index only. Products
are taken one at a time and the index is written one link a line, so the memory a
catalogue takes does not grow with its products. Hrefs are relative, so the folder can
be moved or shared. Every file is written atomically (the Items' folder flushed once
after the last); a link planted in place of `stac-items/` or a file is never followed
(the folder is refused, a file replaced).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from ..atomic import FolderWrites, Lines, atomic_write
from ..capped import own_file, read_own_file
from ..download.facts import ProductFacts
from ..provenance import Provenance
from .folder import (
    CATALOG_NAME,
    FORMAT_VERSION,
    ITEMS_DIR,
    FolderProduct,
    folder_facts,
    folder_product,
    item_file,
    product_keys,
)
from .versions import superseded

INPUTS_FIELD = "full_maja:inputs"
CATALOGUE_FORM = 2  # 2: one Item per acquisition (a catalogue of another form is rewritten)
MAX_CATALOG_BYTES = 256 * 1024 * 1024
HEAD_BYTES = 4096
_HEAD = re.compile(r'^\{"full_maja:inputs": "([0-9a-f]{64})",\n')
log = logging.getLogger(__name__)
Keyed = list[tuple[str, str]]


def write_catalogue(write_dir: Union[str, Path],
                    facts: Optional[ProductFacts] = None) -> Optional[Path]:
    """Write `write_dir/catalog.json` and its Items; its path, or None if there is no folder.

    `facts`: the folder's facts as the run that just ended there holds them (else its
    record is read). Nothing is written when no product changed. An OSError (disk full,
    a link where `stac-items/` should be) propagates: the caller decides how much it
    matters.
    """
    folder = Path(write_dir)
    if not folder.is_dir():
        return None
    facts = folder_facts(folder, facts)
    target, items_dir = folder / CATALOG_NAME, folder / ITEMS_DIR
    listed = _listing(items_dir)
    keyed = list(product_keys(facts))
    facts.record.flush()
    if _stamp_of(target) == _stamp(keyed, listed):
        return target
    _check_items_dir(items_dir)
    kept = _items(facts, items_dir, _latest(facts, keyed), listed, _old_keys(target))
    _remove_stale(items_dir, listed, {item_file(name) for name, _ in kept})
    atomic_write(target, Lines(_catalogue_lines(folder, kept,
                                                _stamp(keyed, _listing(items_dir)))),
                 follow_symlinks=False)
    return target


def series_items(write_dir: Union[str, Path], facts: Optional[ProductFacts] = None) -> list[Any]:
    """The verified products of `write_dir` as pystac Items, by name, each acquisition's latest
    version only, as in `catalog.json` (nothing written).

    Their asset hrefs are relative to `write_dir/stac-items/`, where `write_catalogue`
    puts them; `item.get_self_href()` is set to that file so that they resolve.
    """
    from .items import build_item

    folder = Path(write_dir)
    facts = folder_facts(folder, facts)
    items = []
    for name, _ in _latest(facts, list(product_keys(facts))):
        product = folder_product(facts, name)
        if product is None:
            continue
        item = build_item(product)
        item.set_self_href(str((folder / ITEMS_DIR / product.item_file).resolve()))
        items.append(item)
    facts.record.flush()
    return items


def _latest(facts: ProductFacts, keyed: Keyed) -> Keyed:
    """The products that get an Item: each acquisition's latest version (`versions`)."""
    older = superseded((name, facts.provenance(name) or Provenance()) for name, _ in keyed)
    return [(name, key) for name, key in keyed if name not in older] if older else keyed


def _items(facts: ProductFacts, items_dir: Path, keyed: Keyed, listed: set[str],
           old: dict[str, str]) -> Keyed:
    """The products that have an Item file: kept as it is (same fingerprint), or written now."""
    kept: Keyed = []
    with FolderWrites(items_dir) as writes:
        for name, key in keyed:
            if old.get(item_file(name)) == key and item_file(name) in listed:
                kept.append((name, key))
                continue
            product = folder_product(facts, name)
            if product is not None and _write_item(writes, product):
                kept.append((name, product.key))
    facts.record.flush()
    return kept


def _stamp(keyed: Keyed, listed: set[str]) -> str:
    """The fingerprint of a catalogue: every Item's inputs, and the Item files there."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}.{CATALOGUE_FORM}\0".encode("ascii"))
    for _, key in keyed:
        digest.update(key.encode("ascii"))
    for name in sorted(listed):
        digest.update(f"\0{name}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _stamp_of(target: Path) -> Optional[str]:
    """The fingerprint the catalogue on disk keeps at its head, if it has one."""
    with own_file(target, "the catalogue") as handle:
        try:
            head = handle.read(HEAD_BYTES).decode("utf-8", "replace") if handle else ""
        except OSError:
            return None
    match = _HEAD.match(head)
    return match.group(1) if match else None


def _listing(items_dir: Path) -> set[str]:
    """The Item files in `stac-items/` now (none if it is not a real folder)."""
    if items_dir.is_symlink() or not items_dir.is_dir():
        return set()
    try:
        return {entry.name for entry in os.scandir(items_dir)
                if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False)}
    except OSError:
        return set()


def _old_keys(target: Path) -> dict[str, str]:
    """The fingerprint each item link of the catalogue on disk kept, by Item file name.

    A catalogue full-maja wrote has one link a line, read one at a time; any other is
    read whole.
    """
    keys: dict[str, str] = {}
    with own_file(target, "the catalogue") as handle:
        if handle is None:
            return keys
        try:
            if not _HEAD.match(handle.readline(HEAD_BYTES).decode("utf-8", "replace")):
                return _whole_catalogue_keys(target)
            for line in handle:
                _add_key(keys, line.rstrip(b",\r\n"))
        except OSError:
            return {}
    return keys


def _add_key(keys: dict[str, str], line: bytes) -> None:
    """Note the fingerprint of one item link, given as one line of JSON."""
    if not line.startswith(b"{"):
        return
    try:
        link = json.loads(line)
    except (ValueError, RecursionError):
        return
    if isinstance(link, dict) and link.get("rel") == "item" \
            and isinstance(link.get("href"), str) and isinstance(link.get(INPUTS_FIELD), str):
        keys[link["href"].rsplit("/", 1)[-1]] = link[INPUTS_FIELD]


def _whole_catalogue_keys(target: Path) -> dict[str, str]:
    """`_old_keys` of a catalogue in another layout, read whole."""
    data = read_own_file(target, "the catalogue", MAX_CATALOG_BYTES)
    try:
        document = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, RecursionError):
        return {}
    keys: dict[str, str] = {}
    links = document.get("links") if isinstance(document, dict) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict):
            _add_key(keys, json.dumps(link).encode("utf-8"))
    return keys


def _check_items_dir(items_dir: Path) -> None:
    """Make `stac-items/`; refuse a link or a file in its place (never written through)."""
    if items_dir.is_symlink() or (items_dir.exists() and not items_dir.is_dir()):
        raise OSError(f"{items_dir} is not a folder full-maja made (a link or a file); "
                      "move it away")
    items_dir.mkdir(exist_ok=True)


def _write_item(writes: FolderWrites, product: FolderProduct) -> bool:
    """Write the Item file of `product`; False when it has no Item (no acquisition time)."""
    from .items import build_item, item_document

    try:
        item = build_item(product)
    except ValueError as exc:
        log.warning("%s; left out of the catalogue", exc)
        return False
    writes.write(product.item_file, json.dumps(item_document(item)) + "\n")
    return True


def _remove_stale(items_dir: Path, listed: set[str], current: set[str]) -> None:
    """Remove the Item files of products no longer on disk, or superseded by a later version."""
    for name in listed - current:
        try:
            os.unlink(items_dir / name)
        except FileNotFoundError:
            pass


def _catalogue_lines(folder: Path, kept: Keyed, stamp: str) -> Iterator[str]:
    """The catalogue document, its fingerprint first and one link a line.

    The catalogue and each link are pystac's; only their order in the file is set here.
    """
    import pystac

    name = folder.resolve().name
    catalog = pystac.Catalog(
        id=f"full-maja-{name or 'products'}",
        title=f"MAJA L2A products in {name}",
        description="The MAJA L2A products verified in this folder by full-maja, one Item "
                    "each: acquisition time, tile footprint and projection, cloud and snow "
                    "cover, provenance (product version, production date, CAMS, processing "
                    "mode), the zip and, once extracted, every raster.")
    catalog.links = [pystac.Link("root", f"./{CATALOG_NAME}", pystac.MediaType.JSON)]
    document = catalog.to_dict(include_self_link=False, transform_hrefs=False)
    links = document.pop("links")
    yield f"{{{json.dumps(INPUTS_FIELD)}: {json.dumps(stamp)},\n"
    for key, value in document.items():
        yield f"{json.dumps(key)}: {json.dumps(value)},\n"
    yield '"links": [\n'
    yield json.dumps(links[0]) + (",\n" if kept else "\n")
    for index, (product, key) in enumerate(kept, 1):
        link = pystac.Link("item", f"./{ITEMS_DIR}/{item_file(product)}",
                           pystac.MediaType.GEOJSON, extra_fields={INPUTS_FIELD: key})
        yield json.dumps(link.to_dict()) + (",\n" if index < len(kept) else "\n")
    yield "]}\n"
