"""The write folder as a STAC catalogue: `catalog.json` and one Item file per product.

`folder` lists the verified products of the folder with the fingerprint of what each
Item would say; `versions` keeps each acquisition's latest version; `items` builds an
Item (pystac, extensions eo, projection, file, mgrs, sat, processing; MAJA's own facts
under `maja:`); `assets` lists a product's assets; `write` writes the catalogue, only
what changed, atomically and never through a link.
pystac is imported only when an Item is built.
"""
from .folder import CATALOG_NAME, ITEMS_DIR
from .write import series_items, write_catalogue

__all__ = ["CATALOG_NAME", "ITEMS_DIR", "series_items", "write_catalogue"]
