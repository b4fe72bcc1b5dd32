"""Writing the catalogue: `catalog.json` linking one Item file per product in `stac-items/`.

Why one file per Item: a STAC Catalog links its Items (it cannot hold them inline), every
STAC tool opens it so, and an added product costs one new Item file and one rewritten
index, not a rewrite of every Item. Each item link keeps the fingerprint of its Item's
inputs (`full_maja:inputs`), and the catalogue the fingerprint of all of them: a run
that changed nothing builds no Item and writes nothing, one that added a product writes
its Item and the index only. Hrefs are relative, so the folder can be moved or shared.
Every file is written atomically; a link planted in place of `stac-items/` or a file is
never followed (the folder is refused, a file replaced).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Optional, Union

from ..atomic import atomic_write
from ..capped import read_own_file
from .folder import CATALOG_NAME, FORMAT_VERSION, ITEMS_DIR, FolderProduct, folder_products

INPUTS_FIELD = "full_maja:inputs"
MAX_CATALOG_BYTES = 256 * 1024 * 1024
log = logging.getLogger(__name__)


def write_catalogue(write_dir: Union[str, Path]) -> Optional[Path]:
    """Write `write_dir/catalog.json` and its Items; its path, or None if there is no folder.

    Nothing is written when no product changed. An OSError (disk full, a link where
    `stac-items/` should be) propagates: the caller decides how much it matters.
    """
    folder = Path(write_dir)
    if not folder.is_dir():
        return None
    products = folder_products(folder)
    target = folder / CATALOG_NAME
    items_dir = folder / ITEMS_DIR
    listed = _listing(items_dir)
    stamp = _stamp(products, listed)
    old = _old_catalogue(target)
    if old.get(INPUTS_FIELD) == stamp:
        return target
    _check_items_dir(items_dir)
    keys = _old_keys(old)
    kept = [product for product in products
            if (keys.get(product.item_file) == product.key and product.item_file in listed)
            or _write_item(items_dir, product)]
    _remove_stale(items_dir, listed, {product.item_file for product in kept})
    stamp = _stamp(products, _listing(items_dir))
    atomic_write(target, json.dumps(_catalogue(folder, kept, stamp), indent=1) + "\n",
                 follow_symlinks=False)
    return target


def series_items(write_dir: Union[str, Path]) -> list[Any]:
    """The verified products of `write_dir` as pystac Items, by name (nothing written).

    Their asset hrefs are relative to `write_dir/stac-items/`, where `write_catalogue`
    puts them; `item.get_self_href()` is set to that file so that they resolve.
    """
    from .items import build_item

    folder = Path(write_dir)
    items = []
    for product in folder_products(folder):
        item = build_item(product)
        item.set_self_href(str((folder / ITEMS_DIR / product.item_file).resolve()))
        items.append(item)
    return items


def _stamp(products: list[FolderProduct], listed: set[str]) -> str:
    text = json.dumps([FORMAT_VERSION, [product.key for product in products], sorted(listed)],
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _listing(items_dir: Path) -> set[str]:
    """The Item files in `stac-items/` now (none if it is not a real folder)."""
    if items_dir.is_symlink() or not items_dir.is_dir():
        return set()
    try:
        return {entry.name for entry in os.scandir(items_dir)
                if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False)}
    except OSError:
        return set()


def _old_catalogue(target: Path) -> dict[str, Any]:
    data = read_own_file(target, "the catalogue", MAX_CATALOG_BYTES)
    try:
        document = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def _old_keys(catalogue: dict[str, Any]) -> dict[str, str]:
    """The fingerprint each item link of the catalogue on disk kept, by Item file name."""
    keys = {}
    for link in catalogue.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "item" \
                and isinstance(link.get("href"), str) and isinstance(link.get(INPUTS_FIELD), str):
            keys[link["href"].rsplit("/", 1)[-1]] = link[INPUTS_FIELD]
    return keys


def _check_items_dir(items_dir: Path) -> None:
    """Make `stac-items/`; refuse a link or a file in its place (never written through)."""
    if items_dir.is_symlink() or (items_dir.exists() and not items_dir.is_dir()):
        raise OSError(f"{items_dir} is not a folder full-maja made (a link or a file); "
                      "move it away")
    items_dir.mkdir(exist_ok=True)


def _write_item(items_dir: Path, product: FolderProduct) -> bool:
    """Write the Item file of `product`; False when it has no Item (no acquisition time)."""
    from .items import build_item, item_document

    try:
        item = build_item(product)
    except ValueError as exc:
        log.warning("%s; left out of the catalogue", exc)
        return False
    atomic_write(items_dir / product.item_file, json.dumps(item_document(item), indent=1)
                 + "\n", follow_symlinks=False)
    return True


def _remove_stale(items_dir: Path, listed: set[str], current: set[str]) -> None:
    """Remove the Item files of products no longer on disk."""
    for name in listed - current:
        try:
            os.unlink(items_dir / name)
        except FileNotFoundError:
            pass


def _catalogue(folder: Path, products: list[FolderProduct], stamp: str) -> dict[str, Any]:
    """The catalogue document, built with pystac: description, root link, one link per Item."""
    import pystac

    catalog = pystac.Catalog(
        id=f"full-maja-{folder.resolve().name or 'products'}",
        title=f"MAJA L2A products in {folder.resolve().name}",
        description="The MAJA L2A products verified in this folder by full-maja, one Item "
                    "each: acquisition time, tile footprint and projection, cloud and snow "
                    "cover, provenance (product version, production date, CAMS, processing "
                    "mode), the zip and, once extracted, every raster.",
        extra_fields={INPUTS_FIELD: stamp})
    catalog.links = [pystac.Link("root", f"./{CATALOG_NAME}", pystac.MediaType.JSON)]
    for product in products:
        catalog.links.append(pystac.Link(
            "item", f"./{ITEMS_DIR}/{product.item_file}", pystac.MediaType.GEOJSON,
            extra_fields={INPUTS_FIELD: product.key}))
    return catalog.to_dict(include_self_link=False, transform_hrefs=False)
